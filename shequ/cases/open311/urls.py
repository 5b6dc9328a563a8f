"""/open311/v2/: GeoReport v2, each resource as `.json` or `.xml`."""

from django.urls import path, re_path

from shequ.cases.open311 import views

app_name = "open311"
urlpatterns = [
    path("discovery.<str:fmt>", views.discovery, name="discovery"),
    path("services.<str:fmt>", views.service_list, name="services"),
    path("services/<str:code>.<str:fmt>", views.service_definition, name="service"),
    path("requests.<str:fmt>", views.request_list, name="requests"),
    path("requests/<str:ref>.<str:fmt>", views.request_detail, name="request"),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]

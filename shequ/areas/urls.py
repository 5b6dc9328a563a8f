from django.urls import path

from shequ.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.area_index, name="index"),
    path("<str:code>/", views.area_detail, name="detail"),
    path("<str:code>/children/", views.area_children, name="children"),
    path("<str:code>/geojson/", views.area_geojson, name="geojson"),
]

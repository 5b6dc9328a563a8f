"""Service desk URLs: `/services/` for everyone (the catalogue is public), `/desk/` for staff."""

from django.urls import path

from shequ.servicedesk import views, views_desk

app_name = "services"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("my/", views.my_list, name="my"),
    path("my/<str:code>/", views.my_detail, name="my_detail"),
    path("my/<str:code>/act/<str:move>/", views.my_act, name="my_act"),
    path("progress/<uuid:token>/", views.progress, name="progress"),
    path("<slug:code>/", views.item_detail, name="item"),
    path("<slug:code>/apply/", views.apply, name="apply"),
]

desk_urlpatterns = (
    [
        path("", views_desk.desk_index, name="index"),
        path("people/<str:person_id>/", views_desk.desk_person, name="person"),
        path("people/<str:person_id>/apply/<slug:code>/", views_desk.desk_apply, name="apply"),
        path("applications/", views_desk.desk_queue, name="queue"),
        path("applications/<str:code>/", views_desk.desk_application, name="application"),
        path("applications/<str:code>/act/<str:move>/", views_desk.desk_act, name="act"),
    ],
    "desk",
)

from django.urls import path

from shequ.registry import views

app_name = "registry"
urlpatterns = [
    path("people/", views.person_index, name="people"),
    path("people/new/", views.person_create, name="person_new"),
    path("people/<str:person_id>/", views.person_detail, name="person"),
    path("people/<str:person_id>/edit/", views.person_edit, name="person_edit"),
    path("people/<str:person_id>/unmask/", views.person_unmask, name="person_unmask"),
    path("buildings/<str:building_id>/", views.building_detail, name="building"),
    path("households/<str:household_id>/", views.household_detail, name="household"),
]

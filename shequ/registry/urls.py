from django.urls import path

from shequ.registry import views, views_addresses, views_imports, views_orgs

app_name = "registry"
urlpatterns = [
    path("people/", views.person_index, name="people"),
    path("people/new/", views.person_create, name="person_new"),
    path("people/<str:person_id>/", views.person_detail, name="person"),
    path("people/<str:person_id>/edit/", views.person_edit, name="person_edit"),
    path("people/<str:person_id>/unmask/", views.person_unmask, name="person_unmask"),
    path("buildings/<str:building_id>/", views.building_detail, name="building"),
    path("buildings/<str:building_id>/export/", views.building_export, name="building_export"),
    path("exports/", views.export_index, name="exports"),
    path("households/<str:household_id>/", views.household_detail, name="household"),
    path("imports/", views_imports.import_index, name="imports"),
    path("imports/<str:batch_id>/", views_imports.import_detail, name="import"),
    path("imports/<str:batch_id>/action/", views_imports.import_action, name="import_action"),
    path(
        "imports/<str:batch_id>/rejected.xlsx",
        views_imports.import_rejected,
        name="import_rejected",
    ),
    path("queues/", views_imports.queue_index, name="queues"),
    path("organisations/", views_orgs.organisation_index, name="organisations"),
    path("organisations/new/", views_orgs.organisation_create, name="organisation_new"),
    path(
        "organisations/<str:organisation_id>/",
        views_orgs.organisation_detail,
        name="organisation",
    ),
    path(
        "organisations/<str:organisation_id>/edit/",
        views_orgs.organisation_edit,
        name="organisation_edit",
    ),
    path(
        "addresses/unresolved/",
        views_addresses.address_unresolved,
        name="addresses_unresolved",
    ),
    path("addresses/resolve/", views_addresses.address_resolve, name="address_resolve"),
    path("queues/<str:kind>/<str:item_id>/", views_imports.queue_decide, name="queue_decide"),
]

"""Certificate URLs: `/certificates/` tells anyone which certificates the community issues and
where to go for the others; `/desk/certificates/` is the desk's (issue, print, revoke, list).
The public verification page is `/verify/<code>`, at the top level (shequ/urls.py): it is what
the QR code on every printed certificate points to."""

from django.urls import path

from shequ.servicedesk import views_certificates as views

app_name = "certificates"
urlpatterns = [path("", views.certificate_types, name="types")]

desk_urlpatterns = (
    [
        path("", views.certificate_list, name="list"),
        path("new/", views.certificate_new, name="new"),
        path("<str:code>/", views.certificate_detail, name="detail"),
        path("<str:code>/pdf", views.certificate_pdf, name="pdf"),
        path("<str:code>/revoke/", views.certificate_revoke, name="revoke"),
    ],
    "certificate_desk",
)

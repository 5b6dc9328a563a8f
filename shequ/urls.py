"""URL map: pages, the JSON API under /api/v1/, health check."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from shequ.accounts.api.views import TokenRevokeView, TokenView
from shequ.areas.api.views import AreaViewSet
from shequ.cases.api.views import CaseViewSet, CategoryViewSet, UnitViewSet
from shequ.cases.urls import public_urlpatterns as case_public_urls
from shequ.core import views as core_views
from shequ.core.admin import harden_admin_site
from shequ.insights import views as insights_views
from shequ.registry.api.views import (
    AddressViewSet,
    BuildingViewSet,
    HouseholdViewSet,
    ImportViewSet,
    OrganisationViewSet,
    PersonViewSet,
)
from shequ.servicedesk import views_certificates as certificate_views
from shequ.servicedesk.api.certificates import (
    CertificateTypeViewSet,
    CertificateViewSet,
    VerifyView,
)
from shequ.servicedesk.api.eligibility import EntitlementViewSet, RuleViewSet
from shequ.servicedesk.api.views import ApplicationViewSet, ServiceItemViewSet
from shequ.servicedesk.urls import desk_urlpatterns as desk_urls
from shequ.servicedesk.urls_certificates import desk_urlpatterns as certificate_desk_urls

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("areas", AreaViewSet, basename="area")
router.register("people", PersonViewSet, basename="person")
router.register("addresses", AddressViewSet, basename="address")
router.register("buildings", BuildingViewSet, basename="building")
router.register("households", HouseholdViewSet, basename="household")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("imports", ImportViewSet, basename="import")
router.register("cases", CaseViewSet, basename="case")
router.register("case-categories", CategoryViewSet, basename="case-category")
router.register("case-units", UnitViewSet, basename="case-unit")
router.register("certificate-types", CertificateTypeViewSet, basename="certificate-type")
router.register("certificates", CertificateViewSet, basename="certificate")
router.register("service-items", ServiceItemViewSet, basename="service-item")
router.register("applications", ApplicationViewSet, basename="application")
router.register("eligibility", EntitlementViewSet, basename="eligibility")
router.register("eligibility-rules", RuleViewSet, basename="eligibility-rule")

api_v1 = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("auth/token/revoke/", TokenRevokeView.as_view(), name="auth-token-revoke"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("verify/<str:code>/", VerifyView.as_view(), name="certificate-verify"),
    *router.urls,
]

audit_urls = (
    [
        path("", core_views.audit_list, name="list"),
        path("export.csv", core_views.audit_export, name="export"),
    ],
    "audit",
)

urlpatterns = [
    path("", insights_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("shequ.accounts.urls")),
    path("areas/", include("shequ.areas.urls")),
    path("registry/", include("shequ.registry.urls")),
    path("audit/", include(audit_urls)),
    path("cases/", include("shequ.cases.urls")),
    path("track/", include(case_public_urls)),
    path("inbox/", include("shequ.inbox.urls")),
    path("certificates/", include("shequ.servicedesk.urls_certificates")),
    path("desk/certificates/", include(certificate_desk_urls)),
    path("verify/", certificate_views.verify_form, name="certificate_verify_form"),
    path("verify/<str:code>", certificate_views.verify, name="certificate_verify"),
    path("eligibility/", include("shequ.servicedesk.urls_eligibility")),
    path("services/", include("shequ.servicedesk.urls")),
    path("desk/", include(desk_urls)),
    path("open311/v2/", include("shequ.cases.open311.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="api-docs"),
    # The admin signs in through our sign-in page (second factor, lockout, audit).
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
]

harden_admin_site()

handler400 = "shequ.core.views.bad_request"
handler403 = "shequ.core.views.permission_denied"
handler404 = "shequ.core.views.page_not_found"
handler500 = "shequ.core.views.server_error"

admin.site.site_header = "shequ"
admin.site.site_title = "shequ"
if settings.DEBUG:
    admin.site.site_url = "/"

"""Certificate pages: the desk issues (a forbidden type is refused on the spot with where to go
instead), prints, revokes and lists; anyone verifies a code and reads which certificates the
community does and does not issue. Views are thin: `certificates` holds every rule."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shequ.core.errors import DomainError
from shequ.core.middleware import client_ip
from shequ.core.views import add_domain_error, permission_denied, render_page, require_perm
from shequ.registry.access import access_person
from shequ.registry.pii import mask_id
from shequ.servicedesk import certificates
from shequ.servicedesk.certificates import Outcome
from shequ.servicedesk.forms_certificates import (
    CertificateFilter,
    IssueForm,
    RevokeForm,
    VerifyForm,
)
from shequ.servicedesk.models import Certificate, CertificateType
from shequ.servicedesk.views import base_template


def status_of(certificate: Certificate) -> Outcome:
    if certificate.revoked_at is not None:
        return Outcome.REVOKED
    if certificate.valid_until < timezone.localdate():
        return Outcome.EXPIRED
    return Outcome.VALID


@require_perm("certificates.issue")
def certificate_new(request: HttpRequest) -> HttpResponseBase:
    """Issue a certificate for a resident at the desk (`?person=<id>`). The allowed types are
    offered; the forbidden ones are listed with where to go instead, and choosing one
    (`&type=<code>`) shows the service's refusal at once: never a form, never a seal."""
    person = access_person(request.user, request.GET.get("person", ""))
    if not certificates.can_issue_for(request.user, person):
        return permission_denied(request)
    types = list(certificates.type_list())
    allowed = [t for t in types if t.allowed]
    chosen = request.POST.get("type") or request.GET.get("type", "")
    refusal: DomainError | None = None
    refused = next((t for t in types if t.code == chosen and not t.allowed), None)
    if refused is not None:
        try:
            certificates.refuse_forbidden(refused)
        except DomainError as exc:
            refusal = exc
    data = request.POST if request.method == "POST" and refusal is None else None
    form = IssueForm(
        data,
        types=allowed,
        initial={"type": chosen if refusal is None else "", "purpose": request.POST.get("purpose")},
    )
    if data is not None and form.is_valid():
        try:
            certificate = certificates.certificate_request(
                actor=request.user,
                type=certificates.access_type(form.cleaned_data["type"]),
                person=person,
                purpose=form.cleaned_data["purpose"],
                consent=form.consent(),
                full_id=form.cleaned_data["full_id"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s No. %(serial)s is issued. Print it and stamp the seal.")
                % {"name": certificate.type.name, "serial": certificate.serial},
            )
            return redirect("certificate_desk:detail", code=certificate.code)
    context = {
        "person": person,
        "masked_id": mask_id(person.id_number),
        "form": form,
        "allowed": allowed,
        "forbidden": [t for t in types if not t.allowed],
        "refused": refused,
        "refusal": refusal,
    }
    return render_page(request, "servicedesk/certificate_new.html", context, partial="form")


def _detail_context(request: HttpRequest, certificate: Certificate) -> dict[str, Any]:
    url = request.build_absolute_uri(certificates.verify_path(certificate.code))
    return {
        "certificate": certificate,
        "status": status_of(certificate),
        "code": certificates.grouped(certificate.code),
        "verify_url": url,
        "qr": segno.make(url, error="m").svg_inline(scale=4, border=2),
        "can_revoke": certificates.can_revoke(request.user, certificate),
        "can_print": certificates.can_print(request.user, certificate),
        "verifications": list(certificate.verifications.order_by("-at")[:10]),
        "verification_count": certificate.verifications.count(),
        "paragraphs": [p for p in certificate.body.splitlines() if p.strip()],
        "consent_shown": certificates.consent_labels(certificate.consent),
    }


@require_perm("desk.view")
def certificate_detail(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificates.access_certificate(request.user, code)
    context = {**_detail_context(request, certificate), "revoke_form": RevokeForm()}
    return render(request, "servicedesk/certificate_detail.html", context)


@require_POST
@require_perm("certificates.revoke")
def certificate_revoke(request: HttpRequest, code: str) -> HttpResponse:
    certificate = certificates.access_certificate(request.user, code)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            certificates.certificate_revoke(
                actor=request.user, certificate=certificate, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The certificate is revoked; verification says so."))
            return redirect("certificate_desk:detail", code=certificate.code)
    context = {**_detail_context(request, certificate), "revoke_form": form}
    return render(request, "servicedesk/certificate_detail.html", context)


@never_cache
@require_perm("desk.view")
def certificate_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The PDF to print (audited)."""
    certificate = certificates.access_certificate(request.user, code)
    pdf = certificates.certificate_print(
        actor=request.user, certificate=certificate, base_url=request.build_absolute_uri("/")
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.serial}.pdf"'
    return response


@require_perm("desk.view")
def certificate_list(request: HttpRequest) -> HttpResponse:
    """Certificates issued in the user's communities, newest first."""
    filterset = CertificateFilter(
        request.GET,
        queryset=certificates.visible_certificates(request.user),
        user=request.user,
    )
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    for certificate in page:
        certificate.status = status_of(certificate)
    context = {
        "filter": filterset,
        "page": page,
        "types": CertificateType.objects.filter(allowed=True),
    }
    return render_page(request, "servicedesk/certificate_list.html", context, partial="results")


def certificate_types(request: HttpRequest) -> HttpResponse:
    """Public: which certificates the community issues, and where to go for the others."""
    types = list(certificates.type_list())
    context = {
        "base": base_template(request),
        "allowed": [t for t in types if t.allowed],
        "forbidden": [t for t in types if not t.allowed],
    }
    return render(request, "servicedesk/certificate_types.html", context)


def _private(response: HttpResponse) -> HttpResponse:
    """A verification answer is never cached (a revocation shows at once) nor indexed, and the
    code in the address is not sent on as a referrer."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public, no sign-in: is this certificate genuine, and still valid?"""
    result = certificates.certificate_verify(code=code, ip=client_ip(request))
    context = {"result": result, "code": certificates.grouped(certificates.normalise_code(code))}
    status = 404 if result.status is Outcome.NOT_FOUND else 200
    return _private(render(request, "servicedesk/verify.html", context, status=status))


def verify_form(request: HttpRequest) -> HttpResponse:
    """Type the code printed under the QR code."""
    form = VerifyForm(request.GET or None)
    if form.is_valid():
        code = certificates.normalise_code(form.cleaned_data["code"])
        if code:
            return redirect(reverse("certificate_verify", args=[code]))
    return _private(render(request, "servicedesk/verify_form.html", {"form": form}))

"""The certificates API: types, issuing (a forbidden type answers 409 with the route instead),
revoking, the PDF, the scoped list, and the public verification answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from shequ.accounts.models import User
from shequ.core import testing
from shequ.core.models import AuditEntry
from shequ.servicedesk import certificates
from shequ.servicedesk.models import Certificate, CertificateType, Verification
from shequ.servicedesk.tests.conftest import Desk
from shequ.servicedesk.tests.test_certificates import address_of, issue, other_worker

P = testing.persona
TYPES = "/api/v1/certificate-types/"
CERTS = "/api/v1/certificates/"

__all__ = ["other_worker"]  # the fixture, used below


def ask(api: Any, who: str, **body: Any) -> Any:
    return api(who).post(CERTS, body, format="json")


# Types


def test_signed_in_users_read_the_types_allowed_first(api: Any, desk: Desk) -> None:
    assert api().get(TYPES).status_code in (401, 403)
    body = api("resident_a").get(TYPES).json()
    assert body["count"] == 22
    assert [t["code"] for t in body["results"][:2]] == ["juzhu", "zuzhu"]
    one = api("resident_a").get(f"{TYPES}jianzai/").json()
    assert one["allowed"] is False and "人脸识别" in one["alternative"]
    assert api("resident_a").get(f"{TYPES}no-such/").status_code == 404


# Issuing


def test_a_forbidden_type_answers_409_with_the_alternative_whatever_else_is_sent(
    api: Any, desk: Desk
) -> None:
    alternative = CertificateType.objects.get(code="jianzai").alternative
    cases: list[tuple[str, dict[str, Any]]] = [
        ("community_worker", {"type": "jianzai", "person": desk.zhang.pk, "purpose": "领养老金"}),
        ("resident_a", {"type": "jianzai"}),
        ("grid_worker_b", {"type": "jianzai", "person": "not a number", "consent": 7}),
    ]
    for who, body in cases:
        response = ask(api, who, **body)
        assert response.status_code == 409, who
        error = response.json()
        assert error["code"] == "certificate_forbidden"
        assert error["extra"] == {"alternative": alternative, "type": "jianzai"}
        assert alternative in error["message"]
    assert not Certificate.objects.exists()


def test_a_residence_certificate_is_issued_with_its_code_serial_and_pdf_link(
    api: Any, desk: Desk
) -> None:
    response = ask(
        api,
        "community_worker",
        type="juzhu",
        person=desk.zhang.pk,
        purpose="子女入学",
        consent={"full_name": True},
    )
    assert response.status_code == 201
    body = response.json()
    certificate = Certificate.objects.get()
    assert body["code"] == certificate.code and body["serial"] == certificate.serial
    assert body["pdf"] == f"http://testserver/api/v1/certificates/{certificate.code}/pdf/"
    assert body["verify_url"] == f"http://testserver/verify/{certificate.code}"
    assert body["status"] == "valid" and body["holder"] == "张*"
    assert body["consent"]["full_name"] is True and body["consent"]["purpose"] is True
    pdf = api("community_worker").get(body["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert AuditEntry.objects.filter(
        action="certificate.printed", object_id=str(certificate.pk)
    ).exists()
    accepts_pdf = api("community_worker").get(body["pdf"], HTTP_ACCEPT="application/pdf")
    assert accepts_pdf.status_code == 200 and accepts_pdf.content.startswith(b"%PDF-")


def test_issuing_refuses_bad_input_with_the_shared_error_format(api: Any, desk: Desk) -> None:
    base = {"type": "juzhu", "person": desk.zhang.pk, "purpose": "入学"}
    response = ask(api, "community_worker", **{**base, "consent": {"birth_date": True}})
    assert response.status_code == 400 and "consent" in response.json()["fields"]
    response = ask(api, "community_worker", **{**base, "type": "no-such"})
    assert response.status_code == 400 and "type" in response.json()["fields"]
    response = ask(api, "community_worker", **{**base, "person": desk.li.pk})
    assert response.status_code == 409
    assert response.json()["code"] == "certificate_register_incomplete"
    assert response.json()["extra"] == {"missing": ["address"]}
    assert not Certificate.objects.exists()


def test_issuing_is_scoped(api: Any, desk: Desk, other_worker: User) -> None:
    body = {"type": "juzhu", "purpose": "入学"}
    assert ask(api, "community_worker", person=desk.wang.pk, **body).status_code == 404
    assert ask(api, "grid_worker_a", person=desk.zhang.pk, **body).status_code == 403
    client = api()
    client.force_authenticate(other_worker)
    assert client.post(CERTS, {"person": desk.zhang.pk, **body}, format="json").status_code == 404
    assert not Certificate.objects.exists()


# Revoking, reading, listing


def test_the_district_revokes_once_and_others_cannot(
    api: Any, desk: Desk, other_worker: User
) -> None:
    certificate = issue(desk.zhang)
    url = f"{CERTS}{certificate.code}/revoke/"
    assert api("community_worker").post(url, {"reason": "错"}, format="json").status_code == 403
    client = api()
    client.force_authenticate(other_worker)
    assert client.post(url, {"reason": "错"}, format="json").status_code == 404
    assert api("district_admin").post(url, {}, format="json").status_code == 400
    response = api("district_admin").post(url, {"reason": "住址有误"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["revoke_reason"] == "住址有误"
    again = api("district_admin").post(url, {"reason": "再撤"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "certificate_revoked"
    pdf = api("community_worker").get(f"{CERTS}{certificate.code}/pdf/")
    assert pdf.status_code == 409 and pdf.json()["code"] == "certificate_revoked"


def test_the_list_shows_the_callers_certificates_with_the_pages_filters(
    api: Any, desk: Desk, other_worker: User
) -> None:
    kept, revoked = issue(desk.zhang), issue(desk.zhang)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=revoked, reason="信息有误"
    )
    body = api("community_worker").get(CERTS, {"status": "valid"}).json()
    assert [c["code"] for c in body["results"]] == [kept.code]
    assert api("community_worker").get(f"{CERTS}{kept.code}/").json()["serial"] == kept.serial
    client = api()
    client.force_authenticate(other_worker)
    assert client.get(CERTS).json()["count"] == 0
    assert client.get(f"{CERTS}{kept.code}/").status_code == 404


# Public verification


def test_anyone_verifies_and_sees_only_what_the_holder_agreed_to(api: Any, desk: Desk) -> None:
    certificate = issue(desk.zhang, consent={"address": True})
    response = api().get(f"/api/v1/verify/{certificate.code}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "valid" and body["holder"] == "张*"
    assert body["address"] == address_of(desk.zhang)
    assert "id_number" not in body and "phone" not in body
    assert desk.zhang.id_number[-4:] not in str(body)


def test_revoked_expired_and_unknown_codes_answer_as_such(api: Any, desk: Desk) -> None:
    revoked, expiring = issue(desk.zhang), issue(desk.zhang)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=revoked, reason="信息有误"
    )
    body = api().get(f"/api/v1/verify/{revoked.code}/").json()
    assert body["status"] == "revoked" and "revoked_at" in body and "holder" not in body
    later = timezone.now() + dt.timedelta(days=120)
    with time_machine.travel(later, tick=False):
        assert api().get(f"/api/v1/verify/{expiring.code}/").json()["status"] == "expired"
    response = api().get("/api/v1/verify/ABCDEFGHJKLMNPQR/")
    assert response.status_code == 404
    assert set(response.json()) == {"status", "code", "message"}
    assert response.json()["status"] == "not_found"
    assert list(Verification.objects.order_by("id").values_list("result", flat=True)) == [
        "revoked",
        "expired",
        "not_found",
    ]

"""Certificate pages: the desk issues (a forbidden type refused on the spot), reads, prints,
revokes and lists; anyone verifies a code and reads which certificates the community issues."""

from __future__ import annotations

from typing import Any

from django.test import Client

from shequ.accounts.models import User
from shequ.core import testing
from shequ.core.models import AuditEntry
from shequ.servicedesk import certificates
from shequ.servicedesk.models import Certificate, CertificateType, Verification
from shequ.servicedesk.tests.conftest import Desk
from shequ.servicedesk.tests.test_certificates import NEGATIVE_LIST, address_of, issue, other_worker

P = testing.persona
NEW = "/desk/certificates/new/"

__all__ = ["other_worker"]  # the fixture, used below


def html(response: Any) -> str:
    return response.content.decode()


# Issuing at the desk


def test_the_issue_page_offers_the_positive_list_and_shows_where_to_go_for_the_rest(
    desk: Desk, login: Any
) -> None:
    response = login("community_worker").get(NEW, {"person": desk.zhang.pk})
    assert response.status_code == 200
    page = html(response)
    assert 'name="type" value="juzhu"' in page and 'name="type" value="zuzhu"' in page
    assert 'value="jianzai"' not in page  # never offered as something to issue
    for name in NEGATIVE_LIST:
        assert name in page
    assert CertificateType.objects.get(code="jianzai").alternative in page
    assert desk.zhang.id_number not in page


def test_choosing_a_jianzai_certificate_shows_the_refusal_and_no_form_for_it(
    desk: Desk, login: Any
) -> None:
    client = login("community_worker")
    response = client.get(NEW, {"person": desk.zhang.pk, "type": "jianzai"})
    assert response.status_code == 200
    page = html(response)
    assert 'id="certificate-refusal"' in page
    assert CertificateType.objects.get(code="jianzai").alternative in page
    # A crafted post of a forbidden type is refused the same way, before the form is read.
    response = client.post(f"{NEW}?person={desk.zhang.pk}", {"type": "jianzai", "purpose": ""})
    assert response.status_code == 200 and 'id="certificate-refusal"' in html(response)
    assert "is-invalid" not in html(response)
    assert not Certificate.objects.exists()


def test_the_desk_issues_a_residence_certificate_and_lands_on_it(desk: Desk, login: Any) -> None:
    client = login("community_worker")
    response = client.post(
        f"{NEW}?person={desk.zhang.pk}",
        {"type": "juzhu", "purpose": "子女入学", "consent_purpose": "on", "consent_address": "on"},
    )
    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/desk/certificates/{certificate.code}/"
    assert certificate.consent == {
        "full_name": False,
        "purpose": True,
        "id_number": False,
        "address": True,
        "phone": False,
    }
    page = html(client.get(response["Location"]))
    assert certificate.serial in page and "<svg" in page
    assert f"/verify/{certificate.code}" in page
    assert f"/desk/certificates/{certificate.code}/pdf" in page
    assert f"/desk/certificates/{certificate.code}/revoke/" not in page  # not theirs to do


def test_the_form_shows_what_the_register_lacks(desk: Desk, login: Any) -> None:
    response = login("community_worker").post(
        f"{NEW}?person={desk.li.pk}", {"type": "juzhu", "purpose": "入学"}
    )
    assert response.status_code == 200
    assert "登记信息中缺少本证明所需内容：居住房屋地址。请先更正登记信息。" in html(response)
    assert not Certificate.objects.exists()


def test_roles_that_do_not_issue_get_403_and_other_peoples_residents_404(
    desk: Desk, login: Any, client: Client, other_worker: User
) -> None:
    assert login("grid_worker_a").get(NEW, {"person": desk.zhang.pk}).status_code == 403
    assert login("community_worker").get(NEW, {"person": desk.wang.pk}).status_code == 404
    assert login("community_worker").get(NEW, {"person": "x"}).status_code == 404
    client.force_login(other_worker)
    assert client.get(NEW, {"person": desk.zhang.pk}).status_code == 404


# A certificate at the desk


def test_the_pdf_downloads_and_the_download_is_audited(desk: Desk, login: Any) -> None:
    certificate = issue(desk.zhang)
    response = login("community_worker").get(f"/desk/certificates/{certificate.code}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert AuditEntry.objects.filter(
        action="certificate.printed", object_id=str(certificate.pk), actor=P("community_worker")
    ).exists()


def test_a_certificate_of_another_community_is_404(
    desk: Desk, client: Client, other_worker: User
) -> None:
    certificate = issue(desk.zhang)
    client.force_login(other_worker)
    for path in ["", "pdf"]:
        assert client.get(f"/desk/certificates/{certificate.code}/{path}").status_code == 404


def test_the_district_revokes_with_a_reason_and_verification_says_so(
    desk: Desk, login: Any
) -> None:
    certificate = issue(desk.zhang)
    assert (
        login("community_worker")
        .post(f"/desk/certificates/{certificate.code}/revoke/", {"reason": "错了"})
        .status_code
        == 403
    )
    client = login("district_admin")
    response = client.post(f"/desk/certificates/{certificate.code}/revoke/", {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["revoke_form"].errors
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    response = client.post(
        f"/desk/certificates/{certificate.code}/revoke/", {"reason": "住址登记有误"}
    )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoke_reason == "住址登记有误"
    assert Client().get(f"/verify/{certificate.code}").context["result"].status == "revoked"


def test_the_list_filters_by_status_within_a_bounded_number_of_queries(
    desk: Desk, login: Any, django_assert_max_num_queries: Any
) -> None:
    made = [issue(desk.zhang) for _ in range(4)]
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=made[0], reason="信息有误"
    )
    client = login("community_worker")
    with django_assert_max_num_queries(12):
        page = html(client.get("/desk/certificates/"))
    assert all(c.serial in page for c in made)
    page = html(client.get("/desk/certificates/", {"status": "revoked"}))
    assert made[0].serial in page and made[1].serial not in page
    partial = client.get("/desk/certificates/", {"q": made[2].serial}, HTTP_HX_REQUEST="true")
    assert "<html" not in html(partial) and made[2].serial in html(partial)
    assert made[3].serial not in html(partial)


# Public pages


def test_anyone_reads_which_certificates_the_community_issues(client: Client, db: Any) -> None:
    response = client.get("/certificates/")
    assert response.status_code == 200
    page = html(response)
    assert "居住证明" in page and "租住证明" in page
    for t in CertificateType.objects.filter(allowed=False):
        assert t.name in page and t.alternative in page


def test_the_verify_page_confirms_a_valid_certificate_without_personal_numbers(
    desk: Desk, client: Client
) -> None:
    certificate = issue(desk.zhang)
    response = client.get(f"/verify/{certificate.code}", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200
    page = html(response)
    assert 'data-status="valid"' in page
    assert "张*" in page and "甲社区居民委员会" in page and certificate.serial in page
    assert "张三" not in page and desk.zhang.id_number[-4:] not in page
    assert address_of(desk.zhang) not in page
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert Verification.objects.get().ip == "198.51.100.7"


def test_the_verify_page_says_revoked_and_not_found(desk: Desk, client: Client) -> None:
    certificate = issue(desk.zhang)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=certificate, reason="信息有误"
    )
    page = html(client.get(f"/verify/{certificate.code}"))
    assert 'data-status="revoked"' in page and "张*" not in page
    tampered = certificate.code[:-2] + ("AA" if certificate.code[-2:] != "AA" else "BB")
    response = client.get(f"/verify/{tampered}")
    assert response.status_code == 404
    assert 'data-status="not_found"' in html(response)
    assert certificate.serial not in html(response)
    assert Verification.objects.count() == 2


def test_a_typed_code_goes_to_its_verify_page(desk: Desk, client: Client) -> None:
    certificate = issue(desk.zhang)
    assert client.get("/verify/").status_code == 200
    typed = certificates.grouped(certificate.code).lower()
    response = client.get("/verify/", {"code": f" {typed} "})
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{certificate.code}"

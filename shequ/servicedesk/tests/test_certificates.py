"""Community certificates: the negative list refused at once with the route instead, the
positive list filled from the register, serials, verification codes, consent on the public
answer, revocation, expiry, the PDF, scoping and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
import zlib
from typing import Any

import pytest
import segno
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from shequ.accounts import services as accounts
from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.core import testing
from shequ.core.errors import DomainError, NotFound
from shequ.core.models import AuditEntry
from shequ.inbox.models import Notification
from shequ.registry import services as registry
from shequ.registry.models import Building, Person
from shequ.registry.pii import mask_id
from shequ.servicedesk import certificate_render, certificates
from shequ.servicedesk.certificate_defaults import install_certificate_types
from shequ.servicedesk.certificates import CertificateError, Outcome
from shequ.servicedesk.models import Certificate, CertificateType, Verification
from shequ.servicedesk.tests.conftest import Desk, apply_at_desk, make_id

P = testing.persona

NEGATIVE_LIST = [
    "亲属关系证明",
    "居民身份信息证明",
    "户口登记项目内容变更申请证明",
    "居民养犬证明",
    "无犯罪记录证明",
    "社区戒毒社区康复人员情况证明",
    "人员失踪证明",
    "婚姻状况证明",
    "出生证明",
    "健在证明",
    "死亡证明",
    "疾病状况证明",
    "残疾状况证明",
    "婚育状况证明",
    "居民就业状况证明",
    "居民个人档案证明",
    "居民财产证明",
    "遗产继承权证明",
    "市场主体住所证明",
    "证件遗失证明",
]


def ctype(code: str) -> CertificateType:
    return CertificateType.objects.get(code=code)


def issue(
    person: Person, *, by: str = "community_worker", code: str = "juzhu", **kw: Any
) -> Certificate:
    kw.setdefault("purpose", "子女入学")
    return certificates.certificate_request(actor=P(by), type=ctype(code), person=person, **kw)


@pytest.fixture
def other_worker(world: Any) -> User:
    """A community worker of 乙村 (C2): neither 张三 nor 李四 is theirs."""
    return accounts.user_create(
        actor="test",
        username="community_worker_c2",
        password=testing.PASSWORD,
        full_name="C2 Worker",
        memberships=[(testing.area("C2"), Role.COMMUNITY_WORKER)],
    )


@pytest.fixture
def tenant(desk: Desk) -> Person:
    """赵六 lives in a dwelling the register records as rented."""
    actor = P("community_worker")
    dwelling = registry.dwelling_create(
        actor=actor, building=Building.objects.get(code="A-7"), room="502", unit="2", use="rented"
    )
    return registry.person_create(
        actor=actor,
        area=testing.area("A"),
        dwelling=dwelling,
        name="赵小六",
        id_number=make_id(region="110105", birth="19900515", seq="464"),
        residence_type="floating",
    )


def address_of(person: Person) -> str:
    assert person.dwelling is not None
    return person.dwelling.standard_address


def pdf_bytes_inflated(pdf: bytes) -> bytes:
    """The PDF with every Flate stream decompressed (names live in compressed object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


# The negative list


def test_it_refuses_a_jianzai_certificate_at_once_with_the_route_instead(desk: Desk) -> None:
    # Nothing else is looked at: a resident, for someone else's person, without a purpose.
    with pytest.raises(DomainError) as info:
        certificates.certificate_request(
            actor=P("resident_a"),
            type=ctype("jianzai"),
            person=desk.wang,
            purpose="",
            consent={"nonsense": "yes"},
        )
    assert info.value.code == CertificateError.FORBIDDEN == "certificate_forbidden"
    alternative = ctype("jianzai").alternative
    assert info.value.extra == {"alternative": alternative, "type": "jianzai"}
    assert "社会保险经办机构" in alternative and "人脸识别" in alternative
    assert "健在证明" in info.value.message and alternative in info.value.message
    assert not Certificate.objects.exists()
    assert not AuditEntry.objects.filter(action="certificate.issued").exists()


def test_the_negative_list_holds_the_twenty_certificates_of_the_2020_notice(db: Any) -> None:
    forbidden = list(CertificateType.objects.filter(allowed=False).order_by("sort"))
    assert [t.name for t in forbidden] == NEGATIVE_LIST
    for t in forbidden:
        assert "民发〔2020〕20号" in t.legal_basis, t.code
        assert len(t.alternative) > 20, t.code
        assert t.template == "", t.code
    assert "公安机关" in ctype("wufanzui-jilu").alternative
    assert "《出生医学证明》" in ctype("chusheng").alternative
    assert "残疾人证" in ctype("canji-zhuangkuang").alternative
    assert "婚姻登记机关" in ctype("hunyin-zhuangkuang").alternative


def test_the_positive_list_is_allowed_and_its_templates_use_only_register_fields(
    db: Any,
) -> None:
    allowed = {t.code: t for t in CertificateType.objects.filter(allowed=True)}
    assert set(allowed) == {"juzhu", "zuzhu"}
    assert [allowed["juzhu"].name, allowed["zuzhu"].name] == ["居住证明", "租住证明"]
    for t in allowed.values():
        names = certificates.placeholders(t.template)
        assert (
            {"name", "id_number", "purpose", "valid_until"}
            <= set(names)
            <= set(certificates.FIELDS)
        )
        assert t.valid_days == 90 and t.legal_basis and t.procedure
    # Allowed types are listed first.
    assert [t.allowed for t in certificates.type_list()][:2] == [True, True]


def test_installing_the_defaults_again_keeps_what_an_admin_changed(db: Any) -> None:
    CertificateType.objects.filter(code="jianzai").update(alternative="区社保中心窗口")
    assert install_certificate_types(CertificateType) == 0
    assert ctype("jianzai").alternative == "区社保中心窗口"
    assert CertificateType.objects.count() == 22


# Issuing from the register


def test_a_residence_certificate_is_filled_from_the_register(desk: Desk) -> None:
    zhang = desk.zhang
    certificate = issue(zhang, purpose="  子女  入学 ")
    today = timezone.localdate()
    assert certificate.purpose == "子女 入学"
    assert certificate.committee == "甲社区居民委员会"
    assert certificate.valid_until == today + dt.timedelta(days=90)
    assert certificate.area == zhang.area and certificate.district == zhang.district
    assert certificate.issued_by == P("community_worker")
    body = certificate.body
    for text in [
        "兹证明张三",
        f"身份证件号码：{mask_id(zhang.id_number)}",
        "男",
        "1940年3月2日出生",
        "本地户籍",
        address_of(zhang),
        f"自{today.year}年{today.month}月{today.day}日起登记居住于",
        "本证明仅用于子女 入学",
        "特此证明。",
    ]:
        assert text in body
    assert zhang.id_number not in body
    assert certificate.consent == certificates.CONSENT_DEFAULTS
    assert "{" not in body


def test_the_full_id_number_is_printed_only_when_asked_for(desk: Desk) -> None:
    certificate = issue(desk.zhang, full_id=True)
    assert f"身份证件号码：{desk.zhang.id_number}" in certificate.body


def test_the_register_must_hold_what_the_certificate_states(desk: Desk) -> None:
    with pytest.raises(DomainError) as info:
        issue(desk.li)  # 李四 has no dwelling in the register
    assert info.value.code == CertificateError.REGISTER
    assert info.value.extra == {"missing": ["address"]}
    assert not Certificate.objects.exists()


def test_a_tenancy_certificate_needs_a_dwelling_registered_as_rented(
    desk: Desk, tenant: Person
) -> None:
    with pytest.raises(DomainError) as info:
        issue(desk.zhang, code="zuzhu")  # 张三's flat is owner-occupied
    assert info.value.extra == {"missing": ["rented_address"]}
    certificate = issue(tenant, code="zuzhu", purpose="申领居住证")
    assert f"租住并实际居住于{address_of(tenant)}" in certificate.body
    assert "非本地户籍" in certificate.body and "女" in certificate.body


def test_a_template_may_use_nothing_but_plain_register_fields(db: Any) -> None:
    for template in ["{name.__class__}", "{name[0]}", "{name!r}", "{name:>20}", "{secret}", "{"]:
        with pytest.raises(DomainError) as info:
            certificates.placeholders(template)
        assert info.value.code == CertificateError.TEMPLATE, template
    assert certificates.placeholders("{name}，{{不是占位}}{date}") == ["name", "date"]


def test_a_person_who_moved_out_gets_no_certificate(desk: Desk) -> None:
    # The register has no service that records moving out yet.
    Person.objects.filter(pk=desk.zhang.pk).update(status="moved_out")
    person = Person.objects.get(pk=desk.zhang.pk)
    with pytest.raises(DomainError) as info:
        issue(person)
    assert info.value.code == CertificateError.NOT_RESIDENT


def test_a_certificate_may_answer_the_residents_own_application_only(desk: Desk) -> None:
    application = apply_at_desk(desk)  # 张三's
    with pytest.raises(DomainError) as info:
        issue(desk.li, application=application)
    assert info.value.code == CertificateError.APPLICATION
    certificate = issue(desk.zhang, application=application)
    assert list(application.certificates.all()) == [certificate]
    entry = AuditEntry.objects.get(action="certificate.issued")
    assert entry.changes["application"] == application.code


def test_the_purpose_is_required(desk: Desk) -> None:
    with pytest.raises(DomainError) as info:
        issue(desk.zhang, purpose=" ")
    assert info.value.code == CertificateError.PURPOSE
    assert info.value.extra == {"field": "purpose"}


def test_unknown_consent_is_refused(desk: Desk) -> None:
    with pytest.raises(DomainError) as info:
        issue(desk.zhang, consent={"full_name": True, "birth_date": True})
    assert info.value.code == CertificateError.CONSENT
    assert info.value.extra["unknown"] == ["birth_date"]


# Serials and codes


def test_serials_run_per_committee_and_year(desk: Desk) -> None:
    year = timezone.localdate().year
    serials = [issue(p).serial for p in (desk.zhang, desk.zhang, desk.zhang)]
    prefix = f"{testing.CODES['C1']}-{year}-"
    assert serials == [f"{prefix}000001", f"{prefix}000002", f"{prefix}000003"]
    with time_machine.travel(dt.datetime(year + 1, 1, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        assert issue(desk.zhang).serial == f"{testing.CODES['C1']}-{year + 1}-000001"


def test_a_serial_another_desk_took_meanwhile_is_retried_with_the_next(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = issue(desk.zhang)
    real = certificates.next_serial
    calls: list[str] = []

    def stale(prefix: str) -> str:
        calls.append(prefix)
        return first.serial if len(calls) == 1 else real(prefix)

    monkeypatch.setattr(certificates, "next_serial", stale)
    second = issue(desk.zhang)
    assert len(calls) == 2
    assert second.serial.endswith("-000002")


def test_codes_are_sixteen_unambiguous_characters_and_never_repeat(db: Any) -> None:
    codes = {certificates.new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 16 and set(code) <= set(certificates.ALPHABET)
    assert not set("01IO") & set(certificates.ALPHABET) and len(certificates.ALPHABET) == 32


# Verification


def test_a_valid_certificate_verifies_with_only_the_default_fields(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    result = certificates.certificate_verify(code=certificate.code, ip="203.0.113.9")
    assert result.status is Outcome.VALID
    assert result.as_json() == {
        "status": "valid",
        "type": "居住证明",
        "committee": "甲社区居民委员会",
        "serial": certificate.serial,
        "issued_on": timezone.localdate().isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "holder": "张*",
        "purpose": "子女入学",
    }
    text = str(result.as_json())
    assert desk.zhang.id_number[-4:] not in text and "5678" not in text
    assert address_of(desk.zhang) not in text


def test_what_the_holder_agreed_to_is_shown_masked(desk: Desk) -> None:
    consent = {"full_name": True, "purpose": False, "id_number": True, "address": True}
    certificate = issue(desk.zhang, consent={**consent, "phone": True})
    shown = certificates.certificate_verify(code=certificate.code, ip=None).shown
    assert shown["holder"] == "张三"
    assert shown["id_number"] == mask_id(desk.zhang.id_number) != desk.zhang.id_number
    assert shown["address"] == address_of(desk.zhang)
    assert shown["phone"] == "138****5678"
    assert "purpose" not in shown


def test_names_are_masked_keeping_the_first_and_last_character() -> None:
    assert [certificates.mask_name(n) for n in ["张三", "张小三", "欧阳小明", "李", ""]] == [
        "张*",
        "张*三",
        "欧**明",
        "*",
        "",
    ]


def test_a_revoked_certificate_verifies_as_revoked_and_says_when(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=certificate, reason="信息有误，重新开具"
    )
    result = certificates.certificate_verify(code=certificate.code, ip=None)
    assert result.status is Outcome.REVOKED
    assert result.revoked_at is not None
    data = result.as_json()
    assert data["status"] == "revoked" and data["revoked_at"] == result.revoked_at.isoformat()
    assert "holder" not in data and "purpose" not in data


def test_a_certificate_past_its_validity_verifies_as_expired(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    last_day = dt.datetime.combine(certificate.valid_until, dt.time(23, 0))
    with time_machine.travel(timezone.make_aware(last_day), tick=False):
        assert certificates.certificate_verify(code=certificate.code, ip=None).status == "valid"
    with time_machine.travel(timezone.make_aware(last_day + dt.timedelta(days=1)), tick=False):
        result = certificates.certificate_verify(code=certificate.code, ip=None)
    assert result.status is Outcome.EXPIRED and "holder" not in result.shown


def test_a_tampered_or_unknown_code_is_not_found_and_reveals_nothing(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    last = certificate.code[-1]
    tampered = certificate.code[:-1] + ("A" if last != "A" else "B")
    for code in [tampered, "X", "' OR 1=1 --", certificate.code + "2", ""]:
        result = certificates.certificate_verify(code=code, ip=None)
        assert result.as_json() == {"status": "not_found"}, code


def test_codes_are_read_whatever_the_case_and_dashes(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    typed = certificates.grouped(certificate.code).lower()
    assert certificates.certificate_verify(code=typed, ip=None).status is Outcome.VALID


def test_every_look_up_is_logged_found_or_not(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    certificates.certificate_verify(code=certificate.code, ip="203.0.113.9")
    certificates.certificate_verify(code="NOPE-NOPE", ip="2001:db8::1")
    rows = list(Verification.objects.order_by("id").values("code", "certificate", "result", "ip"))
    assert rows == [
        {
            "code": certificate.code,
            "certificate": certificate.pk,
            "result": "valid",
            "ip": "203.0.113.9",
        },
        {"code": "NOPE-NOPE", "certificate": None, "result": "not_found", "ip": "2001:db8::1"},
    ]


# Who may do what


def test_only_the_issuing_roles_issue(desk: Desk) -> None:
    with pytest.raises(PermissionDenied):
        issue(desk.zhang, by="grid_worker_a")
    assert not Certificate.objects.exists()


def test_a_worker_of_another_community_gets_404_for_the_person_and_the_certificate(
    desk: Desk, other_worker: User
) -> None:
    with pytest.raises(NotFound):
        certificates.certificate_request(
            actor=other_worker, type=ctype("juzhu"), person=desk.zhang, purpose="入学"
        )
    with pytest.raises(NotFound):
        issue(desk.wang)  # the C1 worker and a person of C2
    certificate = issue(desk.zhang)
    with pytest.raises(NotFound):
        certificates.access_certificate(other_worker, certificate.code)
    with pytest.raises(NotFound):
        certificates.certificate_print(actor=other_worker, certificate=certificate)
    assert certificates.access_certificate(P("community_worker"), certificate.code) == certificate


def test_revoking_needs_the_role_and_a_reason_and_happens_once(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    with pytest.raises(PermissionDenied):
        certificates.certificate_revoke(
            actor=P("community_worker"), certificate=certificate, reason="错了"
        )
    with pytest.raises(DomainError) as info:
        certificates.certificate_revoke(
            actor=P("district_admin"), certificate=certificate, reason=""
        )
    assert info.value.code == CertificateError.REASON
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=certificate, reason="错了"
    )
    with pytest.raises(DomainError) as info:
        certificates.certificate_revoke(
            actor=P("district_admin"), certificate=certificate, reason="再撤"
        )
    assert info.value.code == CertificateError.REVOKED


def test_issuing_revoking_and_printing_are_audited_under_the_residents_area(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    certificates.certificate_print(actor=P("community_worker"), certificate=certificate)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=certificate, reason="错了"
    )
    entries = {
        e.action: e
        for e in AuditEntry.objects.filter(
            object_type="servicedesk.certificate", object_id=str(certificate.pk)
        )
    }
    assert set(entries) == {"certificate.issued", "certificate.printed", "certificate.revoked"}
    issued = entries["certificate.issued"]
    assert issued.actor == P("community_worker")
    assert issued.changes["type"] == "juzhu" and issued.changes["serial"] == certificate.serial
    assert issued.changes["person"] == desk.zhang.pk and issued.changes["full_id"] is False
    assert entries["certificate.revoked"].changes["reason"] == "错了"
    assert entries["certificate.printed"].changes["bytes"] > 10_000
    assert {e.area_path for e in entries.values()} == {desk.zhang.area.path}


def test_the_holder_is_told_in_the_inbox(
    desk: Desk, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        certificate = issue(desk.zhang)
    notice = Notification.objects.get(user=P("resident_a"), kind="certificate")
    assert certificate.serial in notice.title
    assert notice.url == f"/verify/{certificate.code}"


# The PDF


def test_the_pdf_is_a_pdf_with_the_chinese_font_embedded(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    pdf = certificates.certificate_pdf(certificate)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert 10_000 < len(pdf) < 400_000
    inside = pdf_bytes_inflated(pdf)
    assert b"/FontFile3" in inside and b"/CIDFontType0" in inside
    assert b"Shequ-Serif-SC" in inside or b"Noto-Serif-CJK-SC" in inside
    assert re.search(rb"/MediaBox \[\s*0 0 595\.\d+ 841\.\d+", inside)


def test_the_common_character_font_covers_the_certificate_text(desk: Desk) -> None:
    from fontTools.ttLib import TTFont

    font = certificates.certificate_font()
    assert font is not None and font.stat().st_size < 5_000_000
    cmap = TTFont(str(font)).getBestCmap()
    certificate = issue(desk.zhang)
    html = certificates.certificate_html(certificate)
    text = re.sub(r"<[^>]+>|\s", "", html.split("<body>")[1])
    assert [ch for ch in text if ord(ch) not in cmap] == []


def test_the_qr_code_and_the_printed_link_go_to_the_verify_page(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    html = certificates.certificate_html(certificate, base_url="https://shequ.example.cn/")
    url = f"https://shequ.example.cn/verify/{certificate.code}"
    assert url in html
    qr = segno.make(url, error="m").png_data_uri(scale=1, border=0)
    assert f'src="{qr}"' in html
    for text in [
        certificate.serial,
        "甲社区居民委员会",
        "居住证明",
        certificates.grouped(certificate.code),
    ]:
        assert text in html
    # Without a request, the configured public address.
    assert f"http://127.0.0.1:8000/verify/{certificate.code}" in certificates.certificate_html(
        certificate
    )


def test_the_pdf_renderer_fetches_nothing_but_inline_data_and_its_font(db: Any) -> None:
    fetch = certificate_render._fetcher({"file:///var/font.otf"})
    for url in ["http://example.com/logo.png", "https://example.com/a.css", "file:///etc/passwd"]:
        with pytest.raises(ValueError, match="fetch nothing"):
            fetch(url)
    inline = fetch("data:text/plain;base64,5L2g5aW9")
    body = inline["string"] if "string" in inline else inline["file_obj"].read()
    assert body == "你好".encode()


def test_a_revoked_certificate_is_not_printed_again(desk: Desk) -> None:
    certificate = issue(desk.zhang)
    certificates.certificate_revoke(
        actor=P("district_admin"), certificate=certificate, reason="错了"
    )
    certificate.refresh_from_db()
    with pytest.raises(DomainError) as info:
        certificates.certificate_print(actor=P("community_worker"), certificate=certificate)
    assert info.value.code == CertificateError.REVOKED
    assert not AuditEntry.objects.filter(action="certificate.printed").exists()

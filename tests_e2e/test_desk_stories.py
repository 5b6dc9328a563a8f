"""User stories of the service desk (一站式受理) and community certificates, in a real browser."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import segno
from PIL import Image

from tests_e2e import test_case_stories
from tests_e2e.test_case_stories import PHONE

pytestmark = pytest.mark.e2e

# `people("shequ", phone=True)`: a signed-in browser of a demo account, as in the case stories.
people = test_case_stories.people


@pytest.fixture
def demo_register(demo_city: None) -> None:
    """The demo city with a few hundred residents, and what the data migrations install (an
    earlier browser test's flush may have emptied it)."""
    from shequ.demo import people as demo_people
    from shequ.demo import servicedesk
    from shequ.servicedesk.certificate_defaults import install_certificate_types
    from shequ.servicedesk.defaults import install_catalogue
    from shequ.servicedesk.models import CertificateType, ServiceItem

    install_catalogue(ServiceItem)
    install_certificate_types(CertificateType)
    demo_people.populate(seed=2026, residents=600)
    servicedesk.link_resident()


def _community1() -> Any:
    from shequ.accounts.models import Membership

    return Membership.objects.select_related("area").get(user__username="shequ").area


@pytest.fixture
def elder(demo_register: None) -> Any:
    """An 80-year-old registered resident of the desk's community, with a linked account
    `laoren` (what the desk does once, when the resident first brings their ID card)."""
    from django.utils import timezone

    from shequ.accounts import services as accounts
    from shequ.accounts.roles import Role
    from shequ.areas.models import Area, Level
    from shequ.demo.city import ACTOR, PASSWORD
    from shequ.registry.models import Person
    from shequ.servicedesk.eligibility import age_cutoff
    from shequ.servicedesk.models import ResidentLink

    person = (
        Person.objects.filter(
            area__path__startswith=_community1().path,
            residence_type="registered",
            status="active",
            birth_date__lte=age_cutoff(timezone.localdate(), 80),
        )
        .order_by("pk")
        .first()
    )
    assert person is not None, "the demo register has an 80-year-old in the first community"
    grid = Area.objects.get(
        level=Level.GRID, path__in=[person.area.path[:n] for n in range(len(person.area.path))]
        + [person.area.path]
    )  # fmt: skip
    user = accounts.user_create(
        actor=ACTOR,
        username="laoren",
        password=PASSWORD,
        full_name=person.name,
        memberships=[(grid, Role.RESIDENT)],
    )
    ResidentLink.objects.create(user=user, person=person)
    return person


def _scan(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.png"
    buf = io.BytesIO()
    Image.new("RGB", (600, 400), (230, 230, 215)).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return str(path)


def _move(page: Any, move: str, note: str = "") -> None:
    form = page.locator(f"form[data-move-form='{move}']")
    if note:
        form.locator("textarea[name='note']").fill(note)
    form.locator(f"button[data-move='{move}']").click()
    page.wait_for_load_state("networkidle")


def _status(page: Any) -> str:
    return str(page.locator("[data-status]").first.get_attribute("data-status"))


def _fits_the_phone(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_resident_applies_for_old_age_allowance_on_a_phone_and_desk_approves_it(
    live_server: Any,
    elder: Any,
    people: Any,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    from shequ.servicedesk.models import Application

    base = live_server.url
    # The resident finds 高龄津贴 in the service guide on the phone and applies online.
    resident = people("laoren", phone=True)
    resident.goto(f"{base}/services/?q=高龄")
    resident.click("a:has-text('高龄津贴')")
    _fits_the_phone(resident)
    resident.click("a:has-text('网上申请')")
    resident.wait_for_url(re.compile(r"/services/gaoling-jintie/apply/$"))
    # The register fills in who they are (最多录一次); they add only the bank account and scans.
    assert elder.name in resident.content()
    resident.fill("#id_extra_bank_account", "6217 8560 1000 2345 678")
    resident.set_input_files("#id_material_idcard", _scan(tmp_path, "身份证"))
    resident.set_input_files("#id_material_hukou", _scan(tmp_path, "户口簿"))
    _fits_the_phone(resident)
    resident.screenshot(path=str(artifacts / "desk_apply_phone.png"), full_page=True)
    resident.click("button:has-text('提交申请')")
    resident.wait_for_url(re.compile(r"/services/my/BJ\d{8}-\d{6}/$"))
    code = resident.url.rstrip("/").rsplit("/", 1)[1]
    assert _status(resident) == "submitted"
    application = Application.objects.get(code=code)
    assert application.channel == "online" and application.person_id == elder.pk

    # The desk worker finds it among those to accept, accepts it, and asks for the bank card
    # (补正), all at once with the reason.
    worker = people("shequ")
    worker.goto(f"{base}/desk/applications/?queue=to_accept")
    worker.click(f"text={code}")
    _move(worker, "accept")
    assert _status(worker) == "accepted"
    _move(worker, "request_materials", "请补交本人社会保障卡或银行卡，用于按月发放津贴")
    assert _status(worker) == "needs_materials"

    # The resident sees what is missing and why, and uploads it from the phone.
    resident.reload()
    assert _status(resident) == "needs_materials"
    assert "用于按月发放津贴" in resident.content()
    # It was accepted before: the progress bar stays at 已受理 while the clock is paused.
    assert resident.locator(".steps [aria-current='step']").inner_text() == "已受理"
    _fits_the_phone(resident)
    supplement = resident.locator("form[data-move-form='supplement']")
    supplement.locator("input[name='material_bankcard']").set_input_files(_scan(tmp_path, "银行卡"))
    supplement.locator("button[data-move='supplement']").click()
    resident.wait_for_load_state("networkidle")
    assert _status(resident) == "submitted"

    # The worker accepts the completed application and approves it with the answer.
    worker.reload()
    assert "银行卡" in worker.locator("#application-body").inner_text()
    _move(worker, "accept")
    _move(worker, "approve", "经审核符合条件，自下月起按月发放高龄津贴")
    assert _status(worker) == "approved"
    timeline = worker.locator("#application-body").inner_text()
    for step in ("受理", "一次性告知补正", "提交补正材料", "办结"):
        assert step in timeline

    # The resident sees the result, and the inbox told them of every step.
    resident.reload()
    assert _status(resident) == "approved"
    assert "按月发放高龄津贴" in resident.content()
    _fits_the_phone(resident)
    resident.screenshot(path=str(artifacts / "desk_result_phone.png"), full_page=True)
    resident.goto(f"{base}/inbox/")
    assert code in resident.content()
    for p in (resident, worker):
        assert p.js_errors == []


def test_resident_asks_for_a_proof_of_life_and_is_told_where_to_go(
    live_server: Any,
    demo_register: None,
    people: Any,
    artifacts: Path,
) -> None:
    from shequ.registry.models import Person
    from shequ.servicedesk.models import Certificate, CertificateType

    base = live_server.url
    proof_of_life = CertificateType.objects.get(name="健在证明", allowed=False)
    # On the phone, the public list says the community does not issue 健在证明, and where to go.
    resident = people("jumin", phone=True)
    resident.goto(f"{base}/certificates/")
    entry = resident.locator(f"[id='{proof_of_life.code}']")
    assert "健在证明" in entry.inner_text()
    assert proof_of_life.alternative in entry.inner_text()
    _fits_the_phone(resident)

    # At the desk the worker tries anyway: the refusal comes at once, with the route instead.
    worker = people("shequ")
    person = Person.objects.get(name="孙居民")
    worker.goto(f"{base}/desk/?person={person.pk}")
    worker.click("a[data-action='certificate']")
    worker.click(".list-group-item:has-text('健在证明')")
    refusal = worker.locator("#certificate-refusal").inner_text()
    assert "健在证明" in refusal
    assert proof_of_life.alternative in refusal
    worker.screenshot(path=str(artifacts / "desk_certificate_refused.png"), full_page=True)
    assert Certificate.objects.count() == 0
    for p in (resident, worker):
        assert p.js_errors == []


def test_desk_issues_a_residence_certificate_and_its_qr_code_verifies(
    browser: Any,
    live_server: Any,
    demo_register: None,
    people: Any,
    artifacts: Path,
) -> None:
    from shequ.registry.models import Person
    from shequ.servicedesk.models import Certificate, Verification

    base = live_server.url
    person = Person.objects.get(name="孙居民")
    worker = people("shequ")
    # The worker finds the resident at the desk and starts the certificate from their panel.
    worker.goto(f"{base}/desk/")
    worker.fill("#desk-q", "孙居民")
    worker.press("#desk-q", "Enter")
    worker.click(f"a[data-person='{person.pk}']")
    worker.click("a[data-action='certificate']")
    worker.wait_for_url(re.compile(r"/desk/certificates/new/"))
    worker.check("input[name='type'][value='juzhu']")
    worker.fill("[name='purpose']", "子女入学")
    worker.click("button:has-text('开具证明')")
    worker.wait_for_url(re.compile(r"/desk/certificates/[0-9A-Z]+/$"))
    certificate = Certificate.objects.get()
    assert certificate.type.code == "juzhu" and certificate.person_id == person.pk

    # The QR code on the certificate encodes the link printed under it: the public page.
    link = worker.locator(f"a[href$='/verify/{certificate.code}']").get_attribute("href")
    assert link is not None and link.endswith(f"/verify/{certificate.code}")
    shown = worker.locator("svg path").first.get_attribute("d")
    expected = re.search(r' d="([^"]+)"', segno.make(link, error="m").svg_inline(scale=4, border=2))
    assert expected is not None and shown == expected.group(1)
    worker.screenshot(path=str(artifacts / "desk_certificate_issued.png"), full_page=True)

    # Whoever scans it (no sign-in, a phone) sees it valid.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    scanner = context.new_page()
    scanner.goto(link)
    result = scanner.locator("#verify-result")
    assert result.get_attribute("data-status") == "valid"
    assert "证明真实有效" in result.inner_text()
    assert certificate.committee in result.inner_text()
    assert person.name not in scanner.content()  # the name is masked unless the holder agreed
    _fits_the_phone(scanner)
    scanner.screenshot(path=str(artifacts / "desk_certificate_verified_phone.png"), full_page=True)
    assert Verification.objects.filter(certificate=certificate, result="valid").count() == 1
    context.close()
    assert worker.js_errors == []

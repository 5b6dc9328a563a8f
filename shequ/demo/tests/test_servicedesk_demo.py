"""The demo service desk: applications in every state made through the real services,
certificates whose QR codes verify (one revoked), eligibility results, determinism and reset."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from shequ.core.models import AuditEntry
from shequ.demo import city, people
from shequ.inbox.models import Notification
from shequ.servicedesk import certificates
from shequ.servicedesk.models import (
    Application,
    Certificate,
    EligibilityRule,
    Entitlement,
    ResidentLink,
    Verification,
)
from shequ.servicedesk.states import MOVES, Channel, Status

RESIDENTS = "600"


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--residents", RESIDENTS, "--cases", "0", *args, stdout=out)
    return out.getvalue()


def _applications() -> Any:
    return Application.objects.filter(district__code=city.DISTRICT_CODE)


def _story() -> list[tuple[str, str, str, str]]:
    """What the demo desk did, independent of database ids, numbers and verification codes."""
    return sorted(
        (a.item.code, a.channel, a.status, a.person.name)
        for a in _applications().select_related("item", "person")
    )


@pytest.fixture
def demo(committed_db: None, transactional_db: None) -> str:
    """Real commits, so the notices sent after each step's commit are there to check."""
    from shequ.servicedesk.certificate_defaults import install_certificate_types
    from shequ.servicedesk.defaults import install_catalogue
    from shequ.servicedesk.models import CertificateType, ServiceItem

    # A flush by an earlier test empties what the data migrations installed.
    install_catalogue(ServiceItem)
    install_certificate_types(CertificateType)
    return _demo()


# One demo load serves several checks: loading it is the slow part.


def test_the_demo_desk_has_every_state_channel_and_history(demo: str) -> None:
    _check_report(demo)
    _check_states(demo)
    _check_channels(demo)
    _check_link(demo)
    _check_histories(demo)
    _check_supplement(demo)
    _check_dates(demo)


def test_the_demo_desk_moves_are_audited_and_announced(demo: str) -> None:
    _check_audit(demo)
    _check_notices(demo)


def test_the_demo_certificates_verify_and_one_is_revoked(demo: str) -> None:
    _check_certificates(demo)
    _check_verification(demo)


def test_the_demo_eligibility_rules_have_results(demo: str) -> None:
    _check_eligibility(demo)
    _check_receiving(demo)


def _check_report(demo: str) -> None:
    line = next(x for x in demo.splitlines() if x.startswith("service desk loaded"))
    assert f"{_applications().count()} applications" in line
    assert "1 revoked" in line


def _check_states(demo: str) -> None:
    statuses = set(_applications().values_list("status", flat=True))
    assert statuses == set(Status.values)


def _check_channels(demo: str) -> None:
    channels = set(_applications().values_list("channel", flat=True))
    assert channels == set(Channel.values)
    for app in _applications().filter(channel=Channel.PROXY):
        assert app.proxy_authorisation
    online = _applications().filter(channel=Channel.ONLINE)
    assert {a.applicant_user.username for a in online.select_related("applicant_user")} == {"jumin"}


def _check_link(demo: str) -> None:
    link = ResidentLink.objects.select_related("person", "user").get(user__username="jumin")
    assert link.person.name == people.RESIDENT_NAME
    assert link.person.district.code == city.DISTRICT_CODE


def _check_histories(demo: str) -> None:
    for app in _applications().prefetch_related("events"):
        events = list(app.events.all())
        assert events[0].kind == "submitted", app.code
        assert abs(events[0].at - app.created_at) < dt.timedelta(seconds=1)
        status = Status.SUBMITTED
        for event in events[1:]:
            move = MOVES[event.kind]
            assert event.from_status == status and status in move.sources, app.code
            assert event.to_status == move.target
            status = Status(event.to_status)
        assert status == app.status, app.code
        assert [e.at for e in events] == sorted(e.at for e in events)


def _check_supplement(demo: str) -> None:
    kinds = [
        [e.kind for e in app.events.all()] for app in _applications().prefetch_related("events")
    ]
    assert ["submitted", "request_materials", "supplement", "accept", "approve"] in kinds


def _check_audit(demo: str) -> None:
    for app in _applications().prefetch_related("events"):
        logged = AuditEntry.objects.filter(
            object_type="servicedesk.application", object_id=str(app.pk)
        )
        actions = sorted(logged.values_list("action", flat=True))
        assert actions == sorted(f"application.{e.kind}" for e in app.events.all()), app.code


def _check_notices(demo: str) -> None:
    online = _applications().filter(channel=Channel.ONLINE)
    notices = Notification.objects.filter(user__username="jumin", kind__startswith="application.")
    for app in online.prefetch_related("events"):
        told = notices.filter(url__contains=app.code)
        assert told.count() == app.events.count(), app.code


def _check_dates(demo: str) -> None:
    now = timezone.now()
    finished = _applications().filter(status__in=[Status.APPROVED, Status.RATED])
    assert any(now - a.created_at > dt.timedelta(days=3) for a in finished)
    assert _applications().filter(created_at__gt=now - dt.timedelta(hours=1)).exists()
    for app in _applications():
        assert app.code.startswith(f"BJ{timezone.localtime(app.created_at):%Y%m%d}-"), app.code
        assert app.finished_at is None or app.created_at <= app.finished_at <= now


def _check_certificates(demo: str) -> None:
    issued = Certificate.objects.filter(district__code=city.DISTRICT_CODE)
    assert set(issued.values_list("type__code", flat=True)) == {"juzhu", "zuzhu"}
    assert issued.filter(revoked_at__isnull=False).count() == 1
    for certificate in issued:
        logged = AuditEntry.objects.filter(
            object_type="servicedesk.certificate", object_id=str(certificate.pk)
        )
        assert logged.filter(action="certificate.issued").exists()


def _check_verification(demo: str) -> None:
    issued = Certificate.objects.filter(district__code=city.DISTRICT_CODE)
    assert Verification.objects.filter(certificate__in=issued, result="valid").exists()
    client = Client()
    for certificate in issued:
        expected = "revoked" if certificate.revoked_at else "valid"
        result = certificates.certificate_verify(code=certificate.code, ip=None)
        assert result.status == expected
        answer = client.get(f"/api/v1/verify/{certificate.code}/")
        assert answer.status_code == 200
        assert answer.json()["status"] == expected
        page = client.get(f"/verify/{certificate.code}")
        assert page.status_code == 200
        assert certificate.serial in page.content.decode()


def _check_eligibility(demo: str) -> None:
    assert EligibilityRule.objects.filter(active=True).count() >= 5
    results = Entitlement.objects.filter(district__code=city.DISTRICT_CODE)
    assert results.filter(rule__code="gaoling-jintie").exists()
    states = set(results.values_list("state", flat=True))
    assert {"open", "contacted", "declined", "receiving"} <= states
    worked = results.filter(state__in=["contacted", "declined"])
    for task in worked:
        assert task.note and task.contacted_at is not None
        assert AuditEntry.objects.filter(
            action=f"entitlement.{task.state}", object_id=str(task.pk)
        ).exists()


def _check_receiving(demo: str) -> None:
    approved = _applications().filter(
        item__code="gaoling-jintie", status__in=[Status.APPROVED, Status.RATED]
    )
    assert approved.exists()
    for app in approved:
        result = Entitlement.objects.get(rule__code="gaoling-jintie", person=app.person)
        assert result.state == "receiving"


def _certificate_story() -> list[tuple[str, str, str, bool]]:
    return sorted(
        (c.serial, c.type.code, c.person.name, c.revoked_at is None)
        for c in Certificate.objects.filter(district__code=city.DISTRICT_CODE).select_related(
            "type", "person"
        )
    )


def test_the_same_seed_gives_the_same_desk_and_reset_rebuilds_it(demo: str) -> None:
    first, first_certificates = _story(), _certificate_story()
    _demo("--reset")
    assert ResidentLink.objects.filter(user__username="jumin").count() == 1
    assert _story() == first
    assert _certificate_story() == first_certificates

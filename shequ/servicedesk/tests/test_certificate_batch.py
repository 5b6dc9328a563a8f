"""Printing many certificates at once: the selection (scoping, revoked never, filters), the
batch service (checked before anything is rendered, one audit entry per PDF, the worker pool
renders the same PDFs as one process) and the `certificates-pdf` command."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from shequ.accounts import services as accounts
from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.core import testing
from shequ.core.errors import DomainError, NotFound
from shequ.core.models import AuditEntry
from shequ.registry import services as registry
from shequ.servicedesk import certificate_render, certificates
from shequ.servicedesk.errors import CertificateError
from shequ.servicedesk.models import Certificate
from shequ.servicedesk.tests.conftest import Desk, make_id
from shequ.servicedesk.tests.test_certificates import ctype, issue

P = testing.persona


def serials(rows: Any) -> list[str]:
    return [c.serial for c in rows]


@pytest.fixture
def outsider(world: Any) -> User:
    """A community worker of 乙村 (C2), another street: none of the certificates is theirs."""
    return accounts.user_create(
        actor="test",
        username="community_worker_c2",
        password=testing.PASSWORD,
        full_name="C2 Worker",
        memberships=[(testing.area("C2"), Role.COMMUNITY_WORKER)],
    )


@pytest.fixture
def three(desk: Desk) -> list[Certificate]:
    """Two 居住证明 for 张三 (grid A) and one for 钱七 (grid B), in serial order."""
    actor = P("community_worker")
    building = registry.building_create(
        actor=actor,
        area=testing.area("B"),
        code="B-3",
        name="3号楼",
        road="翠苑路",
        road_number="3号",
    )
    qian = registry.person_create(
        actor=actor,
        area=testing.area("B"),
        dwelling=registry.dwelling_create(actor=actor, building=building, unit="1", room="101"),
        name="钱七",
        id_number=make_id(birth="19800101", seq="275"),
    )
    return [issue(desk.zhang), issue(qian, purpose="申领居住证"), issue(desk.zhang)]


def printed() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="certificate.printed").order_by("seq"))


# Choosing what to print


def test_the_selection_is_what_the_user_may_print_and_never_a_revoked_one(
    desk: Desk, three: list[Certificate], outsider: Any
) -> None:
    worker = P("community_worker")
    everything = certificates.printable_certificates(worker, area=testing.area("C1"))
    assert serials(everything) == sorted(serials(three))
    certificates.certificate_revoke(actor=P("district_admin"), certificate=three[0], reason="错了")
    assert serials(certificates.printable_certificates(worker)) == serials(three[1:])
    # Another community's worker sees none of them, even by serial.
    assert not certificates.printable_certificates(outsider, serials=serials(three)).exists()


def test_the_selection_filters_by_area_type_dates_and_serials(
    desk: Desk, three: list[Certificate]
) -> None:
    worker = P("community_worker")
    in_a = certificates.printable_certificates(worker, area=testing.area("A"))
    assert serials(in_a) == [three[0].serial, three[2].serial]
    assert serials(
        certificates.printable_certificates(worker, serials=[three[1].serial, "nonsense"])
    ) == [three[1].serial]
    assert not certificates.printable_certificates(worker, type=ctype("zuzhu")).exists()
    assert certificates.printable_certificates(worker, type=ctype("juzhu")).count() == 3
    today = timezone.localdate()
    assert (
        certificates.printable_certificates(worker, issued_from=today, issued_to=today).count() == 3
    )
    assert not certificates.printable_certificates(
        worker, issued_from=today + dt.timedelta(days=1)
    ).exists()
    assert not certificates.printable_certificates(
        worker, issued_to=today - dt.timedelta(days=1)
    ).exists()


# The batch service


def test_a_batch_hands_out_each_pdf_in_order_each_audited_under_one_batch_id(
    desk: Desk, three: list[Certificate]
) -> None:
    out = list(
        certificates.certificate_print_batch(actor=P("community_worker"), certificates=three)
    )
    assert [c.pk for c, _pdf in out] == [c.pk for c in three]
    for _certificate, pdf in out:
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    entries = printed()
    assert [e.object_id for e in entries] == [str(c.pk) for c in three]
    assert [e.changes["serial"] for e in entries] == serials(three)
    assert [e.changes["bytes"] for e in entries] == [len(pdf) for _c, pdf in out]
    assert len({e.changes["batch"] for e in entries}) == 1
    assert {e.actor_name for e in entries} == {"community_worker"}


def test_a_batch_is_checked_whole_before_anything_is_printed(
    desk: Desk, three: list[Certificate], outsider: Any
) -> None:
    certificates.certificate_revoke(actor=P("district_admin"), certificate=three[2], reason="错了")
    three[2].refresh_from_db()
    with pytest.raises(DomainError) as info:
        list(certificates.certificate_print_batch(actor=P("community_worker"), certificates=three))
    assert info.value.code == CertificateError.REVOKED
    assert info.value.extra == {"serial": three[2].serial}
    with pytest.raises(NotFound):
        list(certificates.certificate_print_batch(actor=outsider, certificates=three[:2]))
    assert printed() == []


def test_the_pool_renders_exactly_what_one_process_renders(
    desk: Desk, three: list[Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = [certificates.pdf_data(c) for c in three]
    alone = list(certificate_render.render_many(data, workers=1))
    monkeypatch.setattr(certificate_render, "POOL_FROM", 1)  # a pool even for three
    pooled = list(certificate_render.render_many(data, workers=2))
    assert pooled == alone
    # …and the single print renders the same document.
    assert certificates.certificate_pdf(three[0]) == alone[0]


def test_a_pdf_rendered_twice_is_the_same_file(desk: Desk) -> None:
    """Reprints are identical, whoever renders them (no clock in the file)."""
    certificate = issue(desk.zhang)
    first = certificates.certificate_pdf(certificate)
    with time_machine.travel(dt.timedelta(days=3)):
        assert certificates.certificate_pdf(certificate) == first


# The command


def test_the_command_writes_one_zip_with_a_pdf_per_certificate(
    desk: Desk, three: list[Certificate], tmp_path: Path
) -> None:
    out = io.StringIO()
    call_command(
        "certificates_pdf",
        "--as=community_worker",
        f"--area={testing.area('A').code}",
        f"--out={tmp_path / 'print.zip'}",
        stdout=out,
    )
    with zipfile.ZipFile(tmp_path / "print.zip") as archive:
        names = archive.namelist()
        assert names == [f"{three[0].serial}.pdf", f"{three[2].serial}.pdf"]
        assert archive.read(names[0]) == certificates.certificate_pdf(three[0])
    assert "2 certificates printed" in out.getvalue()
    assert [e.changes["serial"] for e in printed()] == [three[0].serial, three[2].serial]
    assert list(tmp_path.iterdir()) == [tmp_path / "print.zip"]  # no temporary file left


def test_the_command_writes_a_folder_by_serial(
    desk: Desk, three: list[Certificate], tmp_path: Path
) -> None:
    call_command(
        "certificates_pdf",
        "--as=community_worker",
        f"--serial={three[1].serial}",
        "--type=juzhu",
        f"--out={tmp_path / 'pdfs'}",
        stdout=io.StringIO(),
    )
    assert sorted(p.name for p in (tmp_path / "pdfs").iterdir()) == [f"{three[1].serial}.pdf"]


def test_the_command_refuses_what_the_user_may_not_print(
    desk: Desk, three: list[Certificate], tmp_path: Path, outsider: Any
) -> None:
    target = str(tmp_path / "print.zip")
    with pytest.raises(CommandError, match="give --area"):
        call_command("certificates_pdf", "--as=community_worker", f"--out={target}")
    with pytest.raises(CommandError, match="unknown or inactive user"):
        call_command(
            "certificates_pdf",
            "--as=no_such_user",
            f"--area={testing.area('A').code}",
            f"--out={target}",
        )
    with pytest.raises(CommandError, match=three[0].serial):
        call_command(
            "certificates_pdf",
            f"--as={outsider.username}",
            f"--serial={three[0].serial}",
            f"--out={target}",
        )
    certificates.certificate_revoke(actor=P("district_admin"), certificate=three[1], reason="错了")
    with pytest.raises(CommandError, match=three[1].serial):
        call_command(
            "certificates_pdf",
            "--as=community_worker",
            f"--serial={three[1].serial}",
            f"--out={target}",
        )
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "certificates_pdf",
            "--as=community_worker",
            f"--area={testing.area('A').code}",
            "--from=yesterday",
            f"--out={target}",
        )
    assert not Path(target).exists() and printed() == []

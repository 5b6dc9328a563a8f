"""The hash-chained audit log: what a write records, how tampering is caught, and the auditor's
pages (list, filters, htmx partial, CSV export)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from shequ.areas import services as areas
from shequ.areas.models import Level
from shequ.core import audit, testing
from shequ.core.models import AuditChainHead, AuditEntry


def _new_grid(name: str = "测试新网格", suffix: str = "009") -> Any:
    c1 = testing.area("C1")
    return areas.area_create(
        actor=testing.persona("sysadmin"),
        code=f"{c1.code}{suffix}",
        name=name,
        level=Level.GRID,
        parent=c1,
    )


def _last() -> AuditEntry:
    return AuditEntry.objects.order_by("-seq").first()  # type: ignore[return-value]


# --- the record a service write leaves -----------------------------------------------------


def test_a_service_write_records_actor_action_object_and_changes(world: Any) -> None:
    grid = _new_grid()
    entry = _last()
    sysadmin = testing.persona("sysadmin")
    assert entry.actor_id == sysadmin.pk
    assert entry.actor_name == "sysadmin"
    assert entry.action == "area.created"
    assert entry.object_type == "areas.area"
    assert entry.object_id == str(grid.pk)
    assert entry.object_repr == "测试新网格"
    assert entry.area_path == grid.path
    assert entry.changes == {
        "code": grid.code,
        "name": "测试新网格",
        "level": "grid",
        "parent": testing.CODES["C1"],
    }


def test_a_string_actor_is_recorded_by_name_without_a_user(world: Any) -> None:
    entry = audit.record(actor="nightly-job", action="test.ran", object_type="test")
    assert entry.actor_id is None
    assert entry.actor_name == "nightly-job"


def test_entries_are_chained_by_sequence_and_previous_hash(world: Any) -> None:
    before = _last()
    first = audit.record(actor="t", action="test.one", object_type="test")
    second = audit.record(actor="t", action="test.two", object_type="test")
    assert first.seq == before.seq + 1
    assert first.prev_hash == before.hash
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (second.seq, second.hash)


def test_verify_finds_the_untouched_chain_clean(world: Any) -> None:
    _new_grid()
    checked, problems = audit.verify()
    assert problems == []
    assert checked == AuditEntry.objects.count()


def test_verify_also_works_in_small_batches(world: Any) -> None:
    checked, problems = audit.verify(batch_size=3)
    assert problems == []
    assert checked == AuditEntry.objects.count()


# --- tampering ------------------------------------------------------------------------------


def test_editing_the_changes_of_an_entry_is_reported_at_its_seq(world: Any) -> None:
    _new_grid()
    target = _last()
    AuditEntry.objects.filter(pk=target.pk).update(changes={"name": "forged"})
    _checked, problems = audit.verify()
    assert [p.seq for p in problems] == [target.seq]


def test_editing_the_action_of_an_old_entry_is_reported_at_its_seq(world: Any) -> None:
    target = AuditEntry.objects.order_by("seq")[2]
    AuditEntry.objects.filter(pk=target.pk).update(action="area.deleted")
    _checked, problems = audit.verify()
    assert target.seq in {p.seq for p in problems}
    assert len({p.seq for p in problems}) == 1


def test_rewriting_an_entry_with_a_fresh_hash_breaks_the_next_link(world: Any) -> None:
    """A forger who recomputes the edited entry's own hash still breaks the chain after it."""
    target = AuditEntry.objects.order_by("seq")[2]
    target.action = "area.deleted"
    new_hash = audit._digest(target)
    AuditEntry.objects.filter(pk=target.pk).update(action="area.deleted", hash=new_hash)
    _checked, problems = audit.verify()
    assert {p.seq for p in problems} == {target.seq + 1}


def test_deleting_an_entry_in_the_middle_is_detected(world: Any) -> None:
    target = AuditEntry.objects.order_by("seq")[3]
    AuditEntry.objects.filter(pk=target.pk).delete()
    _checked, problems = audit.verify()
    assert problems
    assert target.seq + 1 in {p.seq for p in problems}


def test_deleting_the_latest_entry_is_detected(world: Any) -> None:
    _new_grid()
    AuditEntry.objects.filter(pk=_last().pk).delete()
    _checked, problems = audit.verify()
    assert problems
    assert any("head" in p.reason for p in problems)


def test_audit_verify_command_reports_an_intact_chain(world: Any) -> None:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert f"{AuditEntry.objects.count()} entries" in out.getvalue()


def test_audit_verify_command_fails_on_a_broken_chain(world: Any) -> None:
    target = AuditEntry.objects.order_by("seq")[1]
    AuditEntry.objects.filter(pk=target.pk).update(changes={"tampered": True})
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=io.StringIO(), stderr=err)
    assert f"#{target.seq}" in err.getvalue()


# --- request context ------------------------------------------------------------------------


def test_a_sign_in_records_the_request_id_and_client_ip(client: Any, world: Any) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": "community_worker", "password": testing.PASSWORD},
        HTTP_X_REQUEST_ID="req-audit-test-0001",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-audit-test-0001"
    entry = AuditEntry.objects.filter(action="accounts.signed_in").order_by("-seq").first()
    assert entry is not None
    assert entry.actor_name == "community_worker"
    assert entry.ip == "127.0.0.1"
    assert entry.request_id == "req-audit-test-0001"


def test_a_malformed_request_id_is_replaced_by_a_fresh_one(client: Any, world: Any) -> None:
    response = client.post(
        reverse("accounts:login"),
        {"username": "community_worker", "password": testing.PASSWORD},
        HTTP_X_REQUEST_ID="bad id with spaces <script>",
    )
    entry = AuditEntry.objects.filter(action="accounts.signed_in").order_by("-seq").first()
    assert entry is not None
    assert entry.request_id == response["X-Request-ID"]
    assert " " not in entry.request_id
    assert len(entry.request_id) == 32


# --- the auditor's pages --------------------------------------------------------------------


@pytest.mark.parametrize("username", ["auditor", "sysadmin"])
def test_the_audit_page_opens_for_auditors_and_sysadmins(login: Any, username: str) -> None:
    response = login(username).get(reverse("audit:list"))
    assert response.status_code == 200
    assert b"<html" in response.content


@pytest.mark.parametrize("username", ["community_worker", "resident_a", "nobody"])
def test_the_audit_page_is_forbidden_to_other_roles(login: Any, username: str) -> None:
    assert login(username).get(reverse("audit:list")).status_code == 403


def test_the_audit_page_sends_anonymous_visitors_to_sign_in(client: Any, world: Any) -> None:
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_action_filter_matches_by_prefix(login: Any) -> None:
    audit.record(actor="t", action="zzprobe.first", object_type="test")
    audit.record(actor="t", action="zzprobe.second", object_type="test")
    audit.record(actor="t", action="zzother.third", object_type="test")
    response = login("auditor").get(reverse("audit:list"), {"action": "zzprobe."})
    assert response.status_code == 200
    body = response.content.decode()
    assert "zzprobe.first" in body
    assert "zzprobe.second" in body
    assert "zzother.third" not in body
    assert "area.created" not in body


def test_a_malformed_date_filter_shows_an_error_not_a_500(login: Any) -> None:
    response = login("auditor").get(reverse("audit:list"), {"since": "not-a-date"})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()


def test_an_htmx_request_gets_only_the_results_partial(login: Any) -> None:
    response = login("auditor").get(reverse("audit:list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="audit-results"' in body


def _csv_rows(response: Any) -> list[list[str]]:
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    return list(csv.reader(io.StringIO(raw.lstrip("\ufeff"))))


def test_the_csv_export_is_itself_audited(login: Any) -> None:
    response = login("auditor").get(reverse("audit:export"), {"action": "area."})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    _csv_rows(response)
    entry = _last()
    assert entry.action == "audit.exported"
    assert entry.actor_name == "auditor"
    assert entry.changes == {"filters": {"action": "area."}}


def test_the_csv_export_is_forbidden_to_other_roles(login: Any) -> None:
    assert login("community_worker").get(reverse("audit:export")).status_code == 403


def test_the_csv_export_rejects_a_malformed_filter(login: Any) -> None:
    response = login("auditor").get(reverse("audit:export"), {"since": "yesterday"})
    assert response.status_code == 400


def test_the_csv_export_escapes_spreadsheet_formulas(login: Any) -> None:
    names = {"001": '=HYPERLINK("x")', "002": "+1+2", "003": "-3", "004": "@SUM(A1)"}
    for suffix, name in names.items():
        _new_grid(name=name, suffix=f"9{suffix}")
    response = login("auditor").get(reverse("audit:export"), {"action": "area.created"})
    rows = _csv_rows(response)
    header = rows[0]
    objects = [row[header.index("object")] for row in rows[1:]]
    for name in names.values():
        assert "'" + name in objects
        assert name not in objects


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("safe", "safe"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_safe_neutralises_only_leading_formula_characters(value: str, expected: str) -> None:
    assert audit.csv_safe(value) == expected


def test_the_csv_export_leaves_no_cell_starting_with_a_formula_character(
    client: Any, login: Any
) -> None:
    """Every free-text column is neutralised, including those a user or a header controls:
    the actor's user name and the X-Request-ID header."""
    from shequ.accounts import services as accounts

    accounts.user_create(actor="test", username="-2+3", password="Strong-pass-42")
    signed = client.post(
        reverse("accounts:login"),
        {"username": "-2+3", "password": "Strong-pass-42"},
        HTTP_X_REQUEST_ID="-1-1-1-1-1",
    )
    assert signed.status_code == 302
    client.logout()
    response = login("auditor").get(reverse("audit:export"), {"action": "accounts.signed_in"})
    rows = _csv_rows(response)
    assert len(rows) > 1
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), row


def test_an_auditor_sees_the_log_of_their_district_but_not_of_another(login: Any) -> None:
    body = login("auditor").get(reverse("audit:list"), {"action": "area.created"}).content
    text = body.decode()
    assert "测试区" in text
    assert "外区" not in text


def test_a_superuser_sees_the_whole_log(client: Any, world: Any) -> None:
    client.force_login(testing.superuser())
    text = client.get(reverse("audit:list"), {"action": "area.created"}).content
    assert "外区" in text.decode()


def test_a_system_administrator_sees_only_the_log_of_its_district(login: Any) -> None:
    text = login("sysadmin").get(reverse("audit:list"), {"action": "area.created"}).content
    assert "测试区" in text.decode()
    assert "外区" not in text.decode()


def test_a_community_auditor_does_not_see_sign_ins_from_elsewhere(client: Any, login: Any) -> None:
    from shequ.accounts import services as account_services

    account_services.signed_in(user=testing.persona("department"), method="password")
    account_services.signed_in(user=testing.persona("grid_worker_a"), method="password")
    body = (
        login("community_auditor")
        .get(reverse("audit:list"), {"action": "accounts.signed_in"})
        .content.decode()
    )
    assert "grid_worker_a" in body
    assert "department" not in body

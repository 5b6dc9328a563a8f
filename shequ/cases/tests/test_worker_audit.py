"""The worker's audit entries, written a batch at a time by `audit.record_many`: the chain
stays whole and verifiable, interleaved with single appends, and tampering is still caught."""

from __future__ import annotations

from typing import Any

from shequ.core import audit, testing
from shequ.core.models import AuditChainHead, AuditEntry


def _items(n: int, start: int = 0) -> list[audit.Item]:
    return [
        audit.Item(
            object_type="cases.case",
            object_id=str(start + i),
            object_repr=f"SJ-{start + i}",
            area_path="0001",
            changes={"level": [i, i + 1]},
        )
        for i in range(n)
    ]


def test_a_batch_continues_the_chain_entry_by_entry(world: Any) -> None:
    head = AuditChainHead.objects.get_or_create(pk=1)[0]
    assert audit.record_many(actor="worker", action="case.auto_escalated", items=_items(3)) == 3
    entries = list(AuditEntry.objects.filter(seq__gt=head.seq).order_by("seq"))
    assert [e.seq for e in entries] == [head.seq + 1, head.seq + 2, head.seq + 3]
    assert entries[0].prev_hash == head.hash
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert [(e.object_id, e.object_repr, e.changes) for e in entries] == [
        ("0", "SJ-0", {"level": [0, 1]}),
        ("1", "SJ-1", {"level": [1, 2]}),
        ("2", "SJ-2", {"level": [2, 3]}),
    ]
    assert {(e.actor_id, e.actor_name, e.action, e.area_path) for e in entries} == {
        (None, "worker", "case.auto_escalated", "0001")
    }
    head.refresh_from_db()
    assert (head.seq, head.hash) == (entries[-1].seq, entries[-1].hash)


def test_batches_and_single_appends_interleave_into_one_verifiable_chain(world: Any) -> None:
    audit.record(actor="t", action="test.one", object_type="test")
    audit.record_many(actor=testing.persona("sysadmin"), action="test.many", items=_items(700))
    audit.record(actor="t", action="test.two", object_type="test")
    audit.record_many(actor="worker", action="test.many", items=_items(2, start=700))
    checked, problems = audit.verify(batch_size=97)
    assert problems == []
    assert checked == AuditEntry.objects.count()
    assert AuditEntry.objects.filter(action="test.many", actor_name="sysadmin").count() == 700


def test_an_empty_batch_writes_nothing(world: Any) -> None:
    before = AuditChainHead.objects.get_or_create(pk=1)[0]
    count = AuditEntry.objects.count()
    assert audit.record_many(actor="worker", action="test.none", items=[]) == 0
    after = AuditChainHead.objects.get(pk=1)
    assert (after.seq, after.hash, AuditEntry.objects.count()) == (before.seq, before.hash, count)


def test_an_entry_of_a_batch_edited_afterwards_is_caught(world: Any) -> None:
    audit.record_many(actor="worker", action="test.many", items=_items(5))
    victim = AuditEntry.objects.filter(action="test.many").order_by("seq")[2]
    AuditEntry.objects.filter(pk=victim.pk).update(changes={"level": [0, 3]})
    _checked, problems = audit.verify()
    assert [p.seq for p in problems] == [victim.seq]

"""Write and verify the audit log. Services call `record`; nothing else writes the log."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from shequ.core import context
from shequ.core.models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": _stamp(entry.created_at),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "area_path": entry.area_path,
        "changes": entry.changes,
        "request_id": entry.request_id,
        "ip": entry.ip,
        "prev": entry.prev_hash,
    }
    raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))
    return result


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Changed fields as ``{field: [old, new]}``."""
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


@transaction.atomic
def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    area_path: str = "",
) -> AuditEntry:
    """Append one entry; the chain head row lock makes appends strictly sequential."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        area_path = area_path or str(getattr(obj, "audit_area_path", "") or "")
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    ctx = context.current()
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    entry = AuditEntry(
        seq=head.seq + 1,
        created_at=timezone.now(),
        actor=actor_obj,
        actor_name=(actor_obj.get_username() if actor_obj else str(actor or "system"))[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        area_path=area_path,
        changes=_plain(changes or {}),
        request_id=ctx.request_id,
        ip=ctx.ip,
        prev_hash=head.hash,
    )
    entry.hash = _digest(entry)
    entry.save(force_insert=True)
    head.seq, head.hash = entry.seq, entry.hash
    head.save(update_fields=["seq", "hash"])
    return entry


@dataclass(frozen=True)
class Item:
    """One entry of `record_many`: the object named by its type, id, text and area path (no
    model instance needed), and its changes."""

    object_type: str
    object_id: str
    object_repr: str = ""
    area_path: str = ""
    changes: Mapping[str, Any] | None = None


_MANY_COLUMNS = [
    "seq",
    "created_at",
    "actor",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "area_path",
    "changes",
    "request_id",
    "ip",
    "prev_hash",
    "hash",
]


@transaction.atomic
def record_many(*, actor: Any, action: str, items: Iterable[Item]) -> int:
    """Append one entry per item, in order, as `record` would one by one, but under a single
    lock of the chain head and with multi-row inserts (`FastInsert`, no model instances): a
    batch job's thousands of entries take a few statements instead of four each. The chain is
    the same: each entry's `prev_hash` is the hash of the one before, the first one's the
    head's, and `verify` checks them like any other. Returns the count."""
    from shequ.core.bulk import FastInsert

    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    actor_id = actor_obj.pk if actor_obj else None
    actor_name = (actor_obj.get_username() if actor_obj else str(actor or "system"))[:150]
    ctx = context.current()
    wanted = list(items)
    if not wanted:
        return 0
    head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    seq, prev, now = head.seq, head.hash, timezone.now()
    rows: list[tuple[Any, ...]] = []
    for item in wanted:
        seq += 1
        # The fields `_digest` reads, as `record` would have set them on the entry.
        entry: Any = _Fields(
            seq=seq,
            created_at=now,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            object_type=item.object_type,
            object_id=item.object_id,
            object_repr=item.object_repr[:200],
            area_path=item.area_path,
            changes=_plain(item.changes or {}),
            request_id=ctx.request_id,
            ip=ctx.ip,
            prev_hash=prev,
        )
        prev = _digest(entry)
        rows.append((*(getattr(entry, f) for f in _FIELD_NAMES), prev))
    FastInsert(AuditEntry, _MANY_COLUMNS, now=now).insert(rows)
    head.seq, head.hash = seq, prev
    head.save(update_fields=["seq", "hash"])
    return len(rows)


@dataclass(frozen=True)
class _Fields:
    seq: int
    created_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    area_path: str
    changes: dict[str, Any]
    request_id: str
    ip: str | None
    prev_hash: str


# `_Fields` in the order of `_MANY_COLUMNS` (less the hash, computed from them).
_FIELD_NAMES = [f if f != "actor" else "actor_id" for f in _MANY_COLUMNS[:-1]]


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def verify(batch_size: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Recompute the chain up to the head read first; return the count checked and every break.

    Reading the head first means entries appended while verifying are simply not checked
    yet, instead of being reported as a mismatch.
    """
    head = AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(seq=0, hash=GENESIS)
    problems: list[ChainProblem] = []
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for entry in _iter_entries(batch_size, upto=head.seq):
        checked += 1
        if entry.seq != expected_seq:
            problems.append(ChainProblem(entry.seq, f"gap: expected #{expected_seq}"))
        if entry.prev_hash != expected_prev:
            problems.append(ChainProblem(entry.seq, "previous hash does not match"))
        if _digest(entry) != entry.hash:
            problems.append(ChainProblem(entry.seq, "content does not match its hash"))
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    latest = AuditChainHead.objects.filter(pk=1).first() or head
    if AuditEntry.objects.filter(seq__gt=latest.seq).exists():
        problems.append(ChainProblem(latest.seq, "entries exist beyond the chain head"))
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        problems.append(ChainProblem(head.seq, "chain head does not match the last entry"))
    return checked, problems


def _iter_entries(batch_size: int, *, upto: int) -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(
            AuditEntry.objects.filter(seq__gt=last, seq__lte=upto).order_by("seq")[:batch_size]
        )
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas in exported text (CSV/formula injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

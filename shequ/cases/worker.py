"""The SLA worker: warning and overdue lights, escalation by level, reminders, auto-close.

Every flip is a compare-and-set, `UPDATE … WHERE id IN (…) AND <the state it was selected in>
RETURNING id`: only the rows the UPDATE returns were flipped by this worker. Their events and
audit entries are written in the same transaction, their notices once it has committed. So
however many workers run, a flip is recorded exactly once, and a worker killed in the middle of
a batch leaves that batch, rolled back, to the next run.

`shequ worker` runs `run_once` every 30 seconds (see management/commands/worker.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shequ.accounts.models import Membership
from shequ.accounts.roles import PERMISSIONS
from shequ.areas.models import SEGMENT, Area
from shequ.cases import sla
from shequ.cases.models import Case, CaseEvent, Category, Unit
from shequ.cases.states import OPEN, Level, Light, Stage, Status
from shequ.core import audit
from shequ.core.bulk import FastInsert
from shequ.inbox.services import notify

log = logging.getLogger(__name__)
User = get_user_model()

# Rows per compare-and-set statement and transaction. SQLite binds up to 7 parameters a row
# (below its default limit of 32,766); PostgreSQL takes them as arrays, and larger batches
# there mean fewer statements, commits and digests for a scan that flips tens of thousands.
BATCH = 1000
BATCH_POSTGRESQL = 5000
# This many cases or more for one handler in one run come as one digest, not a notice each.
DIGEST_FROM = 3

# Jobs run every so many seconds by `run_once` (name, function, interval). Another app adds its
# own at import time, e.g. the analysis module its statistics refresh. Each must be idempotent:
# several workers may run it.
PERIODIC: list[tuple[str, Callable[[], Any], int]] = []
_last_run: dict[str, dt.datetime] = {}


@dataclass
class ScanResult:
    """What one SLA scan found and flipped."""

    scanned: int = 0  # cases whose light was due to change
    yellow: int = 0
    red: int = 0


# ---------------------------------------------------------------------------------------------
# SQL helpers: one compare-and-set UPDATE per batch, on PostgreSQL and SQLite (≥ 3.35) alike.


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _param(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _cas(
    ids: Sequence[int],
    *,
    sets: Sequence[tuple[str, Any]],
    where: Sequence[tuple[str, Sequence[Any]]],
    per_row: dict[str, dict[int, Any]] | None = None,
    match: dict[str, dict[int, Any]] | None = None,
    returning: Sequence[str] = ("id",),
) -> list[tuple[Any, ...]]:
    """UPDATE the rows of `ids` still matching every `where` clause and, row by row, the values
    in `match` (column → {id: value it was read with}); set `sets` (column, value or (sql,
    params)) and `per_row` (column → {id: value}). Returns the flipped rows.

    Per-row values travel as arrays joined on the id on PostgreSQL (a CASE over a thousand ids
    is evaluated row by row: twice as slow there), as `CASE id WHEN …` on SQLite."""
    per_row, match = per_row or {}, match or {}
    joined = connection.vendor == "postgresql" and bool(per_row or match)
    set_sql: list[str] = []
    set_params: list[Any] = []
    for column, value in sets:
        if isinstance(value, tuple):
            expr, expr_params = value
            set_sql.append(f"{_q(column)} = {expr}")
            set_params += expr_params
        else:
            set_sql.append(f"{_q(column)} = %s")
            set_params.append(_param(value))
    from_sql, from_params = "", []
    where_sql: list[str] = []
    where_params: list[Any] = []
    if joined:
        entries = [(True, c, v) for c, v in per_row.items()]
        entries += [(False, c, v) for c, v in match.items()]
        types = [_db_type(c) for _s, c, _v in entries]
        arrays = ", ".join(f"%s::{t}[]" for t in ["bigint", *types])
        names = ", ".join(["id", *(f"v{i}" for i in range(len(entries)))])
        from_sql = f" FROM unnest({arrays}) AS v({names})"
        from_params = [list(ids), *([values.get(pk) for pk in ids] for _s, _c, values in entries)]
        where_sql.append(f"t.{_q('id')} = v.id")
        for i, (is_set, column, _values) in enumerate(entries):
            if is_set:
                set_sql.append(f"{_q(column)} = v.v{i}")
            else:
                where_sql.append(f"t.{_q(column)} = v.v{i}")
    else:
        for column, values in per_row.items():
            expr, expr_params = _case_when(column, values)
            set_sql.append(f"{_q(column)} = {expr}")
            set_params += expr_params
        if connection.vendor == "postgresql":
            where_sql.append(f"{_q('id')} = ANY(%s::bigint[])")
            where_params.append(list(ids))
        else:
            where_sql.append(f"{_q('id')} IN ({', '.join(['%s'] * len(ids))})")
            where_params += list(ids)
        for column, values in match.items():
            expr, expr_params = _case_when(column, values)
            where_sql.append(f"{_q(column)} = {expr}")
            where_params += expr_params
    for clause, clause_params in where:
        where_sql.append(clause)
        where_params += [_param(p) for p in clause_params]
    # Only quoted column names and placeholders are pasted in; every value is bound.
    table = _q(Case._meta.db_table) + (" AS t" if joined else "")
    back = ", ".join(("t." if joined else "") + _q(c) for c in returning)
    sql = (
        f"UPDATE {table} SET {', '.join(set_sql)}{from_sql} "  # noqa: S608
        f"WHERE {' AND '.join(where_sql)} RETURNING {back}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, set_params + from_params + where_params)
        return list(cursor.fetchall())


def _db_type(column: str) -> str:
    field = Case._meta.get_field(column)
    assert isinstance(field, models.Field)
    return str(field.db_type(connection))


def _case_when(column: str, values: dict[int, Any]) -> tuple[str, list[Any]]:
    """`CASE id WHEN … THEN … ELSE column END`: one value per row in a single statement."""
    params: list[Any] = []
    whens = []
    for pk, value in values.items():
        if value is None:
            whens.append("WHEN %s THEN NULL")
            params.append(pk)
        else:
            whens.append("WHEN %s THEN %s")
            params += [pk, _param(value)]
    return f"CASE {_q('id')} {' '.join(whens)} ELSE {_q(column)} END", params


def _in(column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return f"{_q(column)} IN ({', '.join(['%s'] * len(items))})", items


def _batches(ids: list[int]) -> Iterable[list[int]]:
    size = BATCH_POSTGRESQL if connection.vendor == "postgresql" else BATCH
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# ---------------------------------------------------------------------------------------------
# Who hears about it


@dataclass(frozen=True)
class _Flip:
    id: int
    code: str
    area_path: str
    lead_unit_id: int | None
    due_at: dt.datetime | None = None


def _area_paths(area_ids: Iterable[int]) -> dict[int, str]:
    return dict(Area.objects.filter(pk__in=set(area_ids)).values_list("pk", "path"))


def _handlers(flips: Sequence[_Flip]) -> dict[int, frozenset[int]]:
    """Case id → the users whose turn it is: the lead unit's members, else the staff who
    manage cases in the area (or above it), as `services.staff_for` answers; a few queries
    for the whole batch."""
    unit_ids = {f.lead_unit_id for f in flips if f.lead_unit_id}
    members: dict[int, set[int]] = defaultdict(set)
    for unit_id, user_id in Unit.members.through.objects.filter(
        unit_id__in=unit_ids, user__is_active=True
    ).values_list("unit_id", "user_id"):
        members[unit_id].add(user_id)
    managers = _holders(
        {p for f in flips if not f.lead_unit_id for p in _ancestors(f.area_path)},
        PERMISSIONS["cases.manage"],
    )
    result: dict[int, frozenset[int]] = {}
    for f in flips:
        if f.lead_unit_id:
            result[f.id] = frozenset(members[f.lead_unit_id])
        else:
            result[f.id] = frozenset(u for p in _ancestors(f.area_path) for u in managers[p])
    return result


def _ancestors(path: str) -> list[str]:
    return [path[: SEGMENT * i] for i in range(1, len(path) // SEGMENT + 1)]


def _holders(paths: set[str], roles: Iterable[str]) -> dict[str, set[int]]:
    """Area path → active users holding one of `roles` exactly there."""
    holders: dict[str, set[int]] = defaultdict(set)
    if paths:
        for path, user_id in Membership.objects.filter(
            role__in=list(roles), area__path__in=paths, user__is_active=True
        ).values_list("area__path", "user_id"):
            holders[path].add(user_id)
    return holders


def _remind(
    recipients: dict[int, frozenset[int]],
    flips: Sequence[_Flip],
    *,
    kind: str,
    one: str,
    many: str,
    list_url: str,
    extra: dict[str, Any] | None = None,
) -> list[Notice]:
    """One notice per case to its recipients (title `one` % code, due, extra); whoever would
    get DIGEST_FROM or more at once gets one digest instead (`many` % count, extra). People
    with the same cases share one call."""
    per_user: dict[int, list[int]] = defaultdict(list)
    for f in flips:
        for user_id in recipients.get(f.id, ()):
            per_user[user_id].append(f.id)
    if not per_user:
        return []
    same: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for user_id, theirs in per_user.items():
        same[tuple(theirs)].append(user_id)
    users = User.objects.in_bulk(list(per_user))
    by_id = {f.id: f for f in flips}
    notices: list[Notice] = []
    for case_ids, user_ids in same.items():
        people = [users[u] for u in user_ids if u in users]
        cases = [by_id[pk] for pk in case_ids]
        if len(cases) >= DIGEST_FROM:
            codes = "、".join(c.code for c in cases[:50]) + ("…" if len(cases) > 50 else "")
            title = many % {"count": len(cases), **(extra or {})}
            notices.append(Notice(people, kind, title, codes, list_url))
            continue
        for case in cases:
            url = reverse("cases:detail", args=[case.code])
            title = one % {"code": case.code, "due": _local(case.due_at), **(extra or {})}
            notices.append(Notice(people, kind, title, "", url))
    return notices


@dataclass(frozen=True)
class Notice:
    users: list[Any]
    kind: str
    title: str
    body: str
    url: str


def _send_after_commit(notices: list[Notice]) -> None:
    """A batch's notices go out once its flips are committed, together in one transaction."""

    def send() -> None:
        with transaction.atomic():
            for n in notices:
                notify(users=n.users, kind=n.kind, title=n.title, body=n.body, url=n.url)

    if notices:
        transaction.on_commit(send)


def _local(moment: dt.datetime | None) -> str:
    return f"{timezone.localtime(moment):%m-%d %H:%M}" if moment else ""


def _events(
    rows: Iterable[tuple[int, str]],
    *,
    kind: str,
    now: dt.datetime,
    public: bool = False,
    from_status: str | None = None,
    data: dict[int, dict[str, Any]] | None = None,
) -> None:
    """One event per flipped (id, status) row; the worker is no one (actor None). Written as
    tuples: building a model instance each costs more than the rest of a flip."""
    inserter = FastInsert(CaseEvent, _EVENT_COLUMNS, now=now, prepared=["at", "data"])
    # Values converted once: the same moment and (but for escalations) the same empty details.
    extra = {pk: inserter.prepare("data", d) for pk, d in (data or {}).items()}
    at, empty = inserter.prepare("at", now), inserter.prepare("data", {})
    inserter.insert(
        (
            pk,
            at,
            None,
            kind,
            status if from_status is None else from_status,
            status,
            None,
            "",
            public,
            extra.get(pk, empty),
        )
        for pk, status in rows
    )


_EVENT_COLUMNS = [
    "case",
    "at",
    "actor",
    "kind",
    "from_status",
    "to_status",
    "unit",
    "note",
    "public",
    "data",
]


# ---------------------------------------------------------------------------------------------
# The jobs


def sla_scan(now: dt.datetime | None = None) -> ScanResult:
    """Open cases turn yellow at their warning time and red at their deadline, exactly once."""
    now = now or timezone.now()
    result = ScanResult()
    # Unordered (sorted here): ORDER BY id would tempt SQLite to walk the whole table by id.
    live = Case.objects.filter(status__in=OPEN).exclude(stage=Stage.NONE).order_by()
    # Each query names the columns of one index only, and the rest is sifted here: without
    # statistics SQLite would read `due_at > now` (nearly every open case) off the due index.
    # What each batch needs is read here, once: the compare-and-set makes sure it still holds.
    yellow = {
        pk: due
        for pk, due in live.filter(light=Light.GREEN, yellow_at__lte=now).values_list(
            "pk", "due_at"
        )
        if due is not None and due > now
    }
    red = {
        pk: (category_id, due)
        for pk, category_id, due in live.filter(
            light__in=[Light.GREEN, Light.YELLOW], due_at__lte=now
        ).values_list("pk", "category_id", "due_at")
    }
    result.scanned = len(yellow) + len(red)
    for batch in _batches(sorted(yellow)):
        result.yellow += _turn_yellow(batch, now, {pk: yellow[pk] for pk in batch})
    if red:
        categories = Category.objects.in_bulk({c for c, _due in red.values()})
        for batch in _batches(sorted(red)):
            result.red += _turn_red(batch, now, {pk: red[pk] for pk in batch}, categories)
    return result


_RETURN = ("id", "status", "code", "area_id", "lead_unit_id")


def _flips(rows: list[tuple[Any, ...]], due: dict[int, dt.datetime] | None = None) -> list[_Flip]:
    paths = _area_paths(r[3] for r in rows)
    return [
        _Flip(
            id=r[0],
            code=r[2],
            area_path=paths[r[3]],
            lead_unit_id=r[4],
            due_at=(due or {}).get(r[0]),
        )
        for r in rows
    ]


# What a flip to each light tells the lead unit's handlers: one case, or how many
# (translated when sent, in the language the worker runs in).
_FLIP_NOTICES = {
    Light.YELLOW: (
        "sla_yellow",
        gettext_noop("Case %(code)s is due soon (by %(due)s)"),
        gettext_noop("%(count)d cases are due soon"),
    ),
    Light.RED: (
        "sla_red",
        gettext_noop("Case %(code)s is overdue (was due %(due)s)"),
        gettext_noop("%(count)d cases are overdue"),
    ),
}


def _announce(
    rows: list[Any], due: dict[int, dt.datetime], now: dt.datetime, *, light: Light
) -> None:
    """The flipped cases' events, and their handlers' notices once the flip commits."""
    if not rows:
        return
    kind, one, many = _FLIP_NOTICES[light]
    _events(((r[0], r[1]) for r in rows), kind=kind, now=now)
    flips = _flips(rows, due)
    notices = _remind(
        _handlers(flips),
        flips,
        kind=f"case.{kind}",
        one=_(one),
        many=_(many),
        list_url=f"{reverse('cases:list')}?light={light}",
    )
    _send_after_commit(notices)


def _turn_yellow(ids: list[int], now: dt.datetime, due: dict[int, dt.datetime]) -> int:
    with transaction.atomic():
        rows = _cas(
            ids,
            sets=[("light", Light.YELLOW), ("updated_at", now)],
            where=[
                (f"{_q('light')} = %s", [Light.GREEN]),
                (f"{_q('yellow_at')} <= %s", [now]),
                (f"{_q('due_at')} > %s", [now]),
                _in("status", OPEN),
            ],
            returning=_RETURN,
        )
        _announce(rows, due, now, light=Light.YELLOW)
    return len(rows)


def _turn_red(
    ids: list[int],
    now: dt.datetime,
    candidates: dict[int, tuple[int, dt.datetime]],
    categories: dict[int, Category],
) -> int:
    """`candidates`: id → (category id, deadline) as the scan read them."""
    due = {pk: due_at for pk, (_c, due_at) in candidates.items()}
    # When each goes up a level if nobody moves it; the deadline it was computed from is part
    # of the compare-and-set, so a deadline extended meanwhile is not overwritten.
    escalate = {pk: sla.escalation_time(categories[c], d) for pk, (c, d) in candidates.items()}
    with transaction.atomic():
        rows = _cas(
            ids,
            sets=[("light", Light.RED), ("overdue_ever", True), ("updated_at", now)],
            per_row={"next_escalation_at": escalate},
            match={"due_at": due},
            where=[
                _in("light", [Light.GREEN, Light.YELLOW]),
                (f"{_q('due_at')} <= %s", [now]),
                _in("status", OPEN),
            ],
            returning=_RETURN,
        )
        _announce(rows, due, now, light=Light.RED)
    return len(rows)


# Escalation level → how many path segments its area has (community 3, street 2, district 1).
_DEPTH = {Level.COMMUNITY: 3, Level.STREET: 2, Level.DISTRICT: 1}


def escalate_due(now: dt.datetime | None = None) -> int:
    """Red cases nobody moved go up one level (grid → community → street → district) at each
    escalation time, exactly once: the compare-and-set names the level and the escalation
    time they were selected at."""
    now = now or timezone.now()
    # Only red cases have an escalation time; `light` is checked by the compare-and-set, as
    # naming it here would lead SQLite's planner to read every red case off the light index.
    due = {
        pk: (category_id, level, at)
        for pk, category_id, level, at in Case.objects.filter(
            status__in=OPEN, next_escalation_at__lte=now
        )
        .order_by()
        .values_list("pk", "category_id", "level", "next_escalation_at")
        if level < Level.DISTRICT
    }
    if not due:
        return 0
    categories = Category.objects.in_bulk({c for c, _l, _a in due.values()})
    return sum(
        _escalate(batch, now, {pk: due[pk] for pk in batch}, categories)
        for batch in _batches(sorted(due))
    )


def _escalate(
    ids: list[int],
    now: dt.datetime,
    candidates: dict[int, tuple[int, int, dt.datetime]],
    categories: dict[int, Category],
) -> int:
    """`candidates`: id → (category id, level, escalation time) as the scan read them."""
    following = {
        pk: None if level + 1 >= Level.DISTRICT else sla.escalation_time(categories[c], at)
        for pk, (c, level, at) in candidates.items()
    }
    with transaction.atomic():
        rows = _cas(
            ids,
            sets=[("level", (f"{_q('level')} + 1", [])), ("updated_at", now)],
            per_row={"next_escalation_at": following},
            match={
                "level": {pk: v[1] for pk, v in candidates.items()},
                "next_escalation_at": {pk: v[2] for pk, v in candidates.items()},
            },
            where=[
                (f"{_q('light')} = %s", [Light.RED]),
                (f"{_q('level')} < %s", [int(Level.DISTRICT)]),
                _in("status", OPEN),
            ],
            returning=("id", "status", "level", "code", "area_id", "lead_unit_id"),
        )
        if not rows:
            return 0
        levels = {r[0]: r[2] for r in rows}
        _events(
            ((r[0], r[1]) for r in rows),
            kind="auto_escalate",
            now=now,
            data={pk: {"level": level} for pk, level in levels.items()},
        )
        flips = sorted(_flips([(r[0], r[1], r[3], r[4], r[5]) for r in rows]), key=lambda f: f.id)
        # One lock of the audit chain and a few INSERTs for the batch, not four queries a case.
        audit.record_many(
            actor="worker",
            action="case.auto_escalated",
            items=(
                audit.Item(
                    object_type=_CASE_LABEL,
                    object_id=str(f.id),
                    object_repr=f.code,
                    area_path=f.area_path,
                    changes={"level": [levels[f.id] - 1, levels[f.id]]},
                )
                for f in flips
            ),
        )
        _send_after_commit(_supervisors(flips, levels))
    return len(rows)


_CASE_LABEL = Case._meta.label_lower


def _supervisors(flips: list[_Flip], levels: dict[int, int]) -> list[Notice]:
    """The supervisors at the new level: who supervises or manages cases in the case's
    community, street or district, as the level says."""
    roles = PERMISSIONS["cases.supervise"] | PERMISSIONS["cases.manage"]
    target = {f.id: f.area_path[: SEGMENT * _DEPTH[Level(levels[f.id])]] for f in flips}
    holders = _holders(set(target.values()), roles)
    notices: list[Notice] = []
    for level in sorted(set(levels.values())):
        at_level = [f for f in flips if levels[f.id] == level]
        notices += _remind(
            {f.id: frozenset(holders[target[f.id]]) for f in at_level},
            at_level,
            kind="case.auto_escalate",
            one=_("Case %(code)s is overdue and now at the %(level)s level"),
            many=_("%(count)d overdue cases are now at the %(level)s level"),
            extra={"level": Level(level).label},
            list_url=f"{reverse('cases:list')}?light={Light.RED}",
        )
    return notices


def autoclose(now: dt.datetime | None = None) -> int:
    """Verified cases the reporter did not rate within CASE_AUTOCLOSE_DAYS (calendar) days of
    their resolution close by themselves, exactly once (compare-and-set on the status)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.CASE_AUTOCLOSE_DAYS)
    ids = sorted(
        Case.objects.filter(status=Status.VERIFIED, resolved_at__lte=cutoff)
        .order_by()
        .values_list("pk", flat=True)
    )
    closed = 0
    for batch in _batches(ids):
        with transaction.atomic():
            rows = _cas(
                batch,
                sets=[
                    ("status", Status.CLOSED),
                    ("closed_at", now),
                    ("stage", Stage.NONE),
                    ("stage_started_at", None),
                    ("yellow_at", None),
                    ("due_at", None),
                    ("light", Light.GREEN),
                    ("next_escalation_at", None),
                    ("version", (f"{_q('version')} + 1", [])),
                    ("updated_at", now),
                ],
                where=[(f"{_q('status')} = %s", [Status.VERIFIED])],
                returning=("id", "code", "area_id", "reporter_id"),
            )
            if not rows:
                continue
            rows.sort()
            _events(
                ((r[0], Status.CLOSED) for r in rows),
                kind="auto_close",
                now=now,
                public=True,
                from_status=Status.VERIFIED,
            )
            paths = _area_paths(r[2] for r in rows)
            audit.record_many(
                actor="worker",
                action="case.auto_closed",
                items=(
                    audit.Item(
                        object_type=_CASE_LABEL,
                        object_id=str(pk),
                        object_repr=code,
                        area_path=paths[area_id],
                        changes={"status": [Status.VERIFIED, Status.CLOSED]},
                    )
                    for pk, code, area_id, _reporter in rows
                ),
            )
            reporters = User.objects.filter(
                pk__in={r[3] for r in rows if r[3]}, is_active=True
            ).in_bulk()
            notices: list[Notice] = []
            for _pk, code, _area, reporter_id in rows:
                if reporter_id in reporters:
                    title = _("Case %(code)s: %(status)s") % {
                        "code": code,
                        "status": Status.CLOSED.label,
                    }
                    url = reverse("cases:detail", args=[code])
                    notices.append(
                        Notice([reporters[reporter_id]], "case.auto_close", title, "", url)
                    )
            _send_after_commit(notices)
            closed += len(rows)
    return closed


def run_once(now: dt.datetime | None = None) -> dict[str, int]:
    """Everything due now: lights, escalations, auto-close, then the periodic jobs due."""
    now = now or timezone.now()
    scan = sla_scan(now)
    counts = {
        "scanned": scan.scanned,
        "yellow": scan.yellow,
        "red": scan.red,
        "escalated": escalate_due(now),
        "closed": autoclose(now),
    }
    for name, job, every in list(PERIODIC):
        last = _last_run.get(name)
        if last is not None and (now - last).total_seconds() < every:
            continue
        _last_run[name] = now
        try:
            outcome = job()
        except Exception:  # one failing job must not stop the deadlines
            log.exception("periodic job %s failed", name)
            counts[name] = -1
        else:
            counts[name] = outcome if isinstance(outcome, int) else 1
    return counts

"""Services pushed to the residents entitled to them (主动推送).

A rule (`EligibilityRule`) says in the language of `rules.py` who is entitled to a service and
who already receives it. This module

* compiles a parsed rule to one Django `Q` over `registry.Person` (`compile_rule`),
* runs the rules (`eligibility_run`): for each rule, the active residents entitled minus those
  receiving become outreach tasks (`Entitlement` rows) for the grid worker of their grid, set
  based in SQL — a temporary table of who matches now, then `INSERT … SELECT … ON CONFLICT DO
  NOTHING` and a few `UPDATE`s joined to it — never a Python loop over the residents; the new
  tasks are announced with one notice per grid worker and rule, and one to each resident with
  an account,
* holds the services, policy and reads of outreach and of the rule editor.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import reduce
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from shequ.accounts.models import Membership
from shequ.accounts.roles import Role
from shequ.accounts.scoping import (
    collapse,
    has_perm,
    memberships,
    scope_q,
    scope_q_for_paths,
    subtree_q,
)
from shequ.areas.models import SEGMENT, Area, Level
from shequ.core import audit
from shequ.core.errors import CoreError, DomainError, NotFound
from shequ.inbox.services import notify_after_commit
from shequ.registry.models import Person, PersonTag, TagType
from shequ.registry.states import PersonStatus
from shequ.servicedesk import rules
from shequ.servicedesk.models import (
    Application,
    EligibilityRule,
    Entitlement,
    OutreachState,
    ResidentLink,
    ServiceItem,
)
from shequ.servicedesk.rules import And, Comparison, Const, Node, Not, Or, RuleError
from shequ.servicedesk.states import Status

log = logging.getLogger(__name__)
User = get_user_model()


class EligibilityError(StrEnum):
    """Stable error codes of eligibility rules and outreach."""

    INVALID_TRANSITION = CoreError.INVALID_TRANSITION.value
    INVALID_RULE = "eligibility_invalid_rule"
    NOT_YOURS = "eligibility_not_yours"
    CODE_TAKEN = "eligibility_code_taken"


def message(error: RuleError) -> str:
    """A rule error in the user's language, with its line and column."""
    return error.render(_)


# ---------------------------------------------------------------------------------------------
# Compiling a rule to a query


def age_cutoff(today: dt.date, years: int) -> dt.date:
    """The latest birth date of someone at least `years` old on `today` (29 February counts
    from 1 March in other years, as `Person.age` does)."""
    year = today.year - years
    try:
        return today.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def _age_q(op: str, value: Any, today: dt.date) -> Q:
    """`age op value` as birth date ranges; an unknown birth date never matches."""

    def at_least(n: int) -> Q:
        return Q(birth_date__lte=age_cutoff(today, n))

    def below(n: int) -> Q:
        return Q(birth_date__gt=age_cutoff(today, n))

    def exactly(n: int) -> Q:
        return at_least(n) & below(n + 1)

    if op == ">=":
        return at_least(value)
    if op == ">":
        return at_least(value + 1)
    if op == "<":
        return below(value)
    if op == "<=":
        return below(value + 1)
    if op == "==":
        return exactly(value)
    if op == "!=":
        return below(value) | at_least(value + 1)
    if op == "in":
        return reduce(lambda a, b: a | b, (exactly(v) for v in value))
    # not in: a known age that is none of them
    return reduce(lambda a, b: a & b, (below(v) | at_least(v + 1) for v in value))


NOTHING = Q(pk__in=[])
EVERYONE = Q(pk__isnull=False)


def _tags_active(today: dt.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )


@dataclass
class Codes:
    """Tag and area codes a rule names, resolved once per compilation."""

    tags: dict[str, int] = field(default_factory=dict)
    areas: dict[str, str] = field(default_factory=dict)  # code → path

    @classmethod
    def resolve(cls, nodes: Iterable[Node]) -> Codes:
        """Look the codes up; an unknown one is a RuleError at its position."""
        wanted = [s for node in nodes for s in rules.subjects(node)]
        tag_codes = {s.args[0] for s in wanted if s.kind in ("has_tag", "tag_level", "tag_attr")}
        area_codes = {s.args[0] for s in wanted if s.kind == "in_area"}
        codes = cls(
            tags=dict(TagType.objects.filter(code__in=tag_codes).values_list("code", "pk"))
            if tag_codes
            else {},
            areas=dict(Area.objects.filter(code__in=area_codes).values_list("code", "path"))
            if area_codes
            else {},
        )
        for s in wanted:
            if s.kind in ("has_tag", "tag_level", "tag_attr") and s.args[0] not in codes.tags:
                raise RuleError(
                    gettext_noop("There is no tag “%(code)s”."),
                    line=s.pos.line,
                    column=s.pos.column,
                    code=s.args[0],
                )
            if s.kind == "in_area" and s.args[0] not in codes.areas:
                raise RuleError(
                    gettext_noop("There is no area “%(code)s”."),
                    line=s.pos.line,
                    column=s.pos.column,
                    code=s.args[0],
                )
        return codes


def compile_rule(node: Node, *, today: dt.date, codes: Codes | None = None) -> Q:
    """One `Q` over Person equivalent to `rules.evaluate` on each person's facts."""
    codes = codes or Codes.resolve([node])
    return _compile(node, today, codes)


def _compile(node: Node, today: dt.date, codes: Codes) -> Q:
    if isinstance(node, Const):
        return EVERYONE if node.value else NOTHING
    if isinstance(node, And):
        return reduce(lambda a, b: a & b, (_compile(i, today, codes) for i in node.items))
    if isinstance(node, Or):
        return reduce(lambda a, b: a | b, (_compile(i, today, codes) for i in node.items))
    if isinstance(node, Not):
        return ~_compile(node.item, today, codes)
    return _test(node, today, codes)


def _test(test: Comparison, today: dt.date, codes: Codes) -> Q:
    subject, op, value = test.subject, test.op, test.value
    kind = subject.kind
    if kind == "age":
        return _age_q(op, value, today)
    if kind in rules.ENUMS:
        if op == "==":
            return Q(**{kind: value})
        if op == "!=":
            return ~Q(**{kind: value})
        if op == "in":
            return Q(**{f"{kind}__in": list(value)})
        return ~Q(**{f"{kind}__in": list(value)})
    if subject.boolean:
        if kind == "lives_alone":
            positive = _lives_alone()
        elif kind == "has_tag":
            positive = _with_tag(codes.tags[subject.args[0]], today)
        else:
            positive = Q(
                area_id__in=Area.objects.filter(subtree_q(codes.areas[subject.args[0]])).values(
                    "pk"
                )
            )
        return positive if (op == "==") == bool(value) else ~positive
    tag_id = codes.tags[subject.args[0]]
    tags = PersonTag.objects.filter(_tags_active(today), tag_id=tag_id)
    if kind == "tag_level":
        levels = sorted(rules.level_set(op, value))
        if not levels:
            return NOTHING
        accepted: list[Any] = [rules.LEVELS[n - 1] for n in levels] + levels
        attr = tags.annotate(attr=KeyTransform("level", "details")).filter(attr__in=accepted)
        return Q(pk__in=attr.values("person_id"))
    key = subject.args[1]
    keyed = tags.filter(details__has_key=key).annotate(attr=KeyTransform(key, "details"))
    if op == "==":
        matched = keyed.filter(attr=value)
    elif op == "!=":
        matched = keyed.exclude(attr=value)
    elif op == "in":
        matched = keyed.filter(attr__in=list(value))
    else:
        matched = keyed.exclude(attr__in=list(value))
    return Q(pk__in=matched.values("person_id"))


def _with_tag(tag_id: int, today: dt.date) -> Q:
    return Q(
        pk__in=PersonTag.objects.filter(_tags_active(today), tag_id=tag_id).values("person_id")
    )


def _lives_alone() -> Q:
    """In a household in which nobody else lives here (the others moved out or died)."""
    others = Person.objects.filter(
        household_id=OuterRef("household_id"), status=PersonStatus.ACTIVE
    ).exclude(pk=OuterRef("pk"))
    return Q(household__isnull=False) & Q(~Exists(others))


@dataclass(frozen=True)
class Compiled:
    """A rule ready to run: who is entitled, and who of them already receives the service."""

    entitled: Q
    receiving: Q | None  # None: nobody is known to receive it


def compile_pair(
    *, expression: str, receiving: str, item_id: int | None, today: dt.date
) -> Compiled:
    """Both expressions of a rule compiled; raises RuleError (the receiving one is reported as
    is, the caller knows which field it checked)."""
    entitled_node = rules.parse(expression)
    receiving_node = rules.parse(receiving) if receiving.strip() else None
    codes = Codes.resolve([n for n in (entitled_node, receiving_node) if n is not None])
    receiving_q = _compile(receiving_node, today, codes) if receiving_node is not None else None
    if item_id is not None:
        approved = Q(pk__in=approved_applicants(item_id))
        receiving_q = approved if receiving_q is None else receiving_q | approved
    return Compiled(entitled=_compile(entitled_node, today, codes), receiving=receiving_q)


def approved_applicants(item_id: int) -> QuerySet[Any]:
    """Person ids with an approved application of the item (rated afterwards or not)."""
    return (
        Application.objects.filter(item_id=item_id)
        .filter(Q(status=Status.APPROVED) | Q(status=Status.RATED, events__kind="approve"))
        .values("person_id")
    )


def expression_error(text: str, *, allow_empty: bool = False) -> str | None:
    """The localised error of an expression (parse, then tag and area codes), or None."""
    if allow_empty and not text.strip():
        return None
    try:
        Codes.resolve([rules.parse(text)])
    except RuleError as exc:
        return message(exc)
    return None


# ---------------------------------------------------------------------------------------------
# Running the rules


@dataclass
class RuleRun:
    """What one rule's run found and changed."""

    code: str
    name: str
    entitled: int = 0  # active residents matching the rule now
    receiving: int = 0  # of them, already receiving the service
    new: int = 0  # new outreach tasks (state open)
    reopened: int = 0  # receiving before, no longer: open again
    lapsed: int = 0  # tasks whose resident no longer matches
    unassigned: int = 0  # new tasks in grids without a grid worker
    worker_notices: int = 0
    resident_notices: int = 0
    seconds: float = 0.0
    error: str = ""
    skipped: bool = False


@dataclass
class RunSummary:
    """The result of `eligibility_run`, one `RuleRun` per rule."""

    rules: list[RuleRun] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = []
        for r in self.rules:
            if r.error:
                out.append(f"{r.code}: error: {r.error}")
            elif r.skipped:
                out.append(f"{r.code}: skipped (run by another worker)")
            else:
                out.append(
                    f"{r.code}: {r.entitled} entitled, {r.receiving} receiving, {r.new} new, "
                    f"{r.reopened} reopened, {r.lapsed} no longer entitled, "
                    f"{r.unassigned} new without a grid worker; notices: {r.worker_notices} to "
                    f"grid workers, {r.resident_notices} to residents ({r.seconds:.1f} s)"
                )
        out.append(f"{len(self.rules)} rules in {self.seconds:.1f} s")
        return out


# Temporary tables of one run: grid workers by area, the matches of every rule in one row per
# person (one scan of the register for all rules), and the same unpivoted by rule.
ASSIGNEE_TABLE = "shequ_elig_assignee"
WIDE_TABLE = "shequ_elig_wide"
NOW_TABLE = "shequ_elig_now"


def grid_workers() -> dict[int, int]:
    """Area id → the grid worker answerable for it: the one holding the grid-worker role on the
    area or its nearest ancestor (the lowest user id when a grid has several)."""
    workers: dict[str, int] = {}
    for path, user_id in (
        Membership.objects.filter(role=Role.GRID_WORKER, user__is_active=True)
        .order_by("area__path", "user_id")
        .values_list("area__path", "user_id")
    ):
        workers.setdefault(path, user_id)
    if not workers:
        return {}
    out: dict[int, int] = {}
    areas = Area.objects.filter(scope_q_for_paths(collapse(workers))).values_list("pk", "path")
    for area_id, path in areas.iterator(chunk_size=5000):
        for depth in range(len(path) // SEGMENT, 0, -1):
            worker = workers.get(path[: depth * SEGMENT])
            if worker is not None:
                out[area_id] = worker
                break
    return out


def eligibility_run(
    *,
    rules: Sequence[EligibilityRule | str] | None = None,
    now: dt.datetime | None = None,
    actor: Any = "eligibility-run",
    due_before: dt.datetime | None = None,
) -> RunSummary:
    """Run the given rules (default: every active one; an inactive rule never runs, its
    results stay as they were) over the register.

    Who matches which rule is read in one scan of the register for all the rules; then each
    rule's tasks are written in its own transaction with its row locked, so two workers never
    write the same rule at once (on PostgreSQL the second skips it). With `due_before`, a rule
    that ran since is skipped (the nightly job's compare-and-set).
    """
    started = time.perf_counter()
    now = now or timezone.now()
    today = timezone.localdate(now)
    if rules is None:
        chosen = list(EligibilityRule.objects.filter(active=True).order_by("code"))
    else:
        codes = [r if isinstance(r, str) else r.code for r in rules]
        chosen = list(EligibilityRule.objects.filter(code__in=codes).order_by("code"))
    summary = RunSummary()
    results: dict[int, RuleRun] = {}
    compiled: dict[int, Compiled] = {}
    for rule in chosen:
        results[rule.pk] = RuleRun(code=rule.code, name=rule.name)
        summary.rules.append(results[rule.pk])
        if not rule.active:
            results[rule.pk].skipped = True
            continue
        try:
            compiled[rule.pk] = compile_pair(
                expression=rule.expression,
                receiving=rule.receiving,
                item_id=rule.item_id,
                today=today,
            )
        except RuleError as exc:
            log.warning("eligibility rule %s cannot run: %s", rule.code, exc)
            results[rule.pk].error = str(exc)
    if compiled:
        try:
            _collect(compiled)
            for rule in chosen:
                if rule.pk in compiled:
                    _run_rule(rule, now=now, due_before=due_before, result=results[rule.pk])
        finally:
            with connection.cursor() as cursor:
                for temporary in (NOW_TABLE, WIDE_TABLE, ASSIGNEE_TABLE):
                    cursor.execute(f"DROP TABLE IF EXISTS {temporary}")
    summary.seconds = time.perf_counter() - started
    if summary.rules:
        audit.record(
            actor=actor,
            action="eligibility.run",
            object_type="servicedesk.eligibilityrule",
            changes={
                r.code: {
                    "entitled": r.entitled,
                    "receiving": r.receiving,
                    "new": r.new,
                    "reopened": r.reopened,
                    "lapsed": r.lapsed,
                    **({"error": r.error} if r.error else {}),
                }
                for r in summary.rules
                if not r.skipped
            },
        )
    return summary


def _collect(compiled: dict[int, Compiled]) -> None:
    """Fill NOW_TABLE with (rule, person, area, district, receiving, grid worker) for every
    active resident matching a rule, reading the register once for all the rules."""
    postgres = connection.vendor == "postgresql"
    flags: dict[str, Any] = {}
    for rule_id, c in compiled.items():
        flags[f"ok_{rule_id}"] = _flag(c.entitled)
        flags[f"rcv_{rule_id}"] = Value(False) if c.receiving is None else _flag(c.receiving)
    flagged = (
        Person.objects.filter(status=PersonStatus.ACTIVE)
        .order_by()
        .annotate(e_person=F("pk"), e_area=F("area_id"), e_district=F("district_id"), **flags)
        .values("e_person", "e_area", "e_district", *flags)
    )
    inner_sql, wide_params = flagged.query.sql_with_params()
    # The flags are computed once per resident inside the fence (OFFSET 0 keeps the planner
    # from copying each condition, subqueries and all, into the outer filter).
    fence = "OFFSET 0" if postgres else "LIMIT -1 OFFSET 0"
    any_rule = " OR ".join(f"f.ok_{rule_id}" for rule_id in compiled)
    wide_sql = f"SELECT * FROM ({inner_sql} {fence}) f WHERE {any_rule}"  # noqa: S608
    assignees = grid_workers()
    with transaction.atomic(), connection.cursor() as cursor:
        _no_jit(cursor)
        for temporary in (NOW_TABLE, WIDE_TABLE, ASSIGNEE_TABLE):
            cursor.execute(f"DROP TABLE IF EXISTS {temporary}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {ASSIGNEE_TABLE} "
            "(area_id bigint PRIMARY KEY, user_id bigint NOT NULL)"
        )
        cursor.executemany(
            f"INSERT INTO {ASSIGNEE_TABLE} (area_id, user_id) VALUES (%s, %s)",  # noqa: S608
            list(assignees.items()),
        )
        cursor.execute(f"CREATE TEMPORARY TABLE {WIDE_TABLE} AS {wide_sql}", wide_params)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {NOW_TABLE} (rule_id bigint NOT NULL, "
            "person_id bigint NOT NULL, area_id bigint NOT NULL, district_id bigint NOT NULL, "
            "receiving boolean NOT NULL, assignee_id bigint, PRIMARY KEY (rule_id, person_id))"
        )
        for rule_id in compiled:
            cursor.execute(
                f"INSERT INTO {NOW_TABLE} "  # noqa: S608
                "(rule_id, person_id, area_id, district_id, receiving, assignee_id) "
                f"SELECT %s, w.e_person, w.e_area, w.e_district, COALESCE(w.rcv_{rule_id}, FALSE), "
                f"a.user_id FROM {WIDE_TABLE} w LEFT JOIN {ASSIGNEE_TABLE} a "
                f"ON a.area_id = w.e_area WHERE w.ok_{rule_id}",
                [rule_id],
            )
        if postgres:
            cursor.execute(f"ANALYZE {NOW_TABLE}")


def _no_jit(cursor: Any) -> None:
    """PostgreSQL would compile these big one-off statements to machine code first (its
    estimate of a million-row scan is above `jit_above_cost`), which costs more than it saves:
    seconds of compilation for a query that runs once."""
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL jit = off")


def _nested_loops(cursor: Any, *, allowed: bool) -> None:
    """PostgreSQL: forbid (or allow again) nested-loop joins for the rest of the transaction."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL enable_nestloop = {'DEFAULT' if allowed else 'off'}")


def _flag(q: Q) -> Case:
    """A condition as a true/false column. (A bare condition that can match nobody or everyone
    would be selected as the integer 0 or 1, which PostgreSQL does not take as a boolean.)"""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def _run_rule(
    rule: EligibilityRule,
    *,
    now: dt.datetime,
    due_before: dt.datetime | None,
    result: RuleRun,
) -> None:
    started = time.perf_counter()
    with transaction.atomic():
        locked = (
            EligibilityRule.objects.select_for_update(skip_locked=True)
            .filter(pk=rule.pk, active=True)
            .first()
            if connection.features.has_select_for_update_skip_locked
            else EligibilityRule.objects.filter(pk=rule.pk, active=True).first()
        )
        if locked is None or (
            due_before is not None
            and locked.last_run_at is not None
            and locked.last_run_at >= due_before
        ):
            result.skipped = True
            return
        _apply(locked, now=now, result=result)
        locked.last_run_at = now
        locked.save(update_fields=["last_run_at", "updated_at"])
    result.seconds = time.perf_counter() - started


def _param(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _apply(rule: EligibilityRule, *, now: dt.datetime, result: RuleRun) -> None:
    """The set-based heart of the run, for one rule inside its transaction: NOW_TABLE holds
    who matches it now."""
    table = connection.ops.quote_name(Entitlement._meta.db_table)
    links = connection.ops.quote_name(ResidentLink._meta.db_table)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    stamp = _param(now)
    rid = rule.pk
    with connection.cursor() as cursor:
        _no_jit(cursor)
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
        before = int(cursor.fetchone()[0] or 0)
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN receiving THEN 1 ELSE 0 END), 0) "  # noqa: S608
            f"FROM {NOW_TABLE} WHERE rule_id = %s",
            [rid],
        )
        entitled, receiving = cursor.fetchone()
        result.entitled, result.receiving = int(entitled), int(receiving)
        # New tasks (rows already there keep their state). The anti-join leaves out the known
        # ones cheaply; ON CONFLICT stays for safety (and `WHERE` is SQLite's upsert syntax).
        # On PostgreSQL the anti-join is hashed: when the table's statistics say it is (nearly)
        # empty — the first night, or after the night that filled it — the planner would pick a
        # nested loop that rescans the table for every new row, the pages this very statement
        # is filling included (quadratic: 16 s instead of 1 s for 18,000 rows).
        _nested_loops(cursor, allowed=False)
        cursor.execute(
            f"INSERT INTO {table} (created_at, updated_at, rule_id, person_id, area_id, "  # noqa: S608
            "district_id, state, assignee_id, still_entitled, note, contacted_at) "
            "SELECT %s, %s, n.rule_id, n.person_id, n.area_id, n.district_id, "
            "CASE WHEN n.receiving THEN %s ELSE %s END, n.assignee_id, TRUE, '', NULL "
            f"FROM {NOW_TABLE} n WHERE n.rule_id = %s AND NOT EXISTS (SELECT 1 FROM {table} e "
            "WHERE e.rule_id = n.rule_id AND e.person_id = n.person_id) "
            "ON CONFLICT (rule_id, person_id) DO NOTHING",
            [stamp, stamp, OutreachState.RECEIVING, OutreachState.OPEN, rid],
        )
        _nested_loops(cursor, allowed=True)
        # No longer matching (moved away, died, tag ended …): flagged, their history kept.
        cursor.execute(
            f"UPDATE {table} SET still_entitled = FALSE, updated_at = %s "  # noqa: S608
            "WHERE rule_id = %s AND still_entitled "
            f"AND person_id NOT IN (SELECT person_id FROM {NOW_TABLE} WHERE rule_id = %s) "
            "RETURNING person_id",
            [stamp, rid, rid],
        )
        lapsed = [row[0] for row in cursor.fetchall()]
        result.lapsed = len(lapsed)
        _drop_deleted_residents(cursor, rid, lapsed)
        # Receiving before and not any more (a subsidy ended): a task again.
        cursor.execute(
            f"UPDATE {table} SET state = %s, updated_at = %s "  # noqa: S608
            "WHERE rule_id = %s AND state = %s AND person_id IN "
            f"(SELECT person_id FROM {NOW_TABLE} WHERE rule_id = %s AND NOT receiving) "
            "RETURNING assignee_id",
            [OutreachState.OPEN, stamp, rid, OutreachState.RECEIVING, rid],
        )
        reopened = Counter(row[0] for row in cursor.fetchall())
        result.reopened = sum(reopened.values())
        # Everything else that follows the register: matching again, now receiving, moved to
        # another grid, or a grid's worker changed.
        cursor.execute(
            f"UPDATE {table} SET still_entitled = TRUE, updated_at = %s, "  # noqa: S608
            f"state = CASE WHEN n.receiving THEN %s ELSE {table}.state END, "
            "area_id = n.area_id, district_id = n.district_id, assignee_id = n.assignee_id "
            f"FROM {NOW_TABLE} n WHERE n.rule_id = %s AND {table}.rule_id = n.rule_id "
            f"AND {table}.person_id = n.person_id "
            f"AND (NOT {table}.still_entitled OR (n.receiving AND {table}.state <> %s) "
            f"OR {table}.area_id <> n.area_id "
            f"OR {table}.assignee_id {distinct} n.assignee_id)",
            [stamp, OutreachState.RECEIVING, rid, OutreachState.RECEIVING],
        )
        cursor.execute(
            f"SELECT assignee_id, COUNT(*) FROM {table} "  # noqa: S608
            "WHERE rule_id = %s AND id > %s AND state = %s GROUP BY assignee_id",
            [rid, before, OutreachState.OPEN],
        )
        fresh = Counter({assignee: int(n) for assignee, n in cursor.fetchall()})
        cursor.execute(
            f"SELECT DISTINCT l.user_id FROM {table} e JOIN {links} l "  # noqa: S608
            "ON l.person_id = e.person_id WHERE e.rule_id = %s AND e.id > %s AND e.state = %s",
            [rid, before, OutreachState.OPEN],
        )
        residents = [row[0] for row in cursor.fetchall()]
    result.new = sum(fresh.values())
    result.unassigned = fresh.get(None, 0)
    _announce(rule, fresh + reopened, residents, result)


def _drop_deleted_residents(cursor: Any, rule_id: int, lapsed: list[int]) -> None:
    """Delete the rule's rows of residents no longer in the register. Entitlement's keys have
    no database constraint (see the model), and deleting a resident through the ORM deletes
    their rows, but a resident deleted while a run wrote their row leaves it behind; the next
    run finds them among the lapsed (a deleted resident matches no rule) and removes them."""
    table = connection.ops.quote_name(Entitlement._meta.db_table)
    people = connection.ops.quote_name(Person._meta.db_table)
    for start in range(0, len(lapsed), LAPSED_CHUNK):
        chunk = lapsed[start : start + LAPSED_CHUNK]
        marks = ", ".join(["%s"] * len(chunk))
        cursor.execute(
            f"DELETE FROM {table} WHERE rule_id = %s AND person_id IN ({marks}) "  # noqa: S608
            f"AND NOT EXISTS (SELECT 1 FROM {people} p WHERE p.id = {table}.person_id)",
            [rule_id, *chunk],
        )


LAPSED_CHUNK = 2000


def _announce(
    rule: EligibilityRule, tasks: Counter[Any], residents: list[int], result: RuleRun
) -> None:
    """One notice per grid worker with the count of their new tasks; one to each resident."""
    workers = {u.pk: u for u in User.objects.filter(pk__in=[k for k in tasks if k is not None])}
    url = reverse("eligibility:people") + f"?rule={rule.code}&mine=true"
    for user_id, count in sorted(tasks.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        user = workers.get(user_id)
        if user is None or not user.is_active:
            continue
        notify_after_commit(
            users=[user],
            kind="eligibility.outreach",
            title=_("%(rule)s: %(count)s residents to contact")
            % {"rule": rule.name, "count": count},
            body=rule.outreach,
            url=url,
        )
        result.worker_notices += 1
    if residents:
        people = list(User.objects.filter(pk__in=residents, is_active=True))
        item_url = reverse("services:item", args=[rule.item.code]) if rule.item is not None else ""
        notify_after_commit(
            users=people,
            kind="eligibility.notice",
            title=_("You may be entitled to %(rule)s") % {"rule": rule.name},
            body=rule.notice,
            url=item_url,
        )
        result.resident_notices = len(people)


NIGHT_HOURS = range(1, 5)


# PostgreSQL advisory lock key of the nightly run ("elig" in ASCII).
NIGHTLY_LOCK = 0x656C6967


@contextmanager
def _sole_runner() -> Iterator[bool]:
    """Whether this worker is the only one running the nightly job now. On PostgreSQL a
    session advisory lock (try, never wait), so a second worker does not read the whole
    register for nothing; on SQLite always true (the per-rule compare-and-set in `_run_rule`,
    under SQLite's single writer, still makes the second worker skip each rule already run)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [NIGHTLY_LOCK])
        mine = bool(cursor.fetchone()[0])
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [NIGHTLY_LOCK])


def nightly(now: dt.datetime | None = None) -> RunSummary | None:
    """The nightly job (for the worker's PERIODIC list, registered in `apps.py`): between 01:00
    and 05:00 local time, run every active rule that has not run since midnight; at other times,
    and when the night's run is done or under way in another worker, do nothing.

    Once a night: a rule's `last_run_at` is compared and set under its row lock in `_run_rule`
    (`due_before`), so two workers never run a rule twice in one night; a worker that stopped
    half-way leaves the rest due, and the next check (every ten minutes) runs them."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour not in NIGHT_HOURS:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    with _sole_runner() as mine:
        if not mine:
            return None
        due = list(
            EligibilityRule.objects.filter(active=True).filter(
                Q(last_run_at__isnull=True) | Q(last_run_at__lt=midnight)
            )
        )
        if not due:
            return None
        summary = eligibility_run(rules=due, now=now, due_before=midnight)
    for line in summary.lines():
        log.info("eligibility nightly: %s", line)
    return summary


# ---------------------------------------------------------------------------------------------
# Policy: who may see and work on outreach, who may edit the rules


OUTREACH_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD})
# target state → the states it may be reached from (receiving is set by the run alone)
OUTREACH_MOVES: dict[str, frozenset[str]] = {
    OutreachState.CONTACTED: frozenset({OutreachState.OPEN, OutreachState.DECLINED}),
    OutreachState.DECLINED: frozenset({OutreachState.OPEN, OutreachState.CONTACTED}),
    OutreachState.APPLIED: frozenset(
        {OutreachState.OPEN, OutreachState.CONTACTED, OutreachState.DECLINED}
    ),
}
MOVE_LABELS = {
    OutreachState.CONTACTED: gettext_lazy("Contacted"),
    OutreachState.DECLINED: gettext_lazy("Declined"),
    OutreachState.APPLIED: gettext_lazy("Applied"),
}


def can_work_on(actor: Any, entitlement: Entitlement) -> bool:
    """Grid workers reach the residents of their grid; community staff those of their
    community."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    path = entitlement.area.path
    return any(
        m.role in OUTREACH_ROLES and path.startswith(m.area.path) for m in memberships(actor)
    )


def outreach_moves(actor: Any, entitlement: Entitlement) -> list[str]:
    """The states `actor` may move the task to now (the buttons shown)."""
    if not can_work_on(actor, entitlement):
        return []
    return [t for t, sources in OUTREACH_MOVES.items() if entitlement.state in sources]


def can_configure(actor: Any) -> bool:
    return has_perm(actor, "eligibility.configure")


# ---------------------------------------------------------------------------------------------
# Services


@transaction.atomic
def entitlement_update(
    *, actor: Any, entitlement: Entitlement, state: str, note: str = ""
) -> Entitlement:
    """A grid worker (or community staff) records what came of reaching the resident."""
    locked = (
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("area", "rule")
        .get(pk=entitlement.pk)
    )
    sources = OUTREACH_MOVES.get(state)
    if sources is None or locked.state not in sources:
        raise DomainError(
            EligibilityError.INVALID_TRANSITION,
            _("A task that is “%(state)s” cannot be marked “%(target)s”.")
            % {
                "state": OutreachState(locked.state).label,
                "target": OutreachState(state).label if state in OutreachState.values else state,
            },
            {"state": locked.state, "target": state},
        )
    if not can_work_on(actor, locked):
        raise DomainError(
            EligibilityError.NOT_YOURS,
            _("Only the grid worker of this resident's grid or the community's staff do this."),
        )
    before = locked.state
    locked.state = state
    note = note.strip()[:200]
    if note:
        locked.note = note
    locked.contacted_at = locked.contacted_at or timezone.now()
    locked.save(update_fields=["state", "note", "contacted_at", "updated_at"])
    audit.record(
        actor=actor,
        action=f"entitlement.{state}",
        obj=locked,
        object_repr=f"{locked.rule.code} · {locked.person_id}",
        changes={"state": [before, state], **({"note": note} if note else {})},
    )
    return locked


RESERVED_CODES = frozenset({"new", "check"})
RULE_FIELDS = ("name", "expression", "receiving", "item", "outreach", "notice", "active")


def _check_rule_fields(values: dict[str, Any]) -> None:
    for name, allow_empty in (("expression", False), ("receiving", True)):
        if name in values:
            error = expression_error(str(values[name] or ""), allow_empty=allow_empty)
            if error:
                raise DomainError(EligibilityError.INVALID_RULE, error, {"field": name})
    if "name" in values and not str(values["name"]).strip():
        raise DomainError(
            EligibilityError.INVALID_RULE, _("Give the rule a name."), {"field": "name"}
        )


def _require_configure(actor: Any) -> None:
    if not can_configure(actor):
        raise DomainError(
            EligibilityError.NOT_YOURS, _("Only the district's civil affairs edit the rules.")
        )


@transaction.atomic
def rule_create(
    *,
    actor: Any,
    code: str,
    name: str,
    expression: str,
    receiving: str = "",
    item: ServiceItem | None = None,
    outreach: str = "",
    notice: str = "",
    active: bool = True,
) -> EligibilityRule:
    """A district admin adds a rule; both expressions are checked (never evaluated)."""
    _require_configure(actor)
    values = {
        "name": name.strip(),
        "expression": expression.strip(),
        "receiving": receiving.strip(),
        "item": item,
        "outreach": outreach.strip(),
        "notice": notice.strip(),
        "active": active,
    }
    _check_rule_fields(values)
    if code in RESERVED_CODES:  # the editor's own pages: /eligibility/rules/new/, …/check/
        raise DomainError(
            EligibilityError.CODE_TAKEN,
            _("This code is reserved; choose another."),
            {"field": "code"},
        )
    if EligibilityRule.objects.filter(code=code).exists():
        raise DomainError(
            EligibilityError.CODE_TAKEN,
            _("A rule with this code exists already."),
            {"field": "code"},
        )
    rule = EligibilityRule.objects.create(code=code, **values)
    audit.record(
        actor=actor,
        action="eligibility_rule.created",
        obj=rule,
        changes={**{k: v for k, v in values.items() if k != "item"}, "item": _item_code(item)},
    )
    return rule


@transaction.atomic
def rule_update(*, actor: Any, rule: EligibilityRule, **changes: Any) -> EligibilityRule:
    """Change a rule's fields (those of RULE_FIELDS); the change is audited as a diff."""
    _require_configure(actor)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"rule_update: unknown fields {sorted(unknown)}")
    values = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    _check_rule_fields(values)
    locked = EligibilityRule.objects.select_for_update().get(pk=rule.pk)
    before = {k: _item_code(locked.item) if k == "item" else getattr(locked, k) for k in values}
    for key, value in values.items():
        setattr(locked, key, value)
    after = {k: _item_code(v) if k == "item" else v for k, v in values.items()}
    changed = audit.diff(before, after)
    if not changed:
        return locked
    locked.save()
    audit.record(actor=actor, action="eligibility_rule.updated", obj=locked, changes=changed)
    return locked


def _item_code(item: Any) -> str:
    return str(item.code) if item is not None else ""


# ---------------------------------------------------------------------------------------------
# Reads


def visible_entitlements(actor: Any) -> QuerySet[Entitlement]:
    """Outreach tasks in the actor's areas (eligibility.view)."""
    if not has_perm(actor, "eligibility.view"):
        return Entitlement.objects.none()
    return Entitlement.objects.filter(scope_q(actor, "area", perm="eligibility.view"))


def entitlement_list(actor: Any) -> QuerySet[Entitlement]:
    return visible_entitlements(actor).select_related(
        "rule", "rule__item", "person", "area", "assignee"
    )


def access_entitlement(actor: Any, ref: Any) -> Entitlement:
    text = str(ref)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    entitlement = entitlement_list(actor).filter(pk=int(text)).first()
    if entitlement is None:
        raise NotFound()
    return entitlement


def access_rule(actor: Any, code: Any) -> EligibilityRule:
    """Rules are not secret among the staff who may see outreach; by code."""
    if not has_perm(actor, "eligibility.view"):
        raise NotFound()
    rule = EligibilityRule.objects.select_related("item").filter(code=str(code)[:40]).first()
    if rule is None:
        raise NotFound()
    return rule


def visible_areas(actor: Any) -> QuerySet[Area]:
    """Communities and grids the actor's coverage page may narrow to."""
    return Area.objects.filter(
        scope_q(actor, "", perm="eligibility.view"),
        level__in=[Level.STREET, Level.COMMUNITY, Level.GRID],
    ).order_by("path")


@dataclass
class Coverage:
    """Counts of one rule's tasks in an area (residents still entitled)."""

    rule: EligibilityRule
    area: Area | None = None
    states: Counter[str] = field(default_factory=Counter)
    unassigned: int = 0

    @property
    def entitled(self) -> int:
        return sum(self.states.values())

    def count(self, state: str) -> int:
        return self.states.get(state, 0)

    @property
    def receiving(self) -> int:
        return self.count(OutreachState.RECEIVING)

    @property
    def open(self) -> int:
        return self.count(OutreachState.OPEN)

    @property
    def contacted(self) -> int:
        return self.count(OutreachState.CONTACTED)

    @property
    def declined(self) -> int:
        return self.count(OutreachState.DECLINED)

    @property
    def applied(self) -> int:
        return self.count(OutreachState.APPLIED)

    @property
    def rate(self) -> int | None:
        """Receiving as a percentage of the entitled."""
        total = self.entitled
        return round(100 * self.receiving / total) if total else None


def coverage(actor: Any, *, area: Area | None = None) -> list[Coverage]:
    """Per rule: the residents entitled in the actor's areas (or in `area`) by outreach state."""
    tasks = visible_entitlements(actor).filter(still_entitled=True)
    if area is not None:
        tasks = tasks.filter(subtree_q(area.path, "area__path"))
    rows = {r.pk: Coverage(rule=r) for r in EligibilityRule.objects.select_related("item")}
    for rule_id, state, n, unassigned in (
        tasks.order_by()
        .values_list("rule_id", "state")
        .annotate(n=Count("pk"), unassigned=Count("pk", filter=Q(assignee__isnull=True)))
    ):
        rows[rule_id].states[state] += n
        if state in (OutreachState.OPEN, OutreachState.CONTACTED):
            rows[rule_id].unassigned += unassigned
    return sorted(rows.values(), key=lambda c: (not c.rule.active, c.rule.code))


def coverage_by_area(actor: Any, rule: EligibilityRule, *, level: str) -> list[Coverage]:
    """One rule's coverage per community (or grid) among the actor's areas."""
    depths: dict[str, int] = {Level.STREET: 2, Level.COMMUNITY: 3, Level.GRID: 4}
    depth = depths[level]
    width = depth * SEGMENT
    tasks = visible_entitlements(actor).filter(rule=rule, still_entitled=True)
    counts: dict[str, Coverage] = {}
    for prefix, state, n in (
        tasks.order_by()
        .annotate(prefix=Substr("area__path", 1, width))
        .values_list("prefix", "state")
        .annotate(n=Count("pk"))
    ):
        counts.setdefault(prefix, Coverage(rule=rule)).states[state] += n
    areas = {a.path: a for a in Area.objects.filter(path__in=list(counts), level=level)}
    out = []
    for prefix in sorted(counts):
        row = counts[prefix]
        row.area = areas.get(prefix)
        if row.area is not None:
            out.append(row)
    return out


def matching_count(
    *, actor: Any, expression: str, receiving: str = "", item: ServiceItem | None = None
) -> tuple[int, int]:
    """How many active residents in the actor's areas match now, and how many of them
    already receive the service (the rule editor's check). Raises RuleError."""
    compiled = compile_pair(
        expression=expression,
        receiving=receiving,
        item_id=item.pk if item is not None else None,
        today=timezone.localdate(),
    )
    people = Person.objects.filter(
        scope_q(actor, "area", perm="eligibility.view"),
        compiled.entitled,
        status=PersonStatus.ACTIVE,
    )
    if compiled.receiving is None:
        return people.count(), 0
    totals = people.aggregate(
        entitled=Count("pk"), receiving=Count("pk", filter=compiled.receiving)
    )
    return int(totals["entitled"] or 0), int(totals["receiving"] or 0)

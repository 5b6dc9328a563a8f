"""Benchmark: the SLA worker's scan over a million open cases.

Builds the demo city (areas, staff) and two handling units in a throwaway database, inserts
`--cases` open cases with deadlines spread around now, a few percent of them due:

* 2.0 % past their warning time (turn yellow), 1.0 % past their deadline (turn red),
* 0.3 % already red and past their escalation time (go up a level, audited),
* 0.5 % red and waiting for their escalation, the rest green with deadlines ahead,

(plus 0.1 % as many verified cases whose reporter never rated them, for auto-close), then times
`sla_scan` and `escalate_due` (what the issue targets), `autoclose`, and a second `run_once`
with nothing left to do (the steady state every 30 seconds).

    python bench/sla_bench.py                                       # SQLite, 1,000,000 cases
    python bench/sla_bench.py --cases 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shequ_bench  # a throwaway test_… db

Target (issue #4): sla_scan + escalate_due over 1,000,000 open cases ≤ 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shequ.lib.measure import backend_pid, loadavg, process_cpu

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs, each on a copy")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="shequ-sla-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    import django

    django.setup()
    import logging

    from django.db import connection, connections

    # A notice per reminder goes to the log channel; a million-case scan would print thousands.
    logging.getLogger("shequ.notices").setLevel(logging.WARNING)
    postgres = connection.vendor == "postgresql"
    if postgres:
        connections["default"].creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
    try:
        return run(args)
    finally:
        connections.close_all()
        if postgres:
            connections["default"].creation.destroy_test_db(
                connections["default"].settings_dict["NAME"], verbosity=0
            )
        shutil.rmtree(tmp, ignore_errors=True)  # a million-case SQLite file is 700 MB


def run(args: argparse.Namespace) -> int:
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone

    from shequ.accounts.models import User
    from shequ.areas.models import Area, Level
    from shequ.cases.models import Case, Category, Unit, UnitKind
    from shequ.cases.states import Light, Source, Stage, Status, Urgency
    from shequ.core.bulk import FastInsert
    from shequ.demo import city

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    city.build(seed=2026)
    district = Area.objects.get(code=city.DISTRICT_CODE)
    department = Unit.objects.create(
        code="bench-chengguan", name="城管局", kind=UnitKind.DEPARTMENT, area=district
    )
    department.members.add(*User.objects.filter(username__in=["bumen", "minzheng"]))
    street = Area.objects.filter(parent=district).order_by("path").first()
    assert street is not None
    street_unit = Unit.objects.create(
        code="bench-street", name="街道办", kind=UnitKind.STREET, area=street
    )
    street_unit.members.add(*User.objects.filter(username="jiedao"))
    units = [department.pk, street_unit.pk, None, None]  # half the cases not dispatched yet
    areas = list(
        Area.objects.filter(level__in=[Level.GRID, Level.ESTATE]).values_list("pk", flat=True)
    )
    categories = list(Category.objects.filter(children__isnull=True).values_list("pk", flat=True))
    print(
        f"database: {connection.vendor}; demo city {len(areas)} grids and estates, "
        f"{User.objects.count()} users, built in {time.perf_counter() - started:.0f} s"
    )

    now = timezone.now()
    rng = random.Random(args.seed)
    minute = dt.timedelta(minutes=1)

    def spread(low_min: float, high_min: float) -> dt.timedelta:
        return rng.uniform(low_min, high_min) * minute

    stage_of = {
        Status.REPORTED: Stage.ACCEPT,
        Status.ACCEPTED: Stage.DISPATCH,
        Status.IN_PROGRESS: Stage.HANDLE,
    }

    def rows(count: int) -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            roll = rng.random()
            light, level, escalation = Light.GREEN, 0, None
            if roll < 0.020:  # warned from a moment ago, due later
                yellow, due = now - spread(0, 120), now + spread(1, 600)
            elif roll < 0.030:  # due a moment ago
                due = now - spread(0, 120)
                yellow = due - spread(20, 600)
                light = Light.YELLOW if roll < 0.025 else Light.GREEN
            elif roll < 0.033:  # red, its escalation time just passed
                due = now - spread(600, 4000)
                yellow, light, level = due - spread(20, 600), Light.RED, rng.randrange(3)
                escalation = now - spread(0, 60)
            elif roll < 0.038:  # red, escalation ahead
                due = now - spread(0, 400)
                yellow, light, escalation = due - spread(20, 600), Light.RED, now + spread(1, 480)
            else:  # on time
                yellow = now + spread(5, 14_400)
                due = yellow + spread(20, 2_400)
            unit = units[i % len(units)]
            status = (
                Status.IN_PROGRESS if unit else (Status.REPORTED if i % 8 < 6 else Status.ACCEPTED)
            )
            yield (
                f"SJ20260101-B{i:07d}",
                uuid.uuid4(),
                rng.choice(categories),
                rng.choice(areas),
                district.pk,
                "楼道口堆满了旧家具",
                "",
                Source.GRID,
                Urgency.NORMAL,
                status,
                stage_of[status],
                due - spread(60, 6_000),
                yellow,
                due,
                light,
                level,
                escalation,
                unit,
                light == Light.RED,
                "",
                "",
                "",
                "",
                False,
                False,
                1,
                None,
            )

    def verified(count: int) -> Iterator[tuple[Any, ...]]:
        for i in range(count):
            resolved = now - dt.timedelta(days=rng.uniform(5.01, 9))
            yield (
                f"SJ20260101-V{i:07d}",
                uuid.uuid4(),
                rng.choice(categories),
                rng.choice(areas),
                district.pk,
                "路灯不亮",
                "",
                Source.GRID,
                Urgency.NORMAL,
                Status.VERIFIED,
                Stage.NONE,
                None,
                None,
                None,
                Light.GREEN,
                0,
                None,
                department.pk,
                False,
                "",
                "",
                "已修复",
                "",
                False,
                False,
                3,
                resolved,
            )

    columns = [
        "code",
        "public_token",
        "category",
        "area",
        "district",
        "description",
        "address",
        "source",
        "urgency",
        "status",
        "stage",
        "stage_started_at",
        "yellow_at",
        "due_at",
        "light",
        "level",
        "next_escalation_at",
        "lead_unit",
        "overdue_ever",
        "reporter_name",
        "reporter_phone",
        "answer",
        "rating_comment",
        "on_spot",
        "supervised",
        "version",
        "resolved_at",
    ]
    started = time.perf_counter()
    if connection.vendor == "sqlite":  # build-time speed knobs; the timed runs reconnect
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
    inserter = FastInsert(Case, columns, now=now)
    inserter.insert(rows(args.cases))
    inserter.insert(verified(max(1, args.cases // 1000)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"inserted {args.cases:,} open cases (+{max(1, args.cases // 1000):,} verified) in "
        f"{time.perf_counter() - started:.0f} s; load average {loadavg()}"
    )

    # A running worker has imported the URL configuration (for the notices' links) long ago.
    reverse("cases:list")
    ok = True
    for attempt in range(1, args.repeat + 1):
        with fresh_copy(attempt):
            ok = measure(args, now, attempt) and ok
    return 0 if ok else 1


@contextmanager
def fresh_copy(attempt: int) -> Iterator[None]:
    """Run on a copy of the built database, so every attempt starts from the same rows."""
    from django.db import connection

    base = str(connection.settings_dict["NAME"])
    postgres = connection.vendor == "postgresql"
    if not postgres:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    copy = f"{base}_run{attempt}"
    if postgres:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{base}"')
    else:
        shutil.copyfile(base, copy)
    connection.settings_dict["NAME"] = copy
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = base
        if postgres:
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE "{copy}"')
        else:
            Path(copy).unlink()


def measure(args: argparse.Namespace, now: dt.datetime, attempt: int) -> bool:

    from shequ.cases import worker
    from shequ.cases.models import Case, CaseEvent
    from shequ.cases.states import Light

    # Expected counts straight from the rows, to check the worker's answer.
    expect_yellow = Case.objects.filter(
        light=Light.GREEN, yellow_at__lte=now, due_at__gt=now
    ).count()
    expect_red = Case.objects.filter(light__in=[Light.GREEN, Light.YELLOW], due_at__lte=now).count()
    expect_up = Case.objects.filter(
        light=Light.RED, level__lt=3, next_escalation_at__lte=now
    ).count()

    cpu: dict[str, float] = {}
    db_cpu: dict[str, str] = {}
    # The PostgreSQL server's share of the work: its backend's CPU time (when it runs here).
    backend = backend_pid()

    def timed(fn: Any) -> tuple[Any, float]:
        before = process_cpu(backend) if backend else None
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn(now)
        cpu[fn.__name__] = time.process_time() - start_cpu
        took = time.perf_counter() - start
        after = process_cpu(backend) if backend else None
        db_cpu[fn.__name__] = (
            f" + {after - before:.2f} s in the PostgreSQL backend"
            if after is not None and before is not None
            else ""
        )
        return result, took

    print(f"-- run {attempt} of {args.repeat} (a fresh copy of the database); load {loadavg()}")
    scan, scan_s = timed(worker.sla_scan)
    escalated, escalate_s = timed(worker.escalate_due)
    closed, close_s = timed(worker.autoclose)
    steady, steady_s = timed(worker.run_once)
    total = scan_s + escalate_s
    print(
        f"sla_scan: {scan.scanned:,} due of {args.cases:,} open cases; flipped {scan.yellow:,} "
        f"yellow (expected {expect_yellow:,}) and {scan.red:,} red (expected {expect_red:,}) "
        f"in {scan_s:.2f} s ({cpu['sla_scan']:.2f} s CPU in this process"
        f"{db_cpu['sla_scan']})"
    )
    print(
        f"escalate_due: {escalated:,} escalated (expected {expect_up:,}) in {escalate_s:.2f} s "
        f"({cpu['escalate_due']:.2f} s CPU{db_cpu['escalate_due']})"
    )
    print(
        f"autoclose: {closed:,} closed in {close_s:.2f} s "
        f"({cpu['autoclose']:.2f} s CPU{db_cpu['autoclose']})"
    )
    print(
        f"run_once again (nothing left to flip: {steady}) in {steady_s:.2f} s; "
        f"events written {CaseEvent.objects.count():,}; load average {loadavg()}"
    )
    ok = (
        scan.yellow == expect_yellow
        and scan.red == expect_red
        and escalated == expect_up
        and steady["yellow"] + steady["red"] + steady["escalated"] == 0
    )
    print(
        f"sla_scan + escalate_due: {total:.2f} s wall, "
        f"{cpu['sla_scan'] + cpu['escalate_due']:.2f} s CPU here; target ≤ {TARGET_S:.0f} s: "
        f"{'PASS' if total <= TARGET_S else 'NOT MET'}; counts "
        f"{'as expected' if ok else 'WRONG'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(main())

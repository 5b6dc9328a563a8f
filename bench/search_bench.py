"""Benchmark: person search on a large register (what every staff member does all day).

Loads the demo city with a population (default 1,000,000 residents; minutes — pass `--keep` to
keep the database and reuse it next time), then times person searches as a community worker
(`shequ`, one community) and a district admin (`minzheng`, the whole district):

* through the selector `person_list(visible_to=user, q=...)`, timing what the people page does
  with it: the count and the first page of 25 rows; and
* a few through the Django test Client against /registry/people/?q=… (the full page).

Kinds: full name, name prefix (two characters of a three-character name), pinyin initials,
ID number, last 4 digits, phone, and address fragments as a worker types them: estate and
building (康乐新村2期39栋), building and unit (39栋2单元), house number (24号) and road (丽水路);
plus, for information only, the surname alone (one character, ~26,000 王 in a district), a
full pinyin, and a two-character house number (4号: trigram indexes need three characters, so
it scans the dwellings). Counts are capped: a search counts at most 1,001 people ("1000+").

    python bench/search_bench.py --residents 1000000 --keep /tmp/shequ-1m.sqlite3
    python bench/search_bench.py --residents 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shequ_bench_1m --keep yes

`--keep`: for SQLite the database file to reuse (created and populated if missing); for
PostgreSQL (any value) use the database named in the URL as it is (created and populated if
empty) and never drop it. Without `--keep` a throwaway database is built and dropped.

`--check-pages`: also check, for every sample value, that pages 1, 2 and the last one the
capped count reaches hold the same people in the same order as the plain query (pages of an
address search are found room by room, see PersonResults._walk_rooms).

Target (issue #3): p95 ≤ 100 ms per kind on PostgreSQL and on SQLite with 1,000,000 residents.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shequ.lib.measure import backend_cpu, loadavg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 100.0
KINDS = [
    "full name",
    "name prefix",
    "pinyin initials",
    "ID number",
    "last 4",
    "phone",
    "addr estate+bldg",
    "addr bldg+unit",
    "addr house no.",
    "addr road",
]
INFO_KINDS = ["surname only", "full pinyin", "addr 2 chars"]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ensure_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def queries_for(user: Any, rng: random.Random, count: int) -> dict[str, list[str]]:
    """Search strings of each kind, taken from people the user can see."""
    from shequ.registry.models import Person

    visible = Person.objects.visible_to(user)
    top = visible.order_by("-pk").values_list("pk", flat=True).first() or 0
    low = visible.order_by("pk").values_list("pk", flat=True).first() or 0
    out: dict[str, list[str]] = {k: [] for k in [*KINDS, *INFO_KINDS]}
    attempts = 0
    while min(len(out[k]) for k in KINDS) < count and attempts < count * 200:
        attempts += 1
        pk = rng.randint(low, top)
        person = (
            visible.filter(pk__gte=pk).select_related("dwelling__building").order_by("pk").first()
        )
        if person is None:
            continue

        def add(kind: str, value: str) -> None:
            if value and len(out[kind]) < count:
                out[kind].append(value)

        add("full name", person.name)
        if len(person.name) == 3:
            add("name prefix", person.name[:2])
        add("pinyin initials", person.name_initials)
        add("ID number", person.id_number if len(person.id_number) == 18 else "")
        add("last 4", person.id_number[-4:] if len(person.id_number) == 18 else "")
        add("phone", person.phone)
        address = person.dwelling.standard_address if person.dwelling else ""
        building = person.dwelling.building if person.dwelling else None
        if address and building:
            # Fragments of 丽水路24号康乐新村2期39栋2单元1002室 (standard addresses say 栋)
            cut = address.find("栋")
            start = address.find("号") + 1
            add("addr estate+bldg", address[start : cut + 1] if cut > start else address[: cut + 1])
            unit = re.search(r"[0-9]+栋[0-9]+单元", address)
            add("addr bldg+unit", unit.group() if unit else "")
            number = re.search(r"[0-9]+号", address)
            if number:
                # 4号: two characters, too short for a trigram index (see the docstring)
                add(
                    "addr house no." if len(number.group()) >= 3 else "addr 2 chars", number.group()
                )
            add("addr road", building.road if address.startswith(building.road) else "")
        add("surname only", person.name[:1])
        add("full pinyin", person.name_pinyin)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--keep", default="", help="SQLite file to reuse; PostgreSQL: any value")
    parser.add_argument("--samples", type=int, default=30, help="queries per kind and user")
    parser.add_argument("--page-samples", type=int, default=8, help="page requests per kind")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--check-pages", action="store_true", help="pages = plain order?")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    postgres = args.database_url.startswith(("postgres", "pgsql"))
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        if postgres and args.keep:
            ensure_postgres_database(args.database_url)
    else:
        path = args.keep or f"{tempfile.mkdtemp(prefix='shequ-search-bench-')}/bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(path).resolve()}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment

    from shequ.accounts.models import User
    from shequ.demo import city, people
    from shequ.registry import selectors
    from shequ.registry.models import Person

    throwaway = postgres and not args.keep
    if throwaway:
        connections["default"].creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        if not city.exists():
            city.build(seed=2026)
        residents = Person.objects.count()
        if residents == 0:
            people.populate(seed=2026, residents=args.residents)
            residents = Person.objects.count()
            if postgres:
                with connection.cursor() as cursor:
                    # What autovacuum does soon after a bulk load: since PostgreSQL 13 inserts
                    # trigger a vacuum too, which index-only scans need (the visibility map).
                    cursor.execute("VACUUM ANALYZE")
            print(f"population loaded in {time.perf_counter() - started:.0f} s")
        elif residents < args.residents * 0.9:
            print(f"note: reusing a database with {residents:,} people (asked {args.residents:,})")
        setup_test_environment()
        print(
            f"database: {connection.vendor}; {residents:,} people; "
            f"load average {loadavg()} (2 cores)"
        )
        rng = random.Random(args.seed)
        users = {
            "community worker": User.objects.get(username="shequ"),
            "district admin": User.objects.get(username="minzheng"),
        }
        results: list[tuple[str, str, str, float, float, float]] = []
        # Wall time, then this process's CPU time (on SQLite, the database's too) and on
        # PostgreSQL the server backend's CPU per request (the mean: /proc counts 10 ms ticks).
        print(
            f"{'user':17} {'kind':16} {'via':9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
            f" {'cpu p50':>8} {'cpu p95':>8} {'db cpu':>7} {'hits p50':>9}"
        )
        for label, user in users.items():
            qs = queries_for(user, rng, args.samples)
            client = Client()
            client.force_login(user)
            for kind, values in qs.items():
                if not values:
                    print(f"{label:17} {kind:16} (no sample values)")
                    continue
                hits: list[int] = []

                def selector(q: str, u: Any = user, hits: list[int] = hits) -> None:
                    found = selectors.person_list(visible_to=u, q=q)
                    hits.append(found.count())
                    list(found[:25])

                def page(q: str, c: Client = client) -> None:
                    assert c.get("/registry/people/", {"q": q}).status_code == 200

                for via, fn, sample in (
                    ("selector", selector, values),
                    ("page", page, values[: args.page_samples]),
                ):
                    fn(sample[0])  # warm-up
                    hits.clear()
                    db_before = backend_cpu()
                    times, cpu = timed(fn, sample)
                    db_after = backend_cpu()
                    p50, p95 = statistics.median(times), percentile(times, 95)
                    results.append((label, kind, via, p50, p95, max(times)))
                    shown = f"{statistics.median(hits):9.0f}" if via == "selector" else " " * 9
                    db = (
                        f"{(db_after - db_before) * 1000 / len(sample):7.1f}"
                        if db_before is not None and db_after is not None
                        else f"{'-':>7}"
                    )
                    print(
                        f"{label:17} {kind:16} {via:9} {p50:8.1f} {p95:8.1f} {max(times):8.1f}"
                        f" {statistics.median(cpu):8.1f} {percentile(cpu, 95):8.1f} {db}"
                        f" {shown}",
                        flush=True,
                    )
            if args.check_pages:
                checked = check_pages(user, qs)
                print(f"{label:17} pages as the plain query: {checked} pages checked, all equal")
        print(f"load average at the end: {loadavg()}")
        missed = [r for r in results if r[1] in KINDS and r[4] > TARGET_MS]
        for label, kind, via, _p50, p95, _max in missed:
            print(f"  over target: {label} / {kind} / {via}: p95 {p95:.0f} ms")
        print(
            f"target: p95 ≤ {TARGET_MS:.0f} ms for every kind on {connection.vendor} with "
            f"{residents:,} people → {'PASS' if not missed else 'NOT MET'}"
        )
    finally:
        if throwaway:
            connections["default"].creation.destroy_test_db(
                connections["default"].settings_dict["NAME"], verbosity=0
            )
    return 0


def check_pages(user: Any, values: dict[str, list[str]]) -> int:
    """Pages 1, 2 and the last (of the capped count) of each search are the plain query's."""
    from shequ.registry import selectors

    checked = 0
    for kind, qs in values.items():
        for q in qs:
            people = selectors.person_list(visible_to=user, q=q)
            count = people.count()
            # values_list: the plain query, never rebuilt from ids nor walked room by room
            plain = list(people.values_list("pk", flat=True)[: count + 25])
            for start in sorted({0, 25, max(0, (count - 1) // 25 * 25)}):
                page = selectors.person_list(visible_to=user, q=q)[start : start + 25]
                got = [p.pk for p in page]
                if got != plain[start : start + 25]:
                    raise AssertionError(f"{kind} {q!r}: page at {start} differs")
                checked += 1
    return checked


def timed(fn: Callable[[str], None], values: list[str]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call."""
    wall, cpu = [], []
    for q in values:
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(q)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: area scoping on a large tree (the foundation's hot path for every later list).

Builds 1 district × 20 streets × 20 communities × 20 grids × 3 estates (≈ 32,000 areas) in a
fresh database and times the subtree queries and the area pages/API for scoped users.

    python bench/areas_bench.py [--database-url postgres://postgres@127.0.0.1:5432/shequ_bench]

Targets (set by us; the foundation issue names none): scoped area list API and the area page
p95 ≤ 100 ms with ≤ 12 queries each (a constant, whatever the tree size); a subtree count
p95 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="shequ-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from shequ.accounts.models import Membership, User
    from shequ.accounts.roles import Role
    from shequ.areas import selectors
    from shequ.areas.models import SEGMENT, Area, Level

    if connection.vendor == "postgresql":
        from django.db import connections

        creation = connections["default"].creation
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    call_command("migrate", verbosity=0)
    setup_test_environment()

    started = time.perf_counter()
    district = Area(code="330199000000", name="基准区", level=Level.DISTRICT, depth=1, path="~")
    district.save()
    district.path = str(district.pk).zfill(SEGMENT)
    district.save(update_fields=["path"])
    parents = [district]
    plan = [(Level.STREET, 20), (Level.COMMUNITY, 20), (Level.GRID, 20), (Level.ESTATE, 3)]
    for level, per_parent in plan:
        rows = [
            Area(
                code=f"{p.code}{i:03d}" if level != Level.STREET else f"330199{i:03d}000",
                name=f"{p.name}{i}",
                level=level,
                parent=p,
                depth=p.depth + 1,
                path=f"~{p.pk}-{i}",
            )
            for p in parents
            for i in range(1, per_parent + 1)
        ]
        if level == Level.COMMUNITY:
            for row in rows:
                assert row.parent is not None
                row.code = row.parent.code[:9] + row.code[-3:]
        created = Area.objects.bulk_create(rows, batch_size=2000)
        for row in created:
            assert row.parent is not None
            row.path = row.parent.path + str(row.pk).zfill(SEGMENT)
        Area.objects.bulk_update(created, ["path"], batch_size=2000)
        parents = created
    total = Area.objects.count()
    build_s = time.perf_counter() - started

    street = Area.objects.filter(level=Level.STREET).order_by("path").first()
    community = Area.objects.filter(level=Level.COMMUNITY).order_by("path").first()
    assert street and community
    users = {}
    for username, area, role in [
        ("cw", community, Role.COMMUNITY_WORKER),
        ("st", street, Role.STREET),
        ("dist", district, Role.DISTRICT_ADMIN),
    ]:
        user = User.objects.create_user(username=username, password="x")  # noqa: S106
        Membership.objects.create(user=user, area=area, role=role)
        users[username] = user

    print(f"database: {connection.vendor}; tree: {total:,} areas built in {build_s:.1f} s")
    print(f"{'measure':58} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    results: list[tuple[str, float, float, int]] = []

    def measure(label: str, fn: Callable[[], object]) -> None:
        count = [0]

        def counter(execute: Callable, sql: str, params: object, many: bool, ctx: object) -> object:
            count[0] += 1
            return execute(sql, params, many, ctx)

        with connection.execute_wrapper(counter):
            fn()
        samples = timed(fn, args.runs)
        p50, p95 = statistics.median(samples), percentile(samples, 95)
        results.append((label, p50, p95, count[0]))
        print(f"{label:58} {p50:8.1f} {p95:8.1f} {count[0]:8d}")

    measure("subtree counts of a street (1,621 nodes)", lambda: selectors.subtree_counts(street))
    measure(
        "visible areas of a district admin (count)",
        lambda: Area.objects.visible_to(users["dist"]).count(),
    )
    for username in ("cw", "st", "dist"):
        client = Client()
        client.force_login(users[username])

        def api(c: Client = client) -> None:
            assert c.get("/api/v1/areas/?level=grid").status_code == 200

        def page(c: Client = client) -> None:
            assert c.get("/areas/").status_code == 200

        def home(c: Client = client) -> None:
            assert c.get("/").status_code == 200

        measure(f"GET /api/v1/areas/?level=grid as {username}", api)
        measure(f"GET /areas/ as {username}", page)
        measure(f"GET / (home dashboard) as {username}", home)
    ok = all(p95 <= 100 and q <= 12 for label, _, p95, q in results if label.startswith("GET"))
    ok = ok and results[0][2] <= 20
    print(
        "targets: pages/API p95 ≤ 100 ms and ≤ 12 queries; subtree p95 ≤ 20 ms →",
        "MET" if ok else "NOT MET",
    )
    if connection.vendor == "postgresql":
        connections["default"].creation.destroy_test_db(
            connections["default"].settings_dict["NAME"], verbosity=0
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

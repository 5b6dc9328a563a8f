"""Benchmark: the cases API under 50 concurrent clients, served by gunicorn with 4 workers.

Builds the demo city in a throwaway database (SQLite file, or a `test_…` database on the
PostgreSQL server named by `--database-url`), adds handling units, routing rules, a few hundred
cases and an API token for each community head, starts gunicorn (4 sync workers, the real
settings with DEBUG off) on a free loopback port, and drives it from a second process with
`--clients` threads (standard library only: http.client), each repeating the mix

    POST /api/v1/cases/                       report a case in its community (as its head)
    GET  /api/v1/cases/                       the first page of the community's cases
    POST /api/v1/cases/{code}/actions/accept/ accept the case it just reported

for `--seconds`, then prints requests/s, p50/p95/p99 latency (overall and per request kind),
errors, and the CPU time of the gunicorn workers, of the PostgreSQL backends serving them and of
the load generator itself (it shares the machine's cores with the server).

`--floor PATH` drives one cheap authenticated GET instead of the mix (e.g.
`/api/v1/case-units/bench-chengguan/`: token, role check, one row): what this machine serves at
best through the same stack, the ceiling for the mix.

    python bench/cases_api_bench.py                                     # SQLite
    python bench/cases_api_bench.py \\
        --database-url postgres://postgres@127.0.0.1:5432/shequ_bench    # PostgreSQL
    python bench/cases_api_bench.py --floor /api/v1/case-units/bench-chengguan/

Targets (issue #4): ≥ 300 requests/s, p95 ≤ 100 ms, no errors on PostgreSQL; SQLite reported.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shequ.lib.measure import loadavg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RPS, TARGET_P95_MS = 300.0, 100.0
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "shequ.settings",
    "SHEQU_DEBUG": "0",
    "SHEQU_HTTPS": "0",
    "SHEQU_SECRET_KEY": "cases-api-bench-secret-key-not-for-production-0123456789",
    "SHEQU_FIELD_KEY": "Y2FzZXMtYXBpLWJlbmNoLWZpZWxkLWtleS0zMi1ieXRlcw==",
    "SHEQU_LOG_LEVEL": "WARNING",
}


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The load generator (a child process, so its threads do not share the GIL with the set-up).


class Client:
    """One simulated user on a connection of its own (reopened when the server closes it)."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, json.loads(raw) if raw else None


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (from /proc; 0 where unreadable)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def backend_pids(dbname: str) -> list[int]:
    """PostgreSQL backends connected to `dbname` (their process titles name the database)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and f" {dbname} " in title:
            pids.append(int(cmdline.parent.name))
    return pids


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def client_main(
    port: int,
    plan_path: str,
    seconds: float,
    clients: int,
    warmup: float,
    pids: list[int],
    *,
    floor: str = "",
    dbname: str = "",
) -> int:
    plan = json.loads(Path(plan_path).read_text())
    samples: dict[str, list[float]] = (
        {"floor": []} if floor else {"create": [], "list": [], "accept": []}
    )
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    # Requests started before `measure_from` warm the workers up and are not counted.
    measure_from, stop_at = [0.0], [0.0]

    def failed(kind: str, what: str) -> None:
        if time.perf_counter() < measure_from[0]:
            return
        with lock:
            key = f"{kind}: {what}"
            errors[key] = errors.get(key, 0) + 1

    def user(index: int) -> None:
        me = plan[index % len(plan)]
        client = Client(port, me["token"])
        start_barrier.wait()
        n = 0
        while time.perf_counter() < stop_at[0]:
            n += 1
            if floor:
                t0 = time.perf_counter()
                try:
                    status, _answer = client.call("GET", floor)
                except (OSError, http.client.HTTPException) as exc:
                    failed("floor", type(exc).__name__)
                    continue
                took = (time.perf_counter() - t0) * 1000
                if status != 200:
                    failed("floor", f"HTTP {status}")
                elif t0 >= measure_from[0]:
                    with lock:
                        samples["floor"].append(took)
                continue
            steps: list[tuple[str, str, str, Any, int]] = [
                (
                    "create",
                    "POST",
                    "/api/v1/cases/",
                    {
                        "category": me["category"],
                        "description": f"基准测试事件 {index}-{n}：楼道堆放杂物",
                        "area": me["areas"][n % len(me["areas"])],
                        "address": "3号楼西侧",
                    },
                    201,
                ),
                ("list", "GET", "/api/v1/cases/", None, 200),
            ]
            code = ""
            for kind, method, path, body, expected in steps:
                t0 = time.perf_counter()
                try:
                    status, answer = client.call(method, path, body)
                except (OSError, http.client.HTTPException) as exc:
                    failed(kind, type(exc).__name__)
                    continue
                took = (time.perf_counter() - t0) * 1000
                if status != expected:
                    failed(kind, f"HTTP {status}")
                    continue
                if t0 >= measure_from[0]:
                    with lock:
                        samples[kind].append(took)
                if kind == "create":
                    code = answer["code"]
            if not code:
                continue
            t0 = time.perf_counter()
            try:
                status, _answer = client.call("POST", f"/api/v1/cases/{code}/actions/accept/", {})
            except (OSError, http.client.HTTPException) as exc:
                failed("accept", type(exc).__name__)
                continue
            took = (time.perf_counter() - t0) * 1000
            if status != 200:
                failed("accept", f"HTTP {status}")
                continue
            if t0 >= measure_from[0]:
                with lock:
                    samples["accept"].append(took)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    measure_from[0] = time.perf_counter() + warmup
    stop_at[0] = measure_from[0] + seconds
    start_barrier.wait()
    time.sleep(max(0.0, measure_from[0] - time.perf_counter()))
    # Backends present after the warm-up (with persistent connections, the workers' own).
    backends = backend_pids(dbname) if dbname else []
    server_cpu, own_cpu = cpu_seconds(pids), time.process_time()
    db_cpu = cpu_seconds(backends)
    for t in threads:
        t.join()
    # Requests are counted from `measure_from` until the last counted one has finished.
    elapsed = time.perf_counter() - measure_from[0]
    server_cpu = cpu_seconds(pids) - server_cpu
    own_cpu = time.process_time() - own_cpu
    db_cpu = cpu_seconds(backends) - db_cpu
    print(
        json.dumps(
            {
                "samples": samples,
                "errors": errors,
                "elapsed": elapsed,
                "server_cpu": server_cpu,
                "client_cpu": own_cpu,
                "db_cpu": db_cpu,
                "db_backends": len(backends),
            }
        )
    )
    return 0


# ---------------------------------------------------------------------------------------------
# Set-up, server, report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds not counted first")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cases", type=int, default=300, help="cases reported before the run")
    parser.add_argument("--floor", default="", help="GET only this path (the floor)")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dbname", default="", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--plan", default="", help=argparse.SUPPRESS)
    parser.add_argument("--pids", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        pids = [int(p) for p in args.pids.split(",") if p]
        return client_main(
            args.port,
            args.plan,
            args.seconds,
            args.clients,
            args.warmup,
            pids,
            floor=args.floor,
            dbname=args.dbname,
        )

    tmp = tempfile.mkdtemp(prefix="shequ-api-bench-")
    os.environ.update(BENCH_ENV)
    os.environ["SHEQU_VAR_DIR"] = tmp
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    import django

    django.setup()
    from django.db import connection, connections

    postgres = connection.vendor == "postgresql"
    server_url = os.environ["DATABASE_URL"]
    if postgres:
        connections["default"].creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False
        )
        parts = urlsplit(args.database_url)
        server_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    try:
        return run(args, tmp, server_url)
    finally:
        connections.close_all()
        if postgres:
            connections["default"].creation.destroy_test_db(
                connections["default"].settings_dict["NAME"], verbosity=0
            )
        shutil.rmtree(tmp, ignore_errors=True)


def build(cases: int) -> list[dict[str, Any]]:
    """The demo city with units and routing, `cases` cases, and one plan entry per community
    head (token, the grids they may report in, a category)."""
    from django.core.management import call_command

    from shequ.accounts import services as accounts
    from shequ.accounts.models import Membership
    from shequ.areas.models import Area, Level
    from shequ.cases import services
    from shequ.cases.models import Category, RoutingRule, Unit, UnitKind
    from shequ.demo import city

    call_command("migrate", verbosity=0)
    city.build(seed=2026)
    district = Area.objects.get(code=city.DISTRICT_CODE)
    chengguan = Unit.objects.create(
        code="bench-chengguan", name="城管局", kind=UnitKind.DEPARTMENT, area=district
    )
    RoutingRule.objects.create(
        category=Category.objects.get(code="01"), area=district, unit=chengguan
    )
    plan: list[dict[str, Any]] = []
    category = Category.objects.get(code="0102")
    heads = list(
        Membership.objects.filter(role="community_head")
        .select_related("user", "area")
        .order_by("area__path")
    )
    for m in heads:
        committee = Unit.objects.create(
            code=f"bench-{m.area.code}", name=f"{m.area.name}居委会", kind=UnitKind.COMMUNITY,
            area=m.area,
        )  # fmt: skip
        committee.members.add(m.user)
        RoutingRule.objects.create(category=None, area=m.area, unit=committee)
        grids = list(
            Area.objects.filter(parent=m.area, level=Level.GRID).values_list("code", flat=True)
        )
        token = accounts.token_issue(user=m.user)
        plan.append({"token": token.key, "areas": grids, "category": category.code})
    # Cases already there, so the list has pages to read.
    for i in range(cases):
        head = heads[i % len(heads)]
        grid = Area.objects.filter(parent=head.area, level=Level.GRID).first()
        case = services.case_create(
            actor=head.user, category=category, description="楼道口堆满旧家具", source="grid",
            area=grid,
        )  # fmt: skip
        if i % 2:
            services.case_move(actor=head.user, case=case, move="accept")
    return plan


def run(args: argparse.Namespace, tmp: str, server_url: str) -> int:
    from django.db import connection

    started = time.perf_counter()
    plan = build(args.cases)
    plan_path = Path(tmp) / "plan.json"
    plan_path.write_text(json.dumps(plan))
    print(
        f"database: {connection.vendor}; demo city, {len(plan)} community heads with tokens, "
        f"{args.cases} cases, built in {time.perf_counter() - started:.0f} s"
    )
    connection.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": server_url}
    log = (Path(tmp) / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "shequ.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        if not wait_ready(port, plan[0]["token"], server):
            print(f"gunicorn did not start; see {log.name}")
            return 1
        print(
            f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; "
            f"{args.clients} clients for {args.seconds:.0f} s after {args.warmup:.0f} s of "
            f"warm-up; load average {loadavg()}"
        )
        result = subprocess.run(  # noqa: S603
            [
                sys.executable,
                __file__,
                "--client",
                "--port",
                str(port),
                "--plan",
                str(plan_path),
                "--seconds",
                str(args.seconds),
                "--clients",
                str(args.clients),
                "--warmup",
                str(args.warmup),
                "--pids",
                ",".join(str(p) for p in worker_pids(server.pid)),
                "--floor",
                args.floor,
                "--dbname",
                urlsplit(server_url).path.lstrip("/") if connection.vendor == "postgresql" else "",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    report(json.loads(result.stdout), postgres=connection.vendor == "postgresql")
    print(f"load average after: {loadavg()}")
    return 0


def wait_ready(port: int, token: str, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        try:
            status, _body = Client(port, token).call("GET", "/api/v1/cases/")
            if status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    return False


def report(data: dict[str, Any], *, postgres: bool) -> None:
    samples: dict[str, list[float]] = data["samples"]
    everything = [s for kind in samples.values() for s in kind]
    errors = sum(data["errors"].values())
    rps = len(everything) / data["elapsed"]
    for kind, values in samples.items():
        if not values and kind not in data["errors"]:
            continue
        print(
            f"  {kind:7} {len(values):6d} ok   p50 {percentile(values, 50):6.1f} ms   "
            f"p95 {percentile(values, 95):6.1f} ms   p99 {percentile(values, 99):6.1f} ms"
        )
    p95 = percentile(everything, 95)
    print(
        f"all: {len(everything)} requests in {data['elapsed']:.1f} s = {rps:.0f} requests/s; "
        f"p50 {percentile(everything, 50):.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {percentile(everything, 99):.1f} ms; errors {errors}"
        + (f" {data['errors']}" if errors else "")
    )
    count = max(1, len(everything))
    per_request = data["server_cpu"] / count * 1000
    db_per_request = data.get("db_cpu", 0) / count * 1000
    client_per_request = data["client_cpu"] / count * 1000
    both = per_request + db_per_request
    print(
        f"CPU: gunicorn workers {data['server_cpu']:.1f} s = {per_request:.1f} ms a request; "
        + (
            f"PostgreSQL backends ({data.get('db_backends', 0)}) {data['db_cpu']:.1f} s = "
            f"{db_per_request:.1f} ms a request; "
            if postgres
            else ""
        )
        + f"load generator {data['client_cpu']:.1f} s = {client_per_request:.1f} ms a request "
        f"({data['client_cpu'] / data['elapsed'] * 100:.0f}% of a core); 2 free cores would "
        f"serve about {2000 / both if both else 0:.0f} requests/s on server CPU alone"
    )
    met = rps >= TARGET_RPS and p95 <= TARGET_P95_MS and errors == 0
    print(
        f"target ≥ {TARGET_RPS:.0f} requests/s, p95 ≤ {TARGET_P95_MS:.0f} ms, no errors"
        f"{' (PostgreSQL)' if postgres else ' (set for PostgreSQL; SQLite reported)'}: "
        f"{'PASS' if met else 'NOT MET'}"
    )


if __name__ == "__main__":
    sys.exit(main())

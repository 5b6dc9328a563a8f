"""Benchmark: importing a large, messy department list (最多录一次 at scale).

Builds the demo city and a population in a fresh database, writes a generated list with the
mess real department sheets have (a title row and a footer, traditional characters, full-width
digits, 15-digit IDs, several date formats, invalid IDs, rows without an ID, repeated rows),
30 % of whose rows are people already on the register (read back from the database with their
decrypted ID numbers), then times, each in a fresh child process so peak memory is its own:

* a bare python-calamine read of the same file (for a csv: a bare `csv.reader` pass), and
* `shequ.registry.imports.import_people(..., commit=True)` (what `shequ import-people --commit`
  runs).

    python bench/import_bench.py --rows 100000                     # xlsx into SQLite
    python bench/import_bench.py --format csv --rows 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/shequ_bench   # csv into PostgreSQL

With a PostgreSQL URL the bench creates the throwaway database `test_<name>` next to the one
named (as the test runner does), builds everything there and drops it at the end.

Targets (issue #3): 100,000-row xlsx on SQLite ≤ 30 s and ≤ 1 GiB peak memory; 1,000,000-row
csv into PostgreSQL ≤ 5 min. The ratio to the bare read is reported, not targeted.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shequ.lib.measure import backend_pid, loadavg, process_cpu

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = [
    "序号",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "联系电话",
    "现住址",
    "民族",
    "户籍地",
    "政治面貌",
    "工作单位",
    "备注",
]
IMPORT_AREA = "330199001001"  # 阳光社区 (community1 of the demo city)
ACTOR = "shequ"  # the demo community worker of that community
# Simplified → traditional pairs for names and addresses; only pairs that the importer's
# `to_simplified` maps back are used (checked at run time), so the mess stays "fixable".
TRADITIONAL = dict(
    zip(
        "陈刘张黄赵吴杨郑谢许韩冯邓孙马罗叶钱陆丽华国军伟红兰凤云东园号单区湾强涛艳杰鹏龙辉庆",
        "陳劉張黃趙吳楊鄭謝許韓馮鄧孫馬羅葉錢陸麗華國軍偉紅蘭鳳雲東園號單區灣強濤艷傑鵬龍輝慶",
        strict=True,
    )
)
FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
POLITICAL = ["群众", "群众", "群众", "中共党员", "共青团员"]
WORK = ["杭州某网络科技有限公司", "快递员", "退休", "个体经营", "清河区东湖小学", "无业", ""]
MiB = 1024 * 1024


def rss_peak_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited over fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# Children: each measured phase runs in its own process.


def child_read(path: str) -> dict[str, Any]:
    import python_calamine

    base = rss_peak_mib()
    started = time.perf_counter()
    rows = 0
    if path.endswith(".csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for _record in csv.reader(fh):
                rows += 1
    else:
        wb = python_calamine.CalamineWorkbook.from_path(path)
        sheet = wb.get_sheet_by_index(0)
        for _row in sheet.iter_rows():
            rows += 1
    return {"seconds": time.perf_counter() - started, "rows": rows, "base_mib": base}


def child_import(path: str, source: str, profile: str) -> dict[str, Any]:
    import django

    django.setup()

    from shequ.accounts.models import User
    from shequ.areas.models import Area
    from shequ.registry.imports import import_people, without_cycle_collector

    base = rss_peak_mib()
    actor = User.objects.get(username=ACTOR)
    area = Area.objects.get(code=IMPORT_AREA)
    # The PostgreSQL server's share of the work: its backend's CPU time (when it runs here).
    backend = backend_pid()
    backend_cpu = process_cpu(backend) if backend else None
    profiler: Any = None
    if profile:  # pyinstrument is not a project dependency: pip install it to profile
        profiler = importlib.import_module("pyinstrument").Profiler(interval=0.005)
        profiler.start()
    cpu = time.process_time()
    started = time.perf_counter()
    # As the `import-people` command runs it (a process of its own).
    report = without_cycle_collector(import_people)(
        actor=actor, path=path, source_name=source, area=area, commit=True
    )
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=True, show_all=False))
    counts = {k: v for k, v in report.as_json().items() if isinstance(v, int | bool)}
    after = process_cpu(backend) if backend else None
    db_cpu = after - backend_cpu if after is not None and backend_cpu is not None else None
    return {"seconds": seconds, "cpu": cpu, "db_cpu": db_cpu, "counts": counts, "base_mib": base}


def run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run this script as a child; return its JSON plus its wall time and peak RSS."""
    started = time.perf_counter()
    out = subprocess.run(  # noqa: S603  (our own script)
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child {args[:2]} failed ({out.returncode})")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


# ---------------------------------------------------------------------------------------------
# The generated list


@dataclass
class Known:
    """A registered person as the list will show them."""

    name: str
    gender: str
    birth_date: dt.date | None
    id_number: str
    phone: str
    address: str
    ethnicity: str
    hukou: str


@dataclass
class Expect:
    registered_with_id: int = 0
    registered_without_id: int = 0
    new_with_id: int = 0
    new_without_id: int = 0
    invalid_id: int = 0
    duplicates: int = 0


class Mess:
    """Turns clean values into the way department sheets write them."""

    def __init__(self, rng: random.Random) -> None:
        from shequ.lib import normalize

        self.rng = rng
        self.trad = {s: t for s, t in TRADITIONAL.items() if normalize.to_simplified(t) == s}

    def name(self, name: str) -> str:
        r = self.rng.random()
        if r < 0.10:
            return "".join(self.trad.get(ch, ch) for ch in name)
        if r < 0.13 and len(name) == 2:
            return f"{name[0]} {name[1]}"  # 王 芳
        if r < 0.15:
            return f" {name} "
        return name

    def id_number(self, number: str, born: dt.date | None) -> str:
        r = self.rng.random()
        if r < 0.08:
            return number.translate(FULLWIDTH)
        if r < 0.13:
            return f"{number[:6]} {number[6:14]} {number[14:]}".lower()
        if r < 0.18 and born and 1900 <= born.year <= 1999 and number[:6].isdigit():
            return number[:6] + number[8:17]  # the old 15-digit form
        return number

    def date(self, day: dt.date, *, xlsx: bool) -> Any:
        r = self.rng.randrange(7)
        if r == 0 and xlsx:
            return dt.datetime(day.year, day.month, day.day)  # a real date cell
        if r == 1:
            return f"{day.year}/{day.month}/{day.day}"
        if r == 2:
            return f"{day.year}.{day.month}.{day.day}"
        if r == 3:
            return f"{day.year}年{day.month}月{day.day}日"
        if r == 4:
            return f"{day:%Y%m%d}"
        if r == 5:
            return f"{day:%Y-%m-%d}".translate(FULLWIDTH)
        return day.isoformat()

    def phone(self, phone: str) -> str:
        if not phone:
            return ""
        r = self.rng.random()
        if r < 0.10:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        if r < 0.18:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if r < 0.24:
            return phone.translate(FULLWIDTH)
        if r < 0.27:
            return "+86 " + phone
        return phone

    def address(self, address: str) -> str:
        if not address:
            return ""
        r = self.rng.random()
        if r < 0.2:
            return "浙江省杭州市清河区" + address
        if r < 0.25:
            return "".join(self.trad.get(ch, ch) for ch in address)
        return address

    def invalid_id(self, number: str) -> str:
        r = self.rng.randrange(4)
        if r == 0:  # a wrong check digit
            check = number[-1]
            return number[:-1] + ("0" if check != "0" else "1")
        if r == 1:  # one digit short
            return number[:-1]
        if r == 2:  # Excel turned it into a number and lost the tail
            return f"{int(number[:17]) * 10:.5E}".replace("+", "")
        return number[:6] + "19991340" + number[14:]  # an impossible birth date


def load_known(sample: int, seed: int) -> list[Known]:
    """`sample` random registered people of the district, with decrypted ID numbers."""
    from shequ.registry.models import Person

    pks = list(Person.objects.exclude(id_blind="").values_list("pk", flat=True))
    rng = random.Random(seed)
    chosen = rng.sample(pks, min(sample, len(pks)))
    out: list[Known] = []
    for start in range(0, len(chosen), 5000):
        rows = (
            Person.objects.filter(pk__in=chosen[start : start + 5000])
            .select_related("dwelling")
            .only(
                "name",
                "gender",
                "birth_date",
                "id_number",
                "phone",
                "ethnicity",
                "hukou_address",
                "dwelling__standard_address",
            )
        )
        for p in rows:
            out.append(
                Known(
                    name=p.name,
                    gender=p.gender,
                    birth_date=p.birth_date,
                    id_number=p.id_number,
                    phone=p.phone,
                    address=p.dwelling.standard_address if p.dwelling else "",
                    ethnicity=p.ethnicity,
                    hukou=p.hukou_address,
                )
            )
    rng.shuffle(out)
    return out


def generate(path: Path, rows: int, known: list[Known], seed: int) -> Expect:
    from shequ.areas.models import Area
    from shequ.demo.people import Generator, reference_date
    from shequ.registry import pii
    from shequ.registry.models import Dwelling, Person
    from shequ.registry.states import Gender, ResidenceType

    rng = random.Random(seed)
    mess = Mess(rng)
    blinds = set(Person.objects.values_list("id_blind", flat=True))
    gen = Generator(
        random.Random(seed + 1),
        today=reference_date(),
        taken=lambda n: pii.id_indexes(n)[0] in blinds,
    )
    community = Area.objects.get(code=IMPORT_AREA)
    local = list(
        Dwelling.objects.filter(area__path__startswith=community.path).values_list(
            "standard_address", flat=True
        )
    )
    xlsx = path.suffix == ".xlsx"
    expect = Expect()
    emitted: deque[list[Any]] = deque(maxlen=5000)
    known_iter = iter(known)

    def record(person: Known, *, with_id: bool, invalid: bool, registered: bool) -> list[Any]:
        number = ""
        if with_id:
            number = mess.id_number(person.id_number, person.birth_date)
            if invalid:
                number = mess.invalid_id(person.id_number)
        # Rows with an ID often leave the birth date out; rows without one always have it.
        born: Any = ""
        if person.birth_date and (not with_id or rng.random() < 0.5):
            born = mess.date(person.birth_date, xlsx=xlsx)
        phone = person.phone
        if registered and phone and rng.random() < 0.1:
            phone = gen.phone()  # a changed phone number
        return [
            0,
            mess.name(person.name),
            {"M": "男", "F": "女"}.get(person.gender, ""),
            number,
            born,
            mess.phone(phone),
            mess.address(person.address),
            person.ethnicity,
            person.hukou,
            rng.choice(POLITICAL),
            rng.choice(WORK),
            "",
        ]

    title = "清河区民政局2026年度在册人员花名册（第一批）"
    footer = ["合计：" + str(rows) + "人", "制表人：李民政    审核人：王街道"]
    with _Writer(path, title) as out:
        for _ in range(rows):
            if emitted and rng.random() < 0.02:
                out.write(list(rng.choice(emitted)))
                expect.duplicates += 1
                continue
            with_id = rng.random() >= 0.05
            registered = rng.random() < 0.30
            person: Known | None = next(known_iter, None) if registered else None
            if person is None:
                gender = rng.choice([Gender.MALE, Gender.FEMALE])
                spec = gen.person(
                    gender=gender,
                    age=rng.uniform(1, 95),
                    residence=rng.choice([ResidenceType.REGISTERED, ResidenceType.FLOATING]),
                )
                if not spec.id_number:
                    with_id = False
                person = Known(
                    name=spec.name,
                    gender=spec.gender,
                    birth_date=spec.birth_date,
                    id_number=spec.id_number,
                    phone=spec.phone or gen.phone(),
                    address=rng.choice(local) if local and rng.random() < 0.6 else "",
                    ethnicity=spec.ethnicity,
                    hukou=spec.hukou_address,
                )
                registered = False
            invalid = with_id and not registered and rng.random() < 0.03
            row = record(person, with_id=with_id, invalid=invalid, registered=registered)
            out.write(row)
            emitted.append(row)
            if invalid:
                expect.invalid_id += 1
            elif registered:
                if with_id:
                    expect.registered_with_id += 1
                else:
                    expect.registered_without_id += 1
            elif with_id:
                expect.new_with_id += 1
            else:
                expect.new_without_id += 1
        for line in footer:
            out.footer(line)
    return expect


class _Writer:
    """Streams rows to an xlsx (xlsxwriter, constant memory) or a csv file."""

    def __init__(self, path: Path, title: str) -> None:
        self.n = 0
        self.xlsx = path.suffix == ".xlsx"
        if self.xlsx:
            import xlsxwriter

            self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
            self.sheet = self.book.add_worksheet("花名册")
            self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
            self.sheet.write_string(0, 0, title, self.book.add_format({"bold": True}))
            self.sheet.write_row(1, 0, HEADERS)
            self.r = 2
        else:
            self.fh = path.open("w", encoding="utf-8-sig", newline="")
            self.csv = csv.writer(self.fh)
            self.csv.writerow([title])
            self.csv.writerow(HEADERS)

    def write(self, row: list[Any]) -> None:
        self.n += 1
        row[0] = self.n
        if not self.xlsx:
            self.csv.writerow(row)
            return
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                self.sheet.write_datetime(self.r, c, value, self.date)
            elif isinstance(value, int):
                self.sheet.write_number(self.r, c, value)
            elif value:
                self.sheet.write_string(self.r, c, value)
        self.r += 1

    def footer(self, text: str) -> None:
        if self.xlsx:
            self.sheet.write_string(self.r, 0, text)
            self.r += 1
        else:
            self.csv.writerow([text])

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.xlsx:
            self.book.close()
        else:
            self.fh.close()


# ---------------------------------------------------------------------------------------------
# Main


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--residents", type=int, default=0, help="default: max(60k, 0.4 × rows)")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--csv", action="store_true", help="the same as --format csv")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", choices=["read", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--source", default="民政局", help=argparse.SUPPRESS)
    parser.add_argument("--profile", default="", help="write a pyinstrument profile of the import")
    args = parser.parse_args()
    args.csv = args.csv or args.format == "csv"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    if args.child:
        assert args.file
        result = (
            child_read(args.file)
            if args.child == "read"
            else child_import(args.file, args.source, args.profile)
        )
        result["peak_mib"] = rss_peak_mib()
        print(json.dumps(result, ensure_ascii=False))
        return 0

    tmp = tempfile.mkdtemp(prefix="shequ-import-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from shequ.demo import city, people

    postgres = connection.vendor == "postgresql"
    child_url = os.environ["DATABASE_URL"]
    if postgres:
        connections["default"].creation.create_test_db(verbosity=0, autoclobber=True)
        parts = urlsplit(args.database_url)
        child_url = urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))
    try:
        return _run(args, tmp, child_url, city, people, call_command, connection)
    finally:
        if postgres:
            connections["default"].creation.destroy_test_db(
                connections["default"].settings_dict["NAME"], verbosity=0
            )
        shutil.rmtree(tmp, ignore_errors=True)  # the generated list (160 MiB at 1M rows)


def _run(
    args: argparse.Namespace,
    tmp: str,
    child_url: str,
    city: Any,
    people: Any,
    call_command: Any,
    connection: Any,
) -> int:
    residents = args.residents or max(60_000, int(args.rows * 0.4))
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    city.build(seed=2026)
    people.populate(seed=2026, residents=residents)
    if connection.vendor == "postgresql":
        # Planner statistics, as autovacuum gathers them within a minute of a bulk load: a
        # list arrives at a register that has been in use, not one loaded a second ago.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor}; population {residents:,} built in "
        f"{time.perf_counter() - started:.0f} s; load average {loadavg()}"
    )
    started = time.perf_counter()
    known = load_known(int(args.rows * 0.30 * 1.02), args.seed)
    path = Path(tmp) / ("list.csv" if args.csv else "list.xlsx")
    expect = generate(path, args.rows, known, args.seed)
    print(
        f"file: {path.name}, {args.rows:,} rows, {path.stat().st_size / MiB:.1f} MiB, "
        f"generated in {time.perf_counter() - started:.0f} s; expected {expect}"
    )
    connection.close()
    env = {**os.environ, "DATABASE_URL": child_url}
    read = run_child(["--child", "read", "--file", str(path)], env)
    print(
        f"bare {'csv.reader' if args.csv else 'python-calamine'} read: {read['seconds']:.2f} s, "
        f"{read['rows']:,} rows, peak RSS {read['peak_mib']:.0f} MiB"
    )
    load_before = loadavg()
    child = ["--child", "import", "--file", str(path), "--source", "民政局"]
    done = run_child([*child, "--profile", args.profile] if args.profile else child, env)
    counts = done["counts"]
    print(f"load average before/after the import: {load_before} / {loadavg()}")
    db_cpu = f" + {done['db_cpu']:.1f} s in the PostgreSQL backend" if done.get("db_cpu") else ""
    print(
        f"import_people(commit=True): {done['seconds']:.1f} s wall, "
        f"{done['cpu']:.1f} s CPU in the Python process{db_cpu} "
        f"(child process wall {done['wall']:.1f} s incl. Django start), "
        f"peak RSS {done['peak_mib']:.0f} MiB (Django baseline {done['base_mib']:.0f} MiB), "
        f"{done['seconds'] / read['seconds']:.1f}× the bare read"
    )
    print("counts:", json.dumps(counts, ensure_ascii=False))
    expected_matched = expect.registered_with_id
    print(
        f"sanity: rows {counts['rows']:,} (file {args.rows:,}); "
        f"matched {counts['matched']:,} (registered rows with an ID: {expected_matched:,}, "
        f"without: {expect.registered_without_id:,}); invalid {counts['invalid']:,} "
        f"(invalid IDs planted {expect.invalid_id:,}); duplicates {counts['duplicates_in_file']:,} "
        f"(planted {expect.duplicates:,})"
    )
    if args.csv:
        target_s, target_mib = (300.0, None) if args.rows >= 1_000_000 else (30.0, 1024.0)
    else:
        target_s, target_mib = 30.0, 1024.0
    ok_time = done["seconds"] <= target_s
    ok_mem = target_mib is None or done["peak_mib"] <= target_mib
    print(
        f"target time ≤ {target_s:.0f} s: {'PASS' if ok_time else 'NOT MET'}"
        + (
            f"; target peak memory ≤ {target_mib:.0f} MiB: {'PASS' if ok_mem else 'NOT MET'}"
            if target_mib
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

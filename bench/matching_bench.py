"""Benchmark: how well the importer finds people it already knows (matching accuracy).

Builds the demo city and a population (the register), plants look-alikes in it (twins, people
sharing a name and a birthday), then writes a labelled list whose every row knows who it really
is (a registered person, or nobody: a new person) and runs the importer's matching as a dry run
(`import_people(commit=False)`, capturing its plan). Cases:

with an ID — exact; written as 15 digits or full-width; name in traditional characters or with
a homophone; phone changed; moved elsewhere; a twin; a typo in the ID (the row is refused:
counts as not found); new people who share a registered person's name.

without an ID — name, birthday, phone and address all agree; phone changed; moved (address not
in the community); homophone or typo in the name; name and birthday only; a person whose
namesake with the same birthday is also registered; new people, including namesakes born the
same day and unregistered twins sharing their sibling's phone and address.

Rows sent to the review queue count as not found (recall) and not as false matches. Rows
without an ID are scored by Splink (`shequ.registry.linkage`): the bench also prints, per case,
the match weight of each row's best candidate, which is what the thresholds are chosen from.

    python bench/matching_bench.py [--residents 100000] [--rows 4000] [--database-url URL]

Targets (issue #3): rows with an ID: precision ≥ 0.99 and recall ≥ 0.95; rows without an ID:
recall ≥ 0.85 with ≤ 1 % false matches (a row matched to the wrong person, or a new person
matched to someone, out of all rows without an ID).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IMPORT_AREA = "330199001001"  # 阳光社区
HEADERS = ["姓名", "性别", "身份证号", "出生日期", "联系电话", "现住址"]
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
TRADITIONAL = dict(
    zip(
        "陈刘张黄赵吴杨郑谢许韩冯邓孙马罗丽华国军伟红兰凤",
        "陳劉張黃趙吳楊鄭謝許韓馮鄧孫馬羅麗華國軍偉紅蘭鳳",
        strict=True,
    )
)
TYPO_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰红建国春梅海燕志晓东文"


@dataclass
class Row:
    cells: list[str]
    truth: int | None  # pk of the registered person the row is, None: a new person
    case: str
    with_id: bool


@dataclass
class Reg:
    pk: int
    name: str
    gender: str
    birth_date: dt.date | None
    id_number: str
    phone: str
    address: str
    area_id: int
    dwelling_id: int | None


def registered(community_path: str) -> tuple[list[Reg], list[Reg]]:
    """(people of the import's community, people elsewhere in the district) with plaintext."""
    from shequ.registry.models import Person

    qs = (
        Person.objects.exclude(id_blind="")
        .exclude(birth_date=None)
        .select_related("dwelling", "area")
        .only(
            "name",
            "gender",
            "birth_date",
            "id_number",
            "phone",
            "area_id",
            "area__path",
            "dwelling_id",
            "dwelling__standard_address",
        )
    )
    local: list[Reg] = []
    other: list[Reg] = []
    for p in qs.iterator(chunk_size=5000):
        reg = Reg(
            pk=p.pk,
            name=p.name,
            gender=p.gender,
            birth_date=p.birth_date,
            id_number=p.id_number,
            phone=p.phone,
            address=p.dwelling.standard_address if p.dwelling else "",
            area_id=p.area_id,
            dwelling_id=p.dwelling_id,
        )
        (local if p.area.path.startswith(community_path) else other).append(reg)
    return local, other


def taken_ids() -> Any:
    """Is this ID number registered already? (Generated people must really be new.)"""
    from shequ.registry import pii
    from shequ.registry.models import Person

    blinds = set(Person.objects.values_list("id_blind", flat=True))
    return lambda number: pii.id_indexes(number)[0] in blinds


def plant_lookalikes(local: list[Reg], rng: random.Random, count: int) -> list[tuple[Reg, Reg]]:
    """Register, for `count` local people, a second person with the same name and birthday
    (a different ID, phone and home) and, for as many, a twin (same birthday, surname, home
    and phone, another given name). Returns (original, look-alike) pairs."""
    from shequ.areas.models import Area
    from shequ.demo import city
    from shequ.demo.people import Generator, reference_date
    from shequ.registry.models import Person
    from shequ.registry.services import apply_indexes

    district = Area.objects.get(code=city.DISTRICT_CODE).pk

    gen = Generator(random.Random(rng.random()), today=reference_date(), taken=taken_ids())
    pairs: list[tuple[Reg, Reg]] = []
    people: list[Person] = []
    chosen = rng.sample([r for r in local if r.dwelling_id], count * 2)
    others = rng.sample(local, count)
    for index, original in enumerate(chosen):
        assert original.birth_date
        twin = index % 2 == 1
        name = original.name
        if twin:
            while name == original.name or name[1:2] == original.name[1:2]:
                name = original.name[0] + gen.given(original.gender, original.birth_date.year)
        home = original if twin else others[index // 2]
        number = gen.id_number(original.id_number[:6], original.birth_date, original.gender)
        person = Person(
            area_id=home.area_id,
            district_id=district,
            name=name,
            gender=original.gender,
            birth_date=original.birth_date,
            id_number=number,
            phone=original.phone if twin else gen.phone(),
            dwelling_id=home.dwelling_id,
        )
        apply_indexes(person)
        people.append(person)
    created = Person.objects.bulk_create(people)
    for original, person in zip(chosen, created, strict=True):
        pairs.append(
            (
                original,
                Reg(
                    pk=person.pk,
                    name=person.name,
                    gender=person.gender,
                    birth_date=person.birth_date,
                    id_number=person.id_number,
                    phone=person.phone,
                    address=original.address if person.dwelling_id == original.dwelling_id else "",
                    area_id=person.area_id,
                    dwelling_id=person.dwelling_id,
                ),
            )
        )
    return pairs


class Cases:
    def __init__(self, rng: random.Random, homophones: dict[str, tuple[str, ...]]) -> None:
        from shequ.demo.people import Generator, reference_date
        from shequ.lib import normalize

        self.rng = rng
        self.homophones = homophones
        self.gen = Generator(random.Random(rng.random()), today=reference_date(), taken=taken_ids())
        self.pinyin = normalize.pinyin_full

    def cells(
        self, p: Reg, *, number: str = "", born: bool = True, phone: str | None = None,
        address: str | None = None, name: str | None = None,
    ) -> list[str]:  # fmt: skip
        b = p.birth_date
        return [
            name if name is not None else p.name,
            {"M": "男", "F": "女"}.get(p.gender, ""),
            number,
            f"{b.year}年{b.month}月{b.day}日" if b and born else "",
            p.phone if phone is None else phone,
            p.address if address is None else address,
        ]

    def homophone(self, name: str) -> str | None:
        spots = [i for i, ch in enumerate(name) if i > 0 and ch in self.homophones]
        if not spots:
            return None
        i = self.rng.choice(spots)
        swapped = name[:i] + self.rng.choice(self.homophones[name[i]]) + name[i + 1 :]
        return swapped if self.pinyin(swapped) == self.pinyin(name) else None

    def typo(self, name: str) -> str:
        i = self.rng.randrange(1, len(name)) if len(name) > 1 else 0
        while True:
            ch = self.rng.choice(TYPO_CHARS)
            if ch != name[i]:
                return name[:i] + ch + name[i + 1 :]

    def traditional(self, name: str) -> str:
        return "".join(TRADITIONAL.get(ch, ch) for ch in name)

    def new_person(self, like: Reg | None = None) -> Reg:
        """Someone not on the register (with `like`: same name, born the same day)."""
        from shequ.registry.states import ResidenceType

        rng = self.rng
        if like is not None and like.birth_date:
            born = like.birth_date
            number = self.gen.id_number("110101", born, like.gender)
            return Reg(0, like.name, like.gender, born, number, self.gen.phone(), "", 0, None)
        spec = self.gen.person(
            gender=rng.choice("MF"), age=rng.uniform(1, 90), residence=ResidenceType.REGISTERED
        )
        return Reg(
            0,
            spec.name,
            spec.gender,
            spec.birth_date,
            spec.id_number,
            self.gen.phone(),
            "",
            0,
            None,
        )


def build_rows(
    local: list[Reg], other: list[Reg], pairs: list[tuple[Reg, Reg]], n: int, rng: random.Random
) -> list[Row]:
    from shequ.demo.people import HOMOPHONES
    from shequ.lib import idcard

    c = Cases(rng, HOMOPHONES)
    rows: list[Row] = []
    used: set[int] = set()
    lookalike_of = {orig.pk: twin for orig, twin in pairs}
    # Each look-alike pair serves one row only (a second row would be a repeat in the file).
    twins = [(o, t) for o, t in pairs if t.dwelling_id == o.dwelling_id]
    namesakes = [(o, t) for o, t in pairs if t.dwelling_id != o.dwelling_id]

    def pick(pool: list[Reg]) -> Reg:
        while True:
            p = rng.choice(pool)
            if p.pk not in used and p.pk not in lookalike_of:
                used.add(p.pk)
                return p

    # Rows with an ID: (case, share)
    with_id = [
        ("exact", 0.40), ("15-digit or full-width", 0.10), ("traditional name", 0.08),
        ("homophone name", 0.05), ("phone changed", 0.08), ("moved", 0.07), ("twin", 0.04),
        ("ID typo (refused)", 0.02), ("new person", 0.10), ("new namesake", 0.06),
    ]  # fmt: skip
    without_id = [
        ("all agree", 0.25), ("phone changed", 0.10), ("moved", 0.10), ("homophone name", 0.07),
        ("name typo", 0.04), ("name and birthday only", 0.06), ("has a namesake", 0.05),
        ("twin", 0.03), ("new person", 0.15), ("new namesake same birthday", 0.08),
        ("unregistered twin", 0.07),
    ]  # fmt: skip
    for kinds, has_id in ((with_id, True), (without_id, False)):
        names = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        for _ in range(n):
            case = rng.choices(names, weights)[0]
            rows.append(_row(case, has_id, c, pick, local, other, twins, namesakes, idcard))
    rng.shuffle(rows)
    return rows


def _row(
    case: str,
    has_id: bool,
    c: Cases,
    pick: Any,
    local: list[Reg],
    other: list[Reg],
    twins: list[tuple[Reg, Reg]],
    namesakes: list[tuple[Reg, Reg]],
    idcard: Any,
) -> Row:
    rng = c.rng

    def ident(p: Reg) -> str:
        return p.id_number if has_id else ""

    if case in ("new person", "new namesake", "new namesake same birthday"):
        like = pick(local) if case != "new person" else None
        p = c.new_person(like)
        return Row(c.cells(p, number=ident(p), address=""), None, case, has_id)
    if case in ("twin", "unregistered twin", "has a namesake"):
        pool = namesakes if case == "has a namesake" else twins
        if not pool:  # all used: an ordinary row instead
            return _row("exact", has_id, c, pick, local, other, twins, namesakes, idcard)
        orig, twin = pool.pop()
    if case == "unregistered twin":
        assert orig.birth_date
        name = orig.name
        taken = {c.pinyin(orig.name[1:]), c.pinyin(twin.name[1:])}
        while c.pinyin(name[1:]) in taken:
            name = orig.name[0] + c.gen.given(orig.gender, orig.birth_date.year)
        return Row(c.cells(orig, name=name, number=""), None, case, has_id)
    if case == "twin":
        p = twin if rng.random() < 0.5 else orig
        return Row(c.cells(p, number=ident(p)), p.pk, case, has_id)
    if case == "has a namesake":
        return Row(c.cells(orig), orig.pk, case, has_id)
    p = pick(other if case == "moved" else local)
    number = ident(p)
    if case == "15-digit or full-width":
        born = p.birth_date
        if born and born.year < 2000 and p.id_number[:6].isdigit() and rng.random() < 0.5:
            number = p.id_number[:6] + p.id_number[8:17]
        else:
            number = p.id_number.translate(FULLWIDTH)
        return Row(c.cells(p, number=number), p.pk, case, has_id)
    if case == "traditional name":
        return Row(c.cells(p, number=number, name=c.traditional(p.name)), p.pk, case, has_id)
    if case == "homophone name":
        name = c.homophone(p.name) or c.traditional(p.name)
        return Row(c.cells(p, number=number, name=name), p.pk, case, has_id)
    if case == "name typo":
        return Row(c.cells(p, number=number, name=c.typo(p.name)), p.pk, case, has_id)
    if case == "phone changed":
        return Row(c.cells(p, number=number, phone=c.gen.phone()), p.pk, case, has_id)
    if case == "moved":
        # Living in this community now: the list has the new address, the register the old one.
        address = rng.choice(local).address
        return Row(c.cells(p, number=number, address=address), p.pk, case, has_id)
    if case == "ID typo (refused)":
        digits = list(p.id_number)
        i = rng.randrange(6, 17)
        digits[i] = str((int(digits[i]) + rng.randrange(1, 10)) % 10)
        return Row(c.cells(p, number="".join(digits)), p.pk, case, has_id)
    if case == "name and birthday only":
        return Row(c.cells(p, phone="", address=""), p.pk, case, has_id)
    return Row(c.cells(p, number=number), p.pk, case, has_id)  # exact / all agree


@dataclass
class Tally:
    rows: int = 0
    should: int = 0  # rows that are a registered person
    right: int = 0  # matched to the right person
    wrong: int = 0  # matched to someone else (or a new person matched)
    review: int = 0
    refused: int = 0

    @property
    def precision(self) -> float:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.should if self.should else 1.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=4000, help="rows with and rows without IDs")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="shequ-matching-bench-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    postgres = connection.vendor == "postgresql"
    if postgres:
        connections["default"].creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run(args, Path(tmp), call_command)
    finally:
        if postgres:
            connections["default"].creation.destroy_test_db(
                connections["default"].settings_dict["NAME"], verbosity=0
            )


def run(args: argparse.Namespace, tmp: Path, call_command: Any) -> int:
    from shequ.accounts.models import User
    from shequ.areas.models import Area
    from shequ.demo import city, people
    from shequ.registry import imports, linkage

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    city.build(seed=2026)
    people.populate(seed=2026, residents=args.residents)
    rng = random.Random(args.seed)
    area = Area.objects.get(code=IMPORT_AREA)
    local, other = registered(area.path)
    pairs = plant_lookalikes(local, rng, max(50, args.rows // 3))
    rows = build_rows(local, other, pairs, args.rows, rng)
    print(
        f"register: {len(local) + len(other) + 2 * len(pairs):,} people "
        f"({len(local):,} in the community, {len(pairs)} planted look-alikes); "
        f"built in {time.perf_counter() - started:.0f} s"
    )
    path = tmp / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(r.cells for r in rows)
    by_row = {n: r for n, r in enumerate(rows, start=2)}  # row 1 is the header

    captured: dict[str, Any] = {}
    real_plan = imports._plan
    real_best = linkage.best_matches

    def spy(*a: Any, **kw: Any) -> Any:
        captured["plan"] = plan = real_plan(*a, **kw)
        return plan

    def spy_best(*a: Any, **kw: Any) -> Any:
        captured["weights"] = best = real_best(*a, **kw)
        return best

    started = time.perf_counter()
    with (
        mock.patch.object(imports, "_plan", spy),
        mock.patch.object(linkage, "best_matches", spy_best),
    ):
        report = imports.import_people(
            actor=User.objects.get(username="shequ"),
            path=path,
            source_name="匹配测试",
            area=area,
            commit=False,
        )
    seconds = time.perf_counter() - started
    plan = captured["plan"]
    # Splink's match weight of each row's best candidate (rows without an ID that had one).
    weights = {row: weight for row, (_pk, weight) in captured.get("weights", {}).items()}
    outcome: dict[int, tuple[str, int | None]] = {}
    for item, person in plan.matched:
        outcome[item.row] = ("matched", person.pk)
    for item, person, _score in plan.review:
        outcome[item.row] = ("review", person.pk)
    for item in plan.new:
        outcome[item.row] = ("new", None)

    tallies = {True: Tally(), False: Tally()}
    per_case: dict[tuple[bool, str], Counter[str]] = defaultdict(Counter)
    case_weights: dict[str, list[float]] = defaultdict(list)
    for number, row in by_row.items():
        kind, pk = outcome.get(number, ("refused", None))
        t = tallies[row.with_id]
        t.rows += 1
        t.should += row.truth is not None
        if kind == "matched":
            verdict = "right" if pk == row.truth else "WRONG"
            if pk == row.truth:
                t.right += 1
            else:
                t.wrong += 1
        else:
            verdict = kind
            t.review += kind == "review"
            t.refused += kind == "refused"
        if kind == "new" and row.truth is None:
            verdict = "right (new)"
        per_case[(row.with_id, row.case)][verdict] += 1
        if not row.with_id and number in weights:
            case_weights[row.case].append(weights[number])

    print(
        f"dry run of {report.rows:,} rows in {seconds:.1f} s: matched {report.matched:,}, "
        f"new {report.new:,}, review {report.review:,}, invalid {report.invalid:,}, "
        f"duplicates {report.duplicates_in_file:,}"
    )
    for has_id in (True, False):
        print(f"\nrows {'with' if has_id else 'without'} an ID — by case:")
        for (flag, case), verdicts in sorted(per_case.items()):
            if flag == has_id:
                parts = ", ".join(f"{v} {n}" for v, n in verdicts.most_common())
                print(f"  {case:28} {sum(verdicts.values()):5}  {parts}")
    model = linkage.model()
    print(
        f"\nrows without an ID — Splink match weight of the best candidate (matched at ≥ "
        f"{model.match_at:g}, review at ≥ {model.review_at:g}): min / 5 % / median / 95 % / max"
    )
    for case, values in sorted(case_weights.items()):
        values.sort()
        picks = [values[int(q * (len(values) - 1))] for q in (0, 0.05, 0.5, 0.95, 1)]
        print(f"  {case:28} {len(values):5}  " + " / ".join(f"{v:6.1f}" for v in picks))
    w, wo = tallies[True], tallies[False]
    false_rate = wo.wrong / wo.rows if wo.rows else 0.0
    print(
        f"\nwith IDs:    precision {w.precision:.4f}  recall {w.recall:.4f}  "
        f"(right {w.right}, wrong {w.wrong}, review {w.review}, refused {w.refused}, "
        f"of {w.should} registered in {w.rows} rows)"
    )
    print(
        f"without IDs: precision {wo.precision:.4f}  recall {wo.recall:.4f}  false matches "
        f"{false_rate:.2%} (right {wo.right}, wrong {wo.wrong}, review {wo.review}, "
        f"of {wo.should} registered in {wo.rows} rows)"
    )
    ok_id = w.precision >= 0.99 and w.recall >= 0.95
    ok_no_id = wo.recall >= 0.85 and false_rate <= 0.01
    print(
        f"targets: with IDs precision ≥ 0.99 and recall ≥ 0.95 → {'PASS' if ok_id else 'NOT MET'}; "
        f"without IDs recall ≥ 0.85 and false matches ≤ 1 % → {'PASS' if ok_no_id else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

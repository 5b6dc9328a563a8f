"""Train the record-linkage model for rows without a usable ID (Splink on DuckDB), offline.

Generates a register (households with a shared room, twins, common names) and a department
list whose rows are registered people written with a list's usual mess (a homophone or a typo
in the name, a changed phone, a move, missing fields) plus new people, then estimates with
Splink: u by random sampling of pairs (seeded, one DuckDB thread: the same every run), m from
the true identity of each row (a label column). Writes `shequ/registry/linkage_model.json`
with the thresholds below. Deterministic: the same seed writes the same file.

    python scripts/train_linkage.py [--seed 7] [--people 40000] [--rows 12000] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Match weights (log2 odds, prior included) at which a row is the same person / goes to review.
# Chosen with bench/matching_bench.py (it prints the weights per case): a new person sharing a
# registered person's name and birthday reaches 12.1 (name and birthday agree, nothing else
# known), so match_at sits above it, below a one-character typo with the same birthday and
# phone (14.5). A typo matched beside a registered twin still goes to review (the importer's
# twin check). review_at keeps an exact name with only the birth year (-1.2) for a person.
MATCH_AT = 14.0
REVIEW_AT = -2.0
U_PAIRS = 4e7  # random pairs sampled for u
TYPO_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰红建国春梅海燕志晓东文"


def _significant(value: Any) -> Any:
    """Round the estimated probabilities: float noise must not change the file."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: _significant(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_significant(v) for v in value]
    return value


def generate(
    seed: int, people: int, rows: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(register, list): records with a `person` label (the list's new people have none)."""
    from shequ.demo.people import HOMOPHONES, Generator, reference_date
    from shequ.lib import normalize
    from shequ.registry.states import ResidenceType

    rng = random.Random(seed)  # noqa: S311 (generated test data, not secrets)
    gen = Generator(
        random.Random(seed + 1),  # noqa: S311
        today=reference_date(),
        taken=lambda _n: False,
    )
    register: list[dict[str, Any]] = []

    def record(pk: int, name: str, gender: str, born: dt.date | None, phone: str, home: Any) -> Any:
        return {
            "unique_id": pk,
            "name": name,
            "name_pinyin": normalize.pinyin_full(name),
            "birth_date": born,
            "gender": gender or None,
            "phone": phone or None,
            "dwelling": home,
            "person": pk,
        }

    home = 0
    while len(register) < people:
        home += 1
        surname = gen.surname()
        size = rng.choices((1, 2, 3, 4, 5), (20, 35, 25, 15, 5))[0]
        for member in range(size):
            gender = rng.choice("MF")
            age = rng.uniform(25, 90) if member < 2 else rng.uniform(0, 40)
            spec = gen.person(
                gender=gender,
                age=age,
                residence=ResidenceType.REGISTERED,
                surname=surname if member >= 2 else None,
            )
            phone = spec.phone
            if register and register[-1]["dwelling"] == home and rng.random() < 0.25:
                phone = register[-1]["phone"] or ""  # a family's one phone on every member
            pk = len(register) + 1
            register.append(record(pk, spec.name, gender, spec.birth_date, phone, home))
            if member >= 2 and rng.random() < 0.03:  # a twin: same birthday, home, surname
                twin = gen.name(gender, spec.birth_date.year, surname)
                phone = spec.phone if rng.random() < 0.5 else ""
                register.append(
                    record(len(register) + 1, twin, gender, spec.birth_date, phone, home)
                )

    def homophone(name: str) -> str:
        spots = [i for i, ch in enumerate(name) if i > 0 and ch in HOMOPHONES]
        if not spots:
            return name
        i = rng.choice(spots)
        return name[:i] + rng.choice(HOMOPHONES[name[i]]) + name[i + 1 :]

    def typo(name: str) -> str:
        i = rng.randrange(1, len(name)) if len(name) > 1 else 0
        return name[:i] + rng.choice([c for c in TYPO_CHARS if c != name[i]]) + name[i + 1 :]

    listed: list[dict[str, Any]] = []
    for uid, person in enumerate(rng.sample(register, rows), start=1):
        row = dict(person, unique_id=uid)
        mess = rng.random()
        name = person["name"]
        if mess < 0.08:
            name = homophone(name)
        elif mess < 0.12:
            name = typo(name)
        row.update(name=name, name_pinyin=normalize.pinyin_full(name))
        chance = rng.random()
        if chance < 0.05:
            row["birth_date"] = None
        elif chance < 0.07 and person["birth_date"]:  # a slip of the day or the month
            born = person["birth_date"]
            row["birth_date"] = born.replace(
                day=rng.choice([d for d in range(1, 29) if d != born.day])
            )
        chance = rng.random()
        if chance < 0.15:
            row["phone"] = gen.phone()
        elif chance < 0.35:
            row["phone"] = None
        chance = rng.random()
        if chance < 0.15:
            row["dwelling"] = rng.randint(1, home)
        elif chance < 0.35:
            row["dwelling"] = None
        chance = rng.random()
        if chance < 0.1:
            row["gender"] = None
        elif chance < 0.11:
            row["gender"] = "F" if person["gender"] == "M" else "M"
        listed.append(row)
    return register, listed


def train(seed: int, people: int, rows: int) -> dict[str, Any]:
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    from shequ.registry import linkage

    register, listed = generate(seed, people, rows)
    connection = duckdb.connect(":memory:")
    connection.execute("SET threads TO 1")
    api = DuckDBAPI(connection=connection)
    columns = ["unique_id", "name", "name_pinyin", "birth_date", "gender", "phone", "dwelling"]

    def table(records: list[dict[str, Any]]) -> Any:
        return pa.table(
            {
                **{c: pa.array([r[c] for r in records]) for c in columns},
                "person": pa.array([r["person"] for r in records], pa.int64()),
            }
        )

    settings = linkage.untrained_settings()
    # Of all row × register pairs, the share that are the same person (the prior).
    settings["probability_two_random_records_match"] = rows / (rows * len(register))
    left = api.register(table(listed), dataset_display_name="rows")
    right = api.register(table(register), dataset_display_name="register")
    linker = Linker([left, right], settings, log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
    linker.training.estimate_m_from_label_column("person")
    trained = linker.misc.save_model_to_json()
    # A level no sampled pair reached (u: one character off with the same birthday and phone
    # or home, only twins do that; m: a registered person's name or birthday written wholly
    # otherwise): half an observation, not an infinite weight.
    for comparison in trained["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            if level.get("u_probability") is None:
                level["u_probability"] = 0.5 / U_PAIRS
            if level.get("m_probability") is None:
                level["m_probability"] = 0.5 / rows
            if level.get("label_for_charts") == linkage.NEAR:
                # This level requires the birthday and the phone or home to agree, which their
                # own comparisons count already; the random pairs u comes from almost never
                # share them, so u would count them a second time (twins reach this level as
                # easily as a typo does). The name one character off weighs nothing either way.
                level["u_probability"] = level["m_probability"]
    trained.pop("linker_uid", None)
    connection.close()
    return {
        "about": "Splink model for rows without a usable ID; written by scripts/train_linkage.py",
        "seed": seed,
        "people": people,
        "rows": rows,
        "thresholds": {"match_at": MATCH_AT, "review_at": REVIEW_AT},
        "splink": _significant(trained),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=40_000)
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.settings_test")
    import django

    django.setup()
    from shequ.registry import linkage

    out = Path(args.out) if args.out else linkage.MODEL_PATH
    model = train(args.seed, args.people, args.rows)
    out.write_text(json.dumps(model, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    levels = [
        (c["output_column_name"], level.get("label_for_charts"), level.get("m_probability"),
         level.get("u_probability"))
        for c in model["splink"]["comparisons"]
        for level in c["comparison_levels"]
        if not level.get("is_null_level")
    ]  # fmt: skip
    for name, label, m, u in levels:
        print(f"{name:10} {label:55} m={m}  u={u}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

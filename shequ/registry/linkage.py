"""Probabilistic record linkage for rows without a usable ID: Splink (Fellegi–Sunter) on DuckDB.

The importer gathers, for the rows of a file that carry no usable ID, the registered people
who share a block with them (the sound of the name, the phone, the home). This module scores
those row × candidate pairs with a trained Splink model and returns each row's best candidate
and its match weight; `decide` turns a weight into matched / review / new with the two
thresholds.

The model (comparison levels, m and u probabilities, thresholds) is trained offline on
generated data by `scripts/train_linkage.py` and shipped as `linkage_model.json`: nothing is
trained at import time. DuckDB runs in process, in memory; no chart library is loaded.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.conf import settings

MODEL_PATH = Path(__file__).with_name("linkage_model.json")

Decision = Literal["matched", "review", "new"]

# The comparisons, in Splink's settings form. Records have: unique_id, name, name_pinyin,
# birth_date (DATE), gender (M/F, NULL when unknown), phone (blind index, NULL when none),
# dwelling (the standard room's id, NULL when not resolved).
# Exactly one character differs, for names of two to four characters (DuckDB's levenshtein
# counts UTF-8 bytes, three to a Chinese character).
_SAME_LENGTH_ONE_OFF = (
    "length(name_l) = length(name_r) AND length(name_l) BETWEEN 2 AND 4 AND "
    + " + ".join(
        f"CAST(substring(name_l, {i}, 1) <> substring(name_r, {i}, 1) AS INTEGER)"
        for i in range(1, 5)
    )
    + " = 1"
)
NEAR = "one character off, same birthday and phone or home"
COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "name",
        "comparison_description": "name: exact, same pinyin, one character off",
        "comparison_levels": [
            {
                "sql_condition": "name_l IS NULL OR name_r IS NULL",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {"sql_condition": "name_l = name_r", "label_for_charts": "exact"},
            {"sql_condition": "name_pinyin_l = name_pinyin_r", "label_for_charts": "same pinyin"},
            {
                # A name one character off (a typo) is a name only with the same birthday and
                # the same phone or home; otherwise it is another person's name (王芳 and 王方
                # born the same day are many) and falls to "differs".
                "sql_condition": f"{_SAME_LENGTH_ONE_OFF} AND birth_date_l = birth_date_r "
                "AND (phone_l = phone_r OR dwelling_l = dwelling_r)",
                "label_for_charts": NEAR,
            },
            {"sql_condition": "ELSE", "label_for_charts": "differs"},
        ],
    },
    {
        "output_column_name": "birth_date",
        "comparison_description": "birth date: exact, same year",
        "comparison_levels": [
            {
                "sql_condition": "birth_date_l IS NULL OR birth_date_r IS NULL",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {"sql_condition": "birth_date_l = birth_date_r", "label_for_charts": "exact"},
            {
                "sql_condition": "year(birth_date_l) = year(birth_date_r)",
                "label_for_charts": "same year",
            },
            {"sql_condition": "ELSE", "label_for_charts": "differs"},
        ],
    },
    {
        # Phone and home in one comparison: they agree together for a household (a family
        # shares a landline or one member's mobile, twins share everything), so two separate
        # comparisons would count a household member's agreement twice.
        "output_column_name": "phone_and_home",
        "comparison_description": "phone (blind index) and address (standard room)",
        "comparison_levels": [
            {
                "sql_condition": "(phone_l IS NULL OR phone_r IS NULL) "
                "AND (dwelling_l IS NULL OR dwelling_r IS NULL)",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {
                "sql_condition": "phone_l = phone_r AND dwelling_l = dwelling_r",
                "label_for_charts": "same phone and room",
            },
            {"sql_condition": "phone_l = phone_r", "label_for_charts": "same phone"},
            {"sql_condition": "dwelling_l = dwelling_r", "label_for_charts": "same room"},
            {"sql_condition": "ELSE", "label_for_charts": "differ"},
        ],
    },
    {
        "output_column_name": "gender",
        "comparison_description": "gender",
        "comparison_levels": [
            {
                "sql_condition": "gender_l IS NULL OR gender_r IS NULL",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {"sql_condition": "gender_l = gender_r", "label_for_charts": "same"},
            {"sql_condition": "ELSE", "label_for_charts": "differs"},
        ],
    },
]
# The importer's blocks: the same name sound, the same phone, the same home.
BLOCKING_RULES = [
    "l.name_pinyin = r.name_pinyin",
    "l.phone = r.phone",
    "l.dwelling = r.dwelling",
]


def untrained_settings() -> dict[str, Any]:
    """The Splink settings before training (what `scripts/train_linkage.py` starts from)."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "comparisons": json.loads(json.dumps(COMPARISONS)),
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule} for rule in BLOCKING_RULES
        ],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


@dataclass(frozen=True, slots=True)
class Record:
    """One side of a pair, as the comparisons read it."""

    key: int  # the row number (incoming) or the person's pk (registered)
    name: str
    name_pinyin: str
    birth_date: dt.date | None
    gender: str  # "M", "F" or "" (unknown)
    phone: str  # blind index, "" when none
    dwelling: int | None


@dataclass(frozen=True)
class Model:
    splink: dict[str, Any]
    match_at: float  # match weight at or above: the same person
    review_at: float  # from here up to match_at: a person decides


@functools.cache
def model(path: Path = MODEL_PATH) -> Model:
    """The shipped model; the thresholds can be overridden by settings (LINKAGE_MATCH_AT,
    LINKAGE_REVIEW_AT)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    thresholds = data["thresholds"]
    return Model(
        splink=data["splink"],
        match_at=float(getattr(settings, "LINKAGE_MATCH_AT", thresholds["match_at"])),
        review_at=float(getattr(settings, "LINKAGE_REVIEW_AT", thresholds["review_at"])),
    )


def decide(weight: float, linkage: Model | None = None) -> Decision:
    linkage = linkage or model()
    if weight >= linkage.match_at:
        return "matched"
    if weight >= linkage.review_at:
        return "review"
    return "new"


def _table(records: Sequence[Record]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "unique_id": pa.array([r.key for r in records], pa.int64()),
            "name": pa.array([r.name or None for r in records], pa.string()),
            "name_pinyin": pa.array([r.name_pinyin or None for r in records], pa.string()),
            "birth_date": pa.array([r.birth_date for r in records], pa.date32()),
            "gender": pa.array([r.gender if r.gender in ("M", "F") else None for r in records]),
            "phone": pa.array([r.phone or None for r in records], pa.string()),
            "dwelling": pa.array([r.dwelling for r in records], pa.int64()),
        }
    )


def best_matches(
    rows: Sequence[Record], candidates: Sequence[Record], linkage: Model | None = None
) -> dict[int, tuple[int, float]]:
    """Row key → (best candidate's key, match weight), for every row that shares a block
    (name sound, phone or home) with at least one candidate. Ties go to the lower key."""
    if not rows or not candidates:
        return {}
    import duckdb
    from splink import DuckDBAPI, Linker

    linkage = linkage or model()
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("SET threads TO 1")  # a few thousand pairs: threads cost more
        api = DuckDBAPI(connection=connection)
        left = api.register(_table(rows), dataset_display_name="rows")
        right = api.register(_table(candidates), dataset_display_name="register")
        linker = Linker([left, right], linkage.splink, log_level=None, validate_settings=False)
        predictions = linker.inference.predict()
        best = connection.execute(
            f"""
            WITH pairs AS (
                SELECT
                    CASE WHEN source_dataset_l = 'rows' THEN unique_id_l ELSE unique_id_r END
                        AS row_key,
                    CASE WHEN source_dataset_l = 'rows' THEN unique_id_r ELSE unique_id_l END
                        AS person_key,
                    match_weight
                FROM {predictions.physical_name}
            )
            SELECT row_key, arg_min(person_key, (-match_weight, person_key)), max(match_weight)
            FROM pairs
            GROUP BY row_key
            """  # noqa: S608 (a table name Splink made)
        ).fetchall()
    finally:
        connection.close()
    return {int(row): (int(person), float(weight)) for row, person, weight in best}


logging.getLogger("splink").setLevel(logging.WARNING)

"""The Splink model that matches rows without a usable ID (shequ.registry.linkage)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any

from shequ.lib import normalize
from shequ.registry import linkage

BORN = dt.date(1950, 3, 2)
PHONE = "blind-phone-1"


def record(
    key: int,
    name: str,
    *,
    born: dt.date | None = BORN,
    gender: str = "M",
    phone: str = "",
    home: int | None = None,
) -> linkage.Record:
    return linkage.Record(
        key=key,
        name=name,
        name_pinyin=normalize.pinyin_full(name),
        birth_date=born,
        gender=gender,
        phone=phone,
        dwelling=home,
    )


def decision(row: linkage.Record, *candidates: linkage.Record) -> tuple[str, int | None]:
    best = linkage.best_matches([row], list(candidates))
    if row.key not in best:
        return "new", None
    key, weight = best[row.key]
    return linkage.decide(weight), key


def test_the_shipped_model_loads_with_ordered_thresholds() -> None:
    model = linkage.model()
    assert model.review_at < model.match_at
    names = [c["output_column_name"] for c in model.splink["comparisons"]]
    assert names == ["name", "birth_date", "phone_and_home", "gender"]
    for comparison in model.splink["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level"):
                assert 0 < level["m_probability"] <= 1 and 0 < level["u_probability"] <= 1


def test_the_same_name_birthday_and_phone_match() -> None:
    row = record(2, "王建国", phone=PHONE)
    assert decision(row, record(101, "王建国", phone=PHONE)) == ("matched", 101)


def test_the_right_person_wins_over_a_namesake_born_the_same_day() -> None:
    row = record(2, "王建国", phone=PHONE, home=7)
    namesake = record(100, "王建国", phone="other-phone", home=9)
    person = record(101, "王建国", phone=PHONE, home=7)
    assert decision(row, namesake, person) == ("matched", 101)


def test_a_namesake_born_on_another_day_is_new() -> None:
    row = record(2, "王建国", phone="blind-phone-2")
    assert decision(row, record(101, "王建国", born=dt.date(1961, 8, 9), phone=PHONE))[0] == "new"


def test_a_homophone_with_only_the_birthday_goes_to_review() -> None:
    # 王建军 / 王建君 read the same: a clerk's slip or another person, a person decides.
    row = record(2, "王建君")
    assert decision(row, record(101, "王建军")) == ("review", 101)


def test_a_homophone_with_the_same_phone_and_home_matches() -> None:
    row = record(2, "王建君", phone=PHONE, home=7)
    assert decision(row, record(101, "王建军", phone=PHONE, home=7)) == ("matched", 101)


def test_a_one_character_typo_counts_only_with_the_phone_or_home() -> None:
    with_phone = record(2, "李秀英", phone=PHONE)
    assert decision(with_phone, record(101, "李秀兰", phone=PHONE)) == ("matched", 101)
    birthday_only = record(3, "李秀英", phone="blind-phone-2")
    assert decision(birthday_only, record(101, "李秀兰", phone=PHONE, home=7))[0] == "new"


def test_a_sibling_sharing_phone_and_home_is_not_matched() -> None:
    # Another given name, same birthday, phone and home: a twin the register does not know.
    row = record(2, "陈思远", phone=PHONE, home=7)
    assert decision(row, record(101, "陈浩宇", phone=PHONE, home=7))[0] != "matched"


def test_rows_without_a_shared_block_get_no_candidate_and_ties_go_to_the_lower_key() -> None:
    rows = [record(2, "赵六", phone=PHONE), record(3, "钱七", born=None)]
    twins = [record(105, "赵六", phone=PHONE), record(104, "赵六", phone=PHONE)]
    best = linkage.best_matches(rows, twins)
    assert set(best) == {2}
    assert best[2][0] == 104
    assert linkage.best_matches([], twins) == {} == linkage.best_matches(rows, [])


def test_the_thresholds_can_be_set(settings: Any) -> None:
    settings.LINKAGE_MATCH_AT = 100.0
    settings.LINKAGE_REVIEW_AT = 50.0
    linkage.model.cache_clear()
    try:
        tuned = linkage.model()
        assert (tuned.match_at, tuned.review_at) == (100.0, 50.0)
        assert linkage.decide(60.0, tuned) == "review"
        assert linkage.decide(40.0, tuned) == "new"
        assert linkage.decide(100.0, tuned) == "matched"
    finally:
        linkage.model.cache_clear()


def test_retraining_is_deterministic(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[3] / "scripts" / "train_linkage.py"
    spec = importlib.util.spec_from_file_location("train_linkage", script)
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    first = train.train(seed=3, people=1500, rows=300)
    second = train.train(seed=3, people=1500, rows=300)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["splink"]["comparisons"][0]["comparison_levels"][1]["m_probability"] > 0.5

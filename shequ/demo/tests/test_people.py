"""The demo population: counts, rates, valid and encrypted ID numbers, determinism, samples.

The city and 2,000 residents are built once for the module inside a transaction that is rolled
back at the end, so the rest of the suite never sees them.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from python_calamine import CalamineWorkbook

from shequ.areas.models import Area
from shequ.core.models import AuditEntry
from shequ.demo import city, people, spreadsheets
from shequ.lib import idcard
from shequ.registry import pii
from shequ.registry.models import Building, Dwelling, Household, Person, PersonTag, TagType
from shequ.registry.tags import DEFAULT_TAGS, tags_ensure_defaults

RESIDENTS = 2000
SEED = 11


@pytest.fixture(scope="module")
def population(django_db_setup: Any, django_db_blocker: Any) -> Iterator[people.PopulationSummary]:
    with django_db_blocker.unblock(), transaction.atomic():
        city.build(seed=SEED)
        summary = people.populate(seed=SEED, residents=RESIDENTS)
        yield summary
        transaction.set_rollback(True)


@pytest.fixture
def demo(population: people.PopulationSummary, db: Any) -> people.PopulationSummary:
    return population


def _district() -> Area:
    return Area.objects.get(code=city.DISTRICT_CODE)


def _people() -> Any:
    return Person.objects.filter(district=_district())


def _current(code: str) -> Any:
    today = people.reference_date()
    return (
        PersonTag.objects.filter(district=_district(), tag__code=code)
        .exclude(valid_to__lt=today)
        .values("person")
        .distinct()
    )


def _rate(code: str) -> float:
    return _current(code).count() / RESIDENTS


def test_it_loads_exactly_the_residents_asked_for_with_housing_and_households(demo: Any) -> None:
    assert _people().count() == RESIDENTS == demo.residents
    households = Household.objects.filter(district=_district())
    assert households.count() == demo.households
    assert 2.0 <= RESIDENTS / demo.households <= 3.0
    assert not households.filter(head__isnull=True).exists()
    assert not _people().filter(household__isnull=True).exists()
    assert not _people().filter(dwelling__isnull=True).exists()
    assert Building.objects.filter(district=_district()).count() == demo.buildings
    assert Dwelling.objects.filter(district=_district()).count() == demo.dwellings


def test_every_person_lives_in_an_estate_or_hamlet_of_the_demo_district(demo: Any) -> None:
    levels = set(_people().values_list("area__level", flat=True))
    assert levels == {"estate"}
    rural = _people().filter(area__kind="rural").count()
    assert 0 < rural < RESIDENTS * 0.15


def test_buildings_have_realistic_sizes_and_dwellings_their_uses(demo: Any) -> None:
    for building in Building.objects.filter(district=_district()).select_related("area"):
        if building.area.kind == "rural":
            assert 1 <= (building.floors or 0) <= 3
        else:
            assert 4 <= (building.floors or 0) <= 18
    uses = Counter(Dwelling.objects.filter(district=_district()).values_list("use", flat=True))
    assert set(uses) == {"owner", "rented", "vacant", "commercial"}
    assert uses["owner"] > uses["rented"] > uses["commercial"]


def test_the_age_pyramid_and_residence_mix_are_realistic(demo: Any) -> None:
    today = people.reference_date()
    births = list(_people().values_list("birth_date", flat=True))
    over60 = sum(people.age_on(b, today) >= 60 for b in births) / RESIDENTS
    over80 = sum(people.age_on(b, today) >= 80 for b in births) / RESIDENTS
    assert 0.15 <= over60 <= 0.26
    assert 0.015 <= over80 <= 0.045
    mix = Counter(_people().values_list("residence_type", flat=True))
    assert 0.62 <= mix["registered"] / RESIDENTS <= 0.78
    assert 0.20 <= mix["floating"] / RESIDENTS <= 0.35
    assert 0.005 <= mix["foreign"] / RESIDENTS <= 0.04
    han = _people().filter(ethnicity="汉族").count() / RESIDENTS
    assert han >= 0.9
    genders = Counter(_people().values_list("gender", flat=True))
    assert 0.4 <= genders["M"] / RESIDENTS <= 0.6


def test_households_have_heads_spouses_children_and_parents(demo: Any) -> None:
    relations = Counter(_people().values_list("relation_to_head", flat=True))
    assert relations["head"] == demo.households
    for relation in ("spouse", "child", "parent"):
        assert relations[relation] > 0, relation


def test_names_use_common_surnames_most_and_most_adults_have_a_phone(demo: Any) -> None:
    names = list(_people().exclude(id_kind="other").values_list("name", flat=True))
    surnames = Counter(n[0] for n in names)
    top = [s for s, _n in surnames.most_common(5)]
    assert "王" in top and ("陈" in top or "李" in top)
    assert len(surnames) > 60
    adults = [
        p
        for p in _people().only("birth_date", "phone")
        if people.age_on(p.birth_date, people.reference_date()) >= 18
    ]
    with_phone = sum(1 for p in adults if p.phone) / len(adults)
    assert 0.8 <= with_phone <= 0.98


def test_every_generated_id_number_parses_and_matches_birth_date_and_gender(demo: Any) -> None:
    checked = 0
    for person in _people().exclude(id_number=""):
        number = person.id_number or ""
        parsed = idcard.parse(number)
        assert parsed.number == number
        assert parsed.birth_date == person.birth_date
        assert parsed.gender.value == person.gender
        if person.residence_type == "registered" and number[:2] not in ("81", "82", "83"):
            assert idcard.region_name(number[:6]) is not None
        checked += 1
    assert checked >= RESIDENTS * 0.98
    assert _people().filter(residence_type="registered", id_number="").count() == 0


def test_the_region_codes_are_real_division_codes() -> None:
    for code, *_rest in people.HANGZHOU:
        assert (idcard.region_name(code) or "").endswith(("区", "县", "市")), code
        assert code.startswith("3301")
    for code in [*people.ZHEJIANG, *people.ELSEWHERE]:
        assert idcard.region_name(code) is not None, code
    assert all(code.startswith("33") for code in people.ZHEJIANG)


def test_no_plaintext_id_number_or_phone_reaches_the_database(demo: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, phone FROM registry_person WHERE district_id = %s",
            [_district().pk],
        )
        rows = cursor.fetchall()
    assert len(rows) == RESIDENTS
    for id_number, phone in rows:
        assert id_number == "" or id_number.startswith("v1:"), id_number
        assert phone == "" or phone.startswith("v1:"), phone
    sample = _people().exclude(id_number="").first()
    assert sample is not None and sample.id_number
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM registry_person WHERE id_number LIKE %s",
            [f"%{sample.id_number[6:14]}%"],
        )
        assert cursor.fetchone()[0] == 0


def test_a_person_is_found_by_the_blind_index_of_their_id_number(demo: Any) -> None:
    person = _people().exclude(id_number="").order_by("pk")[RESIDENTS // 2]
    blind, last4 = pii.id_indexes(person.id_number or "")
    assert Person.objects.get(id_blind=blind) == person
    assert person in Person.objects.filter(id_last4_blind=last4)
    assert person.name_pinyin and person.name_initials


def test_the_demo_resident_lives_in_the_first_grid_of_yangguang(demo: Any) -> None:
    resident = _people().get(name=people.RESIDENT_NAME)
    grid = Area.objects.get(code=f"{city.DISTRICT_CODE[:6]}001001001")
    assert grid.name == "阳光社区第1网格"
    assert resident.area.parent == grid
    assert resident.relation_to_head == "head"


def test_special_group_tags_come_at_roughly_the_right_rates(demo: Any) -> None:
    today = people.reference_date()
    over80 = {
        p.pk for p in _people().only("birth_date") if people.age_on(p.birth_date, today) >= 80
    }
    assert set(_current("elderly-80").values_list("person", flat=True)) == over80
    assert 0.04 <= _rate("disabled") <= 0.08
    assert 0.005 <= _rate("dibao") <= 0.03
    assert _rate("elderly-alone") > 0.01
    assert _rate("elderly-empty-nest") > 0.04
    assert 0.003 <= _rate("maternal") <= 0.02
    left_behind = PersonTag.objects.filter(district=_district(), tag__code="left-behind-child")
    assert not left_behind.exclude(area__kind="rural").exists()
    for tag in PersonTag.objects.filter(district=_district(), tag__code="disabled"):
        assert tag.details["category"] in ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
        assert tag.details["level"] in ("一级", "二级", "三级", "四级")
        assert tag.source == "区残联"
    assert not PersonTag.objects.filter(district=_district(), source="").exists()
    assert not PersonTag.objects.filter(district=_district(), valid_from__isnull=True).exists()


def test_loading_is_audited_once_for_the_whole_population(demo: Any) -> None:
    entries = AuditEntry.objects.filter(action="demo.people_loaded")
    assert entries.count() == 1
    assert entries.get().changes["residents"] == RESIDENTS
    assert not AuditEntry.objects.filter(action="person.created", actor_name="demo").exists()


def test_the_same_seed_gives_the_same_people(demo: Any) -> None:
    def first(count: int) -> list[tuple[str, str]]:
        return [(p.name, p.id_number or "") for p in _people().order_by("pk")[:count]]

    before = first(50)
    assert people.remove() == RESIDENTS
    assert not Building.objects.filter(district=_district()).exists()
    people.populate(seed=SEED, residents=RESIDENTS)
    assert first(50) == before


def test_reset_removes_the_registry_rows_before_the_areas(demo: Any) -> None:
    city.reset()
    assert not Area.objects.filter(code=city.DISTRICT_CODE).exists()
    assert not Person.objects.filter(name=people.RESIDENT_NAME).exists()
    assert not Household.objects.filter(number__startswith=city.DISTRICT_CODE[:6]).exists()


def test_default_tags_are_created_once_and_audited_per_call(db: Any) -> None:
    codes = [t.code for t in DEFAULT_TAGS]
    tags_ensure_defaults(actor="demo")
    unused = TagType.objects.filter(code__in=codes, people__isnull=True)
    missing = len(set(unused.values_list("code", flat=True)))
    unused.delete()  # tags in use by the module's population stay
    assert tags_ensure_defaults(actor="demo") == missing
    assert tags_ensure_defaults(actor="demo") == 0
    assert TagType.objects.filter(code__in=codes).count() == len(DEFAULT_TAGS)
    disabled = TagType.objects.get(code="disabled")
    assert disabled.sensitive and disabled.attributes == ["category", "level"]
    assert TagType.objects.get(code="elderly-80").name == "高龄老人"
    entries = AuditEntry.objects.filter(action="tag.defaults_ensured").order_by("-seq")[:2]
    assert [e.changes["created"] for e in entries] == [0, missing]


def _known(ids: list[str]) -> int:
    blinds = {pii.id_indexes(idcard.parse(i).number)[0] for i in ids if idcard.is_valid(i)}
    return _people().filter(id_blind__in=blinds).count()


def test_the_sample_spreadsheets_are_written_and_readable(demo: Any, tmp_path: Path) -> None:
    paths = spreadsheets.write_samples(seed=SEED, directory=tmp_path / "demo-imports")
    names = {p.name for p in paths}
    assert names == {
        "民政局_高龄老人花名册.xlsx",
        "残联_残疾人名册.xlsx",
        "卫健_孕产妇.csv",
        "公安_流动人口登记表.xlsx",
    }
    elderly = CalamineWorkbook.from_path(str(tmp_path / "demo-imports/民政局_高龄老人花名册.xlsx"))
    rows = elderly.get_sheet_by_index(0).to_python()
    assert str(rows[0][0]).endswith("高龄老人花名册")
    assert rows[2][:4] == ["序号", "姓名", "性别", "公民身份号码"]
    assert str(rows[-1][0]).startswith("制表人：")
    ids = [str(r[3]) for r in rows[3:] if len(r) > 3 and r[3]]
    assert 0 < _known(ids) <= 0.5 * len(ids)  # a small demo has few people over 80 to list
    with (tmp_path / "demo-imports/卫健_孕产妇.csv").open(encoding="gbk") as handle:
        table = list(csv.reader(handle))
    assert table[0][:2] == ["姓名", "身份证号码"] and len(table) > 50
    police = CalamineWorkbook.from_path(str(tmp_path / "demo-imports/公安_流动人口登记表.xlsx"))
    cells = police.get_sheet_by_index(0).to_python()
    texts = [str(c) for row in cells for c in row]
    assert any(len(t) == 15 and t.isdigit() for t in texts)  # old 15-digit IDs
    assert any("０" in t or "１" in t for t in texts)  # full-width digits
    assert any(not idcard.is_valid(str(row[4])) for row in cells[2:] if row[4])  # invalid IDs
    ids = [str(row[4]) for row in cells[2:] if len(row) > 4 and idcard.is_valid(str(row[4]))]
    assert 0.15 * len(ids) <= _known(ids) <= 0.5 * len(ids)  # about 30 % already registered
    disabled = CalamineWorkbook.from_path(str(tmp_path / "demo-imports/残联_残疾人名册.xlsx"))
    header = disabled.get_sheet_by_index(0).to_python()[1]
    assert "残疾类别" in header and "残疾等级" in header

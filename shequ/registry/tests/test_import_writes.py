"""The importer's bulk writes (COPY on PostgreSQL) store exactly what the ORM stores."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from shequ.core import bulk, testing
from shequ.registry import services
from shequ.registry.imports import _PERSON_COLUMNS, source_for, without_cycle_collector
from shequ.registry.models import Conflict, ImportBatch, ImportedRow, MatchReview, Person
from shequ.registry.tests.conftest import Residents, make_id

SKIP = {"id", "created_at", "updated_at"}


def _stored(model: type[models.Model], pks: list[int]) -> list[dict[str, Any]]:
    """Every column of these rows as the ORM reads it back (encrypted fields decrypted)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in SKIP]
    rows = model._default_manager.filter(pk__in=pks).order_by("pk")
    return [{n: getattr(row, n) for n in names} for row in rows]


def _both_ways(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    counted: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows written by FastInsert (given as a generator, counted or not) and, instead
    (unique columns), by bulk_create."""
    inserter = bulk.FastInsert(model, columns, now=timezone.now())
    pks = inserter.insert((r for r in rows), count=len(rows) if counted else None)
    assert len(pks) == len(rows)
    fast = _stored(model, pks)
    model._default_manager.filter(pk__in=pks).delete()
    targets: list[Any] = [model._meta.get_field(c) for c in columns]
    attnames = [f.attname for f in targets]
    orm = model._default_manager.bulk_create(
        [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    )
    return fast, _stored(model, [o.pk for o in orm])


def test_the_bulk_writes_store_what_the_orm_stores(residents: Residents) -> None:
    area = testing.area("C1")
    batch = ImportBatch.objects.create(
        source=source_for("民政局"), area=area, file_name="a.csv", sha256="0" * 64
    )
    zhang, li = residents.zhang, residents.li
    fast, orm = _both_ways(
        Conflict,
        ("person", "area", "batch", "field", "incoming", "status", "decision"),
        [
            (zhang.pk, zhang.area_id, batch.pk, "phone", "13911112222", "open", ""),
            (li.pk, li.area_id, batch.pk, "work", '杭州某网络科技有限公司\t,"\\N', "open", ""),
        ],
        counted=True,
    )
    assert fast == orm and len(fast) == 2
    fast, orm = _both_ways(
        MatchReview,
        ("batch", "area", "row_number", "candidate", "score", "incoming", "status", "decision"),
        [(batch.pk, area.pk, 7, zhang.pk, 12.25, '{"name": "张三", "row": 7}', "open", "")],
    )
    assert fast == orm and fast[0]["score"] == 12.25
    fast, orm = _both_ways(
        ImportedRow,
        ("source", "row_hash", "batch", "person"),
        [
            (batch.source_id, "a" * 32, batch.pk, zhang.pk),
            (batch.source_id, "b" * 32, batch.pk, None),
        ],
    )
    assert fast == orm


def test_new_people_are_stored_as_the_orm_stores_them(world: Any) -> None:
    area = testing.area("C1")
    number = make_id(birth="19500505", seq="464")
    person = services.person_create(
        actor=testing.persona("community_worker"), area=area, name="孙大娘", id_number=number
    )
    provenance = {"name": {"source": "mz", "date": "2026-01-01"}}
    rows = [
        (
            area.pk, person.district_id, "钱七", "qian qi", "qq", "F", dt.date(1950, 5, 5), "汉",
            "resident", "", "", "", "", "", "", "registered", "active", None, "", "", "", "",
            "文一西路999号", provenance, 1,
        ),
        (
            area.pk, person.district_id, "赵六", "zhao liu", "zl", "M", None, "", "resident",
            number[:-1] + "X", "b" * 32, "c" * 32, "13700002222", "d" * 32, "e" * 32,
            "floating", "active", None, "spouse", "群众", "无业", "浙江省", "", {}, 1,
        ),
    ]  # fmt: skip
    fast, orm = _both_ways(Person, _PERSON_COLUMNS, rows, counted=True)
    assert fast == orm
    assert fast[0]["birth_date"] == dt.date(1950, 5, 5)
    assert fast[0]["provenance"] == {"name": {"source": "mz", "date": "2026-01-01"}}


def test_a_wrong_count_of_rows_is_refused_on_either_database(world: Any) -> None:
    source = source_for("民政局")
    batch = ImportBatch.objects.create(
        source=source, area=testing.area("C1"), file_name="a.csv", sha256="0" * 64
    )
    inserter = bulk.FastInsert(ImportedRow, ("batch", "source", "row_hash"), now=timezone.now())
    rows = [(batch.pk, source.pk, f"{n:032d}") for n in range(3)]
    with pytest.raises(ValueError):
        inserter.insert(iter(rows), count=2)


def test_the_cycle_collector_is_back_on_after_an_import_fails() -> None:
    def failing() -> None:
        assert not gc.isenabled()
        raise RuntimeError("bad file")

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        without_cycle_collector(failing)()
    assert gc.isenabled()
    # A caller that turned it off itself keeps it off.
    gc.disable()
    try:
        without_cycle_collector(lambda: None)()
        assert not gc.isenabled()
    finally:
        gc.enable()

"""Department rosters out of the register: who is listed, who may export, and what the file holds
(masked text cells, escaped formulas, a watermark) — read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.management import CommandError, call_command

from shequ.accounts.roles import PERMISSIONS
from shequ.core import testing
from shequ.core.errors import DomainError, NotFound
from shequ.core.models import AuditEntry
from shequ.lib.idcard import check_digit
from shequ.registry import services
from shequ.registry.exports import ExportResult, people_export, template_names
from shequ.registry.models import Building, Person, TagType
from shequ.registry.states import PersonStatus

NOW = dt.datetime(2026, 3, 15, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


def id_for(birth: dt.date, seq: int, *, male: bool = True) -> str:
    """A valid 18-digit ID number (Beijing 东城区) for a birth date."""
    order = f"{seq:02d}{1 if male else 2}"
    first17 = f"110101{birth:%Y%m%d}{order}"
    return first17 + check_digit(first17)


@dataclass
class Roster:
    building: Building
    people: dict[str, Person]


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def roster(world: Any) -> Roster:
    """A few residents of grids A, B and Z, a building in A, and the 残疾人 and 低保 tags."""
    actor = world.persona("community_worker")
    a, b, z = world.area("A"), world.area("B"), world.area("Z")
    building = services.building_create(
        actor=actor, area=a, code="A-0001", name="1栋", road="翠苑路", road_number="12"
    )
    d101 = services.dwelling_create(actor=actor, building=building, unit="1", room="101", floor=1)
    d102 = services.dwelling_create(
        actor=actor, building=building, unit="1", room="102", floor=1, use="rented"
    )
    services.dwelling_create(actor=actor, building=building, unit="1", room="201", floor=2)
    household = services.household_create(actor=actor, area=a, number="H-A-001", dwelling=d101)

    people: dict[str, Person] = {}

    def add(key: str, area: Any, birth: dt.date, seq: int, **fields: Any) -> Person:
        people[key] = services.person_create(
            actor=actor, area=area, id_number=id_for(birth, seq), **fields
        )
        return people[key]

    add(
        "wife",
        a,
        dt.date(1948, 6, 1),
        1,
        name="刘阿姨",
        dwelling=d101,
        household=household,
        relation_to_head="spouse",
        phone="13700001111",
    )
    head = add(
        "oldest",
        a,
        dt.date(1940, 5, 1),
        2,
        name="王老汉",
        phone="13812345678",
        dwelling=d101,
        household=household,
        hukou_address="北京市东城区",
    )
    services.household_set_head(actor=actor, household=household, person=head)
    add("eighty_today", a, dt.date(1946, 3, 15), 3, name="李奶奶")
    add("eighty_tomorrow", a, dt.date(1946, 3, 16), 4, name="赵明天")
    add("deceased", a, dt.date(1930, 1, 1), 5, name="钱已故")
    # No service records a death yet; set the status directly.
    Person.objects.filter(pk=people["deceased"].pk).update(status=PersonStatus.DECEASED)
    add(
        "formula",
        a,
        dt.date(1990, 1, 1),
        6,
        name="=1+1",
        work="@SUM(A1)",
        residence_type="floating",
        dwelling=d102,
        phone="13900001111",
    )
    add("old_b", b, dt.date(1941, 2, 2), 7, name="孙乙")
    add("old_z", z, dt.date(1942, 2, 2), 8, name="周丙")
    add("disabled", a, dt.date(1970, 7, 7), 9, name="吴残", phone="13600002222")
    add("dibao", a, dt.date(1975, 1, 1), 10, name="郑保")
    add("dibao_ended", a, dt.date(1976, 1, 1), 11, name="冯过期")
    add("dibao_b", b, dt.date(1977, 1, 1), 12, name="陈保")
    add("floating_b", b, dt.date(1995, 1, 1), 13, name="卫流", residence_type="floating")

    # No tag service yet: the tag types come from the ORM (or from a catalogue that seeds them).
    disabled, _ = TagType.objects.update_or_create(
        code="disabled", defaults={"name": "残疾人", "sensitive": True}
    )
    dibao, _ = TagType.objects.update_or_create(
        code="dibao", defaults={"name": "低保", "sensitive": False}
    )
    services.tag_assign(
        actor=actor,
        person=people["disabled"],
        tag=disabled,
        source="残联",
        valid_from=dt.date(2020, 1, 1),
        details={"category": "肢体", "level": "二级"},
    )
    services.tag_assign(
        actor=actor,
        person=people["dibao"],
        tag=dibao,
        source="民政",
        valid_from=dt.date(2024, 5, 1),
    )
    services.tag_assign(
        actor=actor,
        person=people["dibao_ended"],
        tag=dibao,
        source="民政",
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2025, 12, 31),
    )
    services.tag_assign(actor=actor, person=people["dibao_b"], tag=dibao, source="民政")
    services.tag_assign(actor=actor, person=people["oldest"], tag=dibao, source="民政")
    return Roster(building=building, people=people)


def export(username: str, template: str, area: str | None = "C1", **kwargs: Any) -> ExportResult:
    return people_export(
        actor=testing.persona(username),
        template=template,
        area=testing.area(area) if area else None,
        **kwargs,
    )


def sheet_of(result: ExportResult) -> Any:
    return openpyxl.load_workbook(io.BytesIO(result.content)).active


def records(result: ExportResult) -> list[dict[str, Any]]:
    """Data rows as {header: value}; row 1 is the watermark, row 2 the title, row 3 headers."""
    rows = list(sheet_of(result).iter_rows(values_only=True))
    headers = rows[2]
    return [dict(zip(headers, row, strict=True)) for row in rows[3:]]


def names(result: ExportResult) -> list[str]:
    return [r["姓名"] for r in records(result)]


def last_audit() -> AuditEntry:
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    return entry


# --- who each roster lists -------------------------------------------------------------------


def test_the_elderly_roster_lists_living_residents_aged_eighty_or_more(roster: Roster) -> None:
    result = export("community_worker", "高龄老人花名册")
    assert sorted(names(result)) == sorted(["王老汉", "李奶奶", "孙乙"])
    assert result.rows == 3
    oldest = next(r for r in records(result) if r["姓名"] == "王老汉")
    assert oldest["年龄"] == 85
    assert oldest["性别"] == "男"
    assert oldest["出生日期"].date() == dt.date(1940, 5, 1)
    assert oldest["现住址"] == "翠苑路12号1栋1单元101室"
    assert oldest["所属网格"] == "甲社区第1网格"
    assert result.filename.endswith(".xlsx") and "高龄老人花名册" in result.filename


def test_the_disability_roster_lists_tagged_people_with_category_and_level(
    roster: Roster,
) -> None:
    [row] = records(export("community_worker", "残疾人名册"))
    assert row["姓名"] == "吴残"
    assert (row["残疾类别"], row["残疾等级"], row["数据来源"]) == ("肢体", "二级", "残联")


def test_the_dibao_roster_lists_only_tags_in_force(roster: Roster) -> None:
    result = export("community_worker", "低保对象名册")
    assert sorted(names(result)) == sorted(["郑保", "陈保", "王老汉"])
    oldest = next(r for r in records(result) if r["姓名"] == "王老汉")
    assert (oldest["户号"], oldest["与户主关系"]) == ("H-A-001", "户主")


def test_the_floating_population_register_lists_floating_residents(roster: Roster) -> None:
    result = export("community_worker", "流动人口登记表")
    assert sorted(names(result)) == sorted(["'=1+1", "卫流"])
    row = next(r for r in records(result) if r["姓名"] == "'=1+1")
    assert row["房屋用途"] == "出租"


def test_the_building_roster_lists_every_dwelling_with_its_occupants(roster: Roster) -> None:
    result = export("grid_worker_a", "楼栋住户表", area=None, building=roster.building)
    rows = [(r["房号"], r["姓名"], r["与户主关系"]) for r in records(result)]
    # The head of household first; the empty dwelling still gets a line to fill in on the walk.
    assert rows == [
        ("101", "王老汉", "户主"),
        ("101", "刘阿姨", "配偶"),
        ("102", "'=1+1", None),
        ("201", None, None),
    ]
    assert result.rows == 4
    assert records(result)[0]["特殊群体"] == "低保"


def test_the_building_roster_of_an_area_covers_its_buildings(roster: Roster) -> None:
    result = export("community_worker", "楼栋住户表", area="A")
    assert [r["房号"] for r in records(result)] == ["101", "101", "102", "201"]


def test_a_building_outside_the_area_is_refused(roster: Roster) -> None:
    with pytest.raises(DomainError) as exc:
        export("community_worker", "楼栋住户表", area="B", building=roster.building)
    assert exc.value.code == "export_no_place"


def test_an_export_needs_an_area_or_a_building(roster: Roster) -> None:
    with pytest.raises(DomainError) as exc:
        export("community_worker", "高龄老人花名册", area=None)
    assert exc.value.code == "export_no_place"


def test_an_empty_roster_still_has_its_headers(world: Any) -> None:
    result = export("community_worker", "流动人口登记表")
    assert result.rows == 0
    assert list(sheet_of(result).iter_rows(values_only=True))[2][:3] == ("序号", "姓名", "性别")


# --- scoping and permissions -------------------------------------------------------------------


def test_a_grid_worker_of_a_never_gets_the_people_of_b(roster: Roster) -> None:
    assert sorted(names(export("grid_worker_a", "高龄老人花名册", area="D"))) == sorted(
        ["王老汉", "李奶奶"]
    )
    assert sorted(names(export("grid_worker_a", "低保对象名册", area="C1"))) == ["王老汉", "郑保"]
    with pytest.raises(NotFound):
        export("grid_worker_a", "高龄老人花名册", area="B")


def test_a_community_worker_gets_a_and_b_but_not_another_community(roster: Roster) -> None:
    assert "周丙" not in names(export("community_worker", "高龄老人花名册", area="D"))
    assert names(export("community_worker", "高龄老人花名册", area="B")) == ["孙乙"]
    with pytest.raises(NotFound):
        export("community_worker", "高龄老人花名册", area="Z")


def test_a_building_outside_the_exporters_areas_is_not_found(roster: Roster) -> None:
    with pytest.raises(NotFound):
        export("grid_worker_b", "楼栋住户表", area=None, building=roster.building)


@pytest.mark.parametrize("username", ["auditor", "street_supervisor", "department", "resident_a"])
def test_roles_without_the_export_permission_are_refused(roster: Roster, username: str) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError) as exc:
        export(username, "高龄老人花名册", area="D")
    assert exc.value.code == "export_forbidden"
    assert AuditEntry.objects.count() == before


def test_a_sensitive_roster_needs_the_sensitive_permission(roster: Roster) -> None:
    with pytest.raises(DomainError) as exc:
        export("grid_worker_a", "残疾人名册", area="A")
    assert exc.value.code == "export_forbidden"
    # 低保 is not marked sensitive, so the same grid worker may export it.
    assert export("grid_worker_a", "低保对象名册", area="A").rows == 2


def test_the_building_roster_hides_sensitive_tags_from_roles_not_allowed(roster: Roster) -> None:
    disabled = TagType.objects.get(code="disabled")
    actor = testing.persona("community_worker")
    services.tag_assign(actor=actor, person=roster.people["oldest"], tag=disabled, source="残联")
    tags = {
        username: records(export(username, "楼栋住户表", area="A"))[0]["特殊群体"]
        for username in ("grid_worker_a", "community_worker")
    }
    assert tags == {"grid_worker_a": "低保", "community_worker": "低保、残疾人"}


def test_an_unknown_template_is_refused_with_the_valid_names(roster: Roster) -> None:
    with pytest.raises(DomainError) as exc:
        export("community_worker", "花名册")
    assert exc.value.code == "export_unknown_template"
    assert exc.value.extra["templates"] == template_names()
    assert len(template_names()) >= 5


# --- what the file holds -----------------------------------------------------------------------


def test_ids_and_phones_are_masked_text_cells_by_default(roster: Roster) -> None:
    result = export("community_worker", "高龄老人花名册", area="A")
    sheet = sheet_of(result)
    headers = [c.value for c in sheet[3]]
    id_col, phone_col = headers.index("公民身份号码") + 1, headers.index("联系电话") + 1
    oldest = roster.people["oldest"]
    row = next(r for r in range(4, sheet.max_row + 1) if sheet.cell(r, 2).value == "王老汉")
    id_cell, phone_cell = sheet.cell(row, id_col), sheet.cell(row, phone_col)
    assert id_cell.value == f"1101{'*' * 10}{oldest.id_number[-4:]}"
    assert phone_cell.value == "138****5678"
    assert id_cell.data_type == "s" and phone_cell.data_type == "s"
    assert id_cell.number_format == "@"
    assert oldest.id_number not in _xml(result)
    assert last_audit().changes["masked"] is True


def test_unmasked_ids_are_still_text_never_numbers(roster: Roster) -> None:
    result = export(
        "community_worker", "高龄老人花名册", area="A", unmasked=True, reason="代办高龄津贴"
    )
    sheet = sheet_of(result)
    headers = [c.value for c in sheet[3]]
    id_col = headers.index("公民身份号码") + 1
    cells = [sheet.cell(r, id_col) for r in range(4, sheet.max_row + 1)]
    assert {c.value for c in cells} == {
        roster.people["oldest"].id_number,
        roster.people["eighty_today"].id_number,
    }
    assert all(c.data_type == "s" for c in cells)


def test_an_unmasked_export_is_audited_with_its_reason(roster: Roster) -> None:
    result = export(
        "community_worker", "高龄老人花名册", area="A", unmasked=True, reason="代办津贴"
    )
    assert "13812345678" in _xml(result)
    entry = last_audit()
    assert entry.action == "registry.exported"
    assert entry.changes["masked"] is False
    assert entry.changes["reason"] == "代办津贴"


def test_an_unmasked_export_needs_a_reason(roster: Roster) -> None:
    with pytest.raises(DomainError) as exc:
        export("community_worker", "高龄老人花名册", unmasked=True)
    assert exc.value.code == "unmask_reason_required"


def test_an_unmasked_export_needs_the_unmask_permission(
    roster: Roster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every exporting role may unmask today; take the permission away to prove the check.
    monkeypatch.setitem(PERMISSIONS, "registry.unmask", frozenset())
    with pytest.raises(DomainError) as exc:
        export("community_worker", "高龄老人花名册", unmasked=True, reason="代办津贴")
    assert exc.value.code == "export_unmask_forbidden"
    assert export("community_worker", "高龄老人花名册").rows == 3


def test_cells_that_look_like_formulas_are_escaped(roster: Roster) -> None:
    result = export("community_worker", "流动人口登记表", area="A")
    [row] = records(result)
    assert row["姓名"] == "'=1+1"
    assert row["工作单位/学校"] == "'@SUM(A1)"
    assert "<f>" not in _xml(result)


def test_every_page_and_the_first_row_carry_who_exported_when(roster: Roster) -> None:
    result = export("grid_worker_a", "高龄老人花名册", area="A")
    sheet = sheet_of(result)
    note = "导出人：Grid Worker A（grid_worker_a） 导出时间：2026-03-15 10:30 仅限工作使用"
    assert sheet["A1"].value == note
    assert sheet["A2"].value == "甲社区第1网格高龄老人花名册"
    assert note in sheet.oddHeader.left.text
    assert note in sheet.oddFooter.left.text
    assert sheet.print_title_rows == "$3:$3"


def test_columns_have_widths_and_chinese_headers(roster: Roster) -> None:
    sheet = sheet_of(export("community_worker", "高龄老人花名册"))
    headers = [c.value for c in sheet[3]]
    assert headers[:3] == ["序号", "姓名", "性别"]
    id_letter = openpyxl.utils.get_column_letter(headers.index("公民身份号码") + 1)
    assert sheet.column_dimensions[id_letter].width >= 20


def test_every_export_is_audited_with_template_area_rows_and_masking(roster: Roster) -> None:
    export("community_worker", "低保对象名册", area="C1")
    entry = last_audit()
    assert entry.action == "registry.exported"
    assert entry.actor_name == "community_worker"
    assert entry.area_path == testing.area("C1").path
    assert entry.changes == {
        "template": "低保对象名册",
        "area": testing.CODES["C1"],
        "building": None,
        "rows": 3,
        "masked": True,
    }


def _xml(result: ExportResult) -> str:
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        return "".join(
            archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".xml")
        )


# --- the command -------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_people", *args, stdout=out)
    return out.getvalue()


def test_the_command_writes_the_roster_and_prints_the_row_count(
    roster: Roster, tmp_path: Path
) -> None:
    target = tmp_path / "elderly.xlsx"
    output = run(
        "--template",
        "高龄老人花名册",
        "--area",
        testing.CODES["C1"],
        "--out",
        str(target),
        "--as",
        "community_worker",
    )
    assert "3 rows written" in output
    rows = list(openpyxl.load_workbook(target).active.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 3
    assert last_audit().actor_name == "community_worker"


def test_the_command_exports_one_building(roster: Roster, tmp_path: Path) -> None:
    target = tmp_path / "building.xlsx"
    output = run(
        "--template",
        "楼栋住户表",
        "--building",
        str(roster.building.pk),
        "--out",
        str(target),
        "--as",
        "grid_worker_a",
    )
    assert "4 rows written" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "花名册", "--area", "110199001001"], "valid templates: 高龄老人花名册"),
        (["--template", "高龄老人花名册", "--area", "999"], "unknown area code '999'"),
        (["--template", "高龄老人花名册", "--area", "110199001001", "--as", "ghost"], "ghost"),
        (["--template", "楼栋住户表", "--building", "999999"], "unknown building id"),
        (["--template", "高龄老人花名册"], "--area CODE or --building ID"),
        (["--template", "高龄老人花名册", "--area", "110199001001", "--as", "auditor"], "export"),
        (["--template", "高龄老人花名册", "--area", "110199002001"], "may not export"),
    ],
)
def test_the_command_explains_what_is_wrong(
    roster: Roster, tmp_path: Path, args: list[str], message: str
) -> None:
    if "--as" not in args:
        args = [*args, "--as", "community_worker"]
    target = tmp_path / "out.xlsx"
    with pytest.raises(CommandError, match=message):
        run(*args, "--out", str(target))
    assert not target.exists()

"""The importer: one department list into the register, once."""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from django.core.management import CommandError, call_command

from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry
from shequ.registry import imports, pii, services
from shequ.registry.imports import import_people, rejected_workbook, source_for
from shequ.registry.models import Conflict, ImportBatch, ImportedRow, MatchReview, Person
from shequ.registry.tests.conftest import Residents, make_id

HEADER = ["序号", "姓名", "性别", "公民身份号码", "出生日期", "联系电话", "现住址"]


def roster(path: Path, rows: list[list[Any]], *, title: str = "甲社区高龄老人花名册") -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("花名册")
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, title)
    sheet.write_row(1, 0, HEADER)
    for n, row in enumerate(rows, start=2):
        for col, value in enumerate(row):
            if isinstance(value, str):
                sheet.write_string(n, col, value)
            else:
                sheet.write(n, col, value)
    sheet.write_string(len(rows) + 3, 0, "制表人：张社工")
    book.close()
    return path


@pytest.fixture
def roster_file(tmp_path: Path, residents: Residents) -> Path:
    # The civil-affairs bureau is as trusted as the front desk that typed the phones in.
    source = source_for("民政局")
    source.trust = 4
    source.save()
    zhang = residents.zhang
    return roster(
        tmp_path / "民政局_高龄老人.xlsx",
        [
            # already registered, same phone: matched, nothing to change
            [1, "张三", "男", zhang.id_number, "1940.3.2", "138 1234 5678", ""],
            # registered, different phone from the trusted civil-affairs list: a conflict
            [2, "李四", "男", residents.li.id_number, "", "13911112222", ""],
            # new person with a 15-digit ID (upgraded), full-width digits in the phone
            [3, "孫大娘", "女", "330106400101042", "1940年1月1日", "１３７００００２２２２", ""],
            # invalid check digit
            [4, "错号", "男", make_id(seq="777")[:-1] + "0", "", "", ""],
            # duplicate of row 3 within the file
            [5, "孙大娘", "女", "330106400101042", "", "", ""],
            # no ID: same name, birth date and phone as 张三 → matched probabilistically
            [6, "张三", "男", "", "1940-03-02", "13812345678", ""],
            # no ID, same name and birth year only → review
            [7, "张三", "男", "", "1940-07-07", "", ""],
            # no ID, new person, unresolved address (a warning, not an error)
            [8, "钱七", "女", "", "1950-05-05", "", "文一西路999号不存在小区1栋"],
        ],
    )


def test_a_dry_run_reports_every_outcome_and_writes_nothing(
    roster_file: Path, residents: Residents
) -> None:
    before = Person.objects.count()
    report = import_people(
        actor=testing.persona("community_worker"),
        path=roster_file,
        source_name="民政局",
        area=testing.area("C1"),
    )
    data = report.as_json()
    assert data["rows"] == 8
    assert data["invalid"] == 1 and data["errors"][0]["row"] == 6  # Excel row numbers
    assert data["errors"][0]["field"] == "id_number"
    assert data["duplicates_in_file"] == 1
    assert data["matched"] == 3 and data["review"] == 1 and data["new"] == 2
    assert (
        data["rows"]
        == data["new"]
        + data["matched"]
        + data["review"]
        + data["invalid"]
        + data["duplicates_in_file"]
    )
    assert data["conflicts"] == 1  # 李四's phone
    assert data["warnings"] >= 1
    assert Person.objects.count() == before
    assert not ImportBatch.objects.exists()


def test_commit_writes_everything_and_again_changes_nothing(
    roster_file: Path, residents: Residents
) -> None:
    actor = testing.persona("community_worker")
    first = import_people(
        actor=actor, path=roster_file, source_name="民政局", area=testing.area("C1"), commit=True
    )
    assert first.committed and first.new == 2
    sun = Person.objects.get(name="孙大娘")
    assert sun.id_number == "330106194001010428"[:17] + sun.id_number[17]  # upgraded to 18
    assert sun.phone == "13700002222" and sun.provenance["phone"]["source"]
    assert Conflict.objects.filter(person=residents.li, field="phone").count() == 1
    assert MatchReview.objects.count() == 1
    assert AuditEntry.objects.filter(action="registry.imported").count() == 1
    count = Person.objects.count()
    again = import_people(
        actor=actor, path=roster_file, source_name="民政局", area=testing.area("C1"), commit=True
    )
    assert again.already_committed and again.new == 0 and again.updated == 0
    assert Person.objects.count() == count
    assert Conflict.objects.count() == 1 and MatchReview.objects.count() == 1


def test_a_resent_row_in_a_new_file_is_not_applied_twice(
    tmp_path: Path, roster_file: Path, residents: Residents
) -> None:
    actor = testing.persona("community_worker")
    import_people(
        actor=actor, path=roster_file, source_name="民政局", area=testing.area("C1"), commit=True
    )
    # A new file from the same department that repeats row 3 exactly and adds one person.
    second = roster(
        tmp_path / "b.xlsx",
        [
            [1, "孫大娘", "女", "330106400101042", "1940年1月1日", "１３７００００２２２２", ""],
            [2, "周八", "男", make_id(birth="19450505", seq="515"), "", "", ""],
        ],
    )
    report = import_people(
        actor=actor, path=second, source_name="民政局", area=testing.area("C1"), commit=True
    )
    assert report.new == 1 and report.matched == 1 and report.updated == 0


def test_a_less_trusted_source_does_not_raise_conflicts(
    tmp_path: Path, residents: Residents
) -> None:
    path = roster(
        tmp_path / "r.xlsx", [[1, "李四", "", residents.li.id_number, "", "13911112222", ""]]
    )
    report = import_people(
        actor=testing.persona("community_worker"),
        path=path,
        source_name="物业公司",
        area=testing.area("C1"),
        commit=True,
    )
    assert report.matched == 1 and report.conflicts == 0
    assert Person.objects.get(pk=residents.li.pk).phone == "13900001234"


def test_an_empty_field_is_filled_with_provenance(tmp_path: Path, residents: Residents) -> None:
    actor = testing.persona("community_worker")
    wang_in_a = services.person_create(
        actor=actor,
        area=testing.area("A"),
        name="吴九",
        id_number=make_id(birth="19600101", seq="626"),
    )
    path = roster(
        tmp_path / "r.xlsx", [[1, "吴九", "", wang_in_a.id_number, "", "13655556666", ""]]
    )
    report = import_people(
        actor=actor, path=path, source_name="残联", area=testing.area("C1"), commit=True
    )
    assert report.updated == 1 and report.conflicts == 0
    person = Person.objects.get(pk=wang_in_a.pk)
    assert person.phone == "13655556666"
    assert person.provenance["phone"]["date"]
    assert person.provenance["name"]["source"] == "manual"  # merged into, not replaced
    assert person.phone_blind == pii.phone_indexes("13655556666")[0]  # found by phone
    assert person.version == 2


def test_the_rejected_rows_download_with_a_reason(roster_file: Path, residents: Residents) -> None:
    report = import_people(
        actor=testing.persona("community_worker"),
        path=roster_file,
        source_name="民政局",
        area=testing.area("C1"),
    )
    book = openpyxl.load_workbook(io.BytesIO(rejected_workbook(report, HEADER)))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 3  # header + the invalid row + the duplicate
    assert rows[1][0] == 6 and rows[1][1] == report.errors[0]["message"]
    assert rows[2][0] == 7 and rows[2][1]  # the duplicate, with its reason
    assert rows[1][2:5] == ("4", "错号", "男")  # the original cells follow


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "import_empty"), (b"PK\x03\x04garbage", "import_corrupt"), (b"just text\n", None)],
)
def test_bad_files_get_a_clear_message_and_nothing_is_written(
    tmp_path: Path, world: Any, content: bytes, code: str | None
) -> None:
    path = tmp_path / ("x.xlsx" if content.startswith(b"PK") or not content else "x.csv")
    path.write_bytes(content)
    before = Person.objects.count()
    with pytest.raises(DomainError) as exc:
        import_people(
            actor=testing.persona("community_worker"),
            path=path,
            source_name="民政局",
            area=testing.area("C1"),
            commit=True,
        )
    if code:
        assert exc.value.code.startswith(code)
    assert exc.value.message
    assert Person.objects.count() == before


def test_an_unknown_sheet_names_the_sheets_there_are(roster_file: Path, world: Any) -> None:
    with pytest.raises(DomainError) as exc:
        import_people(
            actor=testing.persona("community_worker"),
            path=roster_file,
            source_name="民政局",
            area=testing.area("C1"),
            sheet="不存在",
        )
    assert "花名册" in exc.value.message


def test_a_crash_mid_commit_leaves_the_register_as_it_was(
    roster_file: Path, residents: Residents, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shequ.registry import imports

    before = (Person.objects.count(), Conflict.objects.count())

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(imports, "_apply_updates", boom)
    with pytest.raises(RuntimeError):
        import_people(
            actor=testing.persona("community_worker"),
            path=roster_file,
            source_name="民政局",
            area=testing.area("C1"),
            commit=True,
        )
    assert (Person.objects.count(), Conflict.objects.count()) == before
    assert not ImportBatch.objects.exists()


def test_the_command_prints_one_json_object(
    roster_file: Path, residents: Residents, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_people",
        str(roster_file),
        "--source",
        "民政局",
        "--area",
        testing.CODES["C1"],
        "--as",
        "community_worker",
        "--json",
    )
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {
        "rows",
        "new",
        "matched",
        "updated",
        "conflicts",
        "review",
        "invalid",
        "duplicates_in_file",
        "warnings",
        "errors",
    }
    assert data["rows"] == 8


def test_only_the_command_imports_without_the_cycle_collector(
    roster_file: Path, residents: Residents, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process (page, API, background task) keeps its collector for every thread; the
    command, a process of its own, turns it off for the import."""
    seen: list[bool] = []
    real = imports.source_for

    def spy(name: str) -> Any:
        seen.append(gc.isenabled())
        return real(name)

    monkeypatch.setattr(imports, "source_for", spy)
    imports.import_people(
        actor=testing.persona("community_worker"),
        path=roster_file,
        source_name="民政局",
        area=testing.area("C1"),
    )
    call_command(
        "import_people",
        str(roster_file),
        "--source",
        "民政局",
        "--area",
        testing.CODES["C1"],
        "--as",
        "community_worker",
        "--json",
        stdout=io.StringIO(),
    )
    assert seen == [True, False]
    assert gc.isenabled()


def test_the_command_refuses_an_area_outside_the_users_scope(roster_file: Path, world: Any) -> None:
    with pytest.raises(CommandError):
        call_command(
            "import_people",
            str(roster_file),
            "--source",
            "民政局",
            "--area",
            testing.CODES["Z"],
            "--as",
            "community_worker",
        )


def test_a_new_room_of_a_known_building_becomes_a_standard_address(
    tmp_path: Path, world: Any
) -> None:
    from shequ.registry.models import Dwelling

    actor = testing.persona("community_worker")
    building = services.building_create(
        actor=actor,
        area=testing.area("A1"),
        code="B-1",
        name="3栋",
        road="文一西路",
        road_number="12",
    )
    services.dwelling_create(actor=actor, building=building, unit="2", room="301")
    path = roster(
        tmp_path / "r.xlsx",
        [
            [
                1,
                "新住户",
                "女",
                "",
                "1960-01-01",
                "",
                "杭州市西湖区文一西路12号翠苑一区3幢2单元502室",
            ],
            [2, "老住户", "男", "", "1961-01-01", "", "文一西路12号翠苑一区3栋2单元301室"],
            [3, "外来户", "男", "", "1962-01-01", "", "文二路8号某小区1栋1单元101室"],
        ],
    )
    dry = import_people(actor=actor, path=path, source_name="民政局", area=testing.area("C1"))
    assert dry.addresses_created == 1 and dry.warnings == 1  # only the unknown building warns
    assert Dwelling.objects.count() == 1
    report = import_people(
        actor=actor, path=path, source_name="民政局", area=testing.area("C1"), commit=True
    )
    assert report.new == 3
    created = Dwelling.objects.get(room="502")
    assert created.standard_address == "文一西路12号翠苑1区3栋2单元502室"
    assert Person.objects.get(name="新住户").dwelling == created
    old = Person.objects.get(name="老住户").dwelling
    assert old is not None and old.room == "301"
    assert Person.objects.get(name="外来户").dwelling is None


def _import(path: Path, *, commit: bool = False) -> Any:
    return import_people(
        actor=testing.persona("community_worker"),
        path=path,
        source_name="民政局",
        area=testing.area("C1"),
        commit=commit,
    )


def test_a_one_character_name_typo_with_the_same_birthday_and_phone_is_matched(
    tmp_path: Path, residents: Residents
) -> None:
    # 张五 for 张三: neither the same characters nor the same sound, found by the birth date.
    path = roster(tmp_path / "r.xlsx", [[1, "张五", "男", "", "1940-03-02", "13812345678", ""]])
    report = _import(path, commit=True)
    assert report.matched == 1 and report.new == 0 and report.review == 0
    assert ImportedRow.objects.get().person_id == residents.zhang.pk


def test_a_one_character_name_typo_with_only_the_birthday_is_a_new_person(
    tmp_path: Path, residents: Residents
) -> None:
    path = roster(tmp_path / "r.xlsx", [[1, "张五", "男", "", "1940-03-02", "", ""]])
    report = _import(path)
    assert report.new == 1 and report.matched == 0 and report.review == 0


def test_a_namesake_born_on_another_day_is_not_matched(
    tmp_path: Path, residents: Residents
) -> None:
    path = roster(tmp_path / "r.xlsx", [[1, "张三", "男", "", "1951-01-01", "13700001111", ""]])
    report = _import(path)
    assert report.new == 1 and report.matched == 0 and report.review == 0


def test_a_name_one_character_from_a_registered_twin_goes_to_review(
    tmp_path: Path, residents: Residents
) -> None:
    # 张三 has a registered twin sharing his birthday and phone: 张五 may be a third sibling.
    services.person_create(
        actor=testing.persona("community_worker"),
        area=testing.area("A"),
        name="张四",
        id_number=make_id(birth="19400302", seq="151"),
        phone="13812345678",
    )
    path = roster(tmp_path / "r.xlsx", [[1, "张五", "男", "", "1940-03-02", "13812345678", ""]])
    report = _import(path, commit=True)
    assert report.review == 1 and report.matched == 0 and report.new == 0
    assert MatchReview.objects.get().candidate.name in ("张三", "张四")


def test_a_one_character_name_typo_at_the_same_home_goes_to_review(
    tmp_path: Path, world: Any
) -> None:
    # Found through the people living at the row's address; a home without a phone is not
    # enough to register the row as the same person without a look.
    actor = testing.persona("community_worker")
    building = services.building_create(
        actor=actor, area=testing.area("A1"), code="B-1", name="3栋", road="文一西路",
        road_number="12",
    )  # fmt: skip
    home = services.dwelling_create(actor=actor, building=building, unit="2", room="301")
    resident = services.person_create(
        actor=actor, area=testing.area("A1"), dwelling=home, name="赵六", birth_date="1970-05-05"
    )
    path = roster(
        tmp_path / "r.xlsx", [[1, "赵七", "男", "", "1970-05-05", "", home.standard_address]]
    )
    report = _import(path, commit=True)
    assert report.review == 1 and report.matched == 0 and report.new == 0
    assert MatchReview.objects.get().candidate_id == resident.pk

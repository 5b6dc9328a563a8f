import datetime as dt
import types
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.lib import sheets
from shequ.lib.sheets import ErrorCode, SheetError

HEADER = ["序号", "姓名", "性别", "公民身份号码", "联系电话", "出生日期", "现住址", "民族"]


def write_roster(path: Path, *, title: bool = True, footer: bool = True) -> Path:
    """A 花名册 as communities make them: merged title, unit line, header, data, footer."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("高龄老人")
    wb.add_worksheet("填表说明").write(0, 0, "请如实填写")
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    row = 0
    if title:
        ws.merge_range(0, 0, 0, len(HEADER) - 1, "XX社区高龄老人花名册")
        ws.write_row(1, 0, ["填报单位：XX社区居委会", "", "", "", "", "填报日期：2025年1月"])
        row = 2
    ws.write_row(row, 0, HEADER)
    # IDs and phones typed into number cells, as happens when nobody formats the column.
    ws.write_row(row + 1, 0, [1, "张三", "男", "11010519491231002X", 13812345678])
    ws.write_datetime(row + 1, 5, dt.datetime(1949, 12, 31), date_format)
    ws.write_row(row + 1, 6, ["文一西路12号3栋2单元301室", "汉族"])
    ws.write_row(row + 2, 0, [])  # blank row
    ws.write_row(row + 3, 0, [2, "李四", "女", 110105491231002, 57188123456, 18324, "", "回族"])
    ws.write_row(row + 4, 0, HEADER)  # header repeated on the second printed page
    ws.write_row(row + 5, 0, [3, " 王五 ", "男", "  110101195003021234 ", "0571-88123456"])
    if footer:
        ws.write_row(row + 7, 0, ["合计", "3人"])
        ws.write_row(row + 8, 0, ["制表人：赵六", "", "", "审核人：钱七"])
    wb.close()
    return path


def test_it_finds_the_header_under_the_title_rows(tmp_path):
    with sheets.open_table(write_roster(tmp_path / "roster.xlsx")) as table:
        assert table.format == "xlsx"
        assert table.sheet == "高龄老人"
        assert table.sheets == ["高龄老人", "填表说明"]
        assert table.header_row == 3
        assert table.headers == HEADER
        assert table.columns == {
            "name": 1, "gender": 2, "id_number": 3, "phone": 4, "birth_date": 5,
            "address": 6, "ethnicity": 7,
        }  # fmt: skip
        assert table.unmapped == ["序号"]


def test_it_streams_data_rows_skipping_blank_repeated_header_and_footer_rows(tmp_path):
    with sheets.open_table(write_roster(tmp_path / "roster.xlsx")) as table:
        stream = table.rows()
        assert isinstance(stream, types.GeneratorType)
        rows = list(stream)
    assert [r.number for r in rows] == [4, 6, 8]
    assert [r.values["name"] for r in rows] == ["张三", "李四", "王五"]
    first = rows[0]
    assert first.values["id_number"] == "11010519491231002X"
    assert first.values["phone"] == "13812345678"
    assert first.values["birth_date"] == "1949-12-31"
    assert first.cells[0] == "1"
    # A 15-digit ID in a number cell keeps every digit, without ".0" or an exponent.
    assert rows[1].values["id_number"] == "110105491231002"
    assert rows[1].values["phone"] == "57188123456"
    assert rows[1].values["birth_date"] == "18324"  # an unformatted Excel serial
    assert rows[2].values["id_number"] == "110101195003021234"  # text cell, trimmed
    assert rows[2].values["address"] == ""  # short row padded


def test_a_file_without_title_rows_has_its_header_on_row_1(tmp_path):
    path = write_roster(tmp_path / "plain.xlsx", title=False, footer=False)
    with sheets.open_table(path) as table:
        assert table.header_row == 1
        assert [r.number for r in table.rows()] == [2, 4, 6]


def test_an_18_digit_id_stored_as_a_number_comes_back_as_its_digits(tmp_path):
    path = tmp_path / "numbers.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号"])
    wb.active.append(["张三", 110101195003021234])
    wb.save(path)
    with sheets.open_table(path) as table:
        (row,) = table.rows()
    # Excel keeps 15-17 significant digits of a number; what survives is shown as digits.
    assert row.values["id_number"].isdigit()
    assert row.values["id_number"].startswith("1101011950030212")
    assert len(row.values["id_number"]) == 18


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  abc ", "abc"), (1.0, "1"), (13812345678.0, "13812345678"), (3.5, "3.5"),
        (0.1 + 0.2, "0.3"), (110105491231002.0, "110105491231002"),
        (1.10101195003021e17, "110101195003021000"), (1e20, "100000000000000000000"),
        (-2.0, "-2"), (1e-7, "0.0000001"), (42, "42"), (True, "TRUE"), (False, "FALSE"),
        (dt.date(1950, 3, 2), "1950-03-02"), (dt.datetime(1950, 3, 2), "1950-03-02"),
        (dt.datetime(2025, 1, 2, 8, 30), "2025-01-02 08:30:00"), (dt.time(8, 30), "08:30:00"),
        (None, ""), (dt.timedelta(hours=1), "1:00:00"),
    ],
)  # fmt: skip
def test_cell_text_shows_what_excel_shows(value, text):
    assert sheets.cell_text(value) == text


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_integer_valued_floats_never_gain_a_decimal_point_or_exponent(value):
    assert sheets.cell_text(float(value)) == str(value)


def test_a_saved_mapping_overrides_the_synonyms(tmp_path):
    path = tmp_path / "dept.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["老人名称", "证件", "电话", "备注"])
    wb.active.append(["张三", "11010519491231002X", "13812345678", "独居"])
    wb.save(path)
    mapping = {"老人名称": "name", "证件": "id_number", "电话": "", "备注": "note"}
    with sheets.open_table(path, mapping=mapping) as table:
        assert table.columns == {"name": 0, "id_number": 1, "note": 3}
        assert table.header_mapping() == mapping
        (row,) = table.rows()
    assert row.values == {"name": "张三", "id_number": "11010519491231002X", "note": "独居"}


def test_headers_match_through_spaces_marks_and_bracketed_notes():
    assert sheets.clean_header(" 身份证号码（18位）* ") == "身份证号码"
    assert sheets.clean_header("联 系 电 话：") == "联系电话"
    assert sheets.clean_header("姓名\n(必填)") == "姓名"
    assert sheets.clean_header("聯繫電話") == "联系电话"


def test_header_row_can_be_given(tmp_path):
    path = tmp_path / "h.xlsx"
    wb = openpyxl.Workbook()
    for row in (["姓名", "x"], ["名字", "电话"], ["张三", "13812345678"]):
        wb.active.append(row)
    wb.save(path)
    with sheets.open_table(path, header_row=2) as table:
        assert table.columns == {"name": 0, "phone": 1}
        assert [r.values["name"] for r in table.rows()] == ["张三"]


def test_it_chooses_a_sheet_by_name(tmp_path):
    with sheets.open_table(write_roster(tmp_path / "r.xlsx"), sheet="高龄老人") as table:
        assert table.sheet == "高龄老人"


def test_an_unknown_sheet_names_the_sheets_there_are(tmp_path):
    with pytest.raises(SheetError) as exc:
        sheets.open_table(write_roster(tmp_path / "r.xlsx"), sheet="残疾人")
    assert exc.value.code is ErrorCode.UNKNOWN_SHEET
    assert "残疾人" in exc.value.message
    assert "高龄老人、填表说明" in exc.value.message


def test_list_sheets(tmp_path):
    assert sheets.list_sheets(write_roster(tmp_path / "r.xlsx")) == ["高龄老人", "填表说明"]
    csv_path = tmp_path / "a.csv"
    csv_path.write_text("姓名\n张三\n", encoding="utf-8")
    assert sheets.list_sheets(csv_path) == [""]


def test_a_header_that_maps_nothing_is_refused(tmp_path):
    path = tmp_path / "x.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["甲", "乙", "丙"])
    wb.active.append([1, 2, 3])
    wb.save(path)
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.NO_HEADER
    assert "表头" in exc.value.message


def test_an_empty_file_an_empty_sheet_and_a_missing_file_are_refused(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(SheetError) as exc:
        sheets.open_table(empty)
    assert exc.value.code is ErrorCode.EMPTY
    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    with pytest.raises(SheetError) as exc:
        sheets.open_table(blank)
    assert exc.value.code is ErrorCode.EMPTY
    with pytest.raises(SheetError) as exc:
        sheets.open_table(tmp_path / "missing.xlsx")
    assert exc.value.code is ErrorCode.CORRUPT


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04" + b"\x00" * 100, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
                b"not a spreadsheet at all"],
)  # fmt: skip
def test_a_corrupt_file_is_refused(tmp_path, content):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.CORRUPT
    assert "损坏" in exc.value.message


def test_a_truncated_xlsx_is_refused(tmp_path):
    path = write_roster(tmp_path / "r.xlsx")
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.CORRUPT


def test_damaged_xlsx_files_raise_nothing_but_sheet_errors(tmp_path):
    import random

    original = write_roster(tmp_path / "r.xlsx").read_bytes()
    rng = random.Random(4)
    for _ in range(40):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 20)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path = tmp_path / "damaged.xlsx"
        path.write_bytes(bytes(damaged[: rng.randint(len(damaged) // 2, len(damaged))]))
        try:
            with sheets.open_table(path) as table:
                list(table.rows())
        except SheetError:
            pass


def test_a_password_protected_xlsx_is_refused(tmp_path):
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_roster(tmp_path / "plain.xlsx")
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, locked.open("wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    with pytest.raises(SheetError) as exc:
        sheets.open_table(locked)
    assert exc.value.code is ErrorCode.ENCRYPTED
    assert "密码" in exc.value.message


def test_a_web_page_saved_as_xls_is_explained(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>姓名</td></tr></table></html>", encoding="utf-8")
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.HTML


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = write_roster(tmp_path / "r.xlsx")
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path, max_bytes=1024)
    assert exc.value.code is ErrorCode.TOO_LARGE
    assert "上限" in exc.value.message
    assert sheets.DEFAULT_MAX_BYTES == 200 * 1024 * 1024


def test_formulas_with_cached_values_are_read_and_reported(tmp_path):
    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["姓名", "身份证号", "出生日期", "年龄"])
    ws.write_row(1, 0, ["张三", "11010519491231002X"])
    ws.write_formula(1, 2, '=TEXT(MID(B2,7,8),"0000-00-00")', None, "1949-12-31")
    ws.write_formula(1, 3, "=2025-1949", None, 76)
    wb.close()
    with sheets.open_table(path) as table:
        assert table.formula_columns == ["出生日期", "年龄"]
        (row,) = table.rows()
    assert row.values["birth_date"] == "1949-12-31"
    assert row.cells[3] == "76"
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path, formulas="reject")
    assert exc.value.code is ErrorCode.FORMULA
    assert "出生日期" in exc.value.message


def test_formulas_without_cached_values_are_refused(tmp_path):
    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()  # openpyxl writes formulas without computing them
    wb.active.append(["姓名", "联系电话"])
    wb.active.append(["张三", '=CONCAT("138","12345678")'])
    wb.save(path)
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.FORMULA_NO_VALUE
    assert "“联系电话”列（B 列）" in exc.value.message


# ---------------------------------------------------------------------------------------------
# CSV

CSV_TEXT = (
    "XX社区残疾人名册\n"
    "姓名,身份证号,联系电话,现住址\n"
    '张三,11010519491231002X,13812345678,"文一西路12号,3栋"\n'
    ",,,\n"
    '李四,="110105491231002",\'13912345678,金都花园\n'
    "制表人：王五,,,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_in_utf8_gbk_and_utf16_reads_the_same(tmp_path, encoding):
    path = tmp_path / "list.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    with sheets.open_table(path) as table:
        assert table.format == "csv"
        assert table.header_row == 2
        rows = list(table.rows())
    assert [r.number for r in rows] == [3, 5]
    assert rows[0].values == {
        "name": "张三", "id_number": "11010519491231002X", "phone": "13812345678",
        "address": "文一西路12号,3栋",
    }  # fmt: skip
    # ="…" is how exports keep digits as text; Excel shows the digits.
    assert rows[1].values["id_number"] == "110105491231002"
    assert rows[1].values["phone"] == "'13912345678"  # left for the phone normaliser


def test_tab_and_semicolon_separated_files_are_read(tmp_path):
    for sep in ("\t", ";"):
        path = tmp_path / "list.txt"
        path.write_text(f"姓名{sep}电话\n张三{sep}13812345678\n", encoding="utf-8")
        with sheets.open_table(path) as table:
            assert [r.values for r in table.rows()] == [{"name": "张三", "phone": "13812345678"}]


def test_a_csv_mixing_utf8_and_gbk_lines_is_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("姓名,电话\n".encode() + "张三,13812345678\n".encode("gbk"))
    with pytest.raises(SheetError) as exc:
        sheets.open_table(path)
    assert exc.value.code is ErrorCode.MIXED_ENCODING
    assert "UTF-8" in exc.value.message


def test_a_gbk_line_that_happens_to_be_valid_utf8_is_not_mistaken_for_mixing(tmp_path):
    path = tmp_path / "gbk.csv"
    # "女" in GBK (C5 AE) is valid UTF-8 for "Ů"; the file is still plain GBK.
    path.write_bytes("姓名,性别\n张三,男\nAB,女\n".encode("gbk"))
    with sheets.open_table(path) as table:
        assert table.encoding == "gb18030"
        assert [r.values["gender"] for r in table.rows()] == ["男", "女"]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_sheet_errors(tmp_path, content):
    path = tmp_path / "junk.csv"
    path.write_bytes(content)
    try:
        with sheets.open_table(path) as table:
            list(table.rows())
    except SheetError:
        pass


def write_minimal_ods(path: Path, rows: list[list[str]]) -> Path:
    """The smallest OpenDocument spreadsheet LibreOffice and calamine accept."""
    import zipfile

    def cell(value: str) -> str:
        return (
            '<table:table-cell office:value-type="string">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )

    body = "".join(
        f"<table:table-row>{''.join(cell(v) for v in row)}</table:table-row>" for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="名册">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return path


def test_ods_files_are_read(tmp_path):
    path = write_minimal_ods(tmp_path / "r.ods", [["姓名", "联系电话"], ["张三", "13812345678"]])
    with sheets.open_table(path) as table:
        assert table.format == "ods"
        assert table.sheet == "名册"
        assert [r.values for r in table.rows()] == [{"name": "张三", "phone": "13812345678"}]


cell_texts = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=40
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=30)
@given(st.lists(cell_texts, min_size=1, max_size=8))
def test_any_text_cell_comes_back_as_written(tmp_path, texts):
    path = tmp_path / "cells.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["姓名", "备注"])
    for i, text in enumerate(texts, 1):
        ws.write_string(i, 0, "张三")
        ws.write_string(i, 1, text)
    wb.close()
    with sheets.open_table(path, mapping={"备注": "note"}) as table:
        got = [r.values["note"] for r in table.rows()]
    assert got == [t.strip() for t in texts]

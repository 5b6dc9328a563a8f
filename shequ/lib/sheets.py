"""Reading department spreadsheets: xlsx/xlsm/xls/ods through python-calamine, csv/txt in
UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or GBK/GB18030.

    with open_table(path, sheet="花名册", mapping=saved_mapping) as table:
        table.columns        # {"name": 1, "id_number": 2, ...}
        for row in table.rows():
            row.number, row.values["id_number"], row.cells

What it does for the importer:

- every cell comes back as the text a person sees: integers without `.0`, long numbers
  (IDs and phones stored as numbers) as their digits, never `1.1e+17`; dates as `1950-03-02`;
- finds the header row below title rows (`XX社区高龄老人花名册`, `填报单位：…`) by scoring the
  first rows against a synonym table, and maps columns to canonical fields (`FIELDS`); a saved
  mapping (header text → field, `""` to ignore) overrides the synonyms;
- skips blank rows, repeated header rows and footer rows (`制表人：…`, `填报日期`, `合计`);
- streams rows: a generator over calamine's rows (calamine itself holds the sheet's cells, in
  Rust, compactly) or over the csv file, so 100,000 rows never become 100,000 Python lists.

Formulas: calamine returns the value Excel cached when it last saved the file, which is what the
worker saw, so those are used. For xlsx/xlsm the sheet XML is scanned once for `<f>` elements:
the columns holding formulas are listed in `Table.formula_columns` (the importer warns about
them), and a formula with no cached value (a file written by a program and never opened in
Excel) raises `formula_no_value`, because its cells would read as empty. `formulas="reject"`
refuses any formula in a mapped column. xls and ods files are not scanned.

An 18-digit ID typed into a number cell was already rounded by Excel to 15 significant digits
when it was saved (110101195003021234 is stored as 110101195003021000); the digits cannot be
recovered, and the ID then fails its check digit, which is the right outcome. 15-digit IDs and
11-digit phones survive exactly.

Errors are `SheetError(code, message)` with a Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from xml.etree import ElementTree

import python_calamine as calamine

from shequ.lib.normalize import to_halfwidth, to_simplified

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FIELDS",
    "FIELD_LABELS",
    "ErrorCode",
    "Row",
    "SheetError",
    "Table",
    "cell_text",
    "clean_header",
    "list_sheets",
    "open_table",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
HEADER_SCAN_ROWS = 30


class ErrorCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    CORRUPT = "corrupt"
    ENCRYPTED = "encrypted"
    HTML = "html_disguised"
    UNKNOWN_SHEET = "unknown_sheet"
    NO_HEADER = "no_header"
    ENCODING = "encoding"
    MIXED_ENCODING = "mixed_encoding"
    FORMULA = "formula"
    FORMULA_NO_VALUE = "formula_no_value"


class SheetError(ValueError):
    """A file the importer cannot read; `code` is an `ErrorCode`, `message` is for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"SheetError({self.code.value!r}, {self.message!r})"


# Canonical field → header texts that mean it (compared after `clean_header`).
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "居民姓名", "人员姓名", "老人姓名", "成员姓名", "本人姓名"),
    "id_number": (
        "公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证", "证件号", "身份号码",
        "居民身份证号码", "身份证件号码", "公民身份证号码", "身份证件号", "证件编号",
    ),
    "phone": (
        "联系电话", "手机", "手机号码", "电话", "手机号", "电话号码", "联系方式", "联系手机",
        "本人电话", "移动电话",
    ),
    "birth_date": ("出生日期", "出生年月", "出生年月日", "生日", "出生时间"),
    "gender": ("性别",),
    "address": (
        "现住址", "居住地址", "家庭住址", "地址", "住址", "现居住地址", "现居住地", "居住地",
        "实际居住地址", "现住地址", "家庭地址", "居住地详址", "住所",
    ),
    "ethnicity": ("民族",),
    "hukou": ("户籍地", "户籍所在地", "户籍地址", "户口所在地", "户籍", "户籍地详址", "籍贯"),
    "relation_to_head": ("与户主关系", "与户主的关系", "家庭关系", "关系"),
    "household_no": ("户号", "户编号", "户籍编号"),
    "political_status": ("政治面貌",),
    "work": ("工作单位", "工作单位或学校", "工作单位及职务", "服务处所", "单位", "就读学校"),
}  # fmt: skip

FIELD_LABELS: dict[str, str] = {
    "name": "姓名", "id_number": "身份证号", "phone": "联系电话", "birth_date": "出生日期",
    "gender": "性别", "address": "现住址", "ethnicity": "民族", "hukou": "户籍地",
    "relation_to_head": "与户主关系", "household_no": "户号", "political_status": "政治面貌",
    "work": "工作单位",
}  # fmt: skip

# Headers that are not fields but show that a row is the header row.
_HEADER_WORDS = frozenset({"序号", "编号", "备注", "年龄", "说明", "类别", "类型", "所属网格"})

_SYNONYMS: dict[str, str] = {}
for _field, _names in FIELDS.items():
    for _name in _names:
        _SYNONYMS[_name] = _field

_BRACKETS = re.compile(r"[(\[【{<《].*?[)\]】}>》]")
_HEADER_JUNK = re.compile(r"[\s*:：?？!！★☆※·.、]+")
_FOOTER = re.compile(
    r"(?:制表人|填表人|填报人|审核人|审核|负责人|统计人|经办人|制表|填报单位负责人|单位负责人"
    r"|填报日期|制表日期|填表日期|报送日期|审核日期|盖章|签字)\s*[:：]?"
    r"|(?:合计|总计|小计|共计)(?:\s*[:：]|\s*$|\s*\d)"
    r"|(?:备注|说明|注)\s*[:：]"
)


def clean_header(text: str) -> str:
    """Header text as compared with synonyms: no spaces, marks or bracketed notes."""
    text = to_simplified(to_halfwidth(text))
    return _HEADER_JUNK.sub("", _BRACKETS.sub("", text))


def _float_text(value: float) -> str:
    if value.is_integer():
        if abs(value) < 1e15:
            return str(int(value))
        # Beyond 15 digits the float's shortest repr holds the digits Excel kept; Decimal
        # writes them out without an exponent.
        return format(Decimal(repr(value)), "f")
    text = f"{value:.15g}"  # Excel shows at most 15 significant digits
    return format(Decimal(text), "f") if "e" in text else text


def cell_text(value: object) -> str:
    """A calamine cell value as the text a person sees in Excel."""
    kind = type(value)
    if kind is str:
        return value.strip()  # type: ignore[attr-defined]
    if kind is float:
        return _float_text(value)  # type: ignore[arg-type]
    if kind is int:
        return str(value)
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is dt.datetime:
        assert isinstance(value, dt.datetime)
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if kind is dt.date:
        return value.isoformat()  # type: ignore[attr-defined]
    if kind is dt.time:
        return value.isoformat(timespec="seconds")  # type: ignore[attr-defined]
    if value is None:
        return ""
    return str(value).strip()


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # 1-based, as Excel numbers rows (for csv: the record number)
    values: dict[str, str]  # canonical field → cell text, for mapped columns
    cells: tuple[str, ...]  # every cell of the row, for the rejected-rows report


# ---------------------------------------------------------------------------------------------
# Sources: where raw rows come from


def _sniff(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(2048)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                if "mimetype" in zf.namelist() and b"spreadsheet" in zf.read("mimetype"):
                    return "ods"
        except Exception:  # zipfile raises BadZipFile, NotImplementedError, zlib.error, …
            raise SheetError(ErrorCode.CORRUPT, "文件已损坏，无法作为 Excel 文件打开") from None
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta")):
        raise SheetError(
            ErrorCode.HTML,
            "该文件实际是网页（HTML/XML）格式，只是扩展名为 Excel；"
            "请用 Excel 打开后“另存为” .xlsx 再导入",
        )
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        raise SheetError(ErrorCode.CORRUPT, "文件已损坏或不是 Excel 文件，无法打开")
    return "csv"


def _corrupt(exc: BaseException) -> SheetError:
    """Any failure inside calamine means the file cannot be read.

    calamine raises several exception types, and a Rust panic surfaces as pyo3's
    PanicException, which derives from BaseException; only interpreter exits pass through.
    """
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
        raise exc
    return SheetError(ErrorCode.CORRUPT, f"文件已损坏，无法读取（{type(exc).__name__}）")


def _open_workbook(path: Path) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise SheetError(
            ErrorCode.ENCRYPTED,
            "文件设置了打开密码，请在 Excel 中取消密码（文件 → 信息 → 保护工作簿）后再导入",
        ) from None
    except Exception as exc:  # calamine raises several types, all meaning "cannot read this"
        raise SheetError(
            ErrorCode.CORRUPT, f"文件已损坏，无法读取（{type(exc).__name__}）"
        ) from None


def _sheet_names(wb: calamine.CalamineWorkbook) -> list[str]:
    return [
        m.name
        for m in wb.sheets_metadata
        if m.typ == calamine.SheetTypeEnum.WorkSheet
        and m.visible == calamine.SheetVisibleEnum.Visible
    ] or list(wb.sheet_names)


def list_sheets(path: str | os.PathLike[str]) -> list[str]:
    """Names of the visible worksheets, in workbook order (`[""]` for a csv file)."""
    p = Path(path)
    if _sniff(p) == "csv":
        return [""]
    wb = _open_workbook(p)
    try:
        return _sheet_names(wb)
    finally:
        wb.close()


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _csv_encoding(path: Path) -> str:
    """UTF-8 if every line decodes as UTF-8, else GB18030 (a superset of GBK and GB2312).

    One pass over the file by line; a file whose lines are partly UTF-8 Chinese and partly
    not is refused, since no single encoding reads it.
    """
    with path.open("rb") as f:
        head = f.read(4)
        for bom, encoding in _BOMS:
            if head.startswith(bom):
                return encoding
        f.seek(0)
        utf8_line = bad_line = 0
        for number, line in enumerate(f, 1):
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                bad_line = bad_line or number
                if utf8_line:
                    break
                continue
            # GBK bytes occasionally form valid UTF-8, but then decode to Latin letters, not
            # to Chinese; only Chinese counts as evidence of UTF-8.
            if not utf8_line and _CJK.search(text):
                utf8_line = number
                if bad_line:
                    break
    if utf8_line and bad_line:
        raise SheetError(
            ErrorCode.MIXED_ENCODING,
            f"文件混用了两种编码（第 {utf8_line} 行是 UTF-8，第 {bad_line} 行不是），"
            "请在 Excel 或记事本中统一另存为 UTF-8 后再导入",
        )
    return "gb18030" if bad_line else "utf-8"


def _csv_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:30] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _excel_text(cell: str) -> str:
    """A csv cell as Excel shows it: ="0571..." is how exports keep digits as text."""
    if cell[:2] == '="' and cell[-1:] == '"' and len(cell) > 2:
        cell = cell[2:-1]
    return cell.strip()


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    with path.open("r", encoding=encoding, errors="strict", newline="") as f:
        try:
            for record in csv.reader(f, delimiter=delimiter):
                # Most cells are plain: the marker test is inline, the call only for a marker.
                yield [_excel_text(c) if c[:2] == '="' else c.strip() for c in record]
        except UnicodeDecodeError:
            raise SheetError(
                ErrorCode.ENCODING, f"文件不是 {encoding} 编码，请另存为 UTF-8 后再导入"
            ) from None
        except csv.Error as exc:
            raise SheetError(ErrorCode.CORRUPT, f"CSV 文件格式有误：{exc}") from None


# Formula scan of an xlsx sheet part: the cell reference of every cell holding <f>, and
# whether it has a cached <v>.
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]+)\d+\"[^>]*>\s*<(?:\w+:)?f\b(?:[^>]*/>|[^>]*>[^<]*</(?:\w+:)?f>)"
    rb"\s*(<(?:\w+:)?v>[^<])?"  # a non-empty cached value
)
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str | None:
    try:
        wb = ElementTree.fromstring(zf.read("xl/workbook.xml"))  # noqa: S314 - zip from calamine-validated file, no DTDs
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except (KeyError, ElementTree.ParseError):
        return None
    rid = next(
        (
            el.get(_REL_NS)
            for el in wb.iter()
            if el.tag.endswith("sheet") and el.get("name") == sheet
        ),
        None,
    )
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _scan_formulas(path: Path, sheet: str) -> tuple[dict[int, int], dict[int, int]]:
    """(column → formula cells, column → formula cells without a cached value)."""
    with_value: dict[int, int] = {}
    without: dict[int, int] = {}
    with zipfile.ZipFile(path) as zf:
        part = _sheet_part(zf, sheet)
        if part is None or part not in zf.namelist():
            return with_value, without
        with zf.open(part) as f:
            tail = b""
            while chunk := f.read(1 << 20):
                data = tail + chunk
                if b"<f" not in data and b":f" not in data:
                    tail = data[-4096:]
                    continue
                last = 0
                for m in _FORMULA_CELL.finditer(data):
                    col = _col_index(m.group(1))
                    target = with_value if m.group(2) else without
                    target[col] = target.get(col, 0) + 1
                    last = m.end()
                # Keep an unfinished cell for the next chunk; matched cells are not re-read.
                tail = data[max(last, len(data) - 4096) :]
    return with_value, without


# ---------------------------------------------------------------------------------------------
# Header detection and mapping


def _map_headers(headers: list[str], overrides: Mapping[str, str]) -> tuple[dict[str, int], float]:
    columns: dict[str, int] = {}
    score = 0.0
    for index, text in enumerate(headers):
        if not text:
            continue
        key = clean_header(text)
        target = overrides.get(key, overrides.get(text, _SYNONYMS.get(key)))
        if target:
            if target not in columns:
                columns[target] = index
                score += 1
        elif key in _HEADER_WORDS:
            score += 0.25
    return columns, score


def _is_footer(cells: list[str]) -> bool:
    if len(cells) - cells.count("") > 4:  # a data row: decided without building a list
        return False
    filled = [c for c in cells if c]
    return bool(filled) and len(filled) <= 4 and _FOOTER.match(to_halfwidth(filled[0])) is not None


# ---------------------------------------------------------------------------------------------
# The table


@dataclass
class Table:
    """One sheet of a file, its header found and its columns mapped. Use as a context manager."""

    path: Path
    format: str  # xlsx | xls | ods | csv
    sheet: str  # "" for csv
    sheets: list[str]
    header_row: int  # 1-based
    headers: list[str]
    columns: dict[str, int]  # canonical field → 0-based column index
    encoding: str = ""  # csv only
    formula_columns: list[str] = field(default_factory=list)  # header texts
    _workbook: Any = field(default=None, repr=False)
    _sheet: Any = field(default=None, repr=False)
    _delimiter: str = field(default=",", repr=False)

    @property
    def unmapped(self) -> list[str]:
        """Header texts of columns that map to no field (shown so the worker can map them)."""
        mapped = set(self.columns.values())
        return [h for i, h in enumerate(self.headers) if h and i not in mapped]

    def header_mapping(self) -> dict[str, str]:
        """Header text → field for every header, `""` for unmapped: what to save per source."""
        by_index = {i: f for f, i in self.columns.items()}
        return {clean_header(h): by_index.get(i, "") for i, h in enumerate(self.headers) if h}

    def _raw_rows(self) -> Iterator[list[str]]:
        if self.format == "csv":
            yield from _csv_rows(self.path, self.encoding, self._delimiter)
            return
        rows = self._sheet.iter_rows()
        while True:
            # The yield stays outside the try, so that closing this generator early is not
            # mistaken for a broken file.
            try:
                values = next(rows, None)
            except BaseException as exc:
                raise _corrupt(exc) from None
            if values is None:
                return
            # Most cells are text; testing for it inline saves a call per cell.
            yield [v.strip() if type(v) is str else cell_text(v) for v in values]

    def rows(self) -> Iterator[Row]:
        """Data rows below the header; blank, footer and repeated header rows are skipped."""
        columns = list(self.columns.items())
        width = len(self.headers)
        header = self.headers
        for number, cells in enumerate(self._raw_rows(), 1):
            if number <= self.header_row:
                continue
            if not any(cells) or cells[:width] == header or _is_footer(cells):
                continue
            size = len(cells)
            values = {f: cells[i] if i < size else "" for f, i in columns}
            yield Row(number, values, tuple(cells))

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = self._sheet = None

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_table(
    path: str | os.PathLike[str],
    *,
    sheet: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    header_row: int | None = None,
    formulas: Literal["cached", "reject"] = "cached",
) -> Table:
    """Open a spreadsheet or csv file, pick the sheet, find the header and map its columns.

    `mapping` (header text → field, `""` to ignore a column) overrides the synonym table;
    `header_row` (1-based) skips the search; `formulas="reject"` refuses formulas in mapped
    columns instead of reading their cached values.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        raise SheetError(ErrorCode.CORRUPT, "找不到上传的文件") from None
    if size == 0:
        raise SheetError(ErrorCode.EMPTY, "文件是空的")
    if size > max_bytes:
        raise SheetError(
            ErrorCode.TOO_LARGE,
            f"文件有 {size / 1048576:.0f} MB，超过了 {max_bytes / 1048576:.0f} MB 的上限；"
            "请拆分后分批导入",
        )
    kind = _sniff(p)
    overrides = {clean_header(k): v for k, v in (mapping or {}).items()}
    table = Table(p, kind, "", [""], 0, [], {})
    if kind == "csv":
        table.encoding = _csv_encoding(p)
        with p.open("r", encoding=table.encoding, errors="replace", newline="") as f:
            table._delimiter = _csv_delimiter(f.read(65536))
    else:
        wb = _open_workbook(p)
        table._workbook = wb
        try:
            table.sheets = _sheet_names(wb)
            if not wb.sheet_names:
                raise SheetError(ErrorCode.EMPTY, "文件中没有工作表")
            name = table.sheets[0] if sheet is None else sheet
            if name not in wb.sheet_names:
                raise SheetError(
                    ErrorCode.UNKNOWN_SHEET,
                    f"找不到工作表“{sheet}”；文件中的工作表有：{'、'.join(table.sheets)}",
                )
            table.sheet = name
            table._sheet = wb.get_sheet_by_name(name)
        except SheetError:
            table.close()
            raise
        except Exception as exc:
            table.close()
            raise SheetError(
                ErrorCode.CORRUPT, f"文件已损坏，无法读取工作表（{type(exc).__name__}）"
            ) from None
    try:
        _find_header(table, overrides, header_row)
        if kind == "xlsx":
            _check_formulas(table, formulas)
    except BaseException:
        table.close()
        raise
    return table


def _find_header(table: Table, overrides: Mapping[str, str], header_row: int | None) -> None:
    best: tuple[float, int, list[str], dict[str, int]] | None = None
    seen_any = False
    for number, cells in enumerate(table._raw_rows(), 1):
        if header_row is not None and number < header_row:
            continue
        seen_any = seen_any or any(cells)
        columns, score = _map_headers(cells, overrides)
        if header_row is not None or (score >= 1 and (best is None or score > best[0])):
            best = (score, number, cells, columns)
        if header_row is not None or number >= HEADER_SCAN_ROWS:
            break
    where = f"“{table.sheet}”工作表" if table.sheet else "文件"
    if not seen_any:
        raise SheetError(ErrorCode.EMPTY, f"{where}中没有任何数据")
    if best is None or not best[3]:
        known = "、".join(FIELD_LABELS.values())
        raise SheetError(
            ErrorCode.NO_HEADER,
            f"{where}的前 {HEADER_SCAN_ROWS} 行中找不到能识别的表头（如{known}）；"
            "请检查表头文字，或在导入页面手动指定各列对应的字段",
        )
    _, table.header_row, table.headers, table.columns = best
    # Trailing empty header cells carry no meaning; drop them so width matches real columns.
    while table.headers and not table.headers[-1]:
        table.headers.pop()


def _check_formulas(table: Table, policy: str) -> None:
    try:
        with_value, without = _scan_formulas(table.path, table.sheet)
    except Exception:  # zipfile and zlib raise many types
        return  # calamine read the file; a failed scan only costs the formula warning
    offset = (table._sheet.start or (0, 0))[1]
    mapped = {i: f for f, i in table.columns.items()}

    def label(col: int) -> str:
        index = col - offset
        letter = _col_letter(col)
        header = table.headers[index] if 0 <= index < len(table.headers) else ""
        return f"“{header}”列（{letter} 列）" if header else f"{letter} 列"

    if without:
        col, count = next(iter(without.items()))
        raise SheetError(
            ErrorCode.FORMULA_NO_VALUE,
            f"{label(col)}有 {count} 个公式没有计算结果"
            "（文件可能由程序生成、未在 Excel 中保存过）；"
            "请用 Excel 打开并保存后再导入，或把公式“选择性粘贴为数值”",
        )
    cols = sorted(with_value)
    if policy == "reject":
        bad = [c for c in cols if c - offset in mapped]
        if bad:
            raise SheetError(
                ErrorCode.FORMULA,
                f"{label(bad[0])}是公式，不是录入的数据；"
                "请在 Excel 中复制该列并“选择性粘贴为数值”后再导入",
            )
    table.formula_columns = [
        table.headers[c - offset] if 0 <= c - offset < len(table.headers) else _col_letter(c)
        for c in cols
    ]


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters

"""Text normalisation for the registry importer: width, script, spaces, phones, dates, pinyin.

Every function here runs once per imported cell, so each is cheap: translation tables and
regexes are built at import time, the OpenCC converter and the per-character pinyin cache are
built on first use (importing this module does not load OpenCC or pypinyin).

Errors are `NormalizeError(code, message)` with a stable `code` and a Chinese `message` that
the importer shows next to the row and field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "Gender",
    "NormalizeError",
    "clean_name",
    "clean_text",
    "cn_to_int",
    "collapse_spaces",
    "gender",
    "parse_date",
    "phone",
    "phones",
    "pinyin",
    "pinyin_full",
    "pinyin_initials",
    "to_halfwidth",
    "to_simplified",
]


class NormalizeError(ValueError):
    """A value that cannot be normalised; `code` is stable, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"NormalizeError({self.code!r}, {self.message!r})"


# ---------------------------------------------------------------------------------------------
# Width, script and spaces

# Full-width ASCII (U+FF01..U+FF5E) maps to U+0021..U+007E; the ideographic space and the
# no-break spaces become plain spaces so one whitespace rule handles them all.
_HALFWIDTH: dict[int, int | None] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x2007: 0x20, 0x202F: 0x20})
# Zero-width characters arrive from copy-paste out of web pages and Word; they are invisible
# and break exact matching, so they are dropped.
_HALFWIDTH.update(dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)))
_HALFWIDTH_TABLE = str.maketrans(_HALFWIDTH)

_SPACES = re.compile(r"\s+")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
# Minority and foreign names use a separator dot; people type any of these for it.
_NAME_DOTS = re.compile(r"\s*[·•・‧∙⋅.．。\u30fb]\s*")


def to_halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; odd spaces to plain spaces."""
    return text.translate(_HALFWIDTH_TABLE)


def collapse_spaces(text: str) -> str:
    """Runs of whitespace to one space, trimmed at both ends."""
    return _SPACES.sub(" ", text).strip()


_converter: Callable[[str], str] | None = None


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese with OpenCC's `t2s` (one converter per process).

    Cached: a list repeats the same addresses, employers and hukou places row after row.
    """
    global _converter
    if not text.isascii():
        if _converter is None:
            import opencc

            _converter = opencc.OpenCC("t2s").convert
        return _converter(text)
    return text


def clean_text(text: str, *, simplify: bool = True) -> str:
    """The normal form of any free-text cell: half-width, simplified, single spaces."""
    text = collapse_spaces(to_halfwidth(text))
    return to_simplified(text) if simplify else text


def clean_name(text: str) -> str:
    """A person's name: `clean_text`, no spaces inside Chinese, one kind of separator dot."""
    text = clean_text(text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    if not text.isascii():
        text = _NAME_DOTS.sub("·", text).strip("·")
    return text


# ---------------------------------------------------------------------------------------------
# Chinese numerals

_CN_DIGITS = {
    "〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "壹": 1, "幺": 1, "二": 2, "贰": 2, "两": 2,
    "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7,
    "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_NUMERAL_CHARS = "".join(_CN_DIGITS) + "".join(_CN_UNITS)


@lru_cache(maxsize=4096)
def cn_to_int(text: str) -> int:
    """`三` → 3, `十二` → 12, `二十一` → 21, `一百零五` → 105, `三零一` → 301, `12` → 12.

    Raises ValueError for anything else.
    """
    if text.isdigit() and text.isascii():
        return int(text)
    if not text or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if not any(ch in _CN_UNITS for ch in text):
        # Digit by digit, as rooms and years are read aloud: 三零一, 一九五〇.
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _CN_DIGITS:
            if digit is not None and _CN_DIGITS[ch] != 0:
                raise ValueError(f"not a Chinese numeral: {text!r}")
            digit = _CN_DIGITS[ch] or None
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


# ---------------------------------------------------------------------------------------------
# Phones

_PHONE_JUNK = re.compile(r"[\s\-－—–_.·()（）\[\]'\"=]+")  # ' and =" are Excel text markers
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Area codes: 010 and 02X are three digits, everything else 03XX-09XX is four.
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d\d))([2-9]\d{6,7})")
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_EXT = re.compile(r"(?:转|分机|ext\.?|x|#|-)\s*(\d{1,6})$", re.IGNORECASE)
_PHONE_SPLIT = re.compile(r"[/,，;；、|\n]+|\s{2,}|和|或")


def _phone_digits(text: str) -> str:
    digits = _PHONE_JUNK.sub("", text)
    international = False
    if digits.startswith("+86"):
        digits, international = digits[3:], True
    elif digits.startswith("0086"):
        digits, international = digits[4:], True
    elif digits.startswith("86") and len(digits) == 13 and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if international and digits[:1] not in ("0", "1"):
        # +86 571 8812 3456: the international form drops the trunk 0 of the area code.
        digits = "0" + digits
    return digits


def _landline(digits: str, default_area_code: str | None) -> str | None:
    if not digits.startswith("0") and default_area_code and _LOCAL.fullmatch(digits):
        digits = default_area_code + digits
    m = _LANDLINE.fullmatch(digits)
    return f"{m.group(1)}-{m.group(2)}" if m else None


def phone(raw: str, *, default_area_code: str | None = None) -> str:
    """Normalise one phone number.

    Mobiles become 11 digits (`13812345678`); landlines `0571-88123456` (with `-123` for an
    extension). `+86`, `0086`, `86-`, spaces, dashes and brackets are ignored. A local
    landline number without area code takes `default_area_code` when given.
    """
    text = to_halfwidth(raw).strip()
    if not text:
        raise NormalizeError("empty", "联系电话为空")
    digits = _phone_digits(text)
    if digits.isdigit() and digits.isascii():
        if _MOBILE.fullmatch(digits):
            return digits
        number = _landline(digits, default_area_code)
        if number:
            return number
    # Only now read a trailing "-123" / "转123" as an extension: tried first, a dash would
    # otherwise split 0571-88123456 itself.
    m = _EXT.search(text)
    if m:
        head = _phone_digits(text[: m.start()])
        number = _landline(head, default_area_code) if head.isdigit() else None
        if number:
            return f"{number}-{m.group(1)}"
    if not digits.isdigit() or not digits.isascii():
        raise NormalizeError("phone_invalid", f"联系电话“{raw}”含有数字以外的字符")
    if digits.startswith("1"):
        raise NormalizeError(
            "phone_invalid", f"手机号码“{raw}”应为 11 位、以 13–19 开头，实际为 {len(digits)} 位"
        )
    if _LOCAL.fullmatch(digits):
        raise NormalizeError("phone_no_area_code", f"固定电话“{raw}”缺少区号")
    raise NormalizeError("phone_invalid", f"联系电话“{raw}”既不是手机号码也不是带区号的固定电话")


def phones(raw: str, *, default_area_code: str | None = None) -> list[str]:
    """Every phone in a cell such as `13812345678/0571-88123456`; raises on the first bad one."""
    if len(raw) == 11 and raw.isascii() and _MOBILE.fullmatch(raw):
        return [raw]  # the usual cell, one clean mobile number: no splitting or cleaning
    parts = [p for p in _PHONE_SPLIT.split(to_halfwidth(raw)) if p.strip()]
    if not parts:
        raise NormalizeError("empty", "联系电话为空")
    out: list[str] = []
    for part in parts:
        number = phone(part, default_area_code=default_area_code)
        if number not in out:
            out.append(number)
    return out


# ---------------------------------------------------------------------------------------------
# Dates

# Excel's 1900 date system counts a 1900-02-29 that never was (serial 60): serials from 61 on
# count from 1899-12-30, those below from 1899-12-31.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MIN_SERIAL, _MAX_SERIAL = 1, 2958465  # 1900-01-01 .. 9999-12-31
_DATE_SEP = re.compile(
    r"(\d{4})\s*(?:[-./]|年)\s*(\d{1,2})\s*(?:(?:[-./]|月)\s*(\d{1,2})\s*日?|月)?"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})?")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")
_CN_DATE_CHARS = re.compile(rf"[{CN_NUMERAL_CHARS}]+")


def _cn_date_digits(text: str) -> str:
    """`一九五〇年三月二日` → `1950年3月2日`."""

    def repl(m: re.Match[str]) -> str:
        return str(cn_to_int(m.group(0)))

    try:
        return _CN_DATE_CHARS.sub(repl, text)
    except ValueError:
        return text


def _make_date(raw: object, year: str, month: str, day: str | None) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day) if day else 1)
    except ValueError:
        raise NormalizeError("date_invalid", f"日期“{raw}”不存在（月份或日期超出范围）") from None


def _from_serial(raw: object, value: float | Decimal) -> dt.date:
    if not _MIN_SERIAL <= value <= _MAX_SERIAL or int(value) == 60:
        raise NormalizeError("date_invalid", f"“{raw}”不是有效的 Excel 日期序号")
    days = int(value)
    return _EXCEL_EPOCH + dt.timedelta(days=days if days > 60 else days + 1)


def parse_date(raw: object) -> dt.date:
    """A date in any form a department sheet uses.

    Accepts `date`/`datetime` objects, Excel serial numbers (int, float or digit string, e.g.
    18324), `1950-03-02`, `1950/3/2`, `1950.3.2`, `1950年3月2日`, `19500302`, an optional time
    after the date, and Chinese digits (`一九五〇年三月二日`). Year and month alone
    (`1950.03`, `1950年3月`, `195003`) give the first day of that month.
    """
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise NormalizeError("date_invalid", f"“{raw}”不是日期")
    if isinstance(raw, int | float):
        if raw != raw:  # NaN
            raise NormalizeError("date_invalid", "日期为空")
        return _from_serial(raw, raw)
    if not isinstance(raw, str):
        raise NormalizeError("date_invalid", f"“{raw}”不是日期")
    text = to_halfwidth(raw).strip()
    if not text:
        raise NormalizeError("empty", "日期为空")
    if not text.isascii():
        text = _cn_date_digits(text)
    m = _DATE_SEP.fullmatch(text)
    if m:
        return _make_date(raw, m.group(1), m.group(2), m.group(3))
    if text.isdigit():
        if len(text) in (6, 8):
            m = _DATE_COMPACT.fullmatch(text)
            if m and 1800 <= int(m.group(1)) <= 2200:
                return _make_date(raw, m.group(1), m.group(2), m.group(3))
        if len(text) == 4 and 1850 <= int(text) <= 2100:
            # Read as a year rather than as the Excel serial of a day in 1905-1910.
            raise NormalizeError("date_incomplete", f"“{raw}”只有年份，请填写完整出生日期")
    if _SERIAL.fullmatch(text):
        try:
            return _from_serial(raw, Decimal(text))
        except InvalidOperation:  # pragma: no cover - the regex admits only decimals
            pass
    raise NormalizeError(
        "date_invalid", f"无法识别日期“{raw}”，请使用 1950-03-02、1950.3.2 或 1950年3月2日 等格式"
    )


# ---------------------------------------------------------------------------------------------
# Gender


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"

    @property
    def label(self) -> str:
        return "男" if self is Gender.MALE else "女"


_GENDERS = {
    "男": Gender.MALE, "男性": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE,
    "1": Gender.MALE, "女": Gender.FEMALE, "女性": Gender.FEMALE, "f": Gender.FEMALE,
    "female": Gender.FEMALE, "2": Gender.FEMALE,
}  # fmt: skip


def gender(raw: str) -> Gender:
    """`男`/`女` and the usual codes (GB/T 2261.1: 1 male, 2 female; M/F)."""
    key = to_halfwidth(raw).strip().lower()
    if not key:
        raise NormalizeError("empty", "性别为空")
    try:
        return _GENDERS[key]
    except KeyError:
        raise NormalizeError("gender_invalid", f"性别“{raw}”应为“男”或“女”") from None


# ---------------------------------------------------------------------------------------------
# Pinyin

# Surnames whose reading differs from the character's most common reading. pypinyin reads
# characters by general frequency (单 dan, 曾 ceng, 仇 chou), which is wrong for a family name.
# Compound surnames come first so they win over their first character.
_SURNAMES: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"), "单于": ("chan", "yu"), "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"), "令狐": ("ling", "hu"), "宇文": ("yu", "wen"),
    "单": ("shan",), "曾": ("zeng",), "仇": ("qiu",), "解": ("xie",), "区": ("ou",),
    "朴": ("piao",), "查": ("zha",), "乐": ("yue",), "覃": ("qin",), "盖": ("ge",),
    "缪": ("miao",), "翟": ("zhai",), "种": ("chong",), "秘": ("bi",), "召": ("shao",),
    "繁": ("po",), "员": ("yun",), "牟": ("mu",), "折": ("she",), "谌": ("chen",),
    "粘": ("nian",), "句": ("gou",), "冼": ("xian",), "洗": ("xian",), "隗": ("wei",),
    "祭": ("zhai",), "厍": ("she",), "眭": ("sui",), "訾": ("zi",), "重": ("chong",),
    "柏": ("bai",), "藏": ("zang",), "都": ("du",), "殷": ("yin",), "任": ("ren",),
    "华": ("hua",), "纪": ("ji",), "过": ("guo",), "宁": ("ning",), "沈": ("shen",),
    "薄": ("bo",), "蕃": ("pi",), "郇": ("huan",), "阚": ("kan",), "那": ("na",),
    "长": ("chang",), "朝": ("chao",), "车": ("che",), "参": ("can",), "贲": ("ben",),
}  # fmt: skip
_COMPOUND = {k for k in _SURNAMES if len(k) == 2}
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
_char_pinyin: dict[str, str] = {}


def _reading(ch: str) -> str:
    """The usual toneless reading of one character; ASCII letters and digits pass through."""
    reading = _char_pinyin.get(ch)
    if reading is None:
        if ch.isascii():
            reading = ch.lower() if ch.isalnum() else ""
        else:
            from pypinyin import Style, lazy_pinyin

            got = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore", v_to_u=False)
            reading = got[0] if got else ""
        _char_pinyin[ch] = reading
    return reading


@lru_cache(maxsize=65536)
def _name_syllables(name: str) -> tuple[str, ...]:
    """Syllables of a name; cached, as a register holds many people of the same name."""
    name = clean_name(name)
    if name.isascii():
        # A name already in Latin letters ("Zhang San"): its words are the syllables.
        return tuple(_ASCII_WORDS.findall(name.lower()))
    head: tuple[str, ...] = ()
    if name[:2] in _COMPOUND:
        head, name = _SURNAMES[name[:2]], name[2:]
    elif name[:1] in _SURNAMES:
        head, name = _SURNAMES[name[:1]], name[1:]
    return (*head, *(r for r in map(_reading, name) if r))


def pinyin_full(name: str) -> str:
    """`张三` → `zhangsan`, `单田芳` → `shantianfang` (surname readings as names are read)."""
    return "".join(_name_syllables(name))


def pinyin_initials(name: str) -> str:
    """`张三` → `zs`; what people type to find someone."""
    return "".join(s[0] for s in _name_syllables(name))


def pinyin(name: str) -> tuple[str, str]:
    """(`pinyin_full`, `pinyin_initials`) in one call, the pair a search index stores."""
    syllables = _name_syllables(name)
    return "".join(syllables), "".join(s[0] for s in syllables)

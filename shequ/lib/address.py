"""Our grammar for Chinese street addresses down to the room.

`parse("浙江省杭州市西湖区文新街道文一西路12号金都花园三号楼2单元301")` strips the
administrative prefix (province, city, county, then a town/street office and a community
committee when written) and reads the building-level part:

    road + number   文一西路 12号 | 大道 88号 | 长乐路 100弄5号 | 中山街 3弄
    estate          XX小区 XX花园 XX苑 XX家园 XX新村 XX公寓 XX大厦 … (+ 二期 / 东区)
    building        3栋 3幢 3号楼 三号楼 3座 3号 3# A栋
    unit            2单元 2门
    room            301室 301 301号 301房
    shorthand       3-2-301 (building-unit-room), 3-301 (building-room, or unit-room after a
                    building)

`Address.standard_form()` writes the canonical form used by the standard address library:
`文一西路12号金都花园3栋2单元301室`. Whatever the grammar does not understand is kept in
`rest`, so nothing the worker typed is lost; `complete` tells whether everything was read.

Why not jionlp for the prefix: its `parse_location` takes about 4.5 ms per address here (7.5 min
for 100,000 rows), prints to stdout on import and pulls numpy and requests. We use its 2025
province/city/county table instead, frozen into `_divisions.py`, and match prefixes with
dictionary look-ups (a few microseconds). Towns and communities are recognised by their
suffixes (街道/镇/乡, 社区/居委会/村委会), not by a list, since no maintained package ships
them with codes and names change every year.

Limits: county-level aliases without suffix (`西湖` for 西湖区) are not stripped, because too
many estates and roads share them; a province or city alias (`浙江`, `杭州`) is stripped only
before a division, after a province, or before a road name of three or more characters, so a
road named after a place (`北京西路`, `海东丽路`) keeps its name but `海东丽华路` would not; a
name shared by two counties (朝阳区 in Beijing and Changchun) is resolved by the city or
province written before it, otherwise the first is taken; rural addresses (村, 组, 号) are read
as estate + room at best; floors (`3楼`, `5层`) stay in `rest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from shequ.lib.normalize import CN_NUMERAL_CHARS, cn_to_int, to_halfwidth, to_simplified

__all__ = ["Address", "AdminPrefix", "parse", "strip_admin"]


@dataclass(frozen=True, slots=True)
class AdminPrefix:
    province: str = ""
    city: str = ""
    county: str = ""
    region_code: str = ""  # the most specific division code matched, "" when none
    town: str = ""  # 街道/镇/乡 as written
    community: str = ""  # 社区/居委会/村委会 as written

    def __str__(self) -> str:
        city = "" if self.city == self.province else self.city
        return f"{self.province}{city}{self.county}{self.town}{self.community}"


@dataclass(frozen=True, slots=True)
class Address:
    raw: str
    admin: AdminPrefix = field(default_factory=AdminPrefix)
    road: str = ""  # 文一西路
    road_number: str = ""  # 12号, 100弄5号, 3弄
    estate: str = ""  # 金都花园, 金都花园二期
    building: str = ""  # 3, A, 12B
    unit: str = ""  # 2
    room: str = ""  # 301
    rest: str = ""  # what the grammar did not read

    @property
    def complete(self) -> bool:
        """Everything was read, and there is something below the administrative prefix."""
        return not self.rest and bool(self.road or self.estate or self.building or self.room)

    def standard_form(self) -> str:
        """`文一西路12号金都花园3栋2单元301室`; the key of the standard address library."""
        parts = [self.road, self.road_number, self.estate]
        if self.building:
            parts.append(f"{self.building}栋")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(f"{self.room}室")
        parts.append(self.rest)
        return "".join(parts)

    def full_form(self) -> str:
        """The standard form behind the administrative prefix."""
        return f"{self.admin}{self.standard_form()}"


# ---------------------------------------------------------------------------------------------
# Administrative prefix


@dataclass(frozen=True, slots=True)
class _Division:
    code: str
    name: str
    level: int  # 0 province, 1 prefecture, 2 county


@dataclass(frozen=True, slots=True)
class _Name:
    text: str
    is_alias: bool
    divisions: tuple[_Division, ...]


_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})


def _level(code: str) -> int:
    if code.endswith("0000"):
        return 0
    return 1 if code.endswith("00") else 2


@cache
def _index() -> dict[str, tuple[_Name, ...]]:
    """First two characters → names starting with them, longest first.

    Built once from the frozen 2025 table; a look-up is one dict access and a few
    `startswith`, instead of slicing every possible prefix length.
    """
    from shequ.lib import _divisions

    names: dict[tuple[str, bool], list[_Division]] = {}
    for line in _divisions.CURRENT.splitlines():
        if not line:
            continue
        code, name, *short = line.split(" ")
        div = _Division(code, name, _level(code))
        names.setdefault((name, False), []).append(div)
        if short and len(short[0]) >= 2:
            names.setdefault((short[0], True), []).append(div)
    index: dict[str, list[_Name]] = {}
    for (text, is_alias), divs in names.items():
        index.setdefault(text[:2], []).append(_Name(text, is_alias, tuple(divs)))
    return {k: tuple(sorted(v, key=lambda n: (-len(n.text), n.is_alias))) for k, v in index.items()}


def _within(code: str, parent: str) -> bool:
    if not parent:
        return True
    if parent.endswith("0000"):
        return code[:2] == parent[:2]
    if parent.endswith("00"):
        return code[:4] == parent[:4]
    return False


def _match_division(text: str, pos: int, level: int, parent: str) -> tuple[_Division, int] | None:
    """The longest division name of `level` under `parent` starting at `pos`.

    Aliases count only for provinces and prefectures, and only when no longer full name
    starts there (朝阳区 is a county, not the alias 朝阳 of 朝阳市 followed by 区).
    """
    candidates = _index().get(text[pos : pos + 2], ())
    longest_full = 0
    for name in candidates:
        if not text.startswith(name.text, pos):
            continue
        if not name.is_alias:
            longest_full = max(longest_full, len(name.text))
        elif level == 2 or len(name.text) < longest_full:
            continue
        for div in name.divisions:
            # Municipalities are both province and prefecture; accept them as either.
            if (div.level == level or (level == 1 and div.level == 0)) and _within(
                div.code, parent
            ):
                return div, pos + len(name.text)
    return None


_TOWN = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:街道办事处|街道|镇|乡|苏木)")
_COMMUNITY = re.compile(
    r"[\u4e00-\u9fff]{1,10}?(?:社区居民委员会|社区居委会|居民委员会|村民委员会|居委会|村委会|社区)"
)
# A name followed by one of these was really the start of a road or estate name (北京西路,
# 南京路, 金乡花园, 新镇路): an alias or a town/community match there is undone.
_ROAD_OR_ESTATE_NEXT = re.compile(
    r"[东南西北中]?(?:大道|大街|路|街|巷|道|花园|小区|苑|家园|新村|公寓|园|村|城)"
)
_SUFFIX_NEXT = re.compile(r"(?:大道|大街|路|街|巷|道|花园|小区|苑|家园|新村|公寓|园|村|城)")


def _alias_stands(text: str, end: int, div: _Division, after_province: bool) -> bool:
    """Whether a short name (浙江, 杭州) at text[:end] is a place rather than part of a road.

    Roads are named after places everywhere (北京西路, 南京路, 海东丽路), so a short name counts
    only when a division follows it (杭州西湖区), or it follows a province (浙江杭州), or a road
    of at least three characters follows it (杭州文一西路).
    """
    if _ROAD_OR_ESTATE_NEXT.match(text, end):
        return False
    if after_province or _match_division(text, end, 2, div.code) is not None:
        return True
    if div.level == 0:
        return _match_division(text, end, 1, div.code) is not None
    m = _ROAD.match(text, end)
    return m is not None and len(m.group("road")) >= 4


def strip_admin(text: str) -> tuple[AdminPrefix, int]:
    """Read the administrative prefix of a normalised address; returns it and where it ends."""
    pos, parent = 0, ""
    names = ["", "", ""]  # province, prefecture, county
    for level in (0, 1, 2):
        hit = _match_division(text, pos, level, parent)
        if hit is None:
            continue
        div, end = hit
        if text[pos:end] != div.name and not _alias_stands(text, end, div, bool(names[0])):
            continue
        if div.level == 0:
            if level == 1 and names[0] and names[0] != div.name:
                continue
            names[0] = div.name
            if div.code[:2] in _MUNICIPALITIES:
                names[1] = div.name  # a municipality is its own prefecture
        else:
            names[div.level] = div.name
        pos, parent = end, div.code
    town = community = ""
    for pattern in (_TOWN, _COMMUNITY):
        m = pattern.match(text, pos)
        if m and m.end() < len(text) and not _SUFFIX_NEXT.match(text, m.end()):
            if pattern is _TOWN:
                town = m.group(0)
            else:
                community = m.group(0)
            pos = m.end()
    prefix = AdminPrefix(
        province=names[0], city=names[1], county=names[2], region_code=parent,
        town=town, community=community,
    )  # fmt: skip
    return prefix, pos


# ---------------------------------------------------------------------------------------------
# Building-level grammar

_CN = f"[{CN_NUMERAL_CHARS}]+"
_NUM = rf"(?:\d+|{_CN})"
_BNUM = rf"(?:[A-Z]?\d+[A-Z]?|[A-Z]|{_CN})"

_ROAD = re.compile(
    r"(?P<road>[^\d\-#]{1,20}(?:大道|大街|路|街|巷|胡同|道))"
    r"(?P<no>[甲乙丙丁]?\d+(?:[-之]\d+)?(?:号|弄\d+(?:[-之]\d+)?号|弄))?"
)
_ESTATE = re.compile(
    r"(?P<estate>[^\d\-#]{1,20}"
    r"(?:小区|花园|家园|新村|公寓|大厦|大楼|山庄|广场|苑|园|府|城|庭|湾|居|坊|里|院|村|舍))"
    rf"(?P<phase>{_NUM}[期区]|[东南西北A-Z]区)?"
)
_SHORT3 = re.compile(rf"(?P<b>{_BNUM})-(?P<u>\d+)-(?P<r>[A-Z]?\d+)(?:室|号|房)?")
_SHORT2 = re.compile(r"(?P<a>[A-Z]?\d+[A-Z]?)-(?P<r>[A-Z]?\d+)(?:室|号|房)?")
_BUILDING = re.compile(rf"(?P<b>{_BNUM})(?:号楼|栋楼|栋|幢|座|#楼|#|号)")
_UNIT = re.compile(rf"(?P<u>{_NUM})(?:单元|门)")
_ROOM = re.compile(rf"(?P<r>[A-Z]?\d+)(?:室|房|号|户)?|(?P<rc>{_CN})(?:室|房|号|户)")

_DASHES = re.compile(r"[－—–~～_]")
_WS = re.compile(r"\s+")


def _number(value: str) -> str:
    """Chinese numerals to digits; letters upper-case; leading zeros of plain numbers dropped."""
    if value.isdigit() and value.isascii():
        return str(int(value))
    try:
        return str(cn_to_int(value))
    except ValueError:
        return value


def _room(value: str) -> str:
    # Room numbers keep their digits as written (0301 is not 301 in some buildings).
    if value.isascii():
        return value
    return _number(value)


def normalize(text: str) -> str:
    """Half-width, simplified, no whitespace, one kind of dash, upper-case Latin letters."""
    text = to_simplified(to_halfwidth(text))
    return _DASHES.sub("-", _WS.sub("", text)).upper()


@lru_cache(maxsize=65536)
def parse(raw: str) -> Address:
    """Parse a free-text address; never raises on text, whatever it holds.

    Cached: a roster repeats the same address for everyone in a household.
    """
    text = normalize(raw)
    admin, pos = strip_admin(text)
    road = road_no = estate = building = unit = room = ""

    if m := _ROAD.match(text, pos):
        road, road_no, pos = m.group("road"), m.group("no") or "", m.end()
    if (m := _ESTATE.match(text, pos)) and not _BUILDING.fullmatch(text, pos, m.end()):
        phase = m.group("phase") or ""
        if phase and phase[0] not in "东南西北" and not "A" <= phase[0] <= "Z":
            phase = f"{_number(phase[:-1])}{phase[-1]}"
        estate, pos = m.group("estate") + phase, m.end()
    if m := _SHORT3.match(text, pos):
        building, unit, room, pos = _number(m["b"]), _number(m["u"]), _room(m["r"]), m.end()
    else:
        if m := _BUILDING.match(text, pos):
            building, pos = _number(m["b"]), m.end()
        if m := _SHORT2.match(text, pos):
            if building:
                unit, room = _number(m["a"]), _room(m["r"])
            else:
                building, room = _number(m["a"]), _room(m["r"])
            pos = m.end()
        else:
            if m := _UNIT.match(text, pos):
                unit, pos = _number(m["u"]), m.end()
            if (m := _ROOM.match(text, pos)) and (building or unit or road_no or estate):
                room, pos = _room(m["r"] or m["rc"]), m.end()
    return Address(
        raw=raw, admin=admin, road=road, road_number=road_no, estate=estate,
        building=building, unit=unit, room=room, rest=text[pos:],
    )  # fmt: skip

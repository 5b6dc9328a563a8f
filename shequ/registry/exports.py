"""Department rosters (花名册) out of the one register.

Each template is data (`Template`): a title, a sheet name, its columns and which people it lists.
One writer serves every template, so masking, text cells, formula escaping, the watermark and
the audit entry are the same for all of them and cannot be forgotten by a new template.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shequ.accounts.scoping import has_perm, scope_q, subtree_q, visible_paths
from shequ.areas.models import Area
from shequ.core import audit
from shequ.core.errors import DomainError, NotFound
from shequ.registry import pii
from shequ.registry.access import can_see_sensitive, can_unmask
from shequ.registry.errors import RegistryError
from shequ.registry.models import Building, Dwelling, Person, PersonTag, TagType
from shequ.registry.selectors import active_tags_prefetch
from shequ.registry.states import DwellingUse, Gender, PersonStatus, Relation, ResidenceType

# Rosters are read by people in Chinese whatever language the exporter's browser asks for.
EXPORT_LANGUAGE = "zh-hans"
EXPORT_TZ = ZoneInfo("Asia/Shanghai")
# Rows fetched per query: large enough to keep round-trips few, small enough to keep memory flat.
CHUNK = 2000


class ExportError(StrEnum):
    """Stable codes of export refusals (candidates to move into `registry/errors.py`)."""

    FORBIDDEN = "export_forbidden"
    UNKNOWN_TEMPLATE = "export_unknown_template"
    NO_PLACE = "export_no_place"
    UNMASK_FORBIDDEN = "export_unmask_forbidden"
    UNMASK_REASON = RegistryError.UNMASK_REASON.value


class Kind(StrEnum):
    """How a column's cells are written; ID and PHONE are masked unless the export is unmasked."""

    TEXT = "text"
    ID = "id"
    PHONE = "phone"
    DATE = "date"
    NUMBER = "number"


Cell = str | int | dt.date | None


@dataclass(frozen=True)
class Row:
    """One line of a roster: a person (absent for an empty dwelling) and where they live."""

    today: dt.date
    person: Person | None
    dwelling: Dwelling | None
    tag: PersonTag | None = None  # the tag that put the person on a tag roster


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Row], Cell]
    width: float = 12
    kind: Kind = Kind.TEXT


PeopleFilter = Callable[[QuerySet[Person], dt.date], QuerySet[Person]]


@dataclass(frozen=True)
class Template:
    """A department's roster: what it is called, which columns it has, whom it lists."""

    name: str
    sheet: str
    columns: tuple[Column, ...]
    people: PeopleFilter
    # Codes of the special-group tag the roster lists (any of them); its details fill columns.
    tag_codes: tuple[str, ...] = ()
    # One line per dwelling of each building, with its occupants (empty dwellings included).
    by_dwelling: bool = False


@dataclass(frozen=True)
class ExportResult:
    content: bytes
    filename: str
    rows: int


# ---------------------------------------------------------------------------------------------
# Cell values


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def years_before(today: dt.date, years: int) -> dt.date:
    """The date `years` before `today`; 29 February falls back to the 28th."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


@functools.cache
def _labels(choices: Any) -> dict[str, str]:
    # Translated once per choice set rather than once per cell: gettext per cell was a tenth
    # of a 100,000-row export.
    with translation.override(EXPORT_LANGUAGE):
        return {str(value): str(label) for value, label in choices.choices}


def _label(choices: Any, value: str) -> str:
    return _labels(choices).get(value, value)


def _person(get: Callable[[Person, Row], Cell]) -> Callable[[Row], Cell]:
    """A column about the person; blank on the line of an empty dwelling."""

    def value(row: Row) -> Cell:
        return None if row.person is None else get(row.person, row)

    return value


def _dwelling(get: Callable[[Dwelling], Cell]) -> Callable[[Row], Cell]:
    def value(row: Row) -> Cell:
        return None if row.dwelling is None else get(row.dwelling)

    return value


def _detail(*keys: str) -> Callable[[Row], Cell]:
    """A value the tag recorded (disability category, level …) under any of `keys`."""

    def value(row: Row) -> Cell:
        details = row.tag.details if row.tag is not None else {}
        for key in keys:
            if details.get(key) not in (None, ""):
                return str(details[key])
        return None

    return value


def _address(person: Person, row: Row) -> Cell:
    dwelling = row.dwelling or person.dwelling
    return dwelling.standard_address if dwelling is not None else person.address_raw


def _tag_names(person: Person, row: Row) -> Cell:
    # `active_tags` is prefetched already filtered by what the exporter may see.
    return "、".join(t.tag.name for t in getattr(person, "active_tags", []))


SERIAL = Column("序号", lambda r: None, 6, Kind.NUMBER)  # filled in by the writer
NAME = Column("姓名", _person(lambda p, r: p.name), 10)
GENDER = Column("性别", _person(lambda p, r: _label(Gender, p.gender)), 6)
ETHNICITY = Column("民族", _person(lambda p, r: p.ethnicity), 8)
BIRTH = Column("出生日期", _person(lambda p, r: p.birth_date), 12, Kind.DATE)
AGE = Column("年龄", _person(lambda p, r: age_on(p.birth_date, r.today)), 6, Kind.NUMBER)
ID_NUMBER = Column("公民身份号码", _person(lambda p, r: p.id_number), 21, Kind.ID)
PHONE = Column("联系电话", _person(lambda p, r: p.phone), 14, Kind.PHONE)
ADDRESS = Column("现住址", _person(_address), 36)
HUKOU = Column("户籍地", _person(lambda p, r: p.hukou_address), 24)
WORK = Column("工作单位/学校", _person(lambda p, r: p.work), 20)
RESIDENCE = Column("人口类型", _person(lambda p, r: _label(ResidenceType, p.residence_type)), 10)
RELATION = Column(
    "与户主关系",
    _person(lambda p, r: _label(Relation, p.relation_to_head) if p.relation_to_head else ""),
    10,
)
HOUSEHOLD = Column("户号", _person(lambda p, r: p.household.number if p.household else ""), 14)
GRID = Column("所属网格", _person(lambda p, r: p.area.name), 16)
TAG_SOURCE = Column("数据来源", lambda r: r.tag.source if r.tag else None, 14)
TAG_FROM = Column("认定日期", lambda r: r.tag.valid_from if r.tag else None, 12, Kind.DATE)
DWELLING_USE = Column("房屋用途", _dwelling(lambda d: _label(DwellingUse, d.use)), 8)
NOTE = Column("备注", lambda r: None, 20)


# ---------------------------------------------------------------------------------------------
# Whom each roster lists


def _active(people: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
    return people.filter(status=PersonStatus.ACTIVE)


def _aged(years: int) -> PeopleFilter:
    def people_filter(people: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
        return _active(people, today).filter(birth_date__lte=years_before(today, years))

    return people_filter


def _tag_in_force(today: dt.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=today)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )


def _tagged(*codes: str) -> PeopleFilter:
    def people_filter(people: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
        in_force = PersonTag.objects.filter(
            _tag_in_force(today), person=OuterRef("pk"), tag__code__in=codes
        )
        return _active(people, today).filter(Exists(in_force))

    return people_filter


def _floating(people: QuerySet[Person], today: dt.date) -> QuerySet[Person]:
    return _active(people, today).filter(residence_type=ResidenceType.FLOATING)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            name="高龄老人花名册",
            sheet="高龄老人",
            columns=(
                SERIAL,
                NAME,
                GENDER,
                ETHNICITY,
                BIRTH,
                AGE,
                ID_NUMBER,
                PHONE,
                ADDRESS,
                HUKOU,
                GRID,
                NOTE,
            ),
            people=_aged(80),
        ),
        Template(
            name="残疾人名册",
            sheet="残疾人",
            columns=(
                SERIAL,
                NAME,
                GENDER,
                BIRTH,
                ID_NUMBER,
                Column("残疾类别", _detail("category", "类别", "disability_category"), 10),
                Column("残疾等级", _detail("level", "等级", "disability_level"), 8),
                Column("残疾证号", _detail("certificate", "certificate_no", "证号"), 22, Kind.ID),
                PHONE,
                ADDRESS,
                GRID,
                TAG_SOURCE,
                NOTE,
            ),
            people=_tagged("disabled"),
            tag_codes=("disabled",),
        ),
        Template(
            name="低保对象名册",
            sheet="低保对象",
            columns=(
                SERIAL,
                NAME,
                GENDER,
                BIRTH,
                ID_NUMBER,
                HOUSEHOLD,
                RELATION,
                PHONE,
                ADDRESS,
                TAG_FROM,
                GRID,
                TAG_SOURCE,
                NOTE,
            ),
            people=_tagged("dibao"),
            tag_codes=("dibao",),
        ),
        Template(
            name="流动人口登记表",
            sheet="流动人口",
            columns=(
                SERIAL,
                NAME,
                GENDER,
                ETHNICITY,
                BIRTH,
                ID_NUMBER,
                HUKOU,
                ADDRESS,
                DWELLING_USE,
                WORK,
                PHONE,
                GRID,
                NOTE,
            ),
            people=_floating,
        ),
        Template(
            name="楼栋住户表",
            sheet="楼栋住户",
            columns=(
                SERIAL,
                Column("楼栋", _dwelling(lambda d: d.building.name), 10),
                Column("单元", _dwelling(lambda d: d.unit), 6),
                Column("楼层", _dwelling(lambda d: d.floor), 6, Kind.NUMBER),
                Column("房号", _dwelling(lambda d: d.room), 8),
                DWELLING_USE,
                HOUSEHOLD,
                NAME,
                GENDER,
                AGE,
                RELATION,
                RESIDENCE,
                PHONE,
                ID_NUMBER,
                Column("特殊群体", _person(_tag_names), 18),
                NOTE,
            ),
            people=_active,
            by_dwelling=True,
        ),
    )
}


def template_names() -> list[str]:
    return list(TEMPLATES)


# ---------------------------------------------------------------------------------------------
# Writing the workbook

_FILENAME_JUNK = re.compile(r'[\\/:*?"<>|\s]+')


def formula_safe(text: str) -> str:
    """Text that no spreadsheet will evaluate, even after a round trip through CSV."""
    return audit.csv_safe(text)


def _header_text(text: str) -> str:
    # `&` starts a control code in Excel page headers; the header holds 255 characters at most.
    return text.replace("&", "&&")[:120]


@dataclass(frozen=True)
class Watermark:
    who: str
    when: str

    @property
    def note(self) -> str:
        return f"导出人：{self.who} 导出时间：{self.when} 仅限工作使用"


def _write(
    template: Template, rows: Iterator[Row], *, title: str, watermark: Watermark, masked: bool
) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    # constant_memory streams rows to a temporary file instead of holding them; writing every
    # text with write_string (never write()) means no value is ever turned into a formula.
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    book.set_properties({"title": title, "author": watermark.who, "comments": watermark.note})
    sheet = book.add_worksheet(template.sheet)
    note_fmt = book.add_format({"font_color": "#C00000", "font_size": 9})
    title_fmt = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head_fmt = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#DDEBF7"}
    )
    # "@" makes the whole column text, so numbers typed into it later stay text as well.
    text_fmt = book.add_format({"num_format": "@"})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
    # Only numbers that must stay text (a retyped ID would become 1.1E+17) and dates carry a
    # cell format: every style attribute costs time on each of a million cells.
    formats: dict[Kind, Any] = {
        Kind.TEXT: None,
        Kind.ID: text_fmt,
        Kind.PHONE: text_fmt,
        Kind.DATE: date_fmt,
        Kind.NUMBER: None,
    }
    columns = template.columns
    last_col = len(columns) - 1
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width, formats[column.kind])

    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    sheet.set_header(f"&L{_header_text(watermark.note)}&R{_header_text(title)}")
    sheet.set_footer(f"&L{_header_text(watermark.note)}&R第 &P 页，共 &N 页")

    # constant_memory writes rows strictly in order: note, title, headers, then data.
    sheet.merge_range(0, 0, 0, last_col, formula_safe(watermark.note), note_fmt)
    sheet.merge_range(1, 0, 1, last_col, formula_safe(title), title_fmt)
    sheet.set_row(1, 24)
    for index, column in enumerate(columns):
        sheet.write_string(2, index, column.header, head_fmt)
    sheet.freeze_panes(3, 0)

    mask: dict[Kind, Callable[[str], str]] = (
        {Kind.ID: pii.mask_id, Kind.PHONE: pii.mask_phone} if masked else {}
    )
    # Everything per column worked out once, not once per cell.
    plan = [
        (index, column.value, column.kind, formats[column.kind], mask.get(column.kind))
        for index, column in enumerate(columns)
        if column is not SERIAL
    ]
    serial = columns.index(SERIAL) if SERIAL in columns else None
    write_string, write_number, write_date = (
        sheet.write_string,
        sheet.write_number,
        sheet.write_datetime,
    )
    count = 0
    for count, row in enumerate(rows, start=1):
        line = count + 2
        if serial is not None:
            write_number(line, serial, count)
        for index, get, kind, fmt, masker in plan:
            value = get(row)
            if value is None or value == "":
                continue
            if kind is Kind.NUMBER and isinstance(value, int):
                write_number(line, index, value, fmt)
            elif kind is Kind.DATE and isinstance(value, dt.date):
                write_date(line, index, value, fmt)
            else:
                text = masker(str(value)) if masker else str(value)
                write_string(line, index, formula_safe(text), fmt)
    sheet.autofilter(2, 0, count + 2, last_col)
    book.close()
    return buffer.getvalue(), count


# ---------------------------------------------------------------------------------------------
# Selecting the rows


def _export_people(actor: Any) -> QuerySet[Person]:
    """People the actor may see *and* export: a role that views but may not export (a street
    supervisor who is also a grid worker elsewhere) must not widen what leaves the system."""
    return Person.objects.visible_to(actor).filter(scope_q(actor, "area", perm="registry.export"))


# Fields no roster shows. Not loading them (JSON provenance, timestamps, indexes) is a third
# of the time of a large export; a column that needs one must take it off this list, or each
# row would cost a query.
_UNSHOWN = (
    "provenance",
    "created_at",
    "updated_at",
    "name_pinyin",
    "name_initials",
    "id_blind",
    "id_last4_blind",
    "phone_blind",
    "phone_last4_blind",
    "version",
)
_UNSHOWN_RELATED = tuple(
    f"{rel}__{field}" for rel in ("dwelling", "household") for field in ("created_at", "updated_at")
)


class _Areas:
    """Areas by id, each loaded once: joining them into every row would decode their
    boundary polygons once per resident."""

    def __init__(self) -> None:
        self._by_id: dict[int, Area] = {}

    def attach(self, person: Person) -> None:
        area = self._by_id.get(person.area_id)
        if area is None:
            area = Area.objects.only("code", "name", "path").get(pk=person.area_id)
            self._by_id[person.area_id] = area
        person.area = area


def _person_rows(
    template: Template,
    people: QuerySet[Person],
    today: dt.date,
) -> Iterator[Row]:
    people = (
        template.people(people, today)
        .select_related("dwelling", "household")
        .defer(*_UNSHOWN, *_UNSHOWN_RELATED)
        .order_by("area__path", "dwelling__standard_address", "household_id", "name", "pk")
    )
    if template.tag_codes:
        in_force = PersonTag.objects.filter(
            _tag_in_force(today), tag__code__in=template.tag_codes
        ).order_by("-valid_from", "pk")
        tags: Any = Prefetch("tags", queryset=in_force, to_attr="roster_tags")
        people = people.prefetch_related(tags)
    areas = _Areas()
    for person in people.iterator(chunk_size=CHUNK):
        areas.attach(person)
        roster_tags = getattr(person, "roster_tags", None)
        yield Row(today, person, person.dwelling, roster_tags[0] if roster_tags else None)


def _dwelling_rows(
    template: Template,
    actor: Any,
    people: QuerySet[Person],
    dwellings: QuerySet[Dwelling],
    today: dt.date,
) -> Iterator[Row]:
    head_first = Case(When(relation_to_head="head", then=Value(0)), default=Value(1))
    occupants = (
        template.people(people, today)
        .select_related("area", "household")
        .defer(*_UNSHOWN, "area__geometry", "household__created_at", "household__updated_at")
        .prefetch_related(active_tags_prefetch(actor))
        .annotate(head_first=head_first)
        .order_by("household_id", "head_first", "birth_date", "pk")
    )
    residents: Any = Prefetch("residents", queryset=occupants)  # stubs mistype custom managers
    dwellings = (
        dwellings.select_related("building")
        .prefetch_related(residents)
        .order_by("building__code", "unit", "floor", "room", "pk")
    )
    for dwelling in dwellings.iterator(chunk_size=CHUNK // 4):
        living = list(dwelling.residents.all())
        if not living:
            yield Row(today, None, dwelling)
        for person in living:
            yield Row(today, person, dwelling)


def _overlaps(actor: Any, area: Area) -> bool:
    paths = visible_paths(actor, perm="registry.export")
    if paths is None:
        return True
    return any(p.startswith(area.path) or area.path.startswith(p) for p in paths)


def _who(actor: Any) -> str:
    username = actor.get_username()
    name = getattr(actor, "full_name", "") or username
    return f"{name}（{username}）"


# ---------------------------------------------------------------------------------------------
# The service


def people_export(
    *,
    actor: Any,
    template: str,
    area: Area | None,
    building: Building | None = None,
    unmasked: bool = False,
    reason: str = "",
) -> ExportResult:
    """A department roster of the people the actor may export in `area` (or one `building`).

    ID numbers and phones are masked unless `unmasked` is asked for by someone allowed to see
    them, with a reason; every export is audited with its template, place, size and masking.
    """
    spec = TEMPLATES.get(template)
    if spec is None:
        raise DomainError(
            ExportError.UNKNOWN_TEMPLATE,
            _("Unknown export template %(name)s. Choose one of: %(names)s.")
            % {"name": template, "names": "、".join(TEMPLATES)},
            {"templates": template_names()},
        )
    if not has_perm(actor, "registry.export"):
        raise DomainError(ExportError.FORBIDDEN, _("You may not export the register."))
    reason = (reason or "").strip()
    if unmasked:
        if not can_unmask(actor):
            raise DomainError(
                ExportError.UNMASK_FORBIDDEN,
                _("You may not export full ID numbers and phone numbers."),
            )
        if len(reason) < 2:
            raise DomainError(
                ExportError.UNMASK_REASON,
                _("Say why the export needs full ID and phone numbers."),
                {"field": "reason"},
            )
    # Being on a sensitive roster (disability …) is itself the sensitive fact.
    if (
        spec.tag_codes
        and not can_see_sensitive(actor)
        and TagType.objects.filter(code__in=spec.tag_codes, sensitive=True).exists()
    ):
        raise DomainError(
            ExportError.FORBIDDEN,
            _("You may not export the %(name)s: it lists a sensitive group.") % {"name": spec.name},
        )
    if area is None and building is None:
        raise DomainError(ExportError.NO_PLACE, _("Choose an area or a building to export."))

    people = _export_people(actor)
    if building is not None:
        visible = Building.objects.visible_to(actor).filter(
            scope_q(actor, "area", perm="registry.export"), pk=building.pk
        )
        if not visible.exists():
            raise NotFound()
        if area is not None and not building.area.path.startswith(area.path):
            raise DomainError(
                ExportError.NO_PLACE,
                _("Building %(building)s is not in %(area)s.")
                % {"building": building.name, "area": area.name},
            )
        people = people.filter(dwelling__building=building)
    if area is not None:
        if not _overlaps(actor, area):
            raise NotFound()
        people = people.filter(subtree_q(area.path, "area__path"))

    now = timezone.now().astimezone(EXPORT_TZ)
    today = now.date()
    if building is not None:
        place = building.standard_address
    else:
        place = area.name if area is not None else ""
    title = f"{place}{spec.name}"
    watermark = Watermark(who=_who(actor), when=now.strftime("%Y-%m-%d %H:%M"))

    rows: Iterator[Row]
    if spec.by_dwelling:
        dwellings = Dwelling.objects.visible_to(actor).filter(
            scope_q(actor, "area", perm="registry.export")
        )
        if building is not None:
            dwellings = dwellings.filter(building=building)
        if area is not None:
            dwellings = dwellings.filter(subtree_q(area.path, "area__path"))
        rows = _dwelling_rows(spec, actor, people, dwellings, today)
    else:
        rows = _person_rows(spec, people, today)
    with translation.override(EXPORT_LANGUAGE):
        content, count = _write(spec, rows, title=title, watermark=watermark, masked=not unmasked)

    changes: dict[str, Any] = {
        "template": spec.name,
        "area": area.code if area is not None else None,
        "building": building.code if building is not None else None,
        "rows": count,
        "masked": not unmasked,
    }
    if unmasked:
        changes["reason"] = reason
    audit.record(
        actor=actor,
        action="registry.exported",
        obj=area if area is not None else building,
        changes=changes,
    )
    filename = _FILENAME_JUNK.sub("_", f"{place}_{spec.name}_{now:%Y%m%d-%H%M}") + ".xlsx"
    return ExportResult(content=content, filename=filename, rows=count)

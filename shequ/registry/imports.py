"""最多录一次: take any department's list into the one register.

read (shequ.lib.sheets) → normalise and validate each row → find the person (exact on the ID
blind index; without a usable ID, Splink scores name, pinyin, birth date, phone and address
against the people blocked with the row, see `linkage`) → fill empty fields with provenance,
queue conflicts and uncertain matches → commit everything in one transaction, once per file
and once per row.

Dry run by default: `commit=False` reads, matches and reports but writes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.core import audit, bulk
from shequ.core.bulk import FastInsert
from shequ.core.errors import DomainError
from shequ.lib import address as addresses
from shequ.lib import idcard, normalize, sheets
from shequ.registry import linkage, pii
from shequ.registry.models import (
    Building,
    Conflict,
    Dwelling,
    ImportBatch,
    ImportedRow,
    ImportStatus,
    MatchReview,
    Person,
    Source,
)
from shequ.registry.services import district_of, standard_dwelling_address
from shequ.registry.states import Gender, IdKind, PersonStatus, Relation, ResidenceType

# Fields a department list may fill in or contradict (names and IDs are never overwritten).
FILLABLE = ("phone", "birth_date", "ethnicity", "hukou_address", "political_status", "work")
CONFLICTING = ("phone", "ethnicity", "hukou_address", "political_status", "work")
BUILTIN_TRUST = {"manual": 4, "desk": 4, "api": 4, "demo": 3}

_RELATIONS = {
    "户主": Relation.HEAD, "本人": Relation.HEAD, "配偶": Relation.SPOUSE, "妻": Relation.SPOUSE,
    "夫": Relation.SPOUSE, "子": Relation.CHILD, "女": Relation.CHILD, "儿子": Relation.CHILD,
    "女儿": Relation.CHILD, "子女": Relation.CHILD, "父亲": Relation.PARENT,
    "母亲": Relation.PARENT, "父母": Relation.PARENT, "孙子": Relation.GRANDCHILD,
    "孙女": Relation.GRANDCHILD, "兄弟": Relation.SIBLING, "姐妹": Relation.SIBLING,
}  # fmt: skip
_ID_KINDS = {
    idcard.IdKind.HK_PERMIT: IdKind.HK,
    idcard.IdKind.MO_PERMIT: IdKind.MACAO,
    idcard.IdKind.TW_PERMIT: IdKind.TAIWAN,
}


@dataclass
class ImportReport:
    rows: int = 0
    new: int = 0
    matched: int = 0
    updated: int = 0
    conflicts: int = 0
    review: int = 0
    invalid: int = 0
    duplicates_in_file: int = 0
    warnings: int = 0
    addresses_created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warning_list: list[dict[str, Any]] = field(default_factory=list)
    committed: bool = False
    already_committed: bool = False
    batch: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    # Rows refused, with their original cells, for the rejected-rows workbook.
    rejected: list[tuple[int, tuple[str, ...], str]] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        """The CLI's `--json`: rows = new + matched + review + invalid + duplicates_in_file."""
        # Not asdict(): it would deep-copy every rejected row's cells only to drop them.
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rejected"}
        data["warnings_detail"] = [dict(w) for w in data.pop("warning_list")[:500]]
        data["errors"] = [dict(e) for e in data["errors"][:5000]]
        data["columns"], data["unmapped"] = dict(self.columns), list(self.unmapped)
        return data


@dataclass(slots=True)
class Incoming:
    """One row, normalised (slots: a million of them are held until the commit)."""

    row: int
    name: str
    id_number: str = ""
    id_kind: str = IdKind.RESIDENT
    birth_date: dt.date | None = None
    gender: str = Gender.UNKNOWN
    phone: str = ""
    ethnicity: str = ""
    hukou_address: str = ""
    political_status: str = ""
    work: str = ""
    relation_to_head: str = ""
    address_raw: str = ""
    dwelling_id: int | None = None
    area_id: int | None = None
    new_dwelling: str = ""  # standard address of a room to register at commit
    row_hash: str = ""
    # Blind indexes of the ID number and the phone, computed once (matching and new rows).
    id_blinds: tuple[str, str] = ("", "")
    phone_blinds: tuple[str, str] = ("", "")

    def values(self) -> dict[str, Any]:
        data = asdict(self)
        del data["id_blinds"], data["phone_blinds"]
        data["birth_date"] = self.birth_date.isoformat() if self.birth_date else None
        return data


def source_for(name: str) -> Source:
    """The Source of a department name, created on first use (trust 3)."""
    name = normalize.clean_text(name)[:100]
    if not name:
        raise DomainError("import_no_source", _("Name the department the file comes from."))
    code = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
    source, _created = Source.objects.get_or_create(code=code, defaults={"name": name})
    return source


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dwelling_index(area: Area) -> dict[str, tuple[int, int]]:
    """Standard address → (dwelling, its area) for every dwelling under the import's area."""
    rows = Dwelling.objects.filter(subtree_q(area.path, "area__path")).values_list(
        "standard_address", "pk", "area_id"
    )
    return {addr: (pk, area_id) for addr, pk, area_id in rows}


def _building_index(area: Area) -> dict[str, Building]:
    """Standard address → building, for every building under the import's area."""
    buildings = Building.objects.filter(subtree_q(area.path, "area__path")).select_related(
        "area", "district"
    )
    return {b.standard_address: b for b in buildings}


@dataclass
class NewDwelling:
    """A room in a registered building that the register does not know yet."""

    building: Building
    unit: str
    room: str
    standard_address: str
    pk: int | None = None


class _Reader:
    """Turns sheet rows into Incoming rows, counting invalid rows and warnings."""

    def __init__(
        self,
        report: ImportReport,
        dwellings: dict[str, tuple[int, int]],
        buildings: dict[str, Building],
    ) -> None:
        self.report = report
        self.dwellings = dwellings
        self.buildings = buildings
        self.unresolved = _(
            "The address “%(address)s” is not in the standard address library yet; "
            "it is kept as written and queued for resolution."
        )
        # Standard address → the dwelling to create at commit (shared by a household's rows).
        self.new_dwellings: dict[str, NewDwelling] = {}
        # A list repeats its addresses, places of origin, employers and ethnicities row after
        # row: each distinct text is normalised (and an address resolved) once.
        self.texts: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.places: dict[str, tuple[int | None, int | None, str] | None] = {}
        self.master = settings.FIELD_KEY  # read once: the settings proxy is slow per row
        self.today = timezone.localdate()

    def text(self, raw: str) -> str:
        """`normalize.clean_text`, remembered; equal texts also share one string object."""
        cleaned = self.texts.get(raw)
        if cleaned is None:
            if len(self.texts) >= 200_000:
                self.texts.clear()
            cleaned = self.texts[raw] = normalize.clean_text(raw)
        return cleaned

    def name(self, raw: str) -> str:
        """`normalize.clean_name`, remembered (a register is full of 王芳 and 张伟)."""
        cleaned = self.names.get(raw)
        if cleaned is None:
            if len(self.names) >= 200_000:
                self.names.clear()
            cleaned = self.names[raw] = normalize.clean_name(raw)
        return cleaned

    def place(self, raw_address: str) -> tuple[int | None, int | None, str] | None:
        """(dwelling, area, new room's standard address) of an address; None: unresolved."""
        if raw_address in self.places:
            return self.places[raw_address]
        if len(self.places) >= 200_000:
            self.places.clear()
        place = addresses.parse(raw_address)
        standard = place.standard_form()
        # A village's houses are addressed under the village's name (桃源村王家坞12号),
        # which the grammar reads as the administrative prefix: try it both ways.
        hit = self.dwellings.get(standard) or self.dwellings.get(
            f"{place.admin.community}{standard}"
        )
        new = None if hit else self._new_dwelling(place)
        found: tuple[int | None, int | None, str] | None = None
        if hit:
            found = (hit[0], hit[1], "")
        elif new is not None:
            found = (None, new.building.area_id, new.standard_address)
        self.places[raw_address] = found
        return found

    def _new_dwelling(self, place: addresses.Address) -> NewDwelling | None:
        """A room of a building the register knows becomes a standard address of its own."""
        if not place.room or not place.building:
            return None
        building_key = addresses.Address(
            raw="",
            road=place.road,
            road_number=place.road_number,
            estate=place.estate,
            building=place.building,
        ).standard_form()
        building = self.buildings.get(building_key) or self.buildings.get(
            f"{place.admin.community}{building_key}"
        )
        if building is None:
            return None
        standard = standard_dwelling_address(building, place.unit, place.room)
        return self.new_dwellings.setdefault(
            standard, NewDwelling(building, place.unit, place.room, standard)
        )

    def error(self, row: sheets.Row, fieldname: str, code: str, message: str) -> None:
        self.report.errors.append(
            {"row": row.number, "field": fieldname, "code": code, "message": message}
        )

    def warn(self, row: int, fieldname: str, code: str, message: str) -> None:
        self.report.warnings += 1
        if len(self.report.warning_list) < 2000:
            self.report.warning_list.append(
                {"row": row, "field": fieldname, "code": code, "message": message}
            )

    def read(self, row: sheets.Row) -> Incoming | None:
        v = row.values
        name = self.name(v.get("name", ""))
        if not name:
            self.error(row, "name", "name_missing", _("The name is empty."))
            return None
        item = Incoming(row=row.number, name=name)
        raw_id = v.get("id_number", "").strip()
        if raw_id:
            try:
                parsed = idcard.parse(raw_id, today=self.today)
            except idcard.IdCardError as exc:
                self.error(row, "id_number", str(exc.code), exc.message)
                return None
            item.id_number = parsed.number
            item.id_blinds = pii.id_indexes(parsed.number, master=self.master)
            item.id_kind = _ID_KINDS.get(parsed.kind, IdKind.RESIDENT)
            item.birth_date = parsed.birth_date
            item.gender = Gender.MALE if parsed.gender.value == "M" else Gender.FEMALE
        raw_birth = v.get("birth_date", "").strip()
        if raw_birth and item.birth_date is None:
            try:
                item.birth_date = normalize.parse_date(raw_birth)
            except normalize.NormalizeError as exc:
                self.error(row, "birth_date", exc.code, exc.message)
                return None
        raw_gender = v.get("gender", "").strip()
        if raw_gender and item.gender == Gender.UNKNOWN:
            try:
                item.gender = Gender(normalize.gender(raw_gender).value)
            except normalize.NormalizeError as exc:
                self.warn(row.number, "gender", exc.code, exc.message)
        raw_phone = v.get("phone", "").strip()
        if raw_phone:
            try:
                item.phone = normalize.phones(raw_phone)[0]
            except (normalize.NormalizeError, IndexError) as exc:
                message = getattr(exc, "message", _("The phone number is not valid."))
                self.warn(row.number, "phone", "phone_invalid", message)
            else:
                item.phone_blinds = pii.phone_indexes(item.phone, master=self.master)
        text = self.text
        item.ethnicity = text(v.get("ethnicity", ""))[:20]
        item.hukou_address = text(v.get("hukou", ""))[:200]
        item.political_status = text(v.get("political_status", ""))[:20]
        item.work = text(v.get("work", ""))[:200]
        item.relation_to_head = _RELATIONS.get(text(v.get("relation_to_head", "")), "")
        raw_address = text(v.get("address", ""))
        if raw_address:
            item.address_raw = raw_address[:255]
            found = self.place(raw_address)
            if found is not None:
                item.dwelling_id, item.area_id, item.new_dwelling = found
            else:
                self.warn(
                    row.number,
                    "address",
                    "address_unresolved",
                    self.unresolved % {"address": raw_address[:60]},
                )
        key = "|".join(
            [
                item.name,
                item.id_number,
                str(item.birth_date or ""),
                item.phone,
                item.address_raw,
                item.ethnicity,
                item.hukou_address,
                item.political_status,
                item.work,
            ]
        )
        item.row_hash = hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()
        return item


@dataclass(slots=True)
class Known:
    """A registered person as matching and filling need them: indexes and the plain fields,
    nothing decrypted, no model instance (hundreds of thousands are loaded for a big file)."""

    pk: int
    area_id: int
    dwelling_id: int | None
    name: str
    name_pinyin: str
    gender: str
    birth_date: dt.date | None
    phone_blind: str
    ethnicity: str
    hukou_address: str
    political_status: str
    work: str
    address_raw: str
    id_blind: str
    setters: tuple[str | None, ...]  # the source that set each of CONFLICTING, from provenance


_KNOWN_COLUMNS = (
    "pk", "area_id", "dwelling_id", "name", "name_pinyin", "gender", "birth_date",
    "phone_blind", "ethnicity", "hukou_address", "political_status", "work", "address_raw",
    "id_blind",
)  # fmt: skip


def _known(where: Q) -> Iterable[Known]:
    # The sources are read inside the database: parsing every person's provenance JSON in
    # Python costs more than the rest of their row.
    setters = [KT(f"provenance__{name}__source") for name in CONFLICTING]
    width = len(_KNOWN_COLUMNS)
    for row in Person.objects.filter(where).values_list(*_KNOWN_COLUMNS, *setters):
        values: Any = (*row[:width], row[width:])
        yield Known(*values)


def _name_agreement(incoming: str, sound: str, person: Known) -> str:
    """exact | sound (same pinyin) | near (one character differs) | differs."""
    if incoming == person.name:
        return "exact"
    if sound == person.name_pinyin:
        return "sound"
    if len(incoming) == len(person.name) > 1 and (
        sum(a != b for a, b in zip(incoming, person.name, strict=True)) == 1
    ):
        return "near"
    return "differs"


@dataclass
class _Plan:
    new: list[Incoming] = field(default_factory=list)
    matched: list[tuple[Incoming, Known]] = field(default_factory=list)
    review: list[tuple[Incoming, Known, float]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    conflicts: list[tuple[Known, str, Any]] = field(default_factory=list)
    new_dwellings: dict[str, NewDwelling] = field(default_factory=dict)


def _chunks(items: list[Any], size: int = 900) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _find_by_id(items: list[Incoming]) -> dict[str, Known]:
    """Registered people by the ID blind index of the rows (anywhere: an ID is an ID)."""
    blinds = sorted({i.id_blinds[0] for i in items if i.id_number})
    found: dict[str, Known] = {}
    for chunk in _chunks(blinds, 5000):
        for person in _known(Q(id_blind__in=bulk.values_in(chunk))):
            found[person.id_blind] = person
    return found


@dataclass
class _Candidates:
    """People of the district who might be a row without an ID, blocked three ways: by the
    sound of the name, by phone and by home. Each row is compared (by Splink, see `linkage`)
    with the union of its blocks. A name with a typo sounds otherwise; it counts only with the
    same birthday and the same phone or home, so the phone and home blocks find it without
    loading everyone born on the row's birthday (at a million rows, most of the district)."""

    by_sound: dict[str, list[Known]] = field(default_factory=lambda: defaultdict(list))
    by_phone: dict[str, list[Known]] = field(default_factory=lambda: defaultdict(list))
    by_home: dict[int, list[Known]] = field(default_factory=lambda: defaultdict(list))
    phones: set[str] = field(default_factory=set)  # blocks loaded, including empty ones
    homes: set[int] = field(default_factory=set)

    def people(self) -> dict[int, Known]:
        """Everyone loaded, by pk (Splink pairs them with the rows by the same three keys)."""
        pool: dict[int, Known] = {}
        for index in (self.by_sound, self.by_phone, self.by_home):
            for block in index.values():
                pool.update((p.pk, p) for p in block)
        return pool

    def load(
        self,
        district: Area,
        *,
        sounds: AbstractSet[str] = frozenset(),
        phones: AbstractSet[str],
        homes: AbstractSet[int],
    ) -> None:
        """Load the blocks of these name sounds, phones and homes (each phone or home once)."""
        phones, homes = phones - self.phones - {""}, homes - self.homes
        self.phones |= phones
        self.homes |= homes
        seen: set[int] = set()
        for column, values, cast in (
            ("name_pinyin", sounds, ""),
            ("phone_blind", phones, ""),
            ("dwelling_id", homes, "bigint"),
        ):
            for chunk in _chunks(sorted(values), 5000):
                lookup = {f"{column}__in": bulk.values_in(chunk, cast=cast)}
                for person in _known(Q(district=district, **lookup)):
                    if person.pk in seen:
                        continue
                    seen.add(person.pk)
                    if person.name_pinyin in sounds:
                        self.by_sound[person.name_pinyin].append(person)
                    if person.phone_blind in phones:
                        self.by_phone[person.phone_blind].append(person)
                    if person.dwelling_id is not None and person.dwelling_id in homes:
                        self.by_home[person.dwelling_id].append(person)

    def has_twin(self, person: Known) -> bool:
        """Someone else registered born the same day with the same phone or home: a twin.

        A name one character away from a twin's is as likely the other twin, or a third
        sibling the register does not know, as a typo: such a match goes to a person.
        """
        household = [
            *self.by_phone.get(person.phone_blind, ()),
            *self.by_home.get(person.dwelling_id or 0, ()),
        ]
        return any(o.pk != person.pk and o.birth_date == person.birth_date for o in household)


def _trust(source_code: str, trusts: dict[str, int]) -> int:
    return trusts.get(source_code, BUILTIN_TRUST.get(source_code, 3))


def _compare(
    item: Incoming, person: Known, source: Source, plan: _Plan, trusts: dict[str, int]
) -> None:
    """Fill the person's empty fields; a different value from an equally trusted or more
    trusted source than the one that set it becomes a conflict for a person to decide."""
    fill: dict[str, Any] = {}
    for name in FILLABLE:
        incoming = getattr(item, name)
        if incoming in (None, ""):
            continue
        if name == "phone":  # compared by blind index: the register's phone stays sealed
            empty = not person.phone_blind
            differs = item.phone_blinds[0] != person.phone_blind
        else:
            current = getattr(person, name)
            empty = current in (None, "")
            differs = current != incoming
        if empty:
            fill[name] = incoming
        elif name in CONFLICTING and differs:
            setter = person.setters[CONFLICTING.index(name)] or "manual"
            if source.trust >= _trust(setter, trusts):
                plan.conflicts.append((person, name, incoming))
    if item.dwelling_id and not person.dwelling_id:
        fill["dwelling_id"] = item.dwelling_id
    if item.address_raw and not person.address_raw:
        fill["address_raw"] = item.address_raw
    if fill:
        plan.updates.setdefault(person.pk, {}).update(fill)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def without_cycle_collector(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `func` with Python's cycle collector off: for a process that does nothing else
    (the `import-people` command), never in the web server, where the switch would hold for
    every thread of the process.

    An import holds a million row objects and makes millions more: each full collection
    walks all of them, again and again as they grow. Rows and their values form no reference
    cycles; what little else does is collected once the collector is back on.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


def import_people(
    *,
    actor: Any,
    path: str | Path,
    source_name: str,
    area: Area,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    commit: bool = False,
    progress: Callable[[int], None] | None = None,
    max_bytes: int = sheets.DEFAULT_MAX_BYTES,
    batch: ImportBatch | None = None,
) -> ImportReport:
    """Read, match and report; with `commit`, write it all in one transaction."""
    path = Path(path)
    if area.level not in ("community", "grid", "estate"):
        raise DomainError("import_bad_area", _("Import into a community, a grid or an estate."))
    source = source_for(source_name)
    report = ImportReport()
    try:
        table = sheets.open_table(
            path, sheet=sheet, mapping=mapping or source.mapping or None, max_bytes=max_bytes
        )
    except sheets.SheetError as exc:
        raise DomainError(f"import_{exc.code}", exc.message) from exc
    with table:
        if "name" not in table.columns:
            raise DomainError(
                "import_no_name_column",
                _(
                    "No column of this sheet holds names (姓名). "
                    "Map the columns by hand: %(headers)s"
                )
                % {"headers": "、".join(h for h in table.headers if h)[:300]},
            )
        report.columns = {f: table.headers[i] for f, i in table.columns.items()}
        report.unmapped = table.unmapped
        for header in table.formula_columns:
            report.warnings += 1
            report.warning_list.append(
                {
                    "row": table.header_row,
                    "field": header,
                    "code": "formula",
                    "message": _(
                        "The column “%(col)s” holds formulas; their last computed values were read."
                    )
                    % {"col": header},
                }
            )
        reader = _Reader(report, _dwelling_index(area), _building_index(area))
        items: list[Incoming] = []
        seen: set[str] = set()
        try:
            for row in table.rows():
                report.rows += 1
                item = reader.read(row)
                if item is None:
                    report.invalid += 1
                    report.rejected.append((row.number, row.cells, report.errors[-1]["message"]))
                    continue
                key = item.id_number or f"{item.name}|{item.birth_date}|{item.phone}"
                if key in seen:
                    report.duplicates_in_file += 1
                    report.rejected.append(
                        (row.number, row.cells, _("Same person as an earlier row of this file."))
                    )
                    continue
                seen.add(key)
                items.append(item)
                if progress and report.rows % 5000 == 0:
                    progress(report.rows)
        except sheets.SheetError as exc:
            raise DomainError(f"import_{exc.code}", exc.message) from exc
        mapping_learnt = table.header_mapping()

    already: set[str] = set()
    for chunk in _chunks(items, 20_000):
        hashes = bulk.values_in(i.row_hash for i in chunk)
        already.update(
            ImportedRow.objects.filter(source=source, row_hash__in=hashes).values_list(
                "row_hash", flat=True
            )
        )
    report.addresses_created = len(reader.new_dwellings)
    plan = _plan(items, already, source, area, report)
    plan.new_dwellings = reader.new_dwellings
    report.new, report.matched = len(plan.new), len(plan.matched)
    report.review, report.conflicts = len(plan.review), len(plan.conflicts)
    report.updated = len(plan.updates)
    if commit:
        _commit(
            actor=actor,
            path=path,
            source=source,
            area=area,
            sheet=table.sheet,
            plan=plan,
            report=report,
            items=items,
            already=already,
            mapping=mapping_learnt,
            batch=batch,
        )
    return report


def _plan(
    items: list[Incoming], already: set[str], source: Source, area: Area, report: ImportReport
) -> _Plan:
    plan = _Plan()
    trusts = dict(Source.objects.values_list("code", "trust"))
    with_id = [i for i in items if i.id_number]
    without_id = [i for i in items if not i.id_number]
    by_id = _find_by_id(with_id)
    for item in with_id:
        person = by_id.get(item.id_blinds[0])
        if person is None:
            plan.new.append(item)
            continue
        plan.matched.append((item, person))
        if item.row_hash not in already:
            _compare(item, person, source, plan, trusts)
    sounds = [normalize.pinyin_full(i.name) for i in without_id]
    blocks = _Candidates()
    district = district_of(area)
    if without_id:
        blocks.load(
            district,
            sounds=set(sounds),
            phones={i.phone_blinds[0] for i in without_id},
            homes={i.dwelling_id for i in without_id if i.dwelling_id},
        )
    model = linkage.model()
    scored = _best_matches(without_id, sounds, blocks)
    decided: list[tuple[Incoming, Known | None, float, bool]] = []
    for item, sound in zip(without_id, sounds, strict=True):
        best_person, best_score = scored.get(item.row, (None, float("-inf")))
        near = (
            best_person is not None
            and best_score >= model.match_at
            and _name_agreement(item.name, sound, best_person) == "near"
        )
        decided.append((item, best_person, best_score, near))
    # The households of the people matched by a near name, for the twin check.
    near_matches = [best for _item, best, _score, near in decided if near and best is not None]
    blocks.load(
        district,
        phones={p.phone_blind for p in near_matches},
        homes={p.dwelling_id for p in near_matches if p.dwelling_id},
    )
    for item, best, best_score, near in decided:
        decision = linkage.decide(best_score, model) if best is not None else "new"
        if decision == "matched" and near and best is not None and blocks.has_twin(best):
            decision = "review"
        if decision == "matched" and best is not None:
            plan.matched.append((item, best))
            if item.row_hash not in already:
                _compare(item, best, source, plan, trusts)
        elif decision == "review" and best is not None:
            plan.review.append((item, best, round(best_score, 2)))
        else:
            plan.new.append(item)
    return plan


def _best_matches(
    items: list[Incoming], sounds: list[str], blocks: _Candidates
) -> dict[int, tuple[Known, float]]:
    """Row number → (the best registered candidate, its match weight), scored by Splink over
    the pairs the blocks make (same name sound, same phone or same home)."""
    people = blocks.people()
    if not items or not people:
        return {}
    rows = [
        linkage.Record(
            key=item.row,
            name=item.name,
            name_pinyin=sound,
            birth_date=item.birth_date,
            gender=item.gender,
            phone=item.phone_blinds[0],
            dwelling=item.dwelling_id,
        )
        for item, sound in zip(items, sounds, strict=True)
    ]
    candidates = [
        linkage.Record(
            key=p.pk,
            name=p.name,
            name_pinyin=p.name_pinyin,
            birth_date=p.birth_date,
            gender=p.gender,
            phone=p.phone_blind,
            dwelling=p.dwelling_id,
        )
        for p in people.values()
    ]
    return {
        row: (people[pk], weight)
        for row, (pk, weight) in linkage.best_matches(rows, candidates).items()
    }


_PERSON_COLUMNS = (
    "area", "district", "name", "name_pinyin", "name_initials", "gender", "birth_date",
    "ethnicity", "id_kind", "id_number", "id_blind", "id_last4_blind", "phone", "phone_blind",
    "phone_last4_blind", "residence_type", "status", "dwelling", "relation_to_head",
    "political_status", "work", "hukou_address", "address_raw", "provenance", "version",
)  # fmt: skip


_PROVENANCE_FIELDS = (
    "name", "id_number", "birth_date", "gender", "phone", "ethnicity", "hukou_address",
    "political_status", "work", "address_raw",
)  # fmt: skip


def _new_person_rows(
    items: Iterable[Incoming],
    area_pk: int,
    district_pk: int,
    source: Source,
    today: str,
    inserter: FastInsert,
) -> Iterable[tuple[Any, ...]]:
    """New people as rows of `_PERSON_COLUMNS`, in its order (no model instance: 65k of them
    cost seconds), with the values `services.apply_indexes` derives: the blind indexes were
    computed while reading, the pinyin by the same function."""
    origin = {"source": source.code, "date": today}
    # Provenance differs only by which fields a row filled: one JSON document per such set.
    documents: dict[tuple[str, ...], Any] = {}
    unknown = Gender.UNKNOWN
    for item in items:
        filled = tuple(k for k in _PROVENANCE_FIELDS if getattr(item, k) not in (None, "", unknown))
        provenance = documents.get(filled)
        if provenance is None:
            provenance = documents[filled] = inserter.prepare(
                "provenance", dict.fromkeys(filled, origin)
            )
        name_pinyin, name_initials = normalize.pinyin(item.name)
        yield (
            item.area_id or area_pk, district_pk, item.name, name_pinyin, name_initials,
            item.gender, item.birth_date, item.ethnicity, item.id_kind, item.id_number,
            *item.id_blinds, item.phone, *item.phone_blinds, ResidenceType.REGISTERED,
            PersonStatus.ACTIVE, item.dwelling_id, item.relation_to_head, item.political_status,
            item.work, item.hukou_address, item.address_raw, provenance, 1,
        )  # fmt: skip


@transaction.atomic
def _commit(
    *,
    actor: Any,
    path: Path,
    source: Source,
    area: Area,
    sheet: str,
    plan: _Plan,
    report: ImportReport,
    items: list[Incoming],
    already: set[str],
    mapping: dict[str, str],
    batch: ImportBatch | None = None,
) -> None:
    sha = _sha256(path)
    if ImportBatch.objects.filter(
        source=source, sha256=sha, status=ImportStatus.COMMITTED
    ).exists():
        # The same file again: nothing changes (by content); rows were matched above.
        report.already_committed = True
        report.new = report.updated = report.conflicts = report.review = 0
        return
    today = timezone.localdate().isoformat()
    values = {
        "source": source,
        "area": area,
        "sha256": sha,
        "sheet": sheet,
        "status": ImportStatus.COMMITTED,
        "progress": 100,
        "mapping": mapping,
        "committed_at": timezone.now(),
    }
    if batch is None:
        batch = ImportBatch.objects.create(
            file_name=path.name[:255],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **values,
        )
    else:
        ImportBatch.objects.filter(pk=batch.pk).update(**values)
        batch.refresh_from_db()
    with bulk.loading():
        report.new = _write(plan, items, already, source, area, batch, today)
    source.mapping = mapping
    source.save(update_fields=["mapping", "updated_at"])
    report.committed, report.batch = True, batch.pk
    batch.stats = {k: v for k, v in report.as_json().items() if isinstance(v, int | bool)}
    batch.save(update_fields=["stats"])
    audit.record(actor=actor, action="registry.imported", obj=batch, changes=batch.stats)


def _write(
    plan: _Plan,
    items: list[Incoming],
    already: set[str],
    source: Source,
    area: Area,
    batch: ImportBatch,
    today: str,
) -> int:
    """The rows of a committed import: new rooms and people, filled fields, conflicts, the
    review queue and the row hashes. Returns how many people were registered."""
    district = district_of(area)
    _create_dwellings(plan, items)
    # Rows go in in index order where one order serves several indexes, so that consecutive
    # rows touch the same index pages instead of one random page each (on PostgreSQL, with
    # the register's indexes far larger than its buffer cache, that is most of a big
    # import's time): new people by ID blind index (two indexes); conflicts and row hashes
    # by person, whose row each one's foreign key check locks at commit.
    fresh = sorted((i for i in plan.new if i.row_hash not in already), key=lambda i: i.id_blinds[0])
    now = timezone.now()
    # Filled fields first: each updated person is a new row version in every index, cheaper
    # while the indexes do not hold the new people yet.
    _apply_updates(plan.updates, source, today)
    people = FastInsert(Person, _PERSON_COLUMNS, now=now, prepared=("provenance",))
    created_pks = people.insert(
        _new_person_rows(fresh, area.pk, district.pk, source, today, people), count=len(fresh)
    )
    FastInsert(
        Conflict, ("person", "area", "batch", "field", "incoming", "status", "decision"), now=now
    ).insert(
        (
            (
                p.pk,
                p.area_id,
                batch.pk,
                f,
                v.isoformat() if isinstance(v, dt.date) else str(v),
                "open",
                "",
            )
            for p, f, v in sorted(plan.conflicts, key=lambda c: c[0].pk)
        ),
        count=len(plan.conflicts),
    )
    FastInsert(
        MatchReview,
        ("batch", "area", "row_number", "candidate", "score", "incoming", "status", "decision"),
        now=now,
    ).insert(
        (
            (
                batch.pk,
                p.area_id,
                i.row,
                p.pk,
                s,
                json.dumps(i.values(), ensure_ascii=False),
                "open",
                "",
            )
            for i, p, s in plan.review
        ),
        count=len(plan.review),
    )
    taken = dict(zip((i.row_hash for i in fresh), created_pks, strict=True))
    for i, p in plan.matched:
        if i.row_hash not in already:
            taken.setdefault(i.row_hash, p.pk)
    FastInsert(ImportedRow, ("source", "row_hash", "batch", "person"), now=now).insert(
        ((source.pk, h, batch.pk, pk) for h, pk in sorted(taken.items(), key=lambda t: t[1])),
        count=len(taken),
    )
    return len(created_pks)


def _create_dwellings(plan: _Plan, items: list[Incoming]) -> None:
    """Register the rooms of known buildings that the file named, then point rows at them."""
    if not plan.new_dwellings:
        return
    rows = [
        Dwelling(
            area=new.building.area,
            district=new.building.district,
            building=new.building,
            unit=new.unit,
            room=new.room,
            standard_address=new.standard_address,
        )
        for new in plan.new_dwellings.values()
    ]
    created = Dwelling.objects.bulk_create(rows, batch_size=1000)
    ids = {d.standard_address: d.pk for d in created}
    for item in items:
        if item.new_dwelling:
            item.dwelling_id = ids[item.new_dwelling]
    for item, person in plan.matched:
        if item.new_dwelling and not person.dwelling_id:
            plan.updates.setdefault(person.pk, {})["dwelling_id"] = item.dwelling_id


_PHONE_INDEXES = ("phone_blind", "phone_last4_blind")


def _apply_updates(updates: dict[int, dict[str, Any]], source: Source, today: str) -> None:
    """Write the filled fields, one statement shape per set of fields, many rows each.

    Provenance and version are updated inside the database (the provenance entry is the same
    for every row of a shape), so no person is read, decoded or re-encoded.
    """
    if not updates:
        return
    groups: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
    for pk, fill in sorted(updates.items()):  # in the table's order
        row = dict(fill)
        if "phone" in fill:
            row.update(zip(_PHONE_INDEXES, pii.phone_indexes(fill["phone"]), strict=True))
        names = tuple(sorted(row))
        groups[names].append([row[n] for n in names] + [pk])
    quote = connection.ops.quote_name
    own = f"{quote(Person._meta.db_table)}.{quote('provenance')}"
    merge = f"json_patch({own}, %s)" if connection.vendor == "sqlite" else f"{own} || %s::jsonb"
    version = quote("version")
    also = (
        f"{quote('provenance')} = {merge}, {version} = {quote(Person._meta.db_table)}.{version}"
        f" + 1, {quote('updated_at')} = %s"
    )
    now = Person._meta.get_field("updated_at").get_db_prep_save(timezone.now(), connection)
    stamp = {"source": source.code, "date": today}
    for names, rows in groups.items():
        entry = json.dumps(
            {n.removesuffix("_id"): stamp for n in names if n not in _PHONE_INDEXES},
            ensure_ascii=False,
        )
        bulk.fast_update(Person, names, rows, also=also, params=[entry, now])


def rejected_workbook(report: ImportReport, headers: list[str]) -> bytes:
    """The refused rows with their original cells and a reason column, as xlsx."""
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(_("Rejected rows"))
    text = book.add_format({"num_format": "@"})
    sheet.write_row(0, 0, [_("Row"), _("Reason"), *headers])
    for n, (row, cells, reason) in enumerate(report.rejected, start=1):
        sheet.write_number(n, 0, row)
        sheet.write_string(n, 1, reason)
        for col, cell in enumerate(cells, start=2):
            sheet.write_string(n, col, audit.csv_safe(cell), text)
    book.close()
    return buffer.getvalue()

"""最多录一次: take any department's list into the one register.

read (shequ.lib.sheets) → normalise and validate each row → find the person (exact on the ID
blind index; without a usable ID, a weighted comparison of name, pinyin, birth date, phone and
address) → fill empty fields with provenance, queue conflicts and uncertain matches → commit
everything in one transaction, once per file and once per row.

Dry run by default: `commit=False` reads, matches and reports but writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.core import audit
from shequ.core.bulk import FastInsert
from shequ.core.errors import DomainError
from shequ.lib import address as addresses
from shequ.lib import idcard, normalize, sheets
from shequ.registry import pii
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
from shequ.registry.services import apply_indexes, district_of, standard_dwelling_address
from shequ.registry.states import Gender, IdKind, PersonStatus, Relation, ResidenceType

# Scores of the comparison for rows without a usable ID (log2-odds style weights).
MATCH_AT = 14.0  # at or above: the same person
REVIEW_AT = 8.0  # from here up to MATCH_AT: a person decides
WEIGHTS = {
    "name": 6.0,
    "pinyin": 3.0,  # same sound, other characters (homophones, typos of the same syllable)
    "name_differs": -8.0,
    "birth_date": 7.0,
    "birth_year": 2.0,
    "birth_differs": -6.0,
    "phone": 8.0,
    "dwelling": 4.0,
    "gender_differs": -5.0,
}
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
        data = asdict(self)
        data.pop("rejected")
        data["warnings_detail"] = data.pop("warning_list")[:500]
        data["errors"] = data["errors"][:5000]
        return data


@dataclass
class Incoming:
    """One row, normalised."""

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

    def values(self) -> dict[str, Any]:
        data = asdict(self)
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
        name = normalize.clean_name(v.get("name", ""))
        if not name:
            self.error(row, "name", "name_missing", _("The name is empty."))
            return None
        item = Incoming(row=row.number, name=name)
        raw_id = v.get("id_number", "").strip()
        if raw_id:
            try:
                parsed = idcard.parse(raw_id)
            except idcard.IdCardError as exc:
                self.error(row, "id_number", str(exc.code), exc.message)
                return None
            item.id_number = parsed.number
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
        item.ethnicity = normalize.clean_text(v.get("ethnicity", ""))[:20]
        item.hukou_address = normalize.clean_text(v.get("hukou", ""))[:200]
        item.political_status = normalize.clean_text(v.get("political_status", ""))[:20]
        item.work = normalize.clean_text(v.get("work", ""))[:200]
        item.relation_to_head = _RELATIONS.get(
            normalize.clean_text(v.get("relation_to_head", "")), ""
        )
        raw_address = normalize.clean_text(v.get("address", ""))
        if raw_address:
            item.address_raw = raw_address[:255]
            place = addresses.parse(raw_address)
            standard = place.standard_form()
            # A village's houses are addressed under the village's name (桃源村王家坞12号),
            # which the grammar reads as the administrative prefix: try it both ways.
            hit = self.dwellings.get(standard) or self.dwellings.get(
                f"{place.admin.community}{standard}"
            )
            new = None if hit else self._new_dwelling(place)
            if hit:
                item.dwelling_id, item.area_id = hit
            elif new is not None:
                item.new_dwelling = new.standard_address
                item.area_id = new.building.area_id
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


def _score(item: Incoming, person: Person, phone_blind: str) -> float:
    score = 0.0
    if item.name == person.name:
        score += WEIGHTS["name"]
    elif normalize.pinyin_full(item.name) == person.name_pinyin:
        score += WEIGHTS["pinyin"]
    else:
        score += WEIGHTS["name_differs"]
    if item.birth_date and person.birth_date:
        if item.birth_date == person.birth_date:
            score += WEIGHTS["birth_date"]
        elif item.birth_date.year == person.birth_date.year:
            score += WEIGHTS["birth_year"]
        else:
            score += WEIGHTS["birth_differs"]
    if phone_blind and phone_blind == person.phone_blind:
        score += WEIGHTS["phone"]
    if item.dwelling_id and item.dwelling_id == person.dwelling_id:
        score += WEIGHTS["dwelling"]
    if Gender.UNKNOWN not in (item.gender, person.gender) and item.gender != person.gender:
        score += WEIGHTS["gender_differs"]
    return score


@dataclass
class _Plan:
    new: list[Incoming] = field(default_factory=list)
    matched: list[tuple[Incoming, Person]] = field(default_factory=list)
    review: list[tuple[Incoming, Person, float]] = field(default_factory=list)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    conflicts: list[tuple[Person, str, Any]] = field(default_factory=list)
    new_dwellings: dict[str, NewDwelling] = field(default_factory=dict)


def _chunks(items: list[Any], size: int = 900) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _find_by_id(items: list[Incoming]) -> dict[str, Person]:
    blinds = {pii.id_indexes(i.id_number)[0]: i.id_number for i in items if i.id_number}
    found: dict[str, Person] = {}
    for chunk in _chunks(list(blinds)):
        for person in Person.objects.filter(id_blind__in=chunk).defer("id_number"):
            found[blinds[person.id_blind]] = person
    return found


def _candidates(items: list[Incoming], district: Area) -> dict[str, list[Person]]:
    """People of the district sharing a name's sound with rows that lack an ID."""
    sounds = {normalize.pinyin_full(i.name) for i in items}
    by_sound: dict[str, list[Person]] = defaultdict(list)
    for chunk in _chunks(sorted(sounds)):
        for person in Person.objects.filter(district=district, name_pinyin__in=chunk).defer(
            "id_number"
        ):
            by_sound[person.name_pinyin].append(person)
    return by_sound


def _trust(source_code: str, trusts: dict[str, int]) -> int:
    return trusts.get(source_code, BUILTIN_TRUST.get(source_code, 3))


def _compare(
    item: Incoming, person: Person, source: Source, plan: _Plan, trusts: dict[str, int]
) -> None:
    """Fill the person's empty fields; a different value from an equally trusted or more
    trusted source than the one that set it becomes a conflict for a person to decide."""
    fill: dict[str, Any] = {}
    for name in FILLABLE:
        incoming = getattr(item, name)
        if incoming in (None, ""):
            continue
        current = getattr(person, name)
        if current in (None, ""):
            fill[name] = incoming
        elif name in CONFLICTING and current != incoming:
            setter = (person.provenance.get(name) or {}).get("source", "manual")
            if source.trust >= _trust(setter, trusts):
                plan.conflicts.append((person, name, incoming))
    if item.dwelling_id and not person.dwelling_id:
        fill["dwelling_id"] = item.dwelling_id
    if item.address_raw and not person.address_raw:
        fill["address_raw"] = item.address_raw
    if fill:
        plan.updates.setdefault(person.pk, {}).update(fill)


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

    already = (
        set(
            ImportedRow.objects.filter(
                source=source, row_hash__in=[i.row_hash for i in items]
            ).values_list("row_hash", flat=True)
        )
        if items
        else set()
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
        person = by_id.get(item.id_number)
        if person is None:
            plan.new.append(item)
            continue
        plan.matched.append((item, person))
        if item.row_hash not in already:
            _compare(item, person, source, plan, trusts)
    by_sound = _candidates(without_id, district_of(area)) if without_id else {}
    for item in without_id:
        phone_blind = pii.phone_indexes(item.phone)[0] if item.phone else ""
        scored = sorted(
            (
                (_score(item, p, phone_blind), p)
                for p in by_sound.get(normalize.pinyin_full(item.name), [])
            ),
            key=lambda pair: -pair[0],
        )
        best_score, best = scored[0] if scored else (0.0, None)
        if best is not None and best_score >= MATCH_AT:
            plan.matched.append((item, best))
            if item.row_hash not in already:
                _compare(item, best, source, plan, trusts)
        elif best is not None and best_score >= REVIEW_AT:
            plan.review.append((item, best, best_score))
        else:
            plan.new.append(item)
    return plan


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


def _new_person_row(
    item: Incoming, area_pk: int, district_pk: int, source: Source, today: str
) -> tuple[Any, ...]:
    """One new person as a row of `_PERSON_COLUMNS` (no model instance: 65k of them cost
    seconds), with the same derived values as a person saved through the services."""
    derived = SimpleNamespace(name=item.name, id_number=item.id_number, phone=item.phone)
    apply_indexes(derived)  # type: ignore[arg-type]
    origin = {"source": source.code, "date": today}
    provenance = {
        k: origin for k in _PROVENANCE_FIELDS if getattr(item, k) not in (None, "", Gender.UNKNOWN)
    }
    values = {
        "area": item.area_id or area_pk,
        "district": district_pk,
        "name": item.name,
        "name_pinyin": derived.name_pinyin,
        "name_initials": derived.name_initials,
        "gender": item.gender,
        "birth_date": item.birth_date,
        "ethnicity": item.ethnicity,
        "id_kind": item.id_kind,
        "id_number": item.id_number,
        "id_blind": derived.id_blind,
        "id_last4_blind": derived.id_last4_blind,
        "phone": item.phone,
        "phone_blind": derived.phone_blind,
        "phone_last4_blind": derived.phone_last4_blind,
        "residence_type": ResidenceType.REGISTERED,
        "status": PersonStatus.ACTIVE,
        "dwelling": item.dwelling_id,
        "relation_to_head": item.relation_to_head,
        "political_status": item.political_status,
        "work": item.work,
        "hukou_address": item.hukou_address,
        "address_raw": item.address_raw,
        "provenance": provenance,
        "version": 1,
    }
    return tuple(values[c] for c in _PERSON_COLUMNS)


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
    district = district_of(area)
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
    _create_dwellings(plan, items)
    fresh = [i for i in plan.new if i.row_hash not in already]
    now = timezone.now()
    created_pks = FastInsert(Person, _PERSON_COLUMNS, now=now).insert(
        [_new_person_row(i, area.pk, district.pk, source, today) for i in fresh]
    )
    report.new = len(created_pks)
    _apply_updates(plan.updates, source, today, {p.pk: p for _i, p in plan.matched})
    FastInsert(
        Conflict, ("person", "area", "batch", "field", "incoming", "status", "decision"), now=now
    ).insert(
        [
            (
                p.pk,
                p.area_id,
                batch.pk,
                f,
                str(v.isoformat() if isinstance(v, dt.date) else v),
                "open",
                "",
            )
            for p, f, v in plan.conflicts
        ]
    )
    MatchReview.objects.bulk_create(
        [
            MatchReview(
                batch=batch,
                area_id=p.area_id,
                row_number=i.row,
                candidate=p,
                score=s,
                incoming=json.dumps(i.values(), ensure_ascii=False),
            )
            for i, p, s in plan.review
        ],
        batch_size=2000,
    )
    taken = dict(zip((i.row_hash for i in fresh), created_pks, strict=True))
    for i, p in plan.matched:
        if i.row_hash not in already:
            taken.setdefault(i.row_hash, p.pk)
    FastInsert(ImportedRow, ("source", "row_hash", "batch", "person"), now=now).insert(
        [(source.pk, h, batch.pk, pk) for h, pk in taken.items()]
    )
    source.mapping = mapping
    source.save(update_fields=["mapping", "updated_at"])
    report.committed, report.batch = True, batch.pk
    batch.stats = {k: v for k, v in report.as_json().items() if isinstance(v, int | bool)}
    batch.save(update_fields=["stats"])
    audit.record(actor=actor, action="registry.imported", obj=batch, changes=batch.stats)


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


def _apply_updates(
    updates: dict[int, dict[str, Any]], source: Source, today: str, loaded: dict[int, Person]
) -> None:
    """Write the filled fields, one UPDATE statement shape per set of fields, many rows each.

    Django's bulk_update builds one CASE expression over every row and field, which is slow
    and memory-hungry for tens of thousands of people; executemany is neither. The people were
    loaded while planning, so nothing is read or decrypted twice.
    """
    if not updates:
        return
    missing = [pk for pk in updates if pk not in loaded]
    if missing:
        loaded = {**loaded, **Person.objects.in_bulk(missing)}
    now = timezone.now()
    groups: dict[tuple[str, ...], list[Person]] = defaultdict(list)
    for pk, fill in updates.items():
        person = loaded[pk]
        for key, value in fill.items():
            setattr(person, key, value)
        if "phone" in fill:
            person.phone_blind, person.phone_last4_blind = pii.phone_indexes(person.phone)
        person.provenance = {
            **person.provenance,
            **{k.removesuffix("_id"): {"source": source.code, "date": today} for k in fill},
        }
        person.version += 1
        person.updated_at = now
        extra = ("phone_blind", "phone_last4_blind") if "phone" in fill else ()
        groups[(*sorted(fill), *extra, "provenance", "version", "updated_at")].append(person)
    meta = Person._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for names, people in groups.items():
            fields: list[Any] = [meta.get_field(n) for n in names]
            columns = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
            sql = f"UPDATE {quote(meta.db_table)} SET {columns} WHERE id = %s"  # noqa: S608
            rows = [
                [f.get_db_prep_save(getattr(p, f.attname), connection) for f in fields] + [p.pk]
                for p in people
            ]
            for chunk in _chunks(rows, 2000):
                cursor.executemany(sql, chunk)


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

"""Every write to the register: validated, scoped by the caller, audited without plaintext."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.areas.models import Area, Level
from shequ.core import audit
from shequ.core.errors import DomainError, NotFound
from shequ.lib import address as addresses
from shequ.lib import idcard, normalize
from shequ.registry import pii
from shequ.registry.errors import RegistryError
from shequ.registry.models import (
    Building,
    Dwelling,
    Household,
    Organisation,
    Person,
    PersonTag,
    TagType,
    UnmaskLog,
)
from shequ.registry.states import Gender, IdKind, OrganisationKind

PERSON_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "ethnicity",
    "id_number",
    "phone",
    "residence_type",
    "political_status",
    "work",
    "hukou_address",
    "address_raw",
    "relation_to_head",
)
PII_FIELDS = frozenset({"id_number", "phone"})
PLACEABLE = frozenset({Level.COMMUNITY, Level.GRID, Level.ESTATE, Level.BUILDING})

_ID_KINDS = {
    idcard.IdKind.HK_PERMIT: IdKind.HK,
    idcard.IdKind.MO_PERMIT: IdKind.MACAO,
    idcard.IdKind.TW_PERMIT: IdKind.TAIWAN,
}


def district_of(area: Area) -> Area:
    return area if area.depth == 1 else Area.objects.get(path=area.path[:8])


def _place(area: Area) -> dict[str, Area]:
    if area.level not in PLACEABLE:
        raise DomainError(
            RegistryError.BAD_AREA,
            _("Register people and housing in a community, grid or estate, not in a %(level)s.")
            % {"level": Level(area.level).label},
        )
    return {"area": area, "district": district_of(area)}


def clean_person(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check person fields; the ID number fills birth date and gender.

    Raises DomainError naming the field, with a message a front-desk worker can act on.
    """
    out: dict[str, Any] = {k: data[k] for k in PERSON_FIELDS if k in data}
    if "name" in out:
        out["name"] = normalize.clean_name(str(out["name"] or ""))
        if not out["name"]:
            raise DomainError(
                RegistryError.BAD_NAME, _("Enter the person's name."), {"field": "name"}
            )
    raw_id = str(out.get("id_number") or "").strip()
    if "id_number" in out:
        if raw_id:
            try:
                parsed = idcard.parse(raw_id)
            except idcard.IdCardError as exc:
                raise DomainError(
                    RegistryError.BAD_ID, exc.message, {"field": "id_number"}
                ) from exc
            out["id_number"] = parsed.number
            out["id_kind"] = _ID_KINDS.get(parsed.kind, IdKind.RESIDENT)
            given = out.get("birth_date")
            if given and given != parsed.birth_date:
                raise DomainError(
                    RegistryError.ID_MISMATCH,
                    _("The birth date does not match the ID number (%(date)s).")
                    % {"date": parsed.birth_date.isoformat()},
                    {"field": "birth_date"},
                )
            out["birth_date"] = parsed.birth_date
            if out.get("gender") in (None, "", Gender.UNKNOWN):
                out["gender"] = Gender.MALE if parsed.gender.value == "M" else Gender.FEMALE
        else:
            out["id_number"] = ""
    if "phone" in out:
        raw_phone = str(out["phone"] or "").strip()
        try:
            out["phone"] = normalize.phone(raw_phone) if raw_phone else ""
        except normalize.NormalizeError as exc:
            raise DomainError(RegistryError.BAD_PHONE, exc.message, {"field": "phone"}) from exc
    if isinstance(out.get("birth_date"), str):
        try:
            out["birth_date"] = normalize.parse_date(out["birth_date"])
        except normalize.NormalizeError as exc:
            raise DomainError("person_bad_date", exc.message, {"field": "birth_date"}) from exc
    return out


def apply_indexes(person: Person) -> None:
    """Recompute everything derived from plaintext: blind indexes and pinyin (used by the
    services, the importer and the demo's bulk path alike)."""
    person.id_blind, person.id_last4_blind = pii.id_indexes(person.id_number or "")
    person.phone_blind, person.phone_last4_blind = pii.phone_indexes(person.phone or "")
    person.name_pinyin = normalize.pinyin_full(person.name)
    person.name_initials = normalize.pinyin_initials(person.name)


def _audit_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Field names and values for the log, with personal numbers reduced to 'changed'."""
    return {k: ("(changed)" if k in PII_FIELDS else v) for k, v in changes.items()}


def _stamp(fields: list[str], source: str) -> dict[str, dict[str, str]]:
    today = timezone.localdate().isoformat()
    return {f: {"source": source, "date": today} for f in fields}


def _save_person(person: Person, *, force_insert: bool = False) -> None:
    """Save, turning the unique ID index's refusal into the message the desk understands."""
    try:
        with transaction.atomic():
            person.save(force_insert=force_insert)
    except IntegrityError as exc:
        raise DomainError(
            RegistryError.DUPLICATE_ID,
            _("A person with this ID number is already registered."),
            {"field": "id_number"},
        ) from exc


@transaction.atomic
def person_create(
    *,
    actor: Any,
    area: Area,
    source: str = "manual",
    dwelling: Dwelling | None = None,
    household: Household | None = None,
    **fields: Any,
) -> Person:
    """Register a person in a grid or estate (optionally in a dwelling and household)."""
    data = clean_person(fields)
    person = Person(**_place(area), dwelling=dwelling, household=household, **data)
    apply_indexes(person)
    filled = [k for k, v in data.items() if v not in (None, "")]
    person.provenance = _stamp(filled, source)
    _save_person(person, force_insert=True)
    audit.record(
        actor=actor,
        action="person.created",
        obj=person,
        changes=_audit_changes({k: data[k] for k in filled}),
    )
    return person


@transaction.atomic
def person_update(
    *, actor: Any, person: Person, expected_version: int, source: str = "manual", **fields: Any
) -> Person:
    """Change a person's fields; a stale `expected_version` means someone else saved first."""
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.version != expected_version:
        raise DomainError(
            RegistryError.STALE,
            _("Someone else changed this record meanwhile. Reload it and make your change again."),
            {"version": person.version},
        )
    data = clean_person(fields)
    changed = {k: v for k, v in data.items() if getattr(person, k) != v}
    if not changed:
        return person
    before = {k: getattr(person, k) for k in changed}
    for key, value in changed.items():
        setattr(person, key, value)
    apply_indexes(person)
    person.provenance = {**person.provenance, **_stamp(list(changed), source)}
    person.version += 1
    _save_person(person)
    audit.record(
        actor=actor,
        action="person.updated",
        obj=person,
        changes=_audit_changes({k: [before[k], changed[k]] for k in changed}),
    )
    return person


UNMASKABLE = {"id_number": _("ID number"), "phone": _("phone")}


@transaction.atomic
def person_unmask(*, actor: Any, person: Person, field: str, reason: str) -> str:
    """Show one personal number in full; needs a reason, and who saw what is audited."""
    if field not in UNMASKABLE:
        raise DomainError(
            RegistryError.UNMASK_FIELD, _("Only the ID number or phone can be shown.")
        )
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(
            RegistryError.UNMASK_REASON,
            _("Say why you need to see the full number (for example: 代办高龄津贴)."),
            {"field": "reason"},
        )
    UnmaskLog.objects.create(person=person, actor=actor, field=field, reason=reason[:200])
    audit.record(
        actor=actor,
        action="person.unmasked",
        obj=person,
        changes={"field": field, "reason": reason},
    )
    return str(getattr(person, field) or "")


@transaction.atomic
def tag_assign(
    *,
    actor: Any,
    person: Person,
    tag: TagType,
    source: str,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    details: Mapping[str, Any] | None = None,
) -> PersonTag:
    if valid_from and valid_to and valid_to < valid_from:
        raise DomainError(RegistryError.TAG_PERIOD, _("The end date is before the start date."))
    person_tag = PersonTag.objects.create(
        person=person,
        tag=tag,
        area=person.area,
        district=person.district,
        source=source,
        valid_from=valid_from,
        valid_to=valid_to,
        details=dict(details or {}),
    )
    audit.record(
        actor=actor,
        action="person.tagged",
        obj=person,
        changes={"tag": tag.code, "source": source, "valid_from": valid_from, "valid_to": valid_to},
    )
    return person_tag


@transaction.atomic
def tag_end(*, actor: Any, person_tag: PersonTag, valid_to: dt.date) -> PersonTag:
    person_tag = PersonTag.objects.select_for_update().get(pk=person_tag.pk)
    if person_tag.valid_from and valid_to < person_tag.valid_from:
        raise DomainError(RegistryError.TAG_PERIOD, _("The end date is before the start date."))
    person_tag.valid_to = valid_to
    person_tag.save(update_fields=["valid_to", "updated_at"])
    audit.record(
        actor=actor,
        action="person.tag_ended",
        obj=person_tag.person,
        changes={"tag": person_tag.tag.code, "valid_to": valid_to},
    )
    return person_tag


def standard_building_address(*, road: str, road_number: str, estate: str, name: str) -> str:
    """`XX路12号XX小区3栋` — the key of the standard address library.

    It goes through the same address grammar as every imported address (3幢, 3号楼 and 三栋
    all become 3栋), so an address typed in a department's list finds this building.
    """
    number = f"{road_number}号" if road_number and not road_number.endswith("号") else road_number
    return addresses.parse(f"{road}{number}{estate}{name}").standard_form()


@transaction.atomic
def building_create(
    *,
    actor: Any,
    area: Area,
    code: str,
    name: str,
    road: str = "",
    road_number: str = "",
    estate_name: str = "",
    floors: int | None = None,
    lng: float | None = None,
    lat: float | None = None,
) -> Building:
    building = Building(
        **_place(area),
        code=code,
        name=name,
        road=road,
        road_number=road_number,
        estate_name=estate_name or (area.name if area.level == Level.ESTATE else ""),
        floors=floors,
        lng=lng,
        lat=lat,
    )
    building.standard_address = standard_building_address(
        road=road, road_number=road_number, estate=building.estate_name, name=name
    )
    try:
        with transaction.atomic():
            building.save(force_insert=True)
    except IntegrityError as exc:
        raise DomainError(
            RegistryError.DUPLICATE_ADDRESS,
            _("The building code %(code)s is already in use.") % {"code": code},
        ) from exc
    audit.record(actor=actor, action="building.created", obj=building, changes={"code": code})
    return building


def standard_dwelling_address(building: Building, unit: str, room: str) -> str:
    unit_part = f"{unit}单元" if unit and not unit.endswith("单元") else unit
    room_part = f"{room}室" if room and not room.endswith("室") else room
    return addresses.parse(f"{building.standard_address}{unit_part}{room_part}").standard_form()


@transaction.atomic
def dwelling_create(
    *,
    actor: Any,
    building: Building,
    room: str,
    unit: str = "",
    floor: int | None = None,
    use: str = "owner",
) -> Dwelling:
    dwelling = Dwelling(
        area=building.area,
        district=building.district,
        building=building,
        unit=unit,
        room=room,
        floor=floor,
        use=use,
        standard_address=standard_dwelling_address(building, unit, room),
    )
    try:
        with transaction.atomic():
            dwelling.save(force_insert=True)
    except IntegrityError as exc:
        raise DomainError(
            RegistryError.DUPLICATE_ADDRESS,
            _("%(address)s is already registered.") % {"address": dwelling.standard_address},
        ) from exc
    audit.record(actor=actor, action="dwelling.created", obj=dwelling, changes={"use": use})
    return dwelling


@transaction.atomic
def household_create(
    *, actor: Any, area: Area, number: str, dwelling: Dwelling | None = None
) -> Household:
    household = Household.objects.create(**_place(area), number=number, dwelling=dwelling)
    audit.record(actor=actor, action="household.created", obj=household)
    return household


@transaction.atomic
def household_set_head(*, actor: Any, household: Household, person: Person) -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    household.head = person
    household.save(update_fields=["head", "updated_at"])
    Person.objects.filter(pk=person.pk).update(household=household, relation_to_head="head")
    audit.record(
        actor=actor, action="household.head_set", obj=household, changes={"person": person.pk}
    )
    return household


# ---------------------------------------------------------------------------------------------
# Organisations (实有单位)

ORGANISATION_FIELDS = ("kind", "name", "credit_code", "contact_name", "phone", "address")
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_valid(code: str) -> bool:
    """GB 32100-2015: 18 characters of the code's alphabet, the last one a weighted check."""
    if len(code) != 18 or any(ch not in _CREDIT_CHARS for ch in code):
        return False
    total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(code, _CREDIT_WEIGHTS, strict=False))
    return _CREDIT_CHARS[-total % 31] == code[17]


def clean_organisation(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check organisation fields; a DomainError names the field at fault."""
    out: dict[str, Any] = {k: data[k] for k in ORGANISATION_FIELDS if k in data}
    if "kind" in out and out["kind"] not in OrganisationKind.values:
        raise DomainError(
            "organisation_bad_kind",
            _("Choose what kind of organisation this is."),
            {"field": "kind"},
        )
    if "name" in out:
        out["name"] = normalize.clean_text(str(out["name"] or ""))[:200]
        if not out["name"]:
            raise DomainError(
                "organisation_bad_name", _("Enter the organisation's name."), {"field": "name"}
            )
    if "credit_code" in out:
        code = normalize.to_halfwidth(str(out["credit_code"] or "")).strip().upper()
        if code and not credit_code_valid(code):
            raise DomainError(
                "organisation_bad_credit_code",
                _("This is not a valid unified social credit code (18 characters)."),
                {"field": "credit_code"},
            )
        out["credit_code"] = code
    if "contact_name" in out:
        out["contact_name"] = normalize.clean_text(str(out["contact_name"] or ""))[:50]
    if "address" in out:
        out["address"] = normalize.clean_text(str(out["address"] or ""))[:200]
    if "phone" in out:
        raw_phone = str(out["phone"] or "").strip()
        try:
            out["phone"] = normalize.phone(raw_phone) if raw_phone else ""
        except normalize.NormalizeError as exc:
            raise DomainError("organisation_bad_phone", exc.message, {"field": "phone"}) from exc
    return out


def _check_credit_code_free(code: str, *, district: Area, exclude: int | None = None) -> None:
    """An organisation is registered once per district (最多录一次)."""
    if not code:
        return
    taken = Organisation.objects.filter(district=district, credit_code=code)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise DomainError(
            "organisation_duplicate",
            _("An organisation with this unified social credit code is already registered."),
            {"field": "credit_code"},
        )


@transaction.atomic
def organisation_create(
    *,
    actor: Any,
    area: Area,
    kind: str,
    name: str,
    credit_code: str = "",
    contact_name: str = "",
    phone: str = "",
    address: str = "",
) -> Organisation:
    """Register an organisation (驻区单位, 社会组织, 物业企业, 商户) in an area."""
    data = clean_organisation(
        {
            "kind": kind,
            "name": name,
            "credit_code": credit_code,
            "contact_name": contact_name,
            "phone": phone,
            "address": address,
        }
    )
    place = _place(area)
    _check_credit_code_free(data["credit_code"], district=place["district"])
    organisation = Organisation(**place, **data)
    organisation.phone_blind = pii.phone_indexes(data["phone"])[0]
    organisation.save(force_insert=True)
    filled = {k: v for k, v in data.items() if v}
    audit.record(
        actor=actor,
        action="organisation.created",
        obj=organisation,
        changes=_audit_changes(filled),
    )
    return organisation


@transaction.atomic
def organisation_update(
    *, actor: Any, organisation: Organisation, area: Area | None = None, **fields: Any
) -> Organisation:
    """Change an organisation's fields (and, with `area`, move it to another area)."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    data = clean_organisation(fields)
    changed: dict[str, Any] = {k: v for k, v in data.items() if getattr(organisation, k) != v}
    if area is not None and area.pk != organisation.area_id:
        place = _place(area)
        changed["area"] = area
        if place["district"].pk != organisation.district_id:
            changed["district"] = place["district"]
    if "credit_code" in changed:
        district = changed.get("district", organisation.district)
        _check_credit_code_free(changed["credit_code"], district=district, exclude=organisation.pk)
    if not changed:
        return organisation
    before = {k: getattr(organisation, k) for k in changed}
    for key, value in changed.items():
        setattr(organisation, key, value)
    if "phone" in changed:
        organisation.phone_blind = pii.phone_indexes(organisation.phone or "")[0]
    organisation.save()
    log = {k: [str(before[k]), str(v)] for k, v in changed.items()}
    audit.record(
        actor=actor, action="organisation.updated", obj=organisation, changes=_audit_changes(log)
    )
    return organisation


# ---------------------------------------------------------------------------------------------
# Addresses an import could not resolve (kept as written in `Person.address_raw`)


@dataclass(frozen=True)
class AddressResolution:
    """What one resolution did: the standard address, whether it is new, who was linked."""

    raw: str
    dwelling: Dwelling
    created: bool
    people: list[Person]


def _dwelling_in(*, actor: Any, building: Building, unit: str, room: str) -> tuple[Dwelling, bool]:
    """The room of a building the actor may see: the registered one, or a new one."""
    if not Building.objects.visible_to(actor).filter(pk=building.pk).exists():
        raise NotFound()
    unit = normalize.to_halfwidth(unit or "").strip().removesuffix("单元").strip()
    room = normalize.to_halfwidth(room or "").strip().removesuffix("室").strip()
    if not room:
        raise DomainError("address_bad_room", _("Enter the room number."), {"field": "room"})
    existing = Dwelling.objects.filter(building=building, unit=unit, room=room).first()
    if existing is not None:
        return existing, False
    return dwelling_create(actor=actor, building=building, unit=unit, room=room), True


@transaction.atomic
def address_resolve(
    *,
    actor: Any,
    raw: str,
    dwelling: Dwelling | None = None,
    building: Building | None = None,
    unit: str = "",
    room: str = "",
    source: str = "manual",
) -> AddressResolution:
    """Link everybody the actor may see who waits on the address `raw` to one standard address:
    an existing `dwelling`, or the room `unit`/`room` of `building` (registered if new).

    The people move to the dwelling's area, as the importer places a resolved row. A second
    resolution of the same text finds nobody waiting and is refused.
    """
    if (dwelling is None) == (building is None):
        raise DomainError(
            "address_choose_one",
            _("Pick a registered standard address or enter a new room, not both."),
        )
    created = False
    if building is not None:
        dwelling, created = _dwelling_in(actor=actor, building=building, unit=unit, room=room)
    assert dwelling is not None
    locked = (
        Dwelling.objects.visible_to(actor)
        .select_for_update()
        .select_related("area", "district")
        .filter(pk=dwelling.pk)
        .first()
    )
    if locked is None:
        raise NotFound()
    people = list(
        Person.objects.visible_to(actor)
        .select_for_update()
        .filter(dwelling__isnull=True, address_raw=raw)
        .order_by("pk")
    )
    if not raw or not people:
        raise DomainError(
            "address_nothing_waiting",
            _("Nobody is waiting on this address any more; it may have been resolved already."),
        )
    now = timezone.now()
    stamp = _stamp(["dwelling"], source)
    for person in people:
        person.dwelling, person.area, person.district = locked, locked.area, locked.district
        person.provenance = {**person.provenance, **stamp}
        person.version += 1
        person.updated_at = now
    Person.objects.bulk_update(
        people, ["dwelling", "area", "district", "provenance", "version", "updated_at"]
    )
    for person in people:
        audit.record(
            actor=actor,
            action="person.address_resolved",
            obj=person,
            changes={"address_raw": raw, "dwelling": locked.standard_address},
        )
    audit.record(
        actor=actor,
        action="address.resolved",
        obj=locked,
        changes={"raw": raw, "people": len(people), "created": created},
    )
    return AddressResolution(raw=raw, dwelling=locked, created=created, people=people)

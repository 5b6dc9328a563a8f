"""Reads of the register, always scoped to what the user may see."""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from shequ.lib import idcard
from shequ.registry import pii
from shequ.registry.access import can_see_sensitive
from shequ.registry.models import (
    Building,
    Conflict,
    Dwelling,
    Household,
    MatchReview,
    Person,
    PersonTag,
    Source,
)

_ASCII_LETTERS = re.compile(r"^[a-zA-Z]+$")
_DIGITS = re.compile(r"^[0-9]+[xX]?$")
# Text that reads as an address rather than a name: digits or address words.
_ADDRESS_LIKE = re.compile(r"[0-9０-９]|[路街巷弄号栋幢室]|单元|小区|花园|新村|公寓|家园")


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range both databases answer from the index (SQLite
    cannot use an index for LIKE with an ESCAPE clause, which is what startswith becomes)."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})


def search_q(q: str) -> Q:
    """What a search box means (`zs` finds 张三; 18 digits is an ID; 4 digits a tail).

    Names match from their start, so the indexed column serves the query on both databases.
    """
    q = q.strip()
    if not q:
        return Q()
    if _DIGITS.match(q):
        digits = q.upper()
        if len(digits) in (15, 18):
            try:
                number = idcard.parse(digits).number
            except idcard.IdCardError:
                number = digits
            return Q(id_blind=pii.id_indexes(number)[0])
        if len(digits) == 11:
            return Q(phone_blind=pii.phone_indexes(digits)[0])
        if len(digits) == 4:
            return Q(id_last4_blind=pii.id_indexes("0000" + digits)[1]) | Q(
                phone_last4_blind=pii.phone_indexes("0000000" + digits)[1]
            )
        return Q(pk__in=[])
    if _ASCII_LETTERS.match(q):
        lowered = q.lower()
        return prefix_q("name_initials", lowered) | prefix_q("name_pinyin", lowered)
    if _ADDRESS_LIKE.search(q):
        return Q(dwelling__standard_address__contains=q) | Q(address_raw__contains=q)
    return prefix_q("name", q)


def person_list(*, visible_to: Any, q: str = "") -> QuerySet[Person]:
    return (
        Person.objects.visible_to(visible_to)
        .filter(search_q(q))
        .select_related("area", "dwelling")
        .order_by("name", "pk")
    )


def tags_of(person: Person, *, viewer: Any) -> list[PersonTag]:
    """A person's current and past tags; sensitive ones only for roles allowed to see them."""
    tags = person.tags.select_related("tag").order_by("-valid_from", "tag__name")
    if not can_see_sensitive(viewer):
        tags = tags.filter(tag__sensitive=False)
    return list(tags)


def active_tags_prefetch(viewer: Any) -> Prefetch:
    today = timezone.localdate()
    qs = (
        PersonTag.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("tag")
        .order_by("tag__name", "pk")  # the same order on every database
    )
    if not can_see_sensitive(viewer):
        qs = qs.filter(tag__sensitive=False)
    return Prefetch("tags", queryset=qs, to_attr="active_tags")


def household_members(household: Household) -> list[Person]:
    return list(household.members.order_by("relation_to_head", "birth_date"))


def building_dwellings(building: Building) -> list[Dwelling]:
    """Dwellings with their occupants: what a grid worker walks with."""
    residents = Person.objects.filter(status="active").order_by("relation_to_head", "birth_date")
    occupants: Any = Prefetch("residents", queryset=residents)  # stubs mistype custom managers
    return list(building.dwellings.prefetch_related(occupants).order_by("unit", "floor", "room"))


def building_list(*, visible_to: Any) -> QuerySet[Building]:
    return Building.objects.visible_to(visible_to).select_related("area").order_by("code")


def provenance_rows(person: Person) -> list[tuple[str, str, str]]:
    """(field label, source, date) for each field whose origin is recorded."""
    sources = dict(Source.objects.values_list("code", "name"))
    rows = []
    for name, origin in person.provenance.items():
        label = _field_label(name)
        code = str(origin.get("source", ""))
        rows.append((label, sources.get(code, code), str(origin.get("date", ""))))
    return rows


def person_history(person: Person, limit: int = 50) -> list[Any]:
    """The audited changes of a person (never plaintext: services log numbers as 'changed')."""
    from shequ.core.models import AuditEntry

    return list(
        AuditEntry.objects.filter(object_type="registry.person", object_id=str(person.pk)).order_by(
            "-seq"
        )[:limit]
    )


def _field_label(name: str) -> str:
    try:
        return str(getattr(Person._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def open_conflicts(*, visible_to: Any, limit: int = 100) -> list[Conflict]:
    """Open conflicts with what to show: the field's label and both values, phones masked."""
    conflicts = list(
        Conflict.objects.visible_to(visible_to)
        .filter(status="open")
        .select_related("person", "batch__source")
        .order_by("created_at")[:limit]
    )
    for c in conflicts:
        current = getattr(c.person, c.field)
        masked = c.field == "phone"
        c.label = _field_label(c.field)
        c.current_display = pii.mask_phone(current) if masked else current
        c.incoming_display = pii.mask_phone(c.incoming) if masked else c.incoming
    return conflicts


def open_reviews(*, visible_to: Any, limit: int = 100) -> list[MatchReview]:
    """Open uncertain matches, each with the file's row decoded for display."""
    reviews = list(
        MatchReview.objects.visible_to(visible_to)
        .filter(status="open")
        .select_related("candidate", "batch__source")
        .order_by("created_at")[:limit]
    )
    for r in reviews:
        r.row = json.loads(r.incoming)
    return reviews


# ---------------------------------------------------------------------------------------------
# Organisations and the addresses imports could not resolve. Imports stay inside the functions
# so that this part of the module can grow without touching the import list above.


def organisation_list(*, visible_to: Any) -> QuerySet[Any]:
    from shequ.registry.models import Organisation

    return Organisation.objects.visible_to(visible_to).select_related("area").order_by("name", "pk")


def access_organisation(actor: Any, organisation_id: Any) -> Any:
    """One organisation the actor may see; NotFound for missing and for not-visible alike."""
    from shequ.core.errors import NotFound
    from shequ.registry.access import _pk

    organisation = (
        organisation_list(visible_to=actor)
        .select_related("area", "building")
        .filter(pk=_pk(organisation_id))
        .first()
    )
    if organisation is None:
        raise NotFound()
    return organisation


def access_dwelling(actor: Any, dwelling_id: Any) -> Dwelling:
    """One standard address (room) the actor may see; NotFound otherwise."""
    from shequ.core.errors import NotFound
    from shequ.registry.access import _pk

    dwelling = (
        Dwelling.objects.visible_to(actor)
        .select_related("area", "building")
        .filter(pk=_pk(dwelling_id))
        .first()
    )
    if dwelling is None:
        raise NotFound()
    return dwelling


def audit_history(obj: Any, limit: int = 50) -> list[Any]:
    """The audited changes of one register record, newest first."""
    from shequ.core.models import AuditEntry

    return list(
        AuditEntry.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("-seq")[:limit]
    )


def dwelling_list(*, visible_to: Any) -> QuerySet[Dwelling]:
    return (
        Dwelling.objects.visible_to(visible_to)
        .select_related("area", "building")
        .order_by("standard_address")
    )


def address_q(q: str) -> Q:
    """Standard addresses containing `q` as typed or as the address grammar writes it
    (三号楼 finds 3栋)."""
    from shequ.lib import address as addresses

    q = q.strip()
    if not q:
        return Q()
    standard = addresses.parse(q).standard_form()
    found = Q(standard_address__contains=q)
    if standard and standard != q:
        found |= Q(standard_address__contains=standard)
    return found


def unresolved_people(*, visible_to: Any) -> QuerySet[Person]:
    """People whose reported address matched no standard address; it is kept as written."""
    return (
        Person.objects.visible_to(visible_to).filter(dwelling__isnull=True).exclude(address_raw="")
    )


def unresolved_addresses(people: QuerySet[Person]) -> QuerySet[Any]:
    """One row per address text: how many people wait on it and where they are filed."""
    from django.db.models import Count, Min

    return (
        people.order_by()
        .values("address_raw")
        .annotate(
            waiting=Count("pk"),
            areas=Count("area", distinct=True),
            area_name=Min("area__name"),
        )
        .order_by("-waiting", "address_raw")
    )


def waiting_on(*, visible_to: Any, raw: str, limit: int = 200) -> list[Person]:
    """The people waiting on one address text."""
    return list(
        unresolved_people(visible_to=visible_to)
        .filter(address_raw=raw)
        .select_related("area")
        .order_by("name", "pk")[:limit]
    )


def resolution_buildings(*, visible_to: Any, people: list[Person]) -> QuerySet[Building]:
    """Buildings a new room may go in: those under the areas of the people waiting."""
    from shequ.accounts.scoping import scope_q_for_paths

    paths = {p.area.path for p in people}
    return (
        Building.objects.visible_to(visible_to)
        .filter(scope_q_for_paths(paths, "area__path"))
        .order_by("standard_address")
    )


class AddressSuggestion:
    """What the address grammar makes of a raw address, and what it points at."""

    def __init__(
        self,
        *,
        standard: str,
        queries: list[str],
        dwelling: Dwelling | None,
        building: Building | None,
        unit: str,
        room: str,
    ) -> None:
        self.standard, self.queries = standard, queries
        self.dwelling, self.building = dwelling, building
        self.unit, self.room = unit, room


def address_suggestion(*, visible_to: Any, raw: str) -> AddressSuggestion:
    """Read `raw` as the importer does; name the room or the building it seems to mean, and
    searches for registered rooms from the narrowest (road, number, estate, building) to the
    widest, since lists often get the road number wrong or leave the road out."""
    from shequ.lib import address as addresses

    place = addresses.parse(raw)
    standard = place.standard_form()
    community = place.admin.community
    dwellings = Dwelling.objects.visible_to(visible_to)
    buildings = Building.objects.visible_to(visible_to)
    dwelling = (
        dwellings.filter(standard_address__in=[standard, f"{community}{standard}"]).first()
        if standard
        else None
    )
    building_key = estate_key = ""
    if place.building:
        building_key = addresses.Address(
            raw="",
            road=place.road,
            road_number=place.road_number,
            estate=place.estate,
            building=place.building,
        ).standard_form()
        estate_key = f"{place.estate}{place.building}栋" if place.estate else ""
    building = None
    if building_key:
        building = buildings.filter(
            standard_address__in=[building_key, f"{community}{building_key}"]
        ).first()
    if building is None and estate_key:
        same = list(buildings.filter(standard_address__endswith=estate_key)[:2])
        building = same[0] if len(same) == 1 else None
    if dwelling is None and building is not None and place.room:
        dwelling = dwellings.filter(building=building, unit=place.unit, room=place.room).first()
    road = f"{place.road}{place.road_number}"
    queries = [q[:50] for q in (building_key, estate_key, place.estate, road, raw) if q]
    return AddressSuggestion(
        standard=standard,
        queries=list(dict.fromkeys(queries)),
        dwelling=dwelling,
        building=building,
        unit=place.unit,
        room=place.room,
    )

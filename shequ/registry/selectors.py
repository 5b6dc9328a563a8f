"""Reads of the register, always scoped to what the user may see."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Self

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import F, Lookup, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.where import AND, WhereNode
from django.utils import timezone

from shequ.lib import address as addresses
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
    StaffQuerySet,
)

_ASCII_LETTERS = re.compile(r"^[a-zA-Z]+$")
_DIGITS = re.compile(r"^[0-9]+[xX]?$")
# Text that reads as an address rather than a name: digits or address words.
_ADDRESS_LIKE = re.compile(r"[0-9０-９]|[路街巷弄号栋幢室]|单元|小区|花园|新村|公寓|家园")


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range both databases answer from the index (SQLite
    cannot use an index for LIKE with an ESCAPE clause, which is what startswith becomes)."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})


# Person search. Each kind of search walks one index in the order it returns people, with the
# area in the index, so the first page and a count capped at SEARCH_COUNT_CAP + 1 stop early
# instead of reading (and sorting) every match's wide row: that is what keeps a search of a
# district of a million people under 100 ms on SQLite as well as on PostgreSQL.

SEARCH_COUNT_CAP = 1000
# How far search_people counts each reading of an ambiguous text to choose a plan.
_PROBE = 4 * SEARCH_COUNT_CAP
# A page of an address search walks the matching rooms in id order: as many rooms as the people
# it needs (most rooms hold one or more), at least WALK_ROOMS, then _WALK_GROWTH times as many,
# then all the rest (see PersonResults._walk_rooms).
WALK_ROOMS = 32
_WALK_GROWTH = 8
# On PostgreSQL only: SQLite reads the IN list of rooms in the index's order by itself and stops
# at the page, where the walk costs it CPU (a road's page 29 -> 41 ms of CPU at 1M people).
_WALKED_ON = frozenset({"postgresql"})
_NAME_ORDER = ("name", "pk")
_INITIALS_ORDER = ("name_initials", "name", "pk")
# Substring search of addresses: SQLite FTS5 trigram tables kept by triggers, PostgreSQL
# pg_trgm GIN indexes (migration 0005). Both need three characters to look anything up.
_TRIGRAM = 3
_SQLITE_DWELLINGS_MATCHING = (
    "SELECT rowid FROM registry_dwelling_address_fts WHERE registry_dwelling_address_fts MATCH %s"
)
# Only people without a dwelling are in this table: for everybody else the dwelling's standard
# address is their address (it is what the list shows), so that is what a search matches.
_SQLITE_UNRESOLVED_MATCHING = (
    "SELECT rowid FROM registry_person_unresolved_fts WHERE registry_person_unresolved_fts MATCH %s"
)


@dataclass(frozen=True)
class _Branch:
    """A filter and the order an index returns its people in."""

    q: Q
    order: tuple[str, ...] = _NAME_ORDER
    # The dwellings whose people `q` finds (by an _InRooms lookup), for a page to walk.
    rooms: QuerySet[Dwelling] | None = None


@dataclass(frozen=True)
class _Reading:
    """What a search text can mean: one branch per reading, and `either`, everybody any of
    them finds (used when more than one finds people here)."""

    branches: tuple[_Branch, ...]
    either: _Branch
    # For a large union, `either` rewritten so that one index walks it in order.
    walk: _Branch | None = None


class PersonResults(StaffQuerySet):
    """People found by a search: `count()` stops at `count_cap + 1` rows (to be shown as
    "1000+"), as the page needs the first 25 of 26,000 王 and not the exact 26,000; and a page
    (a slice) is found as ids first, so that only its own 25 wide rows are ever read."""

    count_cap: int | None = None
    viewer: Any = None  # whom person_list scoped these to
    rooms: QuerySet[Dwelling] | None = None  # an address search's rooms, to walk a page
    counted: int | None = None  # what count() said (of these, not copied to clones)

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]  # private in Django, not in the stubs
        clone.count_cap, clone.viewer, clone.rooms = self.count_cap, self.viewer, self.rooms
        return clone

    def capped(self, cap: int | None = None) -> Self:
        clone = self.all()
        clone.count_cap = SEARCH_COUNT_CAP if cap is None else cap
        return clone

    def count_is_capped(self, count: int) -> bool:
        """Whether `count` (what `count()` said) stopped at the cap: more than `count_cap`
        people match, to be shown as "1000+" rather than as a number."""
        return self.count_cap is not None and count > self.count_cap

    def count(self) -> int:
        if self.count_cap is None or self._result_cache is not None or self.query.is_sliced:
            return super().count()
        self.counted = _count_upto(self, self.count_cap + 1)
        return self.counted

    def __getitem__(self, k: Any) -> Any:
        page = super().__getitem__(k)
        evaluated = self._result_cache is not None
        if evaluated or not isinstance(k, slice) or k.step or not self._pages_by_ids():
            return page
        # The page's ids from the search's index alone, then their rows (in the same order,
        # with the same related rows): when a planner expects fewer matches than there are,
        # PostgreSQL sorts all of a road's people, wide rows and all, for these 25.
        ids = self._walk_rooms(page.query.low_mark, page.query.high_mark)
        rows = type(self)(model=self.model, using=self.db).filter(
            pk__in=page.values("pk") if ids is None else ids
        )
        rows.query.select_related = self.query.select_related
        lookups = self._prefetch_related_lookups  # type: ignore[attr-defined]
        return rows.order_by(*self.query.order_by).prefetch_related(*lookups)

    def _walk_rooms(self, start: int, stop: int | None) -> list[int] | None:
        """The ids of people `start:stop` of an address search, found room by room: people
        come in the order of their room's id, so the people of the first few matching rooms
        make the first page, where one query may read every person in the 13,000 rooms on a
        road (PostgreSQL cannot tell how many an array of rooms holds: it may sort them all for
        25). None when the order does not lead with the room, there are no rooms to walk, or
        count() found no more than the cap (the query itself then reads no more than that)."""
        order = self.query.order_by
        if self.rooms is None or stop is None or not order or order[0] != "dwelling_id":
            return None
        if self.counted is not None and not self.count_is_capped(self.counted):
            return None
        if not self.query.standard_ordering or _in_rooms(self.query, None) is None:
            return None
        # By id + 0, not by the primary key's index: PostgreSQL would walk it from the first
        # dwelling, testing each address, until it reaches this road's first rooms.
        rooms = self.rooms.order_by(F("pk") + 0).values("pk")
        first = max(WALK_ROOMS, stop)
        then = first + first * _WALK_GROWTH
        ids: list[int] = []
        for chunk in (rooms[:first], rooms[first:then]):
            part = self._chain()  # type: ignore[attr-defined]  # private, not in the stubs
            part.query.where = _in_rooms(part.query, chunk)
            ids += part.values_list("pk", flat=True)[: stop - len(ids)]
            if len(ids) >= stop:
                return ids[start:stop]
        # Everybody else lives in a room after these (if there are more rooms): the search
        # itself, from there on.
        rest = self.filter(dwelling_id__gt=rooms[then - 1 : then]).values_list("pk", flat=True)
        ids += rest[: stop - len(ids)]
        return ids[start:stop]

    def _pages_by_ids(self) -> bool:
        """Whether a page of these can be rebuilt from its ids (model rows, nothing added)."""
        query = self.query
        models_only = self._fields is None  # type: ignore[attr-defined]  # not in the stubs
        added = query.annotations or query.extra or query.distinct or query.deferred_loading[0]
        return self.count_cap is not None and models_only and not added


def _count_upto(people: QuerySet[Person], limit: int) -> int:
    """COUNT(*) over a LIMITed subquery of ids: the database stops after `limit` rows."""
    return people.order_by().values("pk")[:limit].count()


def _single(branch: _Branch) -> _Reading:
    return _Reading((branch,), branch)


def _either(branches: tuple[_Branch, ...], order: tuple[str, ...] = _NAME_ORDER) -> _Branch:
    found = Q(pk__in=[])
    for branch in branches:
        found |= branch.q
    return _Branch(found, order)


def _fts_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: with the trigram tokenizer, "contains `text`"."""
    return '"' + text.replace('"', '""') + '"'


class _InRooms(Lookup):
    """`dwelling_id IN (rooms)`, which a page of an address search replaces by the rooms it
    walks (`_in_rooms`). On PostgreSQL `lhs = ANY(ARRAY(subquery))`: it runs the subquery once,
    first, and scans an index for the sorted ids in index order, where an IN becomes a join it
    may walk in the order of the other table (every dwelling by id, to reach a road whose rooms
    come last)."""

    lookup_name = "in_rooms"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]


def _in_rooms(query: Any, rooms: QuerySet[Any] | None) -> WhereNode | None:
    """The filter of `query` with its one _InRooms condition, which every row must meet (no OR
    or NOT on the way to it), on `rooms` instead; None if there is no such condition."""
    swapped: list[bool] = []  # for each one met, whether every row must meet it

    def swap(node: WhereNode, required: bool) -> WhereNode:
        required = required and node.connector == AND and not node.negated
        children: list[Any] = []
        for child in node.children:
            if isinstance(child, _InRooms):
                swapped.append(required)
                if rooms is not None:
                    children.append(_InRooms(child.lhs, rooms.query.resolve_expression(query)))
                    continue
            elif isinstance(child, WhereNode):
                child = swap(child, required)
            children.append(child)
        return WhereNode(children, node.connector, node.negated)

    found = swap(query.where, True)
    return found if swapped == [True] else None


def _address_forms(q: str) -> list[str]:
    """The text as typed and as the address grammar writes it (3幢 and 三号楼 are 3栋, 翠苑一区
    is 翠苑1区), as standard addresses are stored in the grammar's form."""
    standard = addresses.parse(q).standard_form()
    return [q, standard] if standard and standard != q else [q]


def _contains_any(field: str, forms: list[str]) -> Q:
    found = Q(pk__in=[])
    for form in forms:
        found |= Q(**{f"{field}__contains": form})
    return found


def _address_reading(q: str, people: QuerySet[Person]) -> _Reading:
    forms = _address_forms(q)
    vendor = connections[people.db].vendor
    # Only the viewer's rooms: PostgreSQL cannot tell how many a subquery returns, and may read
    # every person in them when it guesses few. order_by(): not the model's ordering, which is
    # a join and a sort here.
    viewer = people.viewer if isinstance(people, PersonResults) else None
    rooms_here = Dwelling.objects.all() if viewer is None else Dwelling.objects.visible_to(viewer)
    if vendor == "sqlite" and min(len(f) for f in forms) >= _TRIGRAM:
        # Constant SQL; the text is a parameter.
        phrases = " OR ".join(_fts_phrase(f) for f in forms)
        dwellings = RawSQL(_SQLITE_DWELLINGS_MATCHING, [phrases])  # noqa: S611
        in_dwellings = Q(_InRooms(F("dwelling_id"), dwellings))
        rooms = rooms_here.filter(pk__in=dwellings).order_by()
        unresolved = Q(pk__in=RawSQL(_SQLITE_UNRESOLVED_MATCHING, [phrases]))  # noqa: S611
    else:
        # PostgreSQL answers these LIKEs from its trigram indexes (three characters or more).
        rooms = rooms_here.filter(_contains_any("standard_address", forms)).order_by()
        in_dwellings = Q(_InRooms(F("dwelling_id"), rooms.values("pk")))
        unresolved = Q(dwelling__isnull=True) & _contains_any("address_raw", forms)
    # People come household by household, in the order their rooms were registered: the
    # order of the (dwelling, name) index, so a road's 40,000 people cost one page.
    walked = rooms if vendor in _WALKED_ON else None
    branches = (_Branch(in_dwellings, ("dwelling_id", "name", "pk"), walked), _Branch(unresolved))
    # Both: one list of the ids of the people here that either finds, walked in id order (an
    # OR would read and sort all of a road's people to show the first 25 by name).
    ids = people.order_by().values("pk")
    both = ids.filter(in_dwellings).union(ids.filter(unresolved), all=True)
    return _Reading(branches, _Branch(Q(pk__in=both), ("pk",)))


def _letters_reading(q: str) -> _Reading:
    """Pinyin initials (`zs`) or the start of a full pinyin (`zhang`), lower case either way."""
    lowered = q.lower()
    initials = _Branch(prefix_q("name_initials", lowered), _INITIALS_ORDER)
    if len(lowered) == 1:
        return _single(initials)  # a pinyin starts with the letter its initials start with
    pinyin = _Branch(prefix_q("name_pinyin", lowered), ("name_pinyin", "name", "pk"))
    branches = (initials, pinyin)
    # Both readings start with the first letter of the initials: walking that range of the
    # initials index (which carries the pinyin too) finds `zh` (张华 and 赵…, 周…) in order.
    # startswith (LIKE) so that SQLite does not prefer an OR of two index ranges instead.
    walk = prefix_q("name_initials", lowered[0]) & (
        Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered)
    )
    return _Reading(branches, _either(branches, _INITIALS_ORDER), _Branch(walk, _INITIALS_ORDER))


def _read(q: str, people: QuerySet[Person]) -> _Reading:
    """The readings of a search text (`zs` finds 张三; 18 digits is an ID; 4 digits a tail)
    among `people`."""
    if _DIGITS.match(q):
        digits = q.upper()
        if len(digits) in (15, 18):
            try:
                number = idcard.parse(digits).number
            except idcard.IdCardError:
                number = digits
            return _single(_Branch(Q(id_blind=pii.id_indexes(number)[0])))
        if len(digits) == 11:
            return _single(_Branch(Q(phone_blind=pii.phone_indexes(digits)[0])))
        if len(digits) == 4:
            tail = Q(id_last4_blind=pii.id_indexes("0000" + digits)[1]) | Q(
                phone_last4_blind=pii.phone_indexes("0000000" + digits)[1]
            )
            return _single(_Branch(tail))
        return _single(_Branch(Q(pk__in=[])))
    if _ASCII_LETTERS.match(q):
        return _letters_reading(q)
    if _ADDRESS_LIKE.search(q):
        return _address_reading(q, people)
    return _single(_Branch(prefix_q("name", q)))


def search_q(q: str) -> Q:
    """Everybody a search text can mean, as one filter (`search_people` also orders and caps)."""
    q = q.strip()
    return _read(q, Person.objects.all()).either.q if q else Q()


def search_people(people: QuerySet[Person], q: str) -> QuerySet[Person]:
    """`people` narrowed to what `q` means, in an order an index delivers, count capped (if
    `people` are `PersonResults`, as `person_list` returns).

    A text with two readings (`zs`: initials or pinyin; an address: a dwelling's, or for
    people without one the address as reported) first counts, a little way, what each finds
    here: an OR of two indexes reads and sorts every row it finds, a single index hands over
    the first page in order.
    """
    q = q.strip()
    if not q:
        return people
    reading = _read(q, people)
    chosen = reading.branches[0]
    if len(reading.branches) > 1:
        rest = [(b, _count_upto(people.filter(b.q), _PROBE)) for b in reading.branches[1:]]
        if any(n for _b, n in rest):
            first = _count_upto(people.filter(chosen.q), _PROBE)
            sizes = [(chosen, first), *rest]
            found = [b for b, n in sizes if n]
            if len(found) > 1:
                large = sum(n for _b, n in sizes) > _PROBE
                chosen = reading.walk if large and reading.walk else reading.either
            else:
                chosen = found[0]
    narrowed = people.filter(chosen.q).order_by(*chosen.order)
    if not isinstance(narrowed, PersonResults):
        return narrowed
    narrowed = narrowed.capped()
    narrowed.rooms = chosen.rooms
    return narrowed


def person_list(*, visible_to: Any, q: str = "") -> QuerySet[Person]:
    people = (
        PersonResults(model=Person)
        .visible_to(visible_to)
        .select_related("area", "dwelling")
        .order_by(*_NAME_ORDER)
    )
    people.viewer = visible_to
    return search_people(people, q)


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

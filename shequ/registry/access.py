"""Fetch one register record for a user: 404 for missing and for not-visible alike."""

from __future__ import annotations

from typing import Any

from shequ.accounts.scoping import has_perm
from shequ.core.errors import NotFound
from shequ.registry.models import Building, Household, Person


def can_unmask(actor: Any) -> bool:
    return has_perm(actor, "registry.unmask")


def can_edit_person(actor: Any) -> bool:
    return has_perm(actor, "registry.edit")


def can_see_sensitive(actor: Any) -> bool:
    return has_perm(actor, "registry.sensitive")


def _pk(value: Any) -> int:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    return int(text)


def access_person(actor: Any, person_id: Any) -> Person:
    person = (
        Person.objects.visible_to(actor)
        .select_related("area", "dwelling__building", "household")
        .filter(pk=_pk(person_id))
        .first()
    )
    if person is None:
        raise NotFound()
    return person


def access_building(actor: Any, building_id: Any) -> Building:
    building = (
        Building.objects.visible_to(actor)
        .select_related("area")
        .filter(pk=_pk(building_id))
        .first()
    )
    if building is None:
        raise NotFound()
    return building


def access_household(actor: Any, household_id: Any) -> Household:
    household = (
        Household.objects.visible_to(actor)
        .select_related("area", "dwelling", "head")
        .filter(pk=_pk(household_id))
        .first()
    )
    if household is None:
        raise NotFound()
    return household

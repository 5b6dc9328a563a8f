"""Fetch an application, an item or a person for a user: 404 for missing and for not-visible
alike."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.scoping import scope_q
from shequ.core.errors import NotFound
from shequ.registry.models import Person
from shequ.servicedesk import policy
from shequ.servicedesk.models import Application, ServiceItem

CODE_RE = re.compile(r"^BJ\d{8}-\d{6}$")


def visible_applications_q(actor: Any) -> Q:
    """Desk staff see the applications of their areas; a resident their own."""
    q = scope_q(actor, "area", perm="desk.view")
    if getattr(actor, "is_authenticated", False):
        q |= Q(applicant_user=actor)
        person_id = policy.linked_person_id(actor)
        if person_id is not None:
            q |= Q(person_id=person_id)
    return q


def visible_applications(actor: Any) -> QuerySet[Application]:
    if not getattr(actor, "is_authenticated", False):
        return Application.objects.none()
    return Application.objects.filter(visible_applications_q(actor))


def access_application(actor: Any, ref: Any) -> Application:
    """By application number (BJ20261122-000001) or by id."""
    text = str(ref)
    if CODE_RE.match(text):
        lookup = Q(code=text)
    elif text.isascii() and text.isdigit() and len(text) <= 18:
        lookup = Q(pk=int(text))
    else:
        raise NotFound()
    application = (
        visible_applications(actor)
        .filter(lookup)
        .select_related("item", "person", "area", "district", "applicant_user", "recorded_by")
        .first()
    )
    if application is None:
        raise NotFound()
    return application


def access_item(ref: Any, *, include_inactive: bool = False) -> ServiceItem:
    """A catalogue item by code (the catalogue is public: no user needed)."""
    items = (
        ServiceItem.objects.all() if include_inactive else ServiceItem.objects.filter(active=True)
    )
    item = items.filter(code=str(ref)[:40]).first()
    if item is None:
        raise NotFound()
    return item


def access_applicant(actor: Any, person_id: Any) -> Person:
    """A person the actor may apply for: themselves (their linked person) or, for desk staff,
    anyone in the register they may see."""
    text = str(person_id)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound()
    pk = int(text)
    people = Person.objects.select_related("area", "district", "dwelling", "household")
    if policy.linked_person_id(actor) == pk:
        person = people.filter(pk=pk).first()
    else:
        person = people.filter(scope_q(actor, "area", perm="desk.view"), pk=pk).first()
    if person is None:
        raise NotFound()
    return person

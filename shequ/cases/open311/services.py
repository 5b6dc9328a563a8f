"""Writes for Open311: clients and their keys, and requests posted by a client."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.cases import services as cases
from shequ.cases.errors import CaseError
from shequ.cases.models import Case, CaseEvent, Category, Open311Client
from shequ.cases.open311.errors import ClientError
from shequ.cases.open311.params import NewRequest
from shequ.cases.open311.selectors import key_hash
from shequ.cases.states import Source
from shequ.core import audit
from shequ.core.errors import DomainError
from shequ.lib import address as addresses

MIN_KEY_LENGTH = 16


@transaction.atomic
def open311_client_create(
    *, name: str, key: str | None = None, actor: Any = "shequ open311-client"
) -> tuple[Open311Client, str]:
    """Create the client `name` with `key` (a random one if None) and return both; only the
    key's hash is stored. For an existing name the key is replaced and the client
    reactivated, so running the demo twice leaves one working client."""
    name = name.strip()
    if not name:
        raise DomainError(ClientError.BAD_NAME, _("Give the client a name."), {"field": "name"})
    key = secrets.token_urlsafe(32) if key is None else key
    if len(key) < MIN_KEY_LENGTH:
        raise DomainError(
            ClientError.BAD_KEY,
            _("An API key has at least %(n)s characters.") % {"n": MIN_KEY_LENGTH},
            {"field": "key"},
        )
    digest = key_hash(key)
    client = Open311Client.objects.select_for_update().filter(name=name).first()
    if Open311Client.objects.filter(key_hash=digest).exclude(name=name).exists():
        raise DomainError(
            ClientError.KEY_TAKEN, _("Another client has this key."), {"field": "key"}
        )
    if client is None:
        client = Open311Client.objects.create(name=name, key_hash=digest)
        audit.record(actor=actor, action="open311_client.created", obj=client)
    else:
        client.key_hash, client.active = digest, True
        client.save(update_fields=["key_hash", "active", "updated_at"])
        audit.record(actor=actor, action="open311_client.key_replaced", obj=client)
    return client, key


@transaction.atomic
def open311_client_revoke(*, name: str, actor: Any = "shequ open311-client") -> Open311Client:
    """Refuse the client's key from now on (the cases it reported stay as they are)."""
    client = Open311Client.objects.select_for_update().filter(name=name.strip()).first()
    if client is None:
        raise DomainError(ClientError.NO_CLIENT, _("There is no Open311 client of this name."))
    client.active = False
    client.save(update_fields=["active", "updated_at"])
    audit.record(actor=actor, action="open311_client.revoked", obj=client)
    return client


def _building(new: NewRequest) -> Any:
    """The registered building named by `address_id` (its code) or by `address_string`."""
    from shequ.registry.models import Building

    buildings = Building.objects.select_related("area")
    if new.address_id:
        return buildings.filter(code=new.address_id).first()
    parsed = addresses.parse(new.address_string)
    keys = [parsed.standard_form()]
    if parsed.building:
        keys.insert(0, f"{parsed.road}{parsed.road_number}{parsed.estate}{parsed.building}栋")
    found = {b.standard_address: b for b in buildings.filter(standard_address__in=keys)}
    return next((found[k] for k in keys if k in found), None)


def open311_request_create(*, client: Open311Client, category: Category, new: NewRequest) -> Case:
    """A request posted by an Open311 client becomes a case filed under the grid at its point,
    or under the registered building its address names. The media URL is kept as a note for
    staff and never fetched."""
    area = None
    lat, lng, address = new.lat, new.lng, new.address_string
    if lat is None:
        building = _building(new)
        if building is None:
            raise DomainError(
                CaseError.BAD_LOCATION,
                _("The address is not one of the registered buildings; send lat and long."),
                {"field": "address_string"},
            )
        area, address = building.area, address or building.standard_address
        if building.lat is not None and building.lng is not None:
            lat, lng = building.lat, building.lng
    with transaction.atomic():
        case = cases.case_create(
            actor=None,
            open311_client=client,
            source=Source.OPEN311,
            category=category,
            description=new.description,
            area=area,
            lat=lat,
            lng=lng,
            address=address,
            reporter_name=new.name,
            reporter_phone=new.phone,
        )
        if new.media_url:
            CaseEvent.objects.create(
                case=case,
                at=timezone.now(),
                kind="media_url",
                to_status=case.status,
                note=new.media_url,
                public=False,
                data={"client": client.name},
            )
    return case

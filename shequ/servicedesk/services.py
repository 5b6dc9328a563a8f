"""Every change to an application. One function per operation, called by pages and the API.

The register fills in everything it already knows (最多录一次): the applicant only adds the
item's extra fields and the materials. Deadlines are working days on the same calendar as
cases; asking for more materials (补正) stops the clock until they are handed in.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.cases.services import staff_for
from shequ.cases.sla import calendar
from shequ.core import audit
from shequ.core.errors import DomainError
from shequ.inbox.services import notify_after_commit
from shequ.registry import pii
from shequ.registry.states import PersonStatus
from shequ.servicedesk import policy
from shequ.servicedesk.defaults import REGISTER_TAGS
from shequ.servicedesk.errors import DeskError
from shequ.servicedesk.models import (
    AppCounter,
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ResidentLink,
    ServiceItem,
)
from shequ.servicedesk.states import MOVES, Channel, Status

MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".heic", ".webp"}
# A material handed in beyond the item's list, when the desk asks for something else (补正).
OTHER = "other"


# Reading the register --------------------------------------------------------------------------


def register_form(item: ServiceItem, person: Any) -> dict[str, Any]:
    """What the register holds about the applicant, as the form shows it (masked numbers)."""
    household = person.household
    dwelling = person.dwelling
    today = timezone.localdate()
    wanted = REGISTER_TAGS.get(item.code, ())
    tags = []
    if wanted:
        for pt in person.tags.filter(tag__code__in=wanted).select_related("tag").order_by("pk"):
            if pt.valid_to is not None and pt.valid_to < today:
                continue
            tags.append(
                {
                    "code": pt.tag.code,
                    "name": pt.tag.name,
                    "sensitive": bool(pt.tag.sensitive),
                    "details": dict(pt.details or {}),
                }
            )
    return {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "age": person.age,
        "id_masked": pii.mask_id(person.id_number),
        "phone_masked": pii.mask_phone(person.phone),
        "address": (dwelling.standard_address if dwelling else "") or person.address_raw,
        "household": household.number if household else "",
        "relation_to_head": person.relation_to_head,
        "residence_type": person.residence_type,
        "area": person.area.name,
        "tags": tags,
    }


def _parse_extra(item: ServiceItem, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """The item's extra fields from what was typed; anything else (the register's fields) is
    dropped, never stored twice."""
    values = values or {}
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in item.extra_fields:
        code, kind = str(spec["code"]), str(spec.get("type", "text"))
        raw = values.get(code)
        text = "" if raw is None else str(raw).strip()
        if not text:
            if spec.get("required"):
                errors[code] = _("Fill in “%(label)s”.") % {"label": spec["label"]}
            continue
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                errors[code] = _("“%(label)s” must be a number.") % {"label": spec["label"]}
                continue
            out[code] = int(number) if number.is_integer() else number
        elif kind == "date":
            try:
                out[code] = dt.date.fromisoformat(text).isoformat()
            except ValueError:
                errors[code] = _("“%(label)s” must be a date (YYYY-MM-DD).") % {
                    "label": spec["label"]
                }
        elif kind == "choice":
            if text not in spec.get("choices", []):
                errors[code] = _("Choose one of the options for “%(label)s”.") % {
                    "label": spec["label"]
                }
                continue
            out[code] = text
        else:
            out[code] = text[:2000]
    if errors:
        first = next(iter(errors))
        raise DomainError(DeskError.BAD_FORM, errors[first], {"field": first, "fields": errors})
    return out


# Materials ------------------------------------------------------------------------------------


def _material_names(item: ServiceItem) -> dict[str, str]:
    names = {str(m["code"]): str(m["name"]) for m in item.materials}
    names.setdefault(OTHER, _("Other document"))
    return names


def required_codes(item: ServiceItem) -> list[str]:
    return [str(m["code"]) for m in item.materials if m.get("required")]


def _content_is(upload: Any, ext: str) -> bool:
    """Whether the file's first bytes are those of the type its name says (a renamed text or
    program file is not a scan), read without moving the upload's position."""
    try:
        start = upload.tell()
        head = upload.read(16)
        upload.seek(start)
    except (AttributeError, OSError, ValueError):
        return False
    if ext == ".pdf":
        return head.startswith(b"%PDF-")
    if ext in {".jpg", ".jpeg"}:
        return head.startswith(b"\xff\xd8\xff")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    # HEIC: an ISO media file whose brand is one of HEIF's.
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"mif1", b"msf1"}


def _check_files(item: ServiceItem, files: Mapping[str, Any], seen: Iterable[str]) -> None:
    names = _material_names(item)
    for code in [*files, *seen]:
        if code not in names:
            raise DomainError(
                DeskError.BAD_FILE,
                _("This service asks for no material called “%(code)s”.") % {"code": code},
                {"field": "materials", "material": code},
            )
    for code, upload in files.items():
        ext = os.path.splitext(getattr(upload, "name", "") or "")[1].lower()
        too_big = (getattr(upload, "size", 0) or 0) > MAX_FILE_BYTES
        if ext not in FILE_TYPES or too_big or not _content_is(upload, ext):
            raise DomainError(
                DeskError.BAD_FILE,
                _("“%(name)s”: upload a PDF or a photo (JPG, PNG, HEIC) of at most 10 MB.")
                % {"name": names[code]},
                {"field": "materials", "material": code},
            )


def _store_materials(
    application: Application, files: Mapping[str, Any], seen: Iterable[str], actor: Any
) -> list[str]:
    """Record uploads and originals seen; returns the codes handed in."""
    handed: list[str] = []
    for code, upload in files.items():
        row, _made = ApplicationMaterial.objects.get_or_create(application=application, code=code)
        row.file.save(upload.name, upload, save=False)
        row.save()
        handed.append(code)
    for code in seen:
        ApplicationMaterial.objects.update_or_create(
            application=application, code=code, defaults={"seen_by": actor}
        )
        handed.append(code)
    return handed


def missing_materials(application: Application) -> list[str]:
    """Names of the required materials neither uploaded nor seen, in the item's order."""
    have = {
        row.code
        for row in application.material_rows.all()
        if (row.file and row.file.name) or row.seen_by_id
    }
    names = _material_names(application.item)
    return [names[c] for c in required_codes(application.item) if c not in have]


def _require_materials(item: ServiceItem, present: set[str]) -> None:
    names = _material_names(item)
    missing = [names[c] for c in required_codes(item) if c not in present]
    if missing:
        raise DomainError(
            DeskError.MATERIALS_MISSING,
            _("Materials missing: %(list)s.") % {"list": "、".join(missing)},
            {"field": "materials", "missing": missing},
        )


# Creating -------------------------------------------------------------------------------------


def _code(now: dt.datetime) -> str:
    """BJ20261122-000123: the day's next number, from a locked per-day counter row."""
    day = timezone.localdate(now)
    counter, _created = AppCounter.objects.select_for_update().get_or_create(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"BJ{day:%Y%m%d}-{counter.last:06d}"


def applicant_url(application: Application) -> str:
    return reverse("services:my_detail", args=[application.code])


def desk_url(application: Application) -> str:
    return reverse("desk:application", args=[application.code])


def _event(
    application: Application,
    *,
    actor: Any,
    kind: str,
    before: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    at: dt.datetime,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=application,
        at=at,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        from_status=before,
        to_status=application.status,
        note=note,
        data=data or {},
    )


def _seen_allowed(actor: Any, path: str, seen: list[str]) -> None:
    if seen and not policy.can_mark_seen(actor, path):
        raise DomainError(
            DeskError.NOT_SEEN,
            _("Only desk staff can confirm they have seen an original; upload a copy instead."),
            {"field": "materials"},
        )


def application_create(
    *,
    actor: Any,
    item: ServiceItem,
    person: Any,
    channel: str,
    proxy_authorisation: str = "",
    form: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    seen: Iterable[str] | None = None,
) -> Application:
    """Apply for `item` for `person`: online by the resident, at the desk with the resident
    present, or by a worker on the resident's behalf (代办, with the authorisation recorded)."""
    files = dict(files or {})
    seen_codes = list(dict.fromkeys(seen or []))
    if channel not in Channel.values or not policy.can_apply(actor, item, person, channel):
        raise DomainError(
            DeskError.CHANNEL,
            _("You cannot apply for “%(item)s” for this person through this channel.")
            % {"item": item.name},
            {"field": "channel", "channel": channel},
        )
    if person.status != PersonStatus.ACTIVE:
        raise DomainError(
            DeskError.PERSON_INACTIVE,
            _("The register records this person as “%(status)s”.")
            % {"status": person.get_status_display()},
            {"field": "person"},
        )
    authorisation = proxy_authorisation.strip()
    if channel == Channel.PROXY and not authorisation:
        raise DomainError(
            DeskError.AUTHORISATION,
            _("Record the resident's authorisation for handling this on their behalf."),
            {"field": "proxy_authorisation"},
        )
    extra = _parse_extra(item, form)
    _seen_allowed(actor, person.area.path, seen_codes)
    _check_files(item, files, seen_codes)
    _require_materials(item, set(files) | set(seen_codes))
    with transaction.atomic():
        now = timezone.now()
        if channel == Channel.ONLINE:
            applicant = actor
        else:
            link = ResidentLink.objects.filter(person=person).select_related("user").first()
            applicant = link.user if link else None
        application = Application(
            code=_code(now),
            item=item,
            person=person,
            area=person.area,
            district=person.district,
            channel=channel,
            applicant_user=applicant,
            recorded_by=actor,
            proxy_authorisation=authorisation[:200] if channel == Channel.PROXY else "",
            form={"register": register_form(item, person), "extra": extra},
            status=Status.SUBMITTED,
            due_at=calendar().add_days(now, item.time_limit_days),
        )
        application.save()
        handed = _store_materials(application, files, seen_codes, actor)
        _event(
            application,
            actor=actor,
            kind="submitted",
            data={"channel": channel, "materials": handed},
            at=now,
        )
        audit.record(
            actor=actor,
            action="application.submitted",
            obj=application,
            changes={
                "item": item.code,
                "channel": channel,
                "materials": handed,
                **({"authorisation": application.proxy_authorisation} if authorisation else {}),
            },
        )
        title = _("Application %(code)s: %(item)s") % {"code": application.code, "item": item.name}
        if applicant is not None:
            notify_after_commit(
                users=[applicant],
                kind="application.submitted",
                title=title + " · " + str(Status.SUBMITTED.label),
                url=applicant_url(application),
            )
        notify_after_commit(
            users=[u for u in staff_for(person.area, "desk.handle") if u.pk != actor.pk],
            kind="application.submitted",
            title=_("New application %(code)s: %(item)s")
            % {"code": application.code, "item": item.name},
            url=desk_url(application),
        )
    return application


# Moving ---------------------------------------------------------------------------------------


def _paused_seconds(application: Application, now: dt.datetime) -> int:
    if application.paused_at is None:
        return 0
    return calendar().working_seconds(application.paused_at, now)


def application_move(
    *,
    actor: Any,
    application: Application,
    move: str,
    note: str = "",
    forwarded_to: str = "",
    rating: int | None = None,
    files: Mapping[str, Any] | None = None,
    seen: Iterable[str] | None = None,
    expected_version: int | None = None,
) -> Application:
    """Make one move of the state machine. The row is locked, so of two identical moves sent at
    once exactly one takes effect and the other finds the application already moved (409)."""
    spec = MOVES.get(move)
    if spec is None:
        raise DomainError(DeskError.INVALID_TRANSITION, _("There is no such action."))
    files = dict(files or {})
    seen_codes = list(dict.fromkeys(seen or []))
    note = note.strip()
    with transaction.atomic():
        locked = (
            Application.objects.select_for_update(of=("self",))
            .select_related("item", "area")
            .get(pk=application.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise DomainError(
                DeskError.STALE,
                _("Someone else changed this application a moment ago; reload it and try again."),
            )
        if locked.status not in spec.sources:
            raise DomainError(
                DeskError.INVALID_TRANSITION,
                _("An application that is “%(status)s” cannot be moved by “%(move)s”.")
                % {"status": Status(locked.status).label, "move": spec.label},
                {"status": locked.status, "move": move},
            )
        if not policy.can_move(actor, locked, move):
            raise DomainError(
                DeskError.NOT_YOURS,
                _("This action on this application is not yours to take."),
                {"move": move},
            )
        if spec.needs_note and not note:
            raise DomainError(
                DeskError.NOTE_REQUIRED,
                _("Give a reason for “%(move)s”.") % {"move": spec.label},
                {"field": "note"},
            )
        _seen_allowed(actor, locked.area.path, seen_codes)
        _check_files(locked.item, files, seen_codes)
        before = locked.status
        now = timezone.now()
        handed = _store_materials(locked, files, seen_codes, actor)
        extra = _APPLY[move](
            locked, now=now, note=note, forwarded_to=forwarded_to, rating=rating, handed=handed
        )
        locked.status = spec.target
        locked.version += 1
        locked.save()
        data = {**extra, **({"materials": handed} if handed else {})}
        _event(locked, actor=actor, kind=move, before=before, note=note, data=data, at=now)
        audit.record(
            actor=actor,
            action=f"application.{move}",
            obj=locked,
            changes={"status": [before, locked.status], **data},
        )
        _notify(locked, move, actor)
    return locked


Effect = dict[str, Any]


def _accept(app: Application, *, now: dt.datetime, **_kw: Any) -> Effect:
    _require_materials(app.item, _present(app))
    app.accepted_at = app.accepted_at or now
    return {}


def _present(app: Application) -> set[str]:
    return {
        row.code
        for row in app.material_rows.all()
        if (row.file and row.file.name) or row.seen_by_id
    }


def _request_materials(app: Application, *, now: dt.datetime, **_kw: Any) -> Effect:
    app.paused_at = now
    return {}


def _supplement(
    app: Application, *, now: dt.datetime, note: str, handed: list[str], **_kw: Any
) -> Effect:
    if not handed and not note:
        raise DomainError(
            DeskError.NOTHING_HANDED_IN,
            _("Upload the materials asked for, or write what you are handing in."),
            {"field": "materials"},
        )
    _require_materials(app.item, _present(app))
    paused = _paused_seconds(app, now)
    if app.due_at is not None and paused:
        app.due_at = calendar().add_hours(app.due_at, paused / 3600)
    app.paused_at = None
    return {"paused_seconds": paused}


def _finish(app: Application, *, now: dt.datetime, note: str, **_kw: Any) -> Effect:
    app.finished_at = now
    app.paused_at = None
    app.answer = note[:4000]
    return {}


def _forward(app: Application, *, forwarded_to: str, **_kw: Any) -> Effect:
    app.forwarded_to = (forwarded_to.strip() or app.item.department)[:100]
    return {"forwarded_to": app.forwarded_to}


def _rate(app: Application, *, rating: int | None, note: str, **_kw: Any) -> Effect:
    try:
        value = int(rating) if rating is not None else 0
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise DomainError(DeskError.BAD_RATING, _("Rate from 1 to 5 stars."), {"field": "rating"})
    app.rating, app.rating_comment = value, note[:1000]
    return {"rating": value}


_APPLY: dict[str, Any] = {
    "accept": _accept,
    "request_materials": _request_materials,
    "supplement": _supplement,
    "refuse": _finish,
    "forward": _forward,
    "approve": _finish,
    "deny": _finish,
    "rate": _rate,
}
assert set(_APPLY) == set(MOVES), "every move needs its effect"


def _notify(app: Application, move: str, actor: Any) -> None:
    """The applicant hears of every step (their own too, as a receipt); the desk hears when
    materials come in and when the applicant rates."""
    title = _("Application %(code)s: %(item)s · %(status)s") % {
        "code": app.code,
        "item": app.item.name,
        "status": Status(app.status).label,
    }
    if app.applicant_user_id is not None:
        notify_after_commit(
            users=[app.applicant_user],
            kind=f"application.{move}",
            title=title,
            url=applicant_url(app),
        )
    if move in ("supplement", "rate"):
        notify_after_commit(
            users=[
                u for u in staff_for(app.area, "desk.handle") if u.pk != getattr(actor, "pk", 0)
            ],
            kind=f"application.{move}",
            title=title,
            url=desk_url(app),
        )

"""Community certificates (社区证明): only types on the positive list are issued, filled from the
register; a forbidden type is refused at once with the route that serves the need instead.

Each issued certificate has a serial (committee code, year, running number) and an unguessable
verification code printed with a QR code to the public `/verify/<code>` page, which shows only
what the holder agreed to show. Every issue, revocation and staff print is audited; every
look-up of a code, found or not, is logged as a `Verification` row.

The PDF is rendered on demand with WeasyPrint from the stored text (a reprint is the same file
as the first print, whatever the register says later) by `certificate_render`, from plain data.
Rendering CJK text spent most of its time subsetting the system's 26 MB Noto font collection,
so the common characters (GB 2312) are subset once into a small font under
`VAR_DIR/cache/fonts/`; other characters fall back to the system font. A committee prints many
at once with `certificate_print_batch` (`shequ certificates-pdf`), rendered across processes.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from string import Formatter
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area, Level
from shequ.core import audit
from shequ.core.errors import DomainError, NotFound
from shequ.inbox.services import notify_after_commit
from shequ.registry.access import access_person
from shequ.registry.models import Person
from shequ.registry.pii import mask_id, mask_phone
from shequ.registry.states import DwellingUse, Gender, PersonStatus, ResidenceType
from shequ.servicedesk.certificate_render import (
    FONT_FAMILY,
    PdfData,
    pdf_html,
    render_many,
    render_pdf,
)
from shequ.servicedesk.errors import CertificateError
from shequ.servicedesk.models import (
    Application,
    Certificate,
    CertificateType,
    ResidentLink,
    Verification,
)
from shequ.servicedesk.policy import in_scope

log = logging.getLogger(__name__)


# --- Verification codes -------------------------------------------------------------------

# Base32 without the characters people misread (0/O, 1/I): 16 characters are 80 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 16


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Upper case without the spaces and dashes people type between groups."""
    return "".join(ch for ch in str(raw).upper() if ch not in " -")


def grouped(code: str) -> str:
    """`ABCD-EFGH-JKMN-PQRS`, as printed."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


# --- The register's data a template may use ----------------------------------------------


@dataclass(frozen=True)
class Fill:
    """What a template is filled with besides the person."""

    committee: str
    purpose: str
    issued_on: dt.date
    valid_until: dt.date
    full_id: bool


@dataclass(frozen=True)
class Field:
    label: Promise
    value: Callable[[Person, Fill], str | None]  # None: the register does not hold it


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _since(person: Person, _fill: Fill) -> str | None:
    """When the register recorded the person at this dwelling (else when it first recorded
    them): the certificate can attest only what the register holds."""
    stamp = (person.provenance or {}).get("dwelling") or {}
    try:
        day = dt.date.fromisoformat(str(stamp.get("date", "")))
    except ValueError:
        day = timezone.localdate(person.created_at)
    return cn_date(day)


def _address(person: Person, _fill: Fill) -> str | None:
    dwelling = person.dwelling
    return dwelling.standard_address if dwelling is not None else None


def _rented_address(person: Person, fill: Fill) -> str | None:
    dwelling = person.dwelling
    if dwelling is not None and dwelling.use == DwellingUse.RENTED:
        return dwelling.standard_address
    return None


GENDER_TEXT: dict[str, str] = {Gender.MALE: "男", Gender.FEMALE: "女"}
RESIDENCE_TEXT: dict[str, str] = {
    ResidenceType.REGISTERED: "本地户籍",
    ResidenceType.FLOATING: "非本地户籍",
    ResidenceType.FOREIGN: "境外人员",
}

# The one list of placeholders a certificate template may use (`{name}` …). The certificate
# is an official Chinese document, so the values are Chinese whatever the interface language.
FIELDS: dict[str, Field] = {
    "name": Field(gettext_lazy("full name"), lambda p, f: p.name or None),
    "id_number": Field(
        gettext_lazy("ID number"),
        lambda p, f: (p.id_number if f.full_id else mask_id(p.id_number)) or None,
    ),
    "gender": Field(gettext_lazy("gender"), lambda p, f: GENDER_TEXT.get(p.gender)),
    "birth_date": Field(
        gettext_lazy("birth date"), lambda p, f: cn_date(p.birth_date) if p.birth_date else None
    ),
    "address": Field(gettext_lazy("address of the dwelling"), _address),
    "rented_address": Field(
        gettext_lazy("address of a dwelling registered as rented"), _rented_address
    ),
    "residence_type": Field(
        gettext_lazy("residence"), lambda p, f: RESIDENCE_TEXT.get(p.residence_type)
    ),
    "since": Field(gettext_lazy("registered at the address since"), _since),
    "committee": Field(gettext_lazy("issuing committee"), lambda p, f: f.committee),
    "purpose": Field(gettext_lazy("purpose"), lambda p, f: f.purpose),
    "date": Field(gettext_lazy("date of issue"), lambda p, f: cn_date(f.issued_on)),
    "valid_until": Field(gettext_lazy("valid until"), lambda p, f: cn_date(f.valid_until)),
}


def placeholders(template: str) -> list[str]:
    """The placeholders of a template, refusing anything but plain `{name}` of FIELDS (no
    attribute access, indexing, conversions or format specs: templates are edited by admins)."""
    try:
        parts = list(Formatter().parse(template))
    except ValueError as exc:
        raise DomainError(
            CertificateError.TEMPLATE,
            _("The certificate template is malformed: %(error)s") % {"error": exc},
        ) from exc
    names: list[str] = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            raise DomainError(
                CertificateError.TEMPLATE,
                _("The certificate template uses an unknown placeholder: {%(name)s}")
                % {"name": name},
                {"placeholder": name},
            )
        names.append(name)
    return names


def fill_template(template: str, person: Person, fill: Fill) -> str:
    """The template with every placeholder filled from the register, or the list of what the
    register lacks (DomainError `certificate_register_incomplete`)."""
    names = placeholders(template)
    values = {name: FIELDS[name].value(person, fill) for name in dict.fromkeys(names)}
    missing = [name for name, value in values.items() if not value]
    if missing:
        labels = [str(FIELDS[name].label) for name in missing]
        raise DomainError(
            CertificateError.REGISTER,
            _(
                "The register lacks what this certificate states: %(fields)s. "
                "Correct the register first."
            )
            % {"fields": "、".join(labels)},
            {"missing": missing},
        )
    out: list[str] = []
    for literal, name, _spec, _conversion in Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(str(values[name]))
    return "".join(out)


# --- What the verification page may show --------------------------------------------------

# The holder's choices, with their defaults: the name is shown masked (张*三) unless
# `full_name`; the purpose is shown unless switched off; the ID number and phone (masked) and
# the address only when asked for.
CONSENT_DEFAULTS: dict[str, bool] = {
    "full_name": False,
    "purpose": True,
    "id_number": False,
    "address": False,
    "phone": False,
}
CONSENT_LABELS: dict[str, Promise] = {
    "full_name": gettext_lazy("Full name (otherwise masked, e.g. 张*三)"),
    "purpose": gettext_lazy("Purpose"),
    "id_number": gettext_lazy("ID number, masked"),
    "address": gettext_lazy("Address"),
    "phone": gettext_lazy("Phone number, masked"),
}


def consent_normalise(consent: Mapping[str, Any] | None) -> dict[str, bool]:
    given = dict(consent or {})
    unknown = sorted(set(given) - set(CONSENT_DEFAULTS))
    if unknown or not all(isinstance(v, bool) for v in given.values()):
        raise DomainError(
            CertificateError.CONSENT,
            _("Consent may only switch these on or off: %(keys)s.")
            % {"keys": ", ".join(CONSENT_DEFAULTS)},
            {"field": "consent", "unknown": unknown},
        )
    return {**CONSENT_DEFAULTS, **given}


def consent_labels(consent: Mapping[str, Any] | None) -> list[str]:
    """What a certificate's verification shows beyond the type, committee and dates."""
    given = {**CONSENT_DEFAULTS, **(consent or {})}
    shown = [str(CONSENT_LABELS[key]) for key in CONSENT_DEFAULTS if given[key]]
    if not given["full_name"]:
        shown.insert(0, str(gettext_lazy("Name, masked")))
    return shown


def mask_name(name: str) -> str:
    """`张*` for two characters, `张*三` / `欧**明` for more: first and last kept."""
    name = (name or "").strip()
    if len(name) < 2:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- Who may do what ------------------------------------------------------------------------


def can_issue_for(actor: Any, person: Person) -> bool:
    return in_scope(actor, "certificates.issue", person.area.path)


def can_revoke(actor: Any, certificate: Certificate) -> bool:
    return certificate.revoked_at is None and in_scope(
        actor, "certificates.revoke", certificate.area.path
    )


def can_print(actor: Any, certificate: Certificate) -> bool:
    """The issuing desk (and those who may revoke) print; a revoked certificate never."""
    path = certificate.area.path
    return certificate.revoked_at is None and (
        in_scope(actor, "certificates.issue", path) or in_scope(actor, "certificates.revoke", path)
    )


def visible_certificates(actor: Any) -> QuerySet[Certificate]:
    return Certificate.objects.visible_to(actor).select_related(
        "type", "person", "area", "issued_by"
    )


def access_certificate(actor: Any, code: Any) -> Certificate:
    """By verification code: 404 for missing and for not visible alike."""
    normal = normalise_code(code)
    if not is_well_formed(normal):
        raise NotFound()
    certificate = visible_certificates(actor).filter(code=normal).first()
    if certificate is None:
        raise NotFound()
    return certificate


def type_list() -> QuerySet[CertificateType]:
    """Allowed types first, then the negative list, each in its order."""
    return CertificateType.objects.all()


def access_type(code: Any) -> CertificateType:
    found = CertificateType.objects.filter(code=str(code)[:40]).first()
    if found is None:
        raise NotFound()
    return found


# --- Issuing and revoking -------------------------------------------------------------------


def committee_of(area: Area) -> Area:
    """The community (residents' or villagers' committee) an area belongs to."""
    if area.level == Level.COMMUNITY:
        return area
    found = Area.objects.filter(path__in=area.ancestor_paths, level=Level.COMMUNITY).first()
    return found or area


def committee_name(community: Area) -> str:
    name = community.name
    if name.endswith(("委员会", "居委会", "村委会")):
        return name
    return name + ("村民委员会" if community.kind == "rural" else "居民委员会")


def refuse_forbidden(certificate_type: CertificateType) -> None:
    """A certificate on the negative list: refused, with where to go instead."""
    if certificate_type.allowed:
        return
    raise DomainError(
        CertificateError.FORBIDDEN,
        _(
            "The community does not issue the %(name)s (民发〔2020〕20号: not to be issued by "
            "residents' or villagers' committees). Instead: %(alternative)s"
        )
        % {"name": certificate_type.name, "alternative": certificate_type.alternative},
        {"alternative": certificate_type.alternative, "type": certificate_type.code},
    )


def _serial_prefix(community: Area, day: dt.date) -> str:
    return f"{community.code[:18]}-{day.year}-"


def next_serial(prefix: str) -> str:
    """The committee's next running number this year (the unique index settles races)."""
    last = (
        Certificate.objects.filter(serial__startswith=prefix)
        .order_by("-serial")
        .values_list("serial", flat=True)
        .first()
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{number:06d}"


def _linked_users(person: Person) -> list[Any]:
    return [link.user for link in ResidentLink.objects.filter(person=person).select_related("user")]


SAVE_ATTEMPTS = 8


@transaction.atomic
def certificate_request(
    *,
    actor: Any,
    type: CertificateType,
    person: Person,
    purpose: str,
    consent: Mapping[str, Any] | None = None,
    application: Application | None = None,
    full_id: bool = False,
) -> Certificate:
    """Issue a certificate of an allowed type, filled from the register; a forbidden type is
    refused before anything else. `full_id` prints the whole ID number in the text (when the
    purpose needs it); the default prints it masked."""
    refuse_forbidden(type)
    person = access_person(actor, person.pk)
    if not can_issue_for(actor, person):
        raise PermissionDenied(_("Your role does not issue certificates for this resident."))
    purpose = " ".join(str(purpose or "").split())
    if len(purpose) < 2:
        raise DomainError(
            CertificateError.PURPOSE,
            _("Say what the certificate is for (for example: 子女入学)."),
            {"field": "purpose"},
        )
    if len(purpose) > 200:
        raise DomainError(
            CertificateError.PURPOSE,
            _("Keep the purpose under 200 characters."),
            {"field": "purpose"},
        )
    shown = consent_normalise(consent)
    if person.status != PersonStatus.ACTIVE:
        raise DomainError(
            CertificateError.NOT_RESIDENT,
            _("The register records this person as %(status)s; no certificate is issued.")
            % {"status": person.get_status_display()},
        )
    if application is not None and application.person_id != person.pk:
        raise DomainError(
            CertificateError.APPLICATION,
            _("The application is for another resident."),
            {"field": "application"},
        )
    community = committee_of(person.area)
    today = timezone.localdate()
    fill = Fill(
        committee=committee_name(community),
        purpose=purpose,
        issued_on=today,
        valid_until=today + dt.timedelta(days=type.valid_days),
        full_id=full_id,
    )
    body = fill_template(type.template, person, fill)
    prefix = _serial_prefix(community, today)
    for attempt in range(SAVE_ATTEMPTS):
        certificate = Certificate(
            code=new_code(),
            serial=next_serial(prefix),
            type=type,
            person=person,
            area=person.area,
            district=person.district,
            committee=fill.committee,
            purpose=purpose,
            body=body,
            consent=shown,
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
            application=application,
            valid_until=fill.valid_until,
        )
        try:
            with transaction.atomic():
                certificate.save(force_insert=True)
            break
        except IntegrityError:
            # Another desk took the serial (or, once in 2^80, the code): take the next one.
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    audit.record(
        actor=actor,
        action="certificate.issued",
        obj=certificate,
        changes={
            "type": type.code,
            "serial": certificate.serial,
            "person": person.pk,
            "purpose": purpose,
            "consent": shown,
            "full_id": full_id,
            "application": application.code if application else None,
            "valid_until": certificate.valid_until,
        },
    )
    notify_after_commit(
        users=_linked_users(person),
        kind="certificate",
        title=_("Your %(name)s has been issued (No. %(serial)s)")
        % {"name": type.name, "serial": certificate.serial},
        url=verify_path(certificate.code),
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, actor: Any, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate: verification says so from now on."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    path = certificate.area.path
    if not in_scope(actor, "desk.view", path):
        raise NotFound()
    if not in_scope(actor, "certificates.revoke", path):
        raise PermissionDenied(_("Your role does not revoke certificates."))
    if certificate.revoked_at is not None:
        raise DomainError(
            CertificateError.REVOKED,
            _("This certificate was already revoked on %(when)s.")
            % {"when": timezone.localtime(certificate.revoked_at).strftime("%Y-%m-%d %H:%M")},
        )
    reason = " ".join(str(reason or "").split())
    if len(reason) < 2:
        raise DomainError(
            CertificateError.REASON,
            _("Say why the certificate is revoked."),
            {"field": "reason"},
        )
    certificate.revoked_at = timezone.now()
    certificate.revoke_reason = reason[:200]
    certificate.save(update_fields=["revoked_at", "revoke_reason", "updated_at"])
    audit.record(
        actor=actor,
        action="certificate.revoked",
        obj=certificate,
        changes={"serial": certificate.serial, "reason": certificate.revoke_reason},
    )
    notify_after_commit(
        users=_linked_users(certificate.person),
        kind="certificate",
        title=_("Your %(name)s (No. %(serial)s) has been revoked")
        % {"name": certificate.type.name, "serial": certificate.serial},
        body=certificate.revoke_reason,
        url=verify_path(certificate.code),
    )
    return certificate


# --- Public verification --------------------------------------------------------------------


class Outcome(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_FOUND = "not_found"


SHOWN_LABELS: dict[str, Promise] = {
    "type": gettext_lazy("Certificate"),
    "committee": gettext_lazy("Issued by"),
    "serial": gettext_lazy("Serial number"),
    "issued_on": gettext_lazy("Date of issue"),
    "valid_until": gettext_lazy("Valid until"),
    "holder": gettext_lazy("Holder"),
    "purpose": gettext_lazy("Purpose"),
    "id_number": gettext_lazy("ID number"),
    "address": gettext_lazy("Address"),
    "phone": gettext_lazy("Phone"),
}


@dataclass(frozen=True)
class VerifyResult:
    """What a look-up may reveal: the outcome and only the fields the holder agreed to."""

    status: Outcome
    shown: dict[str, str] = field(default_factory=dict)
    revoked_at: dt.datetime | None = None

    @property
    def rows(self) -> list[tuple[str, str]]:
        return [(str(SHOWN_LABELS[key]), value) for key, value in self.shown.items()]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": str(self.status), **self.shown}
        if self.revoked_at is not None:
            data["revoked_at"] = self.revoked_at.isoformat()
        return data


def verify_path(code: str) -> str:
    return reverse("certificate_verify", args=[code])


def verify_url(code: str, base_url: str | None = None) -> str:
    return (base_url or settings.PUBLIC_URL).rstrip("/") + verify_path(code)


def _shown(certificate: Certificate, status: Outcome) -> dict[str, str]:
    shown = {
        "type": certificate.type.name,
        "committee": certificate.committee,
        "serial": certificate.serial,
        "issued_on": timezone.localdate(certificate.created_at).isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
    }
    if status is not Outcome.VALID:
        return shown
    consent = {**CONSENT_DEFAULTS, **(certificate.consent or {})}
    person = certificate.person
    shown["holder"] = person.name if consent["full_name"] else mask_name(person.name)
    if consent["purpose"]:
        shown["purpose"] = certificate.purpose
    if consent["id_number"] and person.id_number:
        shown["id_number"] = mask_id(person.id_number)
    if consent["address"] and person.dwelling is not None:
        shown["address"] = person.dwelling.standard_address
    if consent["phone"] and person.phone:
        shown["phone"] = mask_phone(person.phone)
    return shown


def certificate_verify(*, code: str, ip: str | None) -> VerifyResult:
    """Look a code up (no sign-in): valid, revoked (and when), expired, or not found, which
    says nothing more, whatever was typed. Every look-up is logged."""
    normal = normalise_code(code)
    certificate = None
    if is_well_formed(normal):
        certificate = (
            Certificate.objects.select_related("type", "person__dwelling")
            .filter(code=normal)
            .first()
        )
    if certificate is None:
        result = VerifyResult(Outcome.NOT_FOUND)
    elif certificate.revoked_at is not None:
        result = VerifyResult(
            Outcome.REVOKED,
            _shown(certificate, Outcome.REVOKED),
            revoked_at=certificate.revoked_at,
        )
    elif certificate.valid_until < timezone.localdate():
        result = VerifyResult(Outcome.EXPIRED, _shown(certificate, Outcome.EXPIRED))
    else:
        result = VerifyResult(Outcome.VALID, _shown(certificate, Outcome.VALID))
    Verification.objects.create(
        code=str(code)[:40], certificate=certificate, result=str(result.status), ip=ip or None
    )
    return result


# --- The PDF ------------------------------------------------------------------------------

_FONT_VERSION = "gb2312-1"
_font_lock = threading.Lock()
_font_state: dict[str, Path | None] = {}


def _common_characters() -> list[int]:
    """ASCII, CJK and full-width punctuation, and the characters of GB 2312 (6,763 hanzi)."""
    chars = set(range(0x20, 0x7F)) | set(range(0x2010, 0x2070)) | set(range(0x3000, 0x3040))
    chars |= set(range(0xFF00, 0xFF70)) | {0xB7, 0xD7, 0xF7, 0x2116, 0x2160, 0x25CB, 0x25CF}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return sorted(chars)


def _system_font() -> tuple[str, int] | None:
    """The file and collection index fontconfig has for the certificate font."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    out = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [fc_match, "--format=%{family}\n%{file}\n%{index}", f"{FONT_FAMILY}:style=Regular"],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    ).stdout.split("\n")
    if len(out) < 3 or FONT_FAMILY not in out[0].split(","):
        return None
    return out[1], int(out[2] or 0)


def _subset(source: str, index: int, chars: list[int]) -> bytes:
    """Subset one face of a font collection to `chars` with HarfBuzz (a second, where
    fontTools takes minutes on a CFF CJK font)."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(
        """
        typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t;
        typedef struct hb_set_t hb_set_t; typedef struct hb_subset_input_t hb_subset_input_t;
        hb_blob_t *hb_blob_create_from_file_or_fail(const char *file_name);
        hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
        void hb_blob_destroy(hb_blob_t *blob);
        void hb_face_destroy(hb_face_t *face);
        hb_blob_t *hb_face_reference_blob(hb_face_t *face);
        const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
        void hb_set_add(hb_set_t *set, uint32_t codepoint);
        void hb_set_clear(hb_set_t *set);
        hb_subset_input_t *hb_subset_input_create_or_fail(void);
        void hb_subset_input_destroy(hb_subset_input_t *input);
        hb_set_t *hb_subset_input_unicode_set(hb_subset_input_t *input);
        hb_set_t *hb_subset_input_set(hb_subset_input_t *input, int set_type);
        hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
        """
    )
    hb: Any = ffi.dlopen("libharfbuzz.so.0")
    hbs: Any = ffi.dlopen("libharfbuzz-subset.so.0")
    layout_features = 6  # HB_SUBSET_SETS_LAYOUT_FEATURE_TAG: keep no features' extra glyphs
    blob = hb.hb_blob_create_from_file_or_fail(source.encode())
    if blob == ffi.NULL:
        raise OSError(f"cannot read {source}")
    face = hb.hb_face_create(blob, index)
    subset_input = hbs.hb_subset_input_create_or_fail()
    try:
        unicodes = hbs.hb_subset_input_unicode_set(subset_input)
        for char in chars:
            hb.hb_set_add(unicodes, char)
        hb.hb_set_clear(hbs.hb_subset_input_set(subset_input, layout_features))
        result = hbs.hb_subset_or_fail(face, subset_input)
        if result == ffi.NULL:
            raise OSError("HarfBuzz could not subset the font")
        out = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = bytes(ffi.unpack(hb.hb_blob_get_data(out, length), length[0]))
        hb.hb_blob_destroy(out)
        hb.hb_face_destroy(result)
        return data
    finally:
        hbs.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def certificate_font() -> Path | None:
    """The common-character subset of the certificate font, built once and kept; None when it
    cannot be built (the PDF then uses the system font directly, only slower)."""
    with _font_lock:
        if "path" in _font_state:
            return _font_state["path"]
        path = Path(settings.VAR_DIR) / "cache" / "fonts" / f"shequ-serif-sc-{_FONT_VERSION}.otf"
        if not path.exists():
            try:
                found = _system_font()
                if found is None:
                    raise OSError(f"fontconfig has no {FONT_FAMILY}")
                data = _subset(found[0], found[1], _common_characters())
                path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
                    tmp.write(data)
                os.replace(tmp.name, path)
            except (OSError, ValueError, subprocess.SubprocessError) as exc:
                log.warning("certificate font subset not built (%s); using %s", exc, FONT_FAMILY)
                _font_state["path"] = None
                return None
        _font_state["path"] = path
        return path


def pdf_data(certificate: Certificate, *, base_url: str | None = None) -> PdfData:
    """What the certificate's PDF shows, as plain data for the renderer."""
    font = certificate_font()
    return PdfData(
        serial=certificate.serial,
        title=certificate.type.name,
        committee=certificate.committee,
        paragraphs=tuple(p.strip() for p in certificate.body.splitlines() if p.strip()),
        issued_on=cn_date(timezone.localdate(certificate.created_at)),
        valid_until=cn_date(certificate.valid_until),
        verify_url=verify_url(certificate.code, base_url),
        code=grouped(certificate.code),
        font_url=font.as_uri() if font else "",
    )


def certificate_html(certificate: Certificate, *, base_url: str | None = None) -> str:
    """The certificate as HTML for WeasyPrint."""
    return pdf_html(pdf_data(certificate, base_url=base_url))


def certificate_pdf(certificate: Certificate, *, base_url: str | None = None) -> bytes:
    """The certificate as an A4 PDF; `base_url` (the request's) prefixes the QR code's link,
    else settings.PUBLIC_URL."""
    return render_pdf(pdf_data(certificate, base_url=base_url))


def certificate_print(
    *, actor: Any, certificate: Certificate, base_url: str | None = None
) -> bytes:
    """A staff member prints (downloads) a certificate's PDF: allowed to the issuing desk,
    never for a revoked certificate, and audited like any disclosure of personal data."""
    if not in_scope(actor, "desk.view", certificate.area.path):
        raise NotFound()
    if certificate.revoked_at is not None:
        raise DomainError(
            CertificateError.REVOKED, _("A revoked certificate is not printed again.")
        )
    if not can_print(actor, certificate):
        raise PermissionDenied(_("Your role does not print certificates."))
    pdf = certificate_pdf(certificate, base_url=base_url)
    audit.record(
        actor=actor,
        action="certificate.printed",
        obj=certificate,
        changes={"serial": certificate.serial, "bytes": len(pdf)},
    )
    return pdf


def printable_certificates(
    actor: Any,
    *,
    area: Area | None = None,
    type: CertificateType | None = None,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
    serials: Sequence[str] = (),
) -> QuerySet[Certificate]:
    """The certificates `actor` may print (visible, not revoked), in `area` and below, of
    `type`, issued between the two dates (inclusive, local) and with one of `serials`, each
    filter only when given; by serial."""
    qs = visible_certificates(actor).filter(revoked_at__isnull=True)
    if area is not None:
        qs = qs.filter(subtree_q(area.path, "area__path"))
    if type is not None:
        qs = qs.filter(type=type)
    if issued_from is not None:
        qs = qs.filter(created_at__date__gte=issued_from)
    if issued_to is not None:
        qs = qs.filter(created_at__date__lte=issued_to)
    if serials:
        qs = qs.filter(serial__in=list(serials))
    return qs.order_by("serial")


def certificate_print_batch(
    *,
    actor: Any,
    certificates: Sequence[Certificate],
    base_url: str | None = None,
    workers: int | None = None,
) -> Iterator[tuple[Certificate, bytes]]:
    """Print many certificates at once (the committee prints the day's or a campaign's
    certificates to stamp them): the same rules as one print, checked for every certificate
    before anything is rendered; the PDFs are rendered across `workers` processes from plain
    data and handed out in order, each audited (`certificate.printed`, with the batch's id)
    before the caller gets it."""
    for certificate in certificates:
        if not in_scope(actor, "desk.view", certificate.area.path):
            raise NotFound()
        if certificate.revoked_at is not None:
            raise DomainError(
                CertificateError.REVOKED,
                _("The certificate %(serial)s is revoked; a revoked certificate is not printed.")
                % {"serial": certificate.serial},
                {"serial": certificate.serial},
            )
        if not can_print(actor, certificate):
            raise PermissionDenied(_("Your role does not print certificates."))
    batch = secrets.token_hex(8)
    data = [pdf_data(certificate, base_url=base_url) for certificate in certificates]
    for certificate, pdf in zip(certificates, render_many(data, workers=workers), strict=True):
        audit.record(
            actor=actor,
            action="certificate.printed",
            obj=certificate,
            changes={"serial": certificate.serial, "bytes": len(pdf), "batch": batch},
        )
        yield certificate, pdf

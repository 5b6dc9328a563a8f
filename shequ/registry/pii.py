"""Personal data at the edges: masking for display and blind indexes for lookup."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from shequ.core.crypto import blind_index


def mask_id(number: str) -> str:
    """`1101**********123X`: first four and last four characters of an ID number."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * (len(number) - 2) + number[-2:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """`138****5678` for mobiles; landlines keep their area code and last four digits."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]}****{phone[7:]}"
    head, _dash, tail = phone.partition("-")
    if tail:
        return f"{head}-{'*' * max(len(tail) - 4, 0)}{tail[-4:]}"
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def id_indexes(number: str, *, master: str | None = None) -> tuple[str, str]:
    """Blind indexes of the whole ID number and of its last four characters."""
    if not number:
        return "", ""
    master = master or settings.FIELD_KEY
    return blind_index(number, purpose="id", master=master), _last4(number[-4:], "id", master)


def phone_indexes(phone: str, *, master: str | None = None) -> tuple[str, str]:
    if not phone:
        return "", ""
    digits = phone.split("-")[0] if phone.startswith("1") else phone.replace("-", "")
    master = master or settings.FIELD_KEY
    return blind_index(digits, purpose="phone", master=master), _last4(digits[-4:], "phone", master)


@lru_cache(maxsize=32768)
def _last4(tail: str, kind: str, master: str) -> str:
    """The blind index of last four characters (at most ~11,000 of them: remembered)."""
    return blind_index(tail, purpose=f"{kind}-last4", master=master)

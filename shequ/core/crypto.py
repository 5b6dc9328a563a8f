"""Field encryption (AES-GCM) and blind indexes (HMAC) keyed from SHEQU_FIELD_KEY.

Ciphertext is ``v1:<key id>:<base64(nonce + sealed)>``; the key id lets `rotate-field-key` and
operators tell which key sealed a value. Blind indexes are keyed HMACs, so equality and
last-four-digit lookups work without storing or logging the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

PREFIX = "v1:"


@lru_cache(maxsize=8)
def derive_key(master: str, purpose: str) -> bytes:
    """A 32-byte sub-key per purpose, so encryption and blind indexes never share a key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"shequ:{purpose}".encode())
    return hkdf.derive(master.encode("utf-8"))


@lru_cache(maxsize=8)
def _cipher(master: str) -> AESGCM:
    """One cipher object per key: building it is most of a small value's decryption time."""
    return AESGCM(derive_key(master, "field-encryption"))


@lru_cache(maxsize=8)
def key_id(master: str) -> str:
    return derive_key(master, "key-id").hex()[:8]


def encrypt(plaintext: str, *, master: str | None = None) -> str:
    master = master or settings.FIELD_KEY
    nonce = os.urandom(12)
    sealed = _cipher(master).encrypt(nonce, plaintext.encode("utf-8"), None)
    return f"{PREFIX}{key_id(master)}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str, *, master: str | None = None) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    master = master or settings.FIELD_KEY
    kid, _sep, body = token[len(PREFIX) :].partition(":")
    if kid != key_id(master):
        raise ValueError(f"sealed with key {kid}, not the current key {key_id(master)}")
    raw = base64.urlsafe_b64decode(body)
    return _cipher(master).decrypt(raw[:12], raw[12:], None).decode("utf-8")


def blind_index(value: str, *, purpose: str, master: str | None = None) -> str:
    """A keyed digest for exact lookup of `value` (32 hex characters)."""
    key = derive_key(master or settings.FIELD_KEY, f"blind:{purpose}")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


class EncryptedTextField(models.TextField):
    """Stores text encrypted at rest; Python code sees plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return value if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if isinstance(value, Sealed):
            return str(value)  # sealed already (key rotation writes ciphertext it made itself)
        return encrypt(str(value))


class Sealed(str):
    """Ciphertext that an EncryptedTextField stores as it is."""

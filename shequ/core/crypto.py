"""Field encryption (AES-GCM) keyed from SHEQU_FIELD_KEY, and a model field that uses it."""

from __future__ import annotations

import base64
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


def encrypt(plaintext: str, *, master: str | None = None) -> str:
    key = derive_key(master or settings.FIELD_KEY, "field-encryption")
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt(token: str, *, master: str | None = None) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
    key = derive_key(master or settings.FIELD_KEY, "field-encryption")
    return AESGCM(key).decrypt(raw[:12], raw[12:], None).decode("utf-8")


class EncryptedTextField(models.TextField):
    """Stores text encrypted at rest; Python code sees plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

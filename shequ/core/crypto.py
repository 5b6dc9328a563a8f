"""Field encryption (AES-GCM) and blind indexes (HMAC) keyed from SHEQU_FIELD_KEY.

Ciphertext is ``v1:<key id>:<base64(nonce + sealed)>``; the key id lets `rotate-field-key` and
operators tell which key sealed a value. Blind indexes are keyed HMACs, so equality and
last-four-digit lookups work without storing or logging the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
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


@lru_cache(maxsize=8)
def _sealer(master: str) -> tuple[Any, str]:
    """(the cipher's encrypt method, the token's prefix) of a key, looked up once per key."""
    return _cipher(master).encrypt, f"{PREFIX}{key_id(master)}:"


def encrypt(plaintext: str, *, master: str | None = None) -> str:
    """AES-GCM under a fresh random 96-bit nonce: equal plaintexts never seal alike."""
    seal, prefix = _sealer(master or settings.FIELD_KEY)
    nonce = os.urandom(12)
    return prefix + base64.urlsafe_b64encode(
        nonce + seal(nonce, plaintext.encode("utf-8"), None)
    ).decode("ascii")


def decrypt(token: str, *, master: str | None = None) -> str:
    if not token.startswith(PREFIX):
        raise ValueError("not an encrypted value")
    master = master or settings.FIELD_KEY
    kid, _sep, body = token[len(PREFIX) :].partition(":")
    if kid != key_id(master):
        raise ValueError(f"sealed with key {kid}, not the current key {key_id(master)}")
    raw = base64.urlsafe_b64decode(body)
    return _cipher(master).decrypt(raw[:12], raw[12:], None).decode("utf-8")


@lru_cache(maxsize=32)
def _hmac_pads(master: str, purpose: str) -> tuple[Any, Any]:
    """HMAC-SHA256 of a blind-index key with its padded inner and outer keys hashed once.

    The same digest as `hmac.new(key, value, sha256)` (RFC 2104), which hashes both padded
    keys again on every call: a large import computes four blind indexes per row.
    """
    key = derive_key(master, f"blind:{purpose}")  # 32 bytes: shorter than SHA-256's block
    block = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


def blind_index(value: str, *, purpose: str, master: str | None = None) -> str:
    """A keyed digest for exact lookup of `value` (32 hex characters): HMAC-SHA256."""
    inner, outer = _hmac_pads(master or settings.FIELD_KEY, purpose)
    digest = inner.copy()
    digest.update(value.encode("utf-8"))
    result = outer.copy()
    result.update(digest.digest())
    return result.hexdigest()[:32]


class EncryptedTextField(models.TextField):
    """Stores text encrypted at rest; Python code sees plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return value if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        if type(value) is str:  # the usual value (bulk loads seal tens of thousands)
            return encrypt(value) if value else value
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if isinstance(value, Sealed):
            return str(value)  # sealed already (key rotation writes ciphertext it made itself)
        return encrypt(str(value))


class Sealed(str):
    """Ciphertext that an EncryptedTextField stores as it is."""

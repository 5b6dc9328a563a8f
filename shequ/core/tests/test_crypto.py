"""Field encryption and blind indexes: the fast paths give what the textbook calls give."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from shequ.core import crypto

MASTER = "test-master-key-for-crypto"


@pytest.mark.parametrize("value", ["110101195003021234", "1234", "13812345678", "", "王芳·阿里"])
@pytest.mark.parametrize("purpose", ["id", "id-last4", "phone", "phone-last4"])
def test_blind_index_is_hmac_sha256_of_the_purpose_key(value: str, purpose: str) -> None:
    key = crypto.derive_key(MASTER, f"blind:{purpose}")
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
    assert crypto.blind_index(value, purpose=purpose, master=MASTER) == expected


def test_blind_indexes_differ_by_purpose_and_key() -> None:
    a = crypto.blind_index("1234", purpose="id-last4", master=MASTER)
    assert a != crypto.blind_index("1234", purpose="phone-last4", master=MASTER)
    assert a != crypto.blind_index("1234", purpose="id-last4", master=MASTER + "x")


def test_encryption_uses_a_fresh_nonce_per_value_and_round_trips() -> None:
    first = crypto.encrypt("110101195003021234", master=MASTER)
    second = crypto.encrypt("110101195003021234", master=MASTER)
    assert first != second
    assert first.startswith(f"{crypto.PREFIX}{crypto.key_id(MASTER)}:")
    assert crypto.decrypt(first, master=MASTER) == "110101195003021234"
    assert crypto.decrypt(second, master=MASTER) == "110101195003021234"
    with pytest.raises(ValueError, match="sealed with key"):
        crypto.decrypt(first, master=MASTER + "x")


def test_encrypted_field_seals_text_and_passes_empty_and_sealed_values() -> None:
    field = crypto.EncryptedTextField()
    sealed = field.get_prep_value("13812345678")
    assert sealed.startswith(crypto.PREFIX)
    assert crypto.decrypt(sealed) == "13812345678"
    assert field.get_prep_value("") == ""
    assert field.get_prep_value(None) is None
    assert field.get_prep_value(crypto.Sealed(sealed)) == sealed
    assert crypto.decrypt(field.get_prep_value(12345)) == "12345"

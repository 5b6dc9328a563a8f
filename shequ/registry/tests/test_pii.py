"""Blind indexes of ID numbers and phones: the remembered last-four digests stay exact."""

from __future__ import annotations

from django.test import override_settings

from shequ.core.crypto import blind_index
from shequ.registry import pii


def test_id_indexes_are_the_blind_indexes_of_the_number_and_its_last_four() -> None:
    number = "11010119500302123X"
    assert pii.id_indexes(number) == (
        blind_index(number, purpose="id"),
        blind_index("123X", purpose="id-last4"),
    )
    assert pii.id_indexes("") == ("", "")


def test_phone_indexes_use_the_digits_and_differ_from_id_indexes() -> None:
    assert pii.phone_indexes("0571-88123456") == (
        blind_index("057188123456", purpose="phone"),
        blind_index("3456", purpose="phone-last4"),
    )
    assert pii.phone_indexes("13812343456")[1] == blind_index("3456", purpose="phone-last4")
    assert pii.phone_indexes("13812343456")[1] != pii.id_indexes("110101195003023456")[1]


def test_the_remembered_last_four_follow_a_new_key() -> None:
    before = pii.id_indexes("110101195003021234")
    with override_settings(FIELD_KEY="another-key-entirely"):
        after = pii.id_indexes("110101195003021234")
    assert after[1] != before[1]
    assert after == (
        blind_index("110101195003021234", purpose="id", master="another-key-entirely"),
        blind_index("1234", purpose="id-last4", master="another-key-entirely"),
    )

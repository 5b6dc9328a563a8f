"""RFC 6238 one-time codes: the published test vector, drift window, replay, input parsing."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from shequ.lib import totp

# RFC 6238, appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
T59_STEP = 59 // 30


def test_it_matches_the_rfc_6238_test_vector_at_t_59() -> None:
    # The RFC's 8-digit code at T=59 is 94287082; six digits keep the last six.
    assert totp.code_at(RFC_SECRET, T59_STEP) == "287082"


def test_it_matches_the_rfc_6238_test_vector_at_t_1111111109() -> None:
    # 8-digit code 07081804.
    assert totp.code_at(RFC_SECRET, 1111111109 // 30) == "081804"


def test_it_matches_the_rfc_6238_test_vector_at_t_2000000000() -> None:
    # 8-digit code 69279037.
    assert totp.code_at(RFC_SECRET, 2000000000 // 30) == "279037"


def test_a_secret_without_padding_or_in_lower_case_is_accepted() -> None:
    unpadded = RFC_SECRET.rstrip("=").lower()
    assert totp.code_at(unpadded, T59_STEP) == "287082"


def test_current_step_counts_thirty_second_windows() -> None:
    assert totp.current_step(59) == 1
    assert totp.current_step(60) == 2
    assert totp.current_step(0) == 0


def test_verify_accepts_the_current_code_and_returns_its_step() -> None:
    assert totp.verify(RFC_SECRET, "287082", now=59) == T59_STEP


def test_verify_accepts_one_step_of_clock_drift_either_way() -> None:
    code = totp.code_at(RFC_SECRET, 10)
    assert totp.verify(RFC_SECRET, code, now=9 * 30 + 1) == 10  # server clock one step behind
    assert totp.verify(RFC_SECRET, code, now=10 * 30 + 1) == 10
    assert totp.verify(RFC_SECRET, code, now=11 * 30 + 1) == 10  # server clock one step ahead


def test_verify_rejects_a_code_two_steps_away() -> None:
    code = totp.code_at(RFC_SECRET, 10)
    assert totp.verify(RFC_SECRET, code, now=8 * 30 + 1) is None
    assert totp.verify(RFC_SECRET, code, now=12 * 30 + 1) is None


def test_verify_rejects_a_code_already_used_at_its_step() -> None:
    code = totp.code_at(RFC_SECRET, 10)
    assert totp.verify(RFC_SECRET, code, last_step=10, now=10 * 30) is None
    assert totp.verify(RFC_SECRET, code, last_step=11, now=10 * 30) is None
    assert totp.verify(RFC_SECRET, code, last_step=9, now=10 * 30) == 10


def test_verify_ignores_spaces_between_the_digits() -> None:
    assert totp.verify(RFC_SECRET, " 287 082 ", now=59) == T59_STEP


def test_verify_rejects_letters_and_wrong_lengths() -> None:
    for code in ("", "28708", "2870822", "28708a", "abcdef", "------"):
        assert totp.verify(RFC_SECRET, code, now=59) is None, code


def test_a_wrong_code_is_rejected() -> None:
    right = {totp.code_at(RFC_SECRET, s) for s in (0, 1, 2)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in right)
    assert totp.verify(RFC_SECRET, wrong, now=59) is None


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    a, b = totp.new_secret(), totp.new_secret()
    assert a != b
    assert len(a) == 32
    assert len(base64.b32decode(a)) == 20


def test_the_provisioning_uri_is_what_authenticator_apps_expect() -> None:
    uri = totp.provisioning_uri("ABCDEFGH", account="wangge1", issuer="shequ")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/shequ%3Awangge1"
    query = parse_qs(parts.query)
    assert query == {"secret": ["ABCDEFGH"], "issuer": ["shequ"], "digits": ["6"], "period": ["30"]}


@given(key=st.binary(min_size=10, max_size=64), step=st.integers(min_value=0, max_value=2**40))
def test_code_at_always_returns_six_digits(key: bytes, step: int) -> None:
    secret = base64.b32encode(key).decode("ascii").rstrip("=")
    code = totp.code_at(secret, step)
    assert len(code) == 6
    assert code.isdigit()


@given(key=st.binary(min_size=10, max_size=40), step=st.integers(min_value=2, max_value=2**33))
def test_the_code_of_a_step_verifies_at_that_step(key: bytes, step: int) -> None:
    secret = base64.b32encode(key).decode("ascii")
    code = totp.code_at(secret, step)
    assert totp.verify(secret, code, now=step * 30 + 15) in {step - 1, step, step + 1}
    assert totp.verify(secret, code, last_step=step + 1, now=step * 30 + 15) is None

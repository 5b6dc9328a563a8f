"""Stable error codes of the accounts app."""

from enum import StrEnum


class AccountError(StrEnum):
    BAD_CODE = "totp_bad_code"
    NO_DEVICE = "totp_no_device"
    STAFF_ONLY = "totp_staff_only"
    BAD_PASSWORD = "password_rejected"  # noqa: S105  (an error code, not a password)
    LOCKED_OUT = "locked_out"

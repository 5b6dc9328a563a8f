"""Stable error codes of Open311 client management."""

from enum import StrEnum


class ClientError(StrEnum):
    BAD_NAME = "open311_client_bad_name"
    BAD_KEY = "open311_client_bad_key"
    KEY_TAKEN = "open311_client_key_taken"
    NO_CLIENT = "open311_client_not_found"

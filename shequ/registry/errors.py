"""Stable error codes of the registry."""

from enum import StrEnum


class RegistryError(StrEnum):
    BAD_ID = "person_bad_id"
    BAD_PHONE = "person_bad_phone"
    BAD_NAME = "person_bad_name"
    DUPLICATE_ID = "person_duplicate_id"
    ID_MISMATCH = "person_id_mismatch"
    STALE = "person_stale"
    BAD_AREA = "registry_bad_area"
    UNMASK_REASON = "unmask_reason_required"
    UNMASK_FIELD = "unmask_unknown_field"
    TAG_PERIOD = "tag_bad_period"
    DUPLICATE_ADDRESS = "address_duplicate"

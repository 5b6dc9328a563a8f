"""Stable error codes of cases."""

from enum import StrEnum


class CaseError(StrEnum):
    INVALID_TRANSITION = "invalid_transition"
    NOT_YOURS = "case_not_your_move"
    NOTE_REQUIRED = "case_note_required"
    NO_UNIT = "case_no_unit"
    NO_ROUTE = "case_no_route"
    BAD_TARGET = "case_bad_merge_target"
    BAD_RATING = "case_bad_rating"
    EVIDENCE_REQUIRED = "case_evidence_required"
    BAD_PHOTO = "case_bad_photo"
    PHOTO_TOO_LARGE = "case_photo_too_large"
    BAD_LOCATION = "case_bad_location"
    BAD_AREA = "case_bad_area"
    BAD_CATEGORY = "case_bad_category"
    NOT_ON_SPOT = "case_not_on_spot"
    REOPEN_EXPIRED = "case_reopen_expired"
    NO_EXTENSION = "case_no_extension_requested"
    BAD_DAYS = "case_bad_extension_days"
    TOP_LEVEL = "case_top_level"
    STALE = "case_stale"

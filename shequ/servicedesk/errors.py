"""Stable error codes of the service desk (applications) and of community certificates.

The API answers them as `{"code": …}` (HTTP 409 for a `DomainError`); clients and tests rely on
the strings, so a code is never renamed. Eligibility rules keep theirs beside the rules
(`eligibility.EligibilityError`).
"""

from enum import StrEnum

from shequ.core.errors import CoreError


class DeskError(StrEnum):
    """Applications: submitting, materials and the moves of the state machine."""

    INVALID_TRANSITION = CoreError.INVALID_TRANSITION.value
    MATERIALS_MISSING = "materials_missing"
    NOT_YOURS = "desk_not_your_move"
    CHANNEL = "desk_channel_not_allowed"
    AUTHORISATION = "desk_authorisation_required"
    NOTE_REQUIRED = "desk_note_required"
    BAD_RATING = "desk_bad_rating"
    BAD_FORM = "desk_bad_form"
    BAD_FILE = "desk_bad_file"
    NOT_SEEN = "desk_only_staff_see_originals"
    NOTHING_HANDED_IN = "desk_nothing_handed_in"
    STALE = "desk_stale"
    PERSON_INACTIVE = "desk_person_not_living_here"


class CertificateError(StrEnum):
    """Certificates: issuing, revoking, printing and verifying."""

    FORBIDDEN = "certificate_forbidden"
    PURPOSE = "certificate_purpose_required"
    CONSENT = "certificate_consent_invalid"
    TEMPLATE = "certificate_template_invalid"
    REGISTER = "certificate_register_incomplete"
    NOT_RESIDENT = "certificate_person_not_living_here"
    APPLICATION = "certificate_application_mismatch"
    REVOKED = "certificate_revoked"
    REASON = "certificate_revoke_reason_required"
    NOT_FOUND = CoreError.NOT_FOUND.value  # the public verification of an unknown code

"""Domain errors shared by every app; `core.api` and `core.views` map them to responses."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _


class CoreError(StrEnum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    INVALID_TRANSITION = "invalid_transition"
    CONFLICT = "conflict"


class DomainError(Exception):
    """A request that is well-formed but not allowed in the current state (HTTP 409)."""

    status_code = 409

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = str(message)
        self.extra = extra or {}


class NotFound(Exception):
    """Missing, or not visible to this user: the two are never distinguished (HTTP 404)."""

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or _("The record does not exist or you may not see it."))
        super().__init__(self.message)

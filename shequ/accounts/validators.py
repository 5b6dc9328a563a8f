"""Password rule: at least three of lower case, upper case, digits and symbols."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    return sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )


class MixedCharacterClassesValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < 3:
            raise ValidationError(
                _(
                    "The password must mix at least three of: lower-case letters, upper-case "
                    "letters, digits and symbols."
                ),
                code="password_not_mixed",
            )

    def get_help_text(self) -> str:
        return _("Mix at least three of: lower-case, upper-case, digits, symbols.")

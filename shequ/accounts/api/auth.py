"""Token authentication with the `Authorization: Token <key>` header; tokens expire."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        from shequ.accounts.services import token_expiry_cutoff

        user, token = super().authenticate_credentials(key)
        if token.created < token_expiry_cutoff():
            raise exceptions.AuthenticationFailed(_("The token has expired; request a new one."))
        return user, token

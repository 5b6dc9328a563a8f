"""Token authentication with the `Authorization: Token <key>` header."""

from __future__ import annotations

from rest_framework import authentication


class TokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

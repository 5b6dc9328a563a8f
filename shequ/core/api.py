"""API plumbing shared by every app: uniform errors and pagination."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.core.errors import DomainError, NotFound

_DIGITS = re.compile(r"^[0-9]{1,9}$")


def _fields(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _fields(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [
            str(item) if not isinstance(item, dict | list) else _fields(item) for item in detail
        ]
    return [str(detail)]


def error_body(code: str, message: str, **more: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **more}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the shape ``{"code", "message", "fields" | "extra"}``."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, extra=exc.extra), status=exc.status_code)
    if isinstance(exc, NotFound | Http404 | exceptions.NotFound):
        message = exc.message if isinstance(exc, NotFound) else NotFound().message
        return Response(error_body("not_found", message), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            error_body("invalid", _("Some fields are invalid."), fields=_fields(exc.detail)),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        messages: dict[type[exceptions.APIException], str] = {
            exceptions.NotAuthenticated: _("Log in or send a valid token."),
            exceptions.AuthenticationFailed: _("The token or credentials are not valid."),
            exceptions.PermissionDenied: _("You do not have permission to do this."),
            exceptions.MethodNotAllowed: _("This method is not allowed here."),
            exceptions.ParseError: _("The request body is not valid JSON."),
            exceptions.UnsupportedMediaType: _("Send the request body as JSON."),
            exceptions.Throttled: _("Too many requests; try again later."),
            exceptions.NotAcceptable: _("The requested format is not available."),
        }
        message = next(
            (text for cls, text in messages.items() if isinstance(exc, cls)), str(exc.detail)
        )
        code = exc.get_codes()
        code = code if isinstance(code, str) else exc.default_code
        response = Response(error_body(str(code), message), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        return response
    return None


class HasPerm(BasePermission):
    """Signed in, with a role that grants `perm` (the same table the pages use)."""

    perm = ""

    @classmethod
    def of(cls, perm: str) -> type[HasPerm]:
        return type(f"HasPerm_{perm.replace('.', '_')}", (cls,), {"perm": perm})

    def has_permission(self, request: Request, view: Any) -> bool:
        from shequ.accounts.scoping import has_perm

        if not (request.user and request.user.is_authenticated):
            return False
        return has_perm(request.user, self.perm)


class Pagination(PageNumberPagination):
    """Page-number pagination; a malformed page number is a 400, not a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        for name in ("page", "page_size"):
            raw = request.query_params.get(name)
            if raw is not None and raw != "last" and (not _DIGITS.match(raw) or int(raw) < 1):
                raise exceptions.ValidationError({name: [_("Enter a positive whole number.")]})
        return super().paginate_queryset(queryset, request, view)

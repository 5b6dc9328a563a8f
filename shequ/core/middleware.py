"""Request id and client IP for logs and audit; Content-Security-Policy on every response."""

from __future__ import annotations

import ipaddress
import logging
import re
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shequ.core import context

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _canonical_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The client address, canonical; behind our proxy, the address that proxy saw.

    Only the right-most X-Forwarded-For entry was written by our proxy; everything left of
    it came from the client and is not trusted.
    """
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p]
        if forwarded:
            return _canonical_ip(forwarded[-1])
    return _canonical_ip(request.META.get("REMOTE_ADDR", ""))


class RequestContextMiddleware:
    """Binds a request id (taken from X-Request-ID when well-formed) and the client IP."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.bind(context.RequestContext(request_id=request_id, ip=client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _tile_origins() -> list[str]:
    """Explicit SHEQU_MAP_TILE_ORIGINS, else the tile URL's origin with a templated first
    label (`t{s}.tianditu.gov.cn`) widened to a wildcard (`*.tianditu.gov.cn`)."""
    explicit = getattr(settings, "MAP_TILE_ORIGINS", [])
    if explicit:
        return list(explicit)
    url = getattr(settings, "MAP_TILE_URL", "")
    if not url:
        return []
    parts = urlsplit(url)
    host = parts.netloc
    first, _dot, rest = host.partition(".")
    if "{" in first and rest:
        host = f"*.{rest}"
    return [f"{parts.scheme}://{host}"] if parts.scheme and host and "{" not in host else []


def content_security_policy() -> str:
    img = " ".join(["'self'", "data:", "blob:", *_tile_origins()])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Inline styles are needed by Tabler components and chart/map libraries; scripts
            # stay strictly same-origin, which is what CSP protects against injection.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        return True


class DomainErrorMiddleware:
    """Turn `NotFound` and stray `DomainError`s raised by page views into styled error pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from shequ.core import views
        from shequ.core.errors import DomainError, NotFound

        if isinstance(exception, NotFound):
            return views.page_not_found(request, exception)
        if isinstance(exception, DomainError):
            return views.domain_error(request, exception)
        return None


class LanguageMiddleware:
    """Simplified Chinese unless the person chose another language (cookie set by set_language).

    The browser's Accept-Language is deliberately ignored: community workers' machines are
    often set to English while the service language is Chinese.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response

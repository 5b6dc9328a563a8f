"""Tell people their session ran out instead of silently showing the login page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


class SessionExpiryMiddleware:
    """A request that carried a session cookie but is anonymous had its session expire."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        expired = (
            settings.SESSION_COOKIE_NAME in request.COOKIES and not request.user.is_authenticated
        )
        response = self.get_response(request)
        if not expired or response.status_code != 302:
            return response
        login_url = resolve_url(settings.LOGIN_URL)
        location = response.get("Location", "")
        if location.startswith(login_url):
            location += ("&" if "?" in location else "?") + "expired=1"
            if getattr(request, "htmx", False):
                # htmx would swap the login page into a fragment; send the whole page there.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = location
            else:
                response["Location"] = location
        return response

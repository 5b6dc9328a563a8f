"""Tell people their session ran out instead of silently showing the login page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


class SessionExpiryMiddleware:
    """A session cookie naming no stored session means the session expired (or was ended).

    A stored anonymous session (e.g. a sign-in waiting for its second step) is not expired.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        expired = False
        if settings.SESSION_COOKIE_NAME in request.COOKIES and not request.user.is_authenticated:
            request.session.keys()  # load it: an unknown key is dropped and leaves no key behind
            expired = request.session.session_key is None
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

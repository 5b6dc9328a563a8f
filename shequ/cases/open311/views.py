"""Open311 GeoReport v2 endpoints. Thin: parse, call a selector or a service, answer in the
format the path ends with. Every refusal is the specification's error list, never a 500."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from shequ.cases.open311 import answers, render, selectors
from shequ.cases.open311.params import Open311Error, parse_filters, parse_new_request
from shequ.cases.open311.services import open311_request_create
from shequ.core.errors import DomainError

View = Callable[..., HttpResponse]


def endpoint(*methods: str) -> Callable[[View], View]:
    """Check the format and the method, and answer an `Open311Error` in the spec's format."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in render.FORMATS:
                return render.error(
                    "json", 404, _("Unknown format: end the path in .json or .xml.")
                )
            if request.method not in methods:
                response = render.error(fmt, 405, _("This method is not allowed here."))
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return render.error(fmt, exc.status, exc.description)

        return inner

    return wrap


@endpoint("GET", "HEAD")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    here = request.build_absolute_uri(reverse("open311:discovery", args=[fmt]))
    data = answers.discovery(url=here.rsplit("/", 1)[0])
    return render.respond(fmt, "discovery", data)


@endpoint("GET", "HEAD")
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    rows = [answers.service_row(category) for category in selectors.services()]
    return render.respond(fmt, "services", rows)


@endpoint("GET", "HEAD")
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    category = selectors.service(code)
    if category is None:
        raise Open311Error(404, _("service_code %(code)s was not found.") % {"code": code[:40]})
    return render.respond(fmt, "service_definition", answers.definition(category))


@csrf_exempt  # an API for other systems: a POST carries its api_key, not a session
@endpoint("GET", "HEAD", "POST")
def request_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    filters = parse_filters(request.GET, now=timezone.now())
    rows = answers.request_rows(selectors.request_list(filters))
    return render.respond(fmt, "service_requests", rows)


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    key = request.POST.get("api_key") or request.GET.get("api_key") or ""
    client = selectors.client_for_key(key)
    if client is None:
        description = _("api_key was not provided.") if not key else _("api_key is not valid.")
        raise Open311Error(403, description)
    new = parse_new_request(request.POST)
    category = selectors.service(new.service_code)
    if category is None:
        raise Open311Error(
            404, _("service_code %(code)s was not found.") % {"code": new.service_code[:40]}
        )
    try:
        case = open311_request_create(client=client, category=category, new=new)
    except DomainError as exc:
        raise Open311Error(400, exc.message) from None
    return render.respond(fmt, "service_requests", [answers.created_row(case)])


@endpoint("GET", "HEAD")
def request_detail(request: HttpRequest, ref: str, *, fmt: str) -> HttpResponse:
    case = selectors.request_by_code(ref)
    if case is None:
        raise Open311Error(404, _("service_request_id %(id)s was not found.") % {"id": ref[:40]})
    return render.respond(fmt, "service_requests", answers.request_rows([case]))


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /open311/v2/ (tokens included: POST answers with the case number)."""
    return render.error("json", 404, _("There is no such Open311 resource."))

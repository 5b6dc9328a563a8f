"""Health check, error pages, the audit log for auditors, and the page-permission decorator."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from shequ.accounts.scoping import has_perm
from shequ.core import audit, selectors
from shequ.core.errors import DomainError
from shequ.core.filters import AuditFilter

log = logging.getLogger(__name__)
View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def require_perm(perm: str) -> Callable[[View], View]:
    """Sign-in required; a signed-in user whose roles lack `perm` gets the 403 page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(request.user, perm):
                return permission_denied(request)
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorate


def add_domain_error(form: Any, exc: DomainError) -> None:
    """Show a service's refusal on the form: on the field it names, else above the form."""
    fieldname = exc.extra.get("field")
    form.add_error(fieldname if fieldname in form.fields else None, exc.message)


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, partial: str
) -> HttpResponse:
    """The whole page, or only `template#partial` for an htmx swap (never for history restore,
    which needs the whole page); responses vary on HX-Request so caches keep them apart."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        response = render(request, f"{template}#{partial}", context)
    else:
        response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.error("health check: database unavailable: %s", exc.__class__.__name__)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        code = {400: "bad_request", 403: "permission_denied", 404: "not_found"}.get(
            status, "conflict"
        )
        return JsonResponse({"code": code, "message": message}, status=status)
    context = {"status": status, "title": title, "message": message}
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("Not allowed"), _("Your role does not give access to this page."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        _("Not found"),
        _("The page or record does not exist, or you may not see it."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without context processors: the failure may be in them."""
    if request.path.startswith("/api/"):
        message = _("Something went wrong on our side. The error has been logged.")
        return JsonResponse({"code": "server_error", "message": message}, status=500)
    template = loader.get_template("500.html")
    return HttpResponse(
        template.render({"request_id": getattr(request, "request_id", "")}), status=500
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        _("Page expired"),
        _("The form was open too long or cookies are blocked. Reload the page and try again."),
    )


@require_perm("audit.view")
def audit_list(request: HttpRequest) -> HttpResponse:
    filterset = AuditFilter(
        request.GET or None, queryset=selectors.audit_entries(visible_to=request.user)
    )
    entries = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {"filter": filterset, "page": page, "query": request.GET.urlencode()}
    return render_page(request, "core/audit_list.html", context, partial="results")


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_perm("audit.export")
def audit_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """CSV of the filtered log; the export itself is audited."""
    filterset = AuditFilter(
        request.GET or None, queryset=selectors.audit_entries(visible_to=request.user)
    )
    if not filterset.is_valid():
        return _error(request, 400, _("Bad request"), _("Check the filter values."))
    audit.record(
        actor=request.user,
        action="audit.exported",
        object_type="core.auditentry",
        changes={"filters": {k: v for k, v in request.GET.items() if v}},
    )
    writer = csv.writer(_Echo())
    header = [
        "seq",
        "time",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object",
        "changes",
        "ip",
        "request_id",
        "hash",
    ]

    def rows() -> Any:
        yield "\ufeff"  # Excel opens UTF-8 CSV correctly with a BOM
        yield writer.writerow(header)
        for e in filterset.qs.iterator(chunk_size=2000):
            cells = [
                e.seq,
                timezone.localtime(e.created_at).isoformat(),
                e.actor_name,
                e.action,
                e.object_type,
                e.object_id,
                e.object_repr,
                str(e.changes),
                e.ip or "",
                e.request_id,
                e.hash,
            ]
            # Every text cell: actor names and request ids are user-controlled too.
            yield writer.writerow([audit.csv_safe(c) if isinstance(c, str) else c for c in cells])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
    return _error(request, exc.status_code, _("Cannot do this now"), exc.message)

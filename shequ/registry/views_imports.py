"""Import pages: upload → column mapping → preview → commit, and the two review queues."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shequ.areas.models import Area
from shequ.core.errors import DomainError, NotFound
from shequ.core.views import render_page, require_perm
from shequ.lib.sheets import FIELD_LABELS
from shequ.registry import queues, selectors
from shequ.registry.forms import ImportUploadForm
from shequ.registry.imports import import_people, rejected_workbook
from shequ.registry.models import Conflict, ImportBatch, ImportStatus, MatchReview


def _batch(request: HttpRequest, batch_id: str) -> ImportBatch:
    if not batch_id.isascii() or not batch_id.isdigit():
        raise NotFound()
    batch = (
        ImportBatch.objects.visible_to(request.user)
        .select_related("source", "area")
        .filter(pk=int(batch_id))
        .first()
    )
    if batch is None:
        raise NotFound()
    return batch


@require_perm("registry.import")
def import_index(request: HttpRequest) -> HttpResponse:
    areas = Area.objects.visible_to(request.user).order_by("path")
    form = ImportUploadForm(request.POST or None, request.FILES or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            batch = queues.import_upload(
                actor=request.user,
                upload=form.cleaned_data["file"],
                source_name=form.cleaned_data["source"],
                area=form.cleaned_data["area"],
                sheet=form.cleaned_data["sheet"],
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("registry:import", batch_id=batch.pk)
    batches = ImportBatch.objects.visible_to(request.user).select_related("source", "area")
    page = Paginator(batches.order_by("-created_at"), 20).get_page(request.GET.get("page"))
    return render(request, "registry/import_index.html", {"form": form, "page": page})


@require_perm("registry.import")
def import_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    queues.import_expire_stale()
    batch = _batch(request, batch_id)
    running = batch.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    columns = batch.stats.get("columns", {})
    mapped = {header: fieldname for fieldname, header in columns.items()}
    headers = list(columns.values()) + batch.stats.get("unmapped", [])
    for error in batch.stats.get("errors", []):
        error["label"] = FIELD_LABELS.get(error.get("field", ""), error.get("field", ""))
    context = {
        "batch": batch,
        "running": running,
        "stats": batch.stats,
        "mapping_rows": [(h, mapped.get(h, "")) for h in headers],
        "field_labels": FIELD_LABELS,
    }
    return render_page(request, "registry/import_detail.html", context, partial="status")


@require_perm("registry.import")
def import_action(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = _batch(request, batch_id)
    if request.method != "POST":
        return redirect("registry:import", batch_id=batch.pk)
    try:
        if request.POST.get("action") == "commit":
            queues.import_commit(actor=request.user, batch=batch)
            messages.success(request, _("Committing; this page shows when it is done."))
        else:
            valid = set(FIELD_LABELS)
            mapping = {
                key.removeprefix("map:"): str(value) if value in valid else ""
                for key, value in request.POST.items()
                if key.startswith("map:")
            }
            queues.import_remap(actor=request.user, batch=batch, mapping=mapping)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registry:import", batch_id=batch.pk)


@require_perm("registry.import")
def import_rejected(request: HttpRequest, batch_id: str) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        report = import_people(
            actor=request.user,
            path=batch.stored_file,
            source_name=batch.source.name,
            area=batch.area,
            sheet=batch.sheet or None,
            mapping=batch.mapping or None,
        )
    except (DomainError, OSError):
        raise NotFound() from None
    headers = list(batch.stats.get("columns", {}).values())
    response = HttpResponse(
        rejected_workbook(report, headers),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="rejected-{batch.pk}.xlsx"'
    return response


@require_perm("registry.edit")
def queue_index(request: HttpRequest) -> HttpResponse:
    context = {
        "conflicts": selectors.open_conflicts(visible_to=request.user),
        "reviews": selectors.open_reviews(visible_to=request.user),
    }
    return render(request, "registry/queues.html", context)


@require_perm("registry.edit")
def queue_decide(request: HttpRequest, kind: str, item_id: str) -> HttpResponse:
    if request.method != "POST" or not item_id.isdigit():
        raise NotFound()
    try:
        if kind == "conflict":
            conflict = Conflict.objects.visible_to(request.user).filter(pk=int(item_id)).first()
            if conflict is None:
                raise NotFound()
            queues.conflict_decide(
                actor=request.user,
                conflict=conflict,
                replace=request.POST.get("decision") == "replace",
            )
        elif kind == "review":
            review = MatchReview.objects.visible_to(request.user).filter(pk=int(item_id)).first()
            if review is None:
                raise NotFound()
            queues.review_decide(
                actor=request.user, review=review, same=request.POST.get("decision") == "same"
            )
        else:
            raise NotFound()
        messages.success(request, _("Decision saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registry:queues")

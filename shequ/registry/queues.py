"""Import uploads run in the background, and the people who settle what an import could not:
conflicts (keep / replace a field) and uncertain matches (same / different person)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.models import User
from shequ.areas.models import Area
from shequ.core import audit, tasks
from shequ.core.errors import DomainError
from shequ.lib import sheets
from shequ.registry import services
from shequ.registry.imports import ImportReport, import_people, source_for
from shequ.registry.models import Conflict, ImportBatch, ImportStatus, MatchReview, Person

ALLOWED_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"}


def _store(upload: UploadedFile) -> tuple[Path, str]:
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise DomainError(
            "import_bad_type",
            _("Upload an Excel (.xlsx, .xls), OpenDocument (.ods) or CSV file."),
        )
    if (upload.size or 0) > sheets.DEFAULT_MAX_BYTES:
        raise DomainError("import_too_large", _("The file is larger than 200 MB."))
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            digest.update(chunk)
            fh.write(chunk)
    return target, digest.hexdigest()


@transaction.atomic
def import_upload(
    *, actor: Any, upload: UploadedFile, source_name: str, area: Area, sheet: str = ""
) -> ImportBatch:
    """Keep the file and start its preview (a dry run) in the background."""
    if area.level not in ("community", "grid", "estate"):
        raise DomainError("import_bad_area", _("Import into a community, a grid or an estate."))
    path, sha = _store(upload)
    batch = ImportBatch.objects.create(
        source=source_for(source_name),
        area=area,
        file_name=(upload.name or path.name)[:255],
        sha256=sha,
        sheet=sheet,
        status=ImportStatus.QUEUED,
        created_by=actor,
        stored_file=str(path),
    )
    audit.record(actor=actor, action="registry.import_uploaded", obj=batch)
    transaction.on_commit(lambda: tasks.enqueue(run_import, batch.pk, actor.pk, commit=False))
    return batch


def _summary(report: ImportReport) -> dict[str, Any]:
    data = report.as_json()
    data["errors"] = data["errors"][:200]
    data["warnings_detail"] = data["warnings_detail"][:200]
    return data


STALE_AFTER = timedelta(minutes=30)


def _touch(batch_id: int, **values: Any) -> None:
    """Record progress or outcome; `updated_at` is the heartbeat `import_expire_stale` reads."""
    ImportBatch.objects.filter(pk=batch_id).update(updated_at=timezone.now(), **values)


def import_expire_stale(*, now: Any = None) -> int:
    """Imports whose worker died (no heartbeat for 30 minutes) are marked failed, exactly once
    (compare-and-set on status). Their commit was one transaction, so nothing was written."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return ImportBatch.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING], updated_at__lt=cutoff
    ).update(
        status=ImportStatus.FAILED,
        progress=100,
        message=_(
            "The import stopped (the server was restarted); nothing was written. Upload again."
        ),
        updated_at=timezone.now(),
    )


def run_import(batch_id: int, user_id: int, *, commit: bool) -> None:
    """The background half of preview and commit; records its outcome on the batch."""
    batch = ImportBatch.objects.select_related("source", "area").get(pk=batch_id)
    user = User.objects.get(pk=user_id)
    _touch(batch_id, status=ImportStatus.RUNNING, progress=5)
    estimate = max(Path(batch.stored_file).stat().st_size // 120, 1000)

    def progress(rows: int) -> None:
        _touch(batch_id, progress=min(80, 5 + rows * 75 // estimate))

    try:
        report = import_people(
            actor=user,
            path=batch.stored_file,
            source_name=batch.source.name,
            area=batch.area,
            sheet=batch.sheet or None,
            mapping=batch.mapping or None,
            commit=commit,
            progress=progress,
            batch=batch,
        )
    except DomainError as exc:
        _touch(batch_id, status=ImportStatus.FAILED, message=exc.message[:500], progress=100)
        return
    except Exception:
        _touch(
            batch_id,
            status=ImportStatus.FAILED,
            message=_("The import stopped on an unexpected error; nothing was written."),
            progress=100,
        )
        raise
    if report.committed:
        _touch(batch_id, stats=_summary(report), progress=100)
    elif report.already_committed:
        _touch(
            batch_id,
            status=ImportStatus.FAILED,
            progress=100,
            message=_("This file was already imported from this department; nothing changed."),
        )
    else:
        _touch(batch_id, status=ImportStatus.PREVIEWED, stats=_summary(report), progress=100)


@transaction.atomic
def import_remap(*, actor: Any, batch: ImportBatch, mapping: dict[str, str]) -> ImportBatch:
    """Preview again with the columns the worker mapped by hand."""
    updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
        mapping=mapping, status=ImportStatus.QUEUED, progress=0, updated_at=timezone.now()
    )
    if not updated:
        raise DomainError("import_not_previewed", _("Only a previewed import can be re-checked."))
    audit.record(actor=actor, action="registry.import_remapped", obj=batch, changes=mapping)
    transaction.on_commit(lambda: tasks.enqueue(run_import, batch.pk, actor.pk, commit=False))
    return batch


@transaction.atomic
def import_commit(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Commit a previewed import, exactly once however often the button is pressed."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
        status=ImportStatus.QUEUED, progress=0, updated_at=timezone.now()
    )
    if not claimed:
        raise DomainError("import_not_previewed", _("This import is not waiting to be committed."))
    audit.record(actor=actor, action="registry.import_commit_requested", obj=batch)
    transaction.on_commit(lambda: tasks.enqueue(run_import, batch.pk, actor.pk, commit=True))
    return batch


@transaction.atomic
def conflict_decide(*, actor: Any, conflict: Conflict, replace: bool) -> Conflict:
    """Keep the register's value, or replace it with the incoming one."""
    conflict = (
        Conflict.objects.select_for_update()
        .select_related("person", "batch__source")
        .get(pk=conflict.pk)
    )
    if conflict.status != "open":
        raise DomainError("queue_decided", _("Someone has already decided this."))
    if replace:
        person = conflict.person
        services.person_update(
            actor=actor,
            person=person,
            expected_version=person.version,
            source=conflict.batch.source.code,
            **{conflict.field: conflict.incoming},
        )
    conflict.status, conflict.decision = "decided", "replace" if replace else "keep"
    conflict.decided_by, conflict.decided_at = actor, timezone.now()
    conflict.save(update_fields=["status", "decision", "decided_by", "decided_at", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.conflict_decided",
        obj=conflict.person,
        changes={"field": conflict.field, "decision": conflict.decision},
    )
    return conflict


@transaction.atomic
def review_decide(*, actor: Any, review: MatchReview, same: bool) -> Person:
    """Same person: fill the candidate's empty fields. Different: register a new person."""
    review = (
        MatchReview.objects.select_for_update()
        .select_related("candidate", "batch__source")
        .get(pk=review.pk)
    )
    if review.status != "open":
        raise DomainError("queue_decided", _("Someone has already decided this."))
    row = json.loads(review.incoming)
    source = review.batch.source.code
    if same:
        person = review.candidate
        fill = {
            k: row[k]
            for k in (
                "phone",
                "birth_date",
                "ethnicity",
                "hukou_address",
                "political_status",
                "work",
            )
            if row.get(k) and not getattr(person, k)
        }
        if fill:
            person = services.person_update(
                actor=actor, person=person, expected_version=person.version, source=source, **fill
            )
    else:
        area = Area.objects.get(pk=row.get("area_id") or review.batch.area_id)
        fields = {
            k: row[k]
            for k in (
                "name",
                "gender",
                "birth_date",
                "phone",
                "ethnicity",
                "hukou_address",
                "political_status",
                "work",
                "address_raw",
            )
            if row.get(k)
        }
        person = services.person_create(actor=actor, area=area, source=source, **fields)
    review.status, review.decision = "decided", "same" if same else "different"
    review.decided_by, review.decided_at = actor, timezone.now()
    review.save(update_fields=["status", "decision", "decided_by", "decided_at", "updated_at"])
    audit.record(
        actor=actor,
        action="registry.match_decided",
        obj=person,
        changes={"row": review.row_number, "decision": review.decision},
    )
    return person

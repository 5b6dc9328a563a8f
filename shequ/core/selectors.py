"""Reads of the audit log, scoped by area for auditors."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.scoping import scope_q_for_paths, visible_paths
from shequ.core.models import AuditEntry


def audit_entries(*, visible_to: Any) -> QuerySet[AuditEntry]:
    """Entries about the auditor's areas, plus system-wide entries (sign-ins, exports)."""
    paths = visible_paths(visible_to, perm="audit.view")
    qs = AuditEntry.objects.order_by("-seq")
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    return qs.filter(scope_q_for_paths(paths, "area_path") | Q(area_path=""))

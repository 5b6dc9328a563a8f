"""Reads of the audit log, scoped by area for auditors."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from shequ.accounts.scoping import scope_q_for_paths, visible_paths
from shequ.core.models import AuditEntry

SEGMENT = 8  # digits per level of an area path: a path this long is a district (a root)


def audit_entries(*, visible_to: Any) -> QuerySet[AuditEntry]:
    """Entries about the auditor's areas; entries filed under no area (role-less accounts,
    system jobs) only for auditors of a whole district."""
    paths = visible_paths(visible_to, perm="audit.view")
    qs = AuditEntry.objects.order_by("-seq")
    if paths is None:
        return qs
    if not paths:
        return qs.none()
    scoped = scope_q_for_paths(paths, "area_path")
    if any(len(path) == SEGMENT for path in paths):
        scoped |= Q(area_path="")
    return qs.filter(scoped)

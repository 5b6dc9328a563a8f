"""Changes to the case configuration (categories and their deadlines), each one audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shequ.cases.models import Category
from shequ.core import audit
from shequ.core.errors import CoreError, DomainError

# The fields a category may be given or changed besides its code, name and parent.
CATEGORY_FIELDS = (
    "urgency",
    "sla_unit",
    "accept_sla",
    "dispatch_sla",
    "handle_sla",
    "verify_sla",
    "yellow_percent",
    "escalate_after",
    "on_spot",
    "public",
    "active",
    "sort",
)


def _check_parent(category: Category, parent: Category | None) -> None:
    """The tree has two levels: a group (市容环境) and the kinds of problem under it."""
    if parent is None:
        return
    if parent.parent_id is not None or (category.pk and parent.pk == category.pk):
        raise DomainError(
            CoreError.INVALID,
            _("The parent must be a top-level category."),
            {"field": "parent"},
        )
    if category.pk and category.children.exists():
        raise DomainError(
            CoreError.INVALID,
            _("A category with categories under it cannot be moved under another."),
            {"field": "parent"},
        )


def _changes(before: dict[str, Any], category: Category) -> dict[str, Any]:
    after = _snapshot(category)
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _snapshot(category: Category) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": category.code,
        "name": category.name,
        "parent": category.parent.code if category.parent_id and category.parent else None,
    }
    values.update({name: getattr(category, name) for name in CATEGORY_FIELDS})
    return values


@transaction.atomic
def category_create(
    *, actor: Any, code: str, name: str, parent: Category | None = None, **fields: Any
) -> Category:
    """Add a category; deadlines not given take the model's defaults."""
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"unknown category fields: {sorted(unknown)}")
    code, name = code.strip(), name.strip()
    if Category.objects.filter(code=code).exists():
        raise DomainError(
            CoreError.CONFLICT, _("A category with this code already exists."), {"field": "code"}
        )
    category = Category(code=code, name=name, parent=parent, **fields)
    _check_parent(category, parent)
    category.full_clean()
    category.save()
    audit.record(
        actor=actor, action="case.category_created", obj=category, changes=_snapshot(category)
    )
    return category


_UNSET: Any = object()


@transaction.atomic
def category_update(
    *,
    actor: Any,
    category: Category,
    name: str | None = None,
    parent: Category | None = _UNSET,
    **fields: Any,
) -> Category:
    """Change a category's name, parent, deadlines or flags (its code stays: cases cite it).
    New deadlines apply to stages that start from now on."""
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"unknown category fields: {sorted(unknown)}")
    category = (
        Category.objects.select_for_update(of=("self",))
        .select_related("parent")
        .get(pk=category.pk)
    )
    before = _snapshot(category)
    if name is not None:
        category.name = name.strip()
    if parent is not _UNSET:
        _check_parent(category, parent)
        category.parent = parent
    for key, value in fields.items():
        setattr(category, key, value)
    category.full_clean()
    category.save()
    changes = _changes(before, category)
    if changes:
        audit.record(actor=actor, action="case.category_updated", obj=category, changes=changes)
    return category

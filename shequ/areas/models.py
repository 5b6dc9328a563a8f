"""Areas of governance, nested by materialised path so a subtree is one indexed range."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import ScopedQuerySet

SEGMENT = 8  # digits per level in `path`: the zero-padded primary key


class Level(models.TextChoices):
    DISTRICT = "district", _("District")
    STREET = "street", _("Street / township")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")
    ESTATE = "estate", _("Estate / block")
    BUILDING = "building", _("Building")


LEVEL_ORDER: list[str] = list(Level.values)

# The level a child must have under each level (a building may sit directly under a grid too).
CHILD_LEVELS: dict[str, set[str]] = {
    Level.DISTRICT: {Level.STREET},
    Level.STREET: {Level.COMMUNITY},
    Level.COMMUNITY: {Level.GRID},
    Level.GRID: {Level.ESTATE, Level.BUILDING},
    Level.ESTATE: {Level.BUILDING},
    Level.BUILDING: set(),
}


class Kind(models.TextChoices):
    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")


class AreaQuerySet(ScopedQuerySet):
    scope_field = ""
    scope_perm = "areas.view"

    def subtree_of(self, area: Area, *, include_self: bool = True) -> AreaQuerySet:
        from shequ.accounts.scoping import subtree_q

        qs = self.filter(subtree_q(area.path))
        return qs if include_self else qs.exclude(pk=area.pk)


class Area(models.Model):
    """A node of the governance tree; every record in shequ hangs off one."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.URBAN)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=SEGMENT * 8, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    geometry = models.JSONField(_("boundary (GeoJSON, WGS84)"), null=True, blank=True)
    centroid_lng = models.FloatField(_("centre longitude"), null=True, blank=True)
    centroid_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=models.Q(level__in=Level.values), name="area_level"),
            models.CheckConstraint(condition=models.Q(kind__in=Kind.values), name="area_kind"),
            models.CheckConstraint(
                condition=models.Q(centroid_lat__isnull=True)
                | models.Q(centroid_lat__gte=-90, centroid_lat__lte=90),
                name="area_lat_range",
            ),
        ]
        indexes = [models.Index(fields=["parent", "sort_order"], name="area_parent_order")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_area_path(self) -> str:
        return self.path

    @property
    def ancestor_paths(self) -> list[str]:
        return [self.path[: SEGMENT * i] for i in range(1, self.depth + 1)]

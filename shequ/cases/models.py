"""Cases (网格事件): what someone reported, who handles it, each step taken, and its deadlines.

Every case carries its area (the grid it happened in) and its district, like every table that
holds residents' reports, for scoping and for distribution by district later.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import ScopedQuerySet
from shequ.cases.states import Level, Light, Source, Stage, Status, Urgency
from shequ.core.crypto import EncryptedTextField
from shequ.core.models import FiledUnderArea, TimeStamped


class UnitKind(models.TextChoices):
    COMMUNITY = "community", _("Community committee")
    STREET = "street", _("Street office")
    DEPARTMENT = "department", _("Government department")
    PROPERTY = "property", _("Property management company")
    OTHER = "other", _("Other unit")


class UnitQuerySet(ScopedQuerySet):
    scope_field = "area"


class Unit(FiledUnderArea, TimeStamped):
    """A body that handles cases: a community committee, street office, 城管, 住建, 物业 …"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area served"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="case_units"
    )
    active = models.BooleanField(_("active"), default=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("handling unit")
        verbose_name_plural = _("handling units")
        ordering = ["area__path", "name"]

    def __str__(self) -> str:
        return self.name


class SlaUnit(models.TextChoices):
    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")


class Category(TimeStamped):
    """A kind of problem (市容环境 › 占道经营 …) with its urgency and deadlines per stage."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    urgency = models.CharField(
        _("default urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    sla_unit = models.CharField(
        _("deadline unit"), max_length=5, choices=SlaUnit.choices, default=SlaUnit.HOURS
    )
    accept_sla = models.PositiveIntegerField(_("time to accept"), default=2)
    dispatch_sla = models.PositiveIntegerField(_("time to dispatch"), default=4)
    handle_sla = models.PositiveIntegerField(_("time to handle"), default=24)
    verify_sla = models.PositiveIntegerField(_("time to verify"), default=8)
    yellow_percent = models.PositiveSmallIntegerField(
        _("warning at (percent of the time used)"), default=75
    )
    escalate_after = models.PositiveIntegerField(
        _("escalate every (working hours overdue)"), default=8
    )
    on_spot = models.BooleanField(_("may be resolved on the spot"), default=False)
    public = models.BooleanField(_("offered to the public (Open311)"), default=True)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(yellow_percent__gte=1, yellow_percent__lte=99),
                name="category_yellow_between_1_99",
            ),
            models.CheckConstraint(
                condition=models.Q(accept_sla__gte=1)
                & models.Q(dispatch_sla__gte=1)
                & models.Q(handle_sla__gte=1)
                & models.Q(verify_sla__gte=1),
                name="category_sla_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name

    def sla_for(self, stage: str) -> int:
        return int(getattr(self, f"{stage}_sla"))


class RoutingRule(TimeStamped):
    """Category × area → the lead unit (and helpers). The most specific rule wins: the deepest
    area, then a rule naming the category over one for its parent, over one for any category."""

    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rules",
        help_text=_("Empty: any category (a fallback)."),
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="lead_rules"
    )
    helpers = models.ManyToManyField(
        Unit, verbose_name=_("helping units"), blank=True, related_name="helper_rules"
    )

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="routing_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'} @ {self.area} → {self.unit}"


class CaseQuerySet(ScopedQuerySet):
    scope_field = "area"
    scope_perm = "cases.view"


class Case(FiledUnderArea, TimeStamped):
    """One reported problem and where it is in the loop."""

    code = models.CharField(_("case number"), max_length=24, unique=True)
    # The reporter follows the case on a public page with this, without signing in.
    public_token = models.UUIDField(_("public token"), default=uuid.uuid4, unique=True)
    # No index of their own on the foreign keys (see Meta.indexes): a million open cases'
    # flips rewrite every index of each row they change on PostgreSQL, so each one counts.
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    district = models.ForeignKey(
        "areas.Area",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    dwelling = models.ForeignKey(
        "registry.Dwelling",
        verbose_name=_("registered address"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        db_index=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reporter_name = EncryptedTextField(_("caller's name"), blank=True)
    reporter_phone = EncryptedTextField(_("caller's phone"), blank=True)
    open311_client = models.ForeignKey(
        "cases.Open311Client",
        verbose_name=_("Open311 client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.REPORTED
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=Stage.choices, blank=True, default=Stage.ACCEPT
    )
    stage_started_at = models.DateTimeField(_("stage started"), null=True, blank=True)
    yellow_at = models.DateTimeField(_("warning from"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    light = models.CharField(_("SLA"), max_length=6, choices=Light.choices, default=Light.GREEN)
    level = models.PositiveSmallIntegerField(
        _("escalation level"), choices=Level.choices, default=Level.GRID
    )
    next_escalation_at = models.DateTimeField(_("next escalation"), null=True, blank=True)
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
        db_index=False,
    )
    supervised = models.BooleanField(_("supervised (督办)"), default=False)
    extension_requested_days = models.PositiveSmallIntegerField(
        _("more time asked (working days)"), null=True, blank=True
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
        db_index=False,
    )
    answer = models.TextField(_("answer"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    on_spot = models.BooleanField(_("resolved on the spot"), default=False)
    overdue_ever = models.BooleanField(_("was overdue"), default=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The SLA worker: open cases whose light is due to change.
            models.Index(fields=["light", "yellow_at"], name="case_light_yellow"),
            models.Index(fields=["light", "due_at"], name="case_light_due"),
            models.Index(
                fields=["next_escalation_at"],
                condition=models.Q(next_escalation_at__isnull=False),
                name="case_next_escalation_set",
            ),
            # Auto-close: verified cases by resolution time (partial: the flips of open cases
            # leave it alone).
            models.Index(
                fields=["resolved_at"],
                condition=models.Q(status="verified"),
                name="case_verified_resolved",
            ),
            models.Index(fields=["area", "status"], name="case_area_status"),
            models.Index(fields=["district", "created_at"], name="case_district_created"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["lead_unit", "status"], name="case_unit_status"),
            # The optional links are mostly empty: only the rows that have one are indexed.
            *(
                models.Index(
                    fields=[link],
                    condition=models.Q(**{f"{link}__isnull": False}),
                    name=f"case_{link}_set",
                )
                for link in ("dwelling", "reporter", "recorded_by", "open311_client", "merged_into")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="case_rating_1_5",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        from shequ.cases.states import OPEN

        return self.status in OPEN


class CaseTask(TimeStamped):
    """One unit's share of a case: the lead unit's, or a helping unit's (协同处置)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        HELPER = "helper", _("Helper")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Answered")
        RETURNED = "returned", _("Returned")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT)
    role = models.CharField(_("role"), max_length=6, choices=Role.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit task")
        verbose_name_plural = _("unit tasks")
        ordering = ["role", "id"]
        indexes = [models.Index(fields=["unit", "state"], name="casetask_unit_state")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.unit_id}:{self.role}"


class CaseEvent(models.Model):
    """One step in a case's life, shown on its timeline."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20)
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.TextField(_("note"), blank=True)
    # Shown on the public page (no personal data, no internal notes).
    public = models.BooleanField(_("public"), default=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


def _photo_path(instance: CasePhoto, filename: str) -> str:
    return f"cases/{instance.case.created_at:%Y/%m}/{uuid.uuid4().hex}.jpg"


class CasePhoto(TimeStamped):
    """A photo of the problem (at report) or of the result (as evidence), re-encoded as JPEG."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Reported")
        EVIDENCE = "evidence", _("Evidence")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    image = models.FileField(_("photo"), upload_to=_photo_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name


class Open311Client(TimeStamped):
    """An outside system allowed to post requests through Open311; the key is stored hashed."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self) -> str:
        return self.name


class CaseCounter(models.Model):
    """The last number handed out per day, for readable case codes (SJ20261122-000123)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case counter")

    def __str__(self) -> str:
        return f"{self.day}:{self.last}"


class StatGrain(models.IntegerChoices):
    """What a CaseStat row is counted under. OWN rows are the cases' own areas with leaf
    categories and lead units; the others roll them up so that a district's or a street's page
    reads a few hundred rows a day instead of thousands."""

    OWN = 0, _("The case's area, category and lead unit")
    DISTRICT = 1, _("District, top-level category and lead unit")
    STREET = 2, _("Street, top-level category and lead unit")
    COMMUNITY = 3, _("Community and top-level category")
    DISTRICT_LEAF = 11, _("District and category")
    STREET_LEAF = 12, _("Street and category")
    # By week (`day` is the Monday), so that long periods and the alerts' eight weeks of
    # history read a row a week instead of seven.
    DISTRICT_WEEK = 21, _("District, top-level category and lead unit, by week")
    STREET_WEEK = 22, _("Street, top-level category and lead unit, by week")
    COMMUNITY_WEEK = 23, _("Community and top-level category, by week")
    DISTRICT_LEAF_WEEK = 31, _("District and category, by week")
    STREET_LEAF_WEEK = 32, _("Street and category, by week")


class CaseStat(models.Model):
    """Case figures of one day for one (area, category, lead unit), pre-aggregated so the
    analysis pages read a few thousand rows instead of a million cases.

    Each figure is counted on the day its event happened (local calendar day): `reported` on
    the day the case was reported; `resolved`, `on_time`, `overdue`, the handling time and the
    rating on the day it was resolved; `closed` on the day it was closed. Each OWN row (the
    case's own area) is also rolled up under its district, street and community (`grain`). See
    `cases.analysis` for the exact definitions and how rows are kept up to date.
    """

    day = models.DateField(_("day"))
    grain = models.PositiveSmallIntegerField(
        _("counted under"), choices=StatGrain.choices, default=StatGrain.OWN
    )
    # No indexes on the keys: rows are found by path and day, and are derived data.
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # The area's path, copied so that a subtree and a period are one index range.
    area_path = models.CharField(_("area path"), max_length=64)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    reported = models.PositiveIntegerField(_("reported"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    on_time = models.PositiveIntegerField(_("resolved on time"), default=0)
    overdue = models.PositiveIntegerField(_("resolved late"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    rating_count = models.PositiveIntegerField(_("ratings"), default=0)
    rating_good = models.PositiveIntegerField(_("ratings of 4 or 5"), default=0)
    handle_seconds_sum = models.BigIntegerField(_("working seconds to resolve"), default=0)
    handle_count = models.PositiveIntegerField(_("cases timed"), default=0)

    class Meta:
        verbose_name = _("case statistics row")
        verbose_name_plural = _("case statistics")
        indexes = [
            # An area's (or a few areas') rows of a period; a subtree's for the OWN grain. Every
            # column is in it, so the pages read the index alone (SQLite; PostgreSQL once the
            # rows are vacuumed), not a table row per index entry.
            models.Index(
                fields=[
                    "grain",
                    "area_path",
                    "day",
                    "category",
                    "unit",
                    "reported",
                    "resolved",
                    "closed",
                    "on_time",
                    "overdue",
                    "rating_sum",
                    "rating_count",
                    "rating_good",
                    "handle_seconds_sum",
                    "handle_count",
                ],
                name="casestat_grain_path_day",
            ),
        ]
        constraints = [
            # Day first: a refresh deletes whole days through this index. NULLs are distinct
            # in it, so the rows without a unit have their own (partial) one below.
            models.UniqueConstraint(
                fields=["day", "grain", "area", "category", "unit"],
                name="casestat_unique_with_unit",
            ),
            models.UniqueConstraint(
                fields=["day", "grain", "area", "category"],
                condition=models.Q(unit__isnull=True),
                name="casestat_unique_without_unit",
            ),
            models.CheckConstraint(
                condition=models.Q(on_time__lte=models.F("resolved"))
                & models.Q(rating_good__lte=models.F("rating_count")),
                name="casestat_parts_within_totals",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.grain}:{self.area_path} {self.category_id} {self.unit_id}"

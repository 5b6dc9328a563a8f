"""一标三实: standard addresses, actual housing, actual population, actual organisations.

Every table carries its `area` (the grid or estate it belongs to) for scoping and its
`district` so it can later be distributed by district. ID numbers and phones are stored only
encrypted, with keyed blind indexes for exact and last-four-digit lookup.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import ScopedQuerySet
from shequ.core.crypto import EncryptedTextField
from shequ.core.models import FiledUnderArea, TimeStamped
from shequ.registry.states import (
    DwellingUse,
    Gender,
    IdKind,
    OrganisationKind,
    PersonStatus,
    Relation,
    ResidenceType,
)


class Placed(FiledUnderArea, TimeStamped):
    """A row that hangs off the area tree."""

    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "areas.Area",
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=True,
    )

    class Meta:
        abstract = True


class StaffQuerySet(ScopedQuerySet):
    """Registry rows are read by staff roles only (residents see their own record elsewhere)."""

    scope_field = "area"
    scope_perm = "registry.view"


class Building(Placed):
    """A building (楼栋) with its standard address and location."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    road = models.CharField(_("road"), max_length=50, blank=True)
    road_number = models.CharField(_("number"), max_length=20, blank=True)
    estate_name = models.CharField(_("estate"), max_length=50, blank=True)
    standard_address = models.CharField(_("standard address"), max_length=200, db_index=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.standard_address


class Dwelling(Placed):
    """A dwelling (房屋) in a building: the room-level standard address."""

    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="dwellings"
    )
    unit = models.CharField(_("unit"), max_length=10, blank=True)
    floor = models.SmallIntegerField(_("floor"), null=True, blank=True)
    room = models.CharField(_("room"), max_length=20)
    use = models.CharField(
        _("use"), max_length=12, choices=DwellingUse.choices, default=DwellingUse.OWNER
    )
    floor_area = models.DecimalField(
        _("floor area (m²)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    standard_address = models.CharField(_("standard address"), max_length=220, unique=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("dwelling")
        verbose_name_plural = _("dwellings")
        ordering = ["building", "unit", "room"]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="dwelling_unique"),
            models.CheckConstraint(
                condition=models.Q(use__in=DwellingUse.values), name="dwelling_use"
            ),
        ]

    def __str__(self) -> str:
        return self.standard_address


class Household(Placed):
    """A household (户): people registered or living together, with a head."""

    number = models.CharField(_("household number"), max_length=40, unique=True)
    dwelling = models.ForeignKey(
        Dwelling,
        verbose_name=_("dwelling"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="households",
    )
    head = models.ForeignKey(
        "registry.Person",
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.number


class Person(Placed):
    """A person of the actual population (实有人口)."""

    # area, name, pinyin, initials and dwelling: no single-column index of their own, each
    # leads a composite index below (one index fewer to write per row of a large import).
    area = models.ForeignKey(
        "areas.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(_("pinyin"), max_length=200, blank=True)
    name_initials = models.CharField(_("initials"), max_length=30, blank=True)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True, db_index=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    id_kind = models.CharField(
        _("document"), max_length=10, choices=IdKind.choices, default=IdKind.RESIDENT
    )
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_blind = models.CharField(max_length=32, blank=True, editable=False)
    id_last4_blind = models.CharField(max_length=32, blank=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_blind = models.CharField(max_length=32, blank=True, editable=False)
    phone_last4_blind = models.CharField(max_length=32, blank=True, editable=False)
    residence_type = models.CharField(
        _("residence"),
        max_length=12,
        choices=ResidenceType.choices,
        default=ResidenceType.REGISTERED,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    dwelling = models.ForeignKey(
        Dwelling,
        verbose_name=_("dwelling"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        db_index=False,
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation_to_head = models.CharField(
        _("relation to head"), max_length=12, choices=Relation.choices, blank=True
    )
    political_status = models.CharField(_("political status"), max_length=20, blank=True)
    work = models.CharField(_("work or school"), max_length=200, blank=True)
    hukou_address = models.CharField(_("hukou address"), max_length=200, blank=True)
    address_raw = models.CharField(_("address as reported"), max_length=255, blank=True)
    provenance = models.JSONField(_("provenance"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(
                fields=["id_blind"],
                condition=~models.Q(id_blind=""),
                name="person_unique_id",
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=Gender.values), name="person_gender"
            ),
        ]
        indexes = [
            models.Index(fields=["area", "status"], name="person_area_status"),
            # Search (registry.selectors.search_people): each kind of search walks one of
            # these in the order it returns people, and the area in the index lets scoping
            # and the capped count skip the rows themselves.
            models.Index(fields=["name", "id", "area"], name="person_name_search"),
            # With the pinyin: `zh` (initials of 张华, start of zhang) walks one range of it.
            models.Index(
                fields=["name_initials", "name", "id", "area", "name_pinyin"],
                name="person_initials_search",
            ),
            models.Index(fields=["name_pinyin", "name", "id", "area"], name="person_pinyin_search"),
            models.Index(fields=["dwelling", "name", "id", "area"], name="person_dwelling_search"),
            # Blind indexes are only ever compared whole: declared here rather than with
            # db_index, which on PostgreSQL adds a second, `varchar_pattern_ops` index (for
            # LIKE) that costs a write per row and serves no query.
            models.Index(fields=["id_blind"], name="person_id_blind"),
            models.Index(fields=["id_last4_blind"], name="person_id_last4_blind"),
            models.Index(fields=["phone_blind"], name="person_phone_blind"),
            models.Index(fields=["phone_last4_blind"], name="person_phone_last4_blind"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        today = dt.date.today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday


class TagType(TimeStamped):
    """A special-group tag (独居老人, 残疾人, 低保 …); a district admin may add more."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50)
    category = models.CharField(_("category"), max_length=30, blank=True)
    sensitive = models.BooleanField(
        _("sensitive"), default=False, help_text=_("Health, disability, corrections and the like")
    )
    attributes = models.JSONField(
        _("attributes"),
        default=list,
        blank=True,
        help_text=_("Extra fields the tag records, e.g. disability category and level"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class PersonTag(Placed):
    """A person's membership of a special group, valid for a period, from a source."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="tags"
    )
    tag = models.ForeignKey(
        TagType, verbose_name=_("tag"), on_delete=models.PROTECT, related_name="people"
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("person tag")
        verbose_name_plural = _("person tags")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="person_tag_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.tag}"


class Organisation(Placed):
    """An actual organisation (实有单位): resident units, social organisations, property
    companies and shops."""

    kind = models.CharField(_("kind"), max_length=10, choices=OrganisationKind.choices)
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, db_index=True
    )
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_blind = models.CharField(max_length=32, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.SET_NULL, related_name="organisations"
    )

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["phone_blind"], name="organisation_phone_blind")]

    def __str__(self) -> str:
        return self.name


class UnmaskLog(models.Model):
    """Kept beside the audit log for quick per-person review of who saw plaintext."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="unmaskings")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("unmasking")
        verbose_name_plural = _("unmaskings")

    def __str__(self) -> str:
        return f"{self.actor} · {self.person} · {self.field}"


class Source(TimeStamped):
    """A department whose lists come in (民政局, 残联 …), how far it is trusted, and the column
    mapping learnt from its last file so the next one maps itself."""

    code = models.SlugField(_("code"), max_length=60, unique=True, allow_unicode=True)
    name = models.CharField(_("name"), max_length=100)
    trust = models.PositiveSmallIntegerField(
        _("trust"), default=3, help_text=_("1 (low) to 5 (authoritative)")
    )
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)

    class Meta:
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Failed")


class ImportBatch(FiledUnderArea, TimeStamped):
    """One file from one source: its preview, then (once) its commit."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="batches")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    stats = models.JSONField(_("result"), default=dict, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    stored_file = models.CharField(max_length=255, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            # A file is committed once per source: a second commit of the same content is a no-op.
            models.UniqueConstraint(
                fields=["source", "sha256"],
                condition=models.Q(status="committed"),
                name="import_committed_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} · {self.file_name}"


class ImportedRow(models.Model):
    """A row already taken in from a source (its content hash), so a re-sent row is skipped."""

    # No index of its own: it leads the unique (source, row_hash) index.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+", db_index=False)
    row_hash = models.CharField(max_length=32)
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    person = models.ForeignKey(Person, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "row_hash"], name="imported_row_once")
        ]

    def __str__(self) -> str:
        return self.row_hash


class QueueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")


class QueueItem(FiledUnderArea, TimeStamped):
    """Something an import could not settle alone; a worker decides it once."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=QueueStatus.choices, default="open")
    decision = models.CharField(_("decision"), max_length=10, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = StaffQuerySet.as_manager()

    class Meta:
        abstract = True


class Conflict(QueueItem):
    """A field where a trusted source says something else than the register."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="conflicts")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(_("field"), max_length=30)
    incoming = EncryptedTextField(_("incoming value"))

    class Meta:
        verbose_name = _("conflict")
        verbose_name_plural = _("conflicts")

    def __str__(self) -> str:
        return f"{self.person} · {self.field}"


class MatchReview(QueueItem):
    """A row that may or may not be a registered person: a worker decides."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="reviews")
    row_number = models.PositiveIntegerField()
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    incoming = EncryptedTextField(_("incoming row"))  # JSON of the normalised row

    class Meta:
        verbose_name = _("match to review")
        verbose_name_plural = _("matches to review")

    def __str__(self) -> str:
        return f"{self.batch} · row {self.row_number}"

"""The service desk (一站式受理): the catalogue of public services, applications, community
certificates (only those allowed), and eligibility rules that push services to residents.

Applications, certificates and eligibility results carry the resident's area and district, like
every table that holds residents' data.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import ScopedQuerySet
from shequ.core.models import FiledUnderArea, TimeStamped
from shequ.servicedesk.states import Channel, ItemCategory, Status


class ServiceItem(TimeStamped):
    """One public service a resident may apply for (公共服务事项清单)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=20, choices=ItemCategory.choices)
    department = models.CharField(_("department"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    # [{"code": "idcard", "name": "居民身份证", "required": true}, …]
    materials = models.JSONField(_("required materials"), default=list, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    time_limit_days = models.PositiveSmallIntegerField(
        _("time limit (working days, 0 = on the spot)"), default=0
    )
    fee = models.CharField(_("fee"), max_length=60, default="免费")
    proxy_allowed = models.BooleanField(_("may be handled on the resident's behalf"), default=True)
    online = models.BooleanField(_("may be applied for online"), default=True)
    desk = models.BooleanField(_("may be applied for at the desk"), default=True)
    # Fields the application form asks for beyond what the register holds.
    extra_fields = models.JSONField(_("extra form fields"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service catalogue")
        ordering = ["category", "sort", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def on_the_spot(self) -> bool:
        return self.time_limit_days == 0


class ResidentLink(TimeStamped):
    """Which registered person a resident's account is (set once, by staff or on verification)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident_link"
    )
    person = models.ForeignKey("registry.Person", on_delete=models.CASCADE, related_name="accounts")

    class Meta:
        verbose_name = _("resident account link")
        verbose_name_plural = _("resident account links")

    def __str__(self) -> str:
        return f"{self.user_id}→{self.person_id}"


class DeskQuerySet(ScopedQuerySet):
    scope_field = "area"
    scope_perm = "desk.view"


class Application(FiledUnderArea, TimeStamped):
    """One resident's application for one service."""

    code = models.CharField(_("application number"), max_length=24, unique=True)
    public_token = models.UUIDField(_("public token"), default=uuid.uuid4, unique=True)
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("service"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("applicant"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "areas.Area", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applicant's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proxy_authorisation = models.CharField(
        _("authorisation for handling on the resident's behalf"), max_length=200, blank=True
    )
    # What the register knew when the application was made, and what the applicant added.
    form = models.JSONField(_("form"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    paused_at = models.DateTimeField(_("clock paused at"), null=True, blank=True)
    forwarded_to = models.CharField(_("forwarded to"), max_length=100, blank=True)
    answer = models.TextField(_("answer"), blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = DeskQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["area", "status"], name="application_area_status"),
            models.Index(fields=["status", "due_at"], name="application_status_due"),
            models.Index(fields=["person", "status"], name="application_person_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="application_rating_1_5",
            )
        ]

    def __str__(self) -> str:
        return self.code


class ApplicationMaterial(TimeStamped):
    """One required material: uploaded, or seen in the original at the desk."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="material_rows"
    )
    code = models.CharField(_("material"), max_length=40)
    file = models.FileField(_("file"), upload_to="applications/%Y/%m/", blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("original seen by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("application material")
        verbose_name_plural = _("application materials")
        constraints = [
            models.UniqueConstraint(fields=["application", "code"], name="application_material")
        ]

    def __str__(self) -> str:
        return self.code


class ApplicationEvent(models.Model):
    """One step of an application, shown on its progress page."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


class AppCounter(models.Model):
    """The last application number handed out per day (BJ20261122-000001)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("application counter")

    def __str__(self) -> str:
        return f"{self.day}:{self.last}"


class CertificateType(TimeStamped):
    """A community certificate: allowed (positive list) or forbidden (民发〔2020〕20号)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    allowed = models.BooleanField(_("may be issued by the community"), default=False)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    purpose = models.TextField(_("typical purposes"), blank=True)
    procedure = models.TextField(_("procedure"), blank=True)
    # The body text with {placeholders} filled from the register (see certificates.FIELDS).
    template = models.TextField(_("template"), blank=True)
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=90)
    time_limit_days = models.PositiveSmallIntegerField(_("time limit (working days)"), default=0)
    # For a forbidden certificate: who serves the need instead, and how.
    alternative = models.TextField(_("where to go instead"), blank=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("certificate type")
        verbose_name_plural = _("certificate types")
        ordering = ["-allowed", "sort", "code"]

    def __str__(self) -> str:
        return self.name


class CertificateQuerySet(ScopedQuerySet):
    scope_field = "area"
    scope_perm = "desk.view"


class Certificate(FiledUnderArea, TimeStamped):
    """An issued certificate; its code is printed with a QR code to the public verify page."""

    code = models.CharField(_("verification code"), max_length=24, unique=True)
    serial = models.CharField(_("serial number"), max_length=30, unique=True)
    type = models.ForeignKey(
        CertificateType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("holder"), on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "areas.Area", verbose_name=_("district"), on_delete=models.PROTECT, related_name="+"
    )
    committee = models.CharField(_("issuing committee"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=200)
    body = models.TextField(_("text"))
    # What the holder agreed the verification page may show (e.g. {"name": "masked"}).
    consent = models.JSONField(_("shown on verification"), default=dict, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="certificates"
    )
    valid_until = models.DateField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.serial


class Verification(models.Model):
    """Every look-up of a verification code, found or not (logged, never shown publicly)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    code = models.CharField(_("code looked up"), max_length=40)
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="verifications"
    )
    result = models.CharField(_("result"), max_length=10)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")

    def __str__(self) -> str:
        return f"{self.code} {self.result}"


class EligibilityRule(TimeStamped):
    """Who is entitled to a service (an expression over resident attributes), and how we reach
    them. Rules are data a district admin edits; they are parsed, never evaluated as Python."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    expression = models.TextField(_("who is entitled"))
    # Who already receives it: a second expression (often `has_tag("...")`), and/or an approved
    # application of the item.
    receiving = models.TextField(_("who already receives it"), blank=True)
    item = models.ForeignKey(
        ServiceItem,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="rules",
    )
    outreach = models.CharField(_("what the grid worker should do"), max_length=200, blank=True)
    notice = models.TextField(_("notice to the resident"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("eligibility rule")
        verbose_name_plural = _("eligibility rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class OutreachState(models.TextChoices):
    OPEN = "open", _("To contact")
    CONTACTED = "contacted", _("Contacted")
    DECLINED = "declined", _("Declined")
    APPLIED = "applied", _("Applied")
    RECEIVING = "receiving", _("Receiving")


class EligibilityQuerySet(ScopedQuerySet):
    scope_field = "area"
    scope_perm = "eligibility.view"


class Entitlement(FiledUnderArea, TimeStamped):
    """A resident a rule found entitled, and what has been done to reach them (outreach task).

    The foreign keys have no database constraint (`db_constraint=False`): the run writes up to
    a million rows a night set-based, and PostgreSQL checks each row's four constraints one by
    one (a locking lookup per row and key), which doubled the run. Integrity holds without them:

    * rows are written only by `eligibility._apply`, inside the transaction that holds the
      rule's row lock, from ids it has just read: the rule, the active resident, their area
      and district (which the register's own constrained keys keep existing), the grid worker;
    * deletions go through the ORM, which applies `on_delete` itself (cascade, protect, set
      null); residents, rules and areas end, move or are deactivated, never deleted, except
      by the demo's reset (through the ORM, results first);
    * should a resident be deleted while a run writes their row, the next run deletes the
      rows of residents that no longer exist (`_apply`); reads join the resident, so such a
      row is never shown meanwhile; an account deleted meanwhile reads as no grid worker
      (outer join) and the next run assigns the grid's current one.

    Indexes: `rule` is the leading column of the unique (rule, person) and `area` of
    (area, rule, state), so neither gets one of its own; `district` is never filtered on.
    """

    rule = models.ForeignKey(
        EligibilityRule,
        on_delete=models.CASCADE,
        related_name="results",
        db_constraint=False,
        db_index=False,
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    district = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    state = models.CharField(
        _("state"), max_length=10, choices=OutreachState.choices, default=OutreachState.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grid worker"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outreach_tasks",
        db_constraint=False,
    )
    still_entitled = models.BooleanField(_("still entitled at the last run"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)

    objects = EligibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        constraints = [
            models.UniqueConstraint(fields=["rule", "person"], name="entitlement_rule_person")
        ]
        indexes = [models.Index(fields=["area", "rule", "state"], name="entitlement_area_rule")]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.person_id}"

"""Choices of the registry, as data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DwellingUse(models.TextChoices):
    OWNER = "owner", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    VACANT = "vacant", _("Vacant dwelling")
    COMMERCIAL = "commercial", _("Commercial")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered (hukou)")
    FLOATING = "floating", _("Floating population")
    FOREIGN = "foreign", _("From outside the mainland")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Father or mother")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class IdKind(models.TextChoices):
    RESIDENT = "resident", _("Resident identity card")
    HK = "hk", _("Hong Kong residence permit")
    MACAO = "macao", _("Macao residence permit")
    TAIWAN = "taiwan", _("Taiwan residence permit")
    OTHER = "other", _("Other document")


class OrganisationKind(models.TextChoices):
    UNIT = "unit", _("Resident unit")
    SOCIAL = "social", _("Social organisation")
    PROPERTY = "property", _("Property management company")
    SHOP = "shop", _("Shop")

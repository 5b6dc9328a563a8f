from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shequ.registry import pii
from shequ.registry.models import (
    Building,
    Dwelling,
    Household,
    ImportBatch,
    Organisation,
    Person,
    PersonTag,
)
from shequ.registry.states import Gender, OrganisationKind, Relation, ResidenceType


class PersonTagSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="tag.code")
    name = serializers.CharField(source="tag.name")

    class Meta:
        model = PersonTag
        fields = ["code", "name", "valid_from", "valid_to", "source", "details"]


class PersonSerializer(serializers.ModelSerializer):
    """A person as the API shows them: ID number and phone masked, always."""

    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    id_number = serializers.SerializerMethodField(help_text="masked, e.g. 1101**********123X")
    phone = serializers.SerializerMethodField(help_text="masked, e.g. 138****5678")
    address = serializers.SerializerMethodField()
    household: Any = serializers.SlugRelatedField(slug_field="number", read_only=True)
    age = serializers.IntegerField(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "gender",
            "birth_date",
            "age",
            "id_number",
            "phone",
            "residence_type",
            "status",
            "area",
            "address",
            "household",
            "relation_to_head",
            "tags",
        ]

    def get_id_number(self, person: Person) -> str:
        return pii.mask_id(person.id_number)

    def get_phone(self, person: Person) -> str:
        return pii.mask_phone(person.phone)

    def get_address(self, person: Person) -> str:
        return person.dwelling.standard_address if person.dwelling else person.address_raw

    def get_tags(self, person: Person) -> list[dict[str, Any]]:
        tags = getattr(person, "active_tags", None)
        if tags is None:
            return []
        return PersonTagSerializer(tags, many=True).data  # type: ignore[return-value]


class PersonDetailSerializer(PersonSerializer):
    class Meta(PersonSerializer.Meta):
        fields = [
            *PersonSerializer.Meta.fields,
            "ethnicity",
            "political_status",
            "work",
            "hukou_address",
            "address_raw",
            "provenance",
            "version",
        ]


class PersonWriteSerializer(serializers.Serializer):
    """Fields accepted on create and update (the services normalise and check them)."""

    area = serializers.CharField(max_length=32, required=False, help_text="grid or estate code")
    name = serializers.CharField(max_length=100, required=False)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    birth_date = serializers.DateField(required=False, allow_null=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    ethnicity = serializers.CharField(max_length=20, required=False, allow_blank=True)
    residence_type = serializers.ChoiceField(choices=ResidenceType.choices, required=False)
    relation_to_head = serializers.ChoiceField(
        choices=Relation.choices, required=False, allow_blank=True
    )
    political_status = serializers.CharField(max_length=20, required=False, allow_blank=True)
    work = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hukou_address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address_raw = serializers.CharField(max_length=255, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, help_text="required on update")


class UnmaskSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=["id_number", "phone"])
    reason = serializers.CharField(max_length=200)


class DwellingSerializer(serializers.ModelSerializer):
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Dwelling
        fields = ["id", "standard_address", "building", "unit", "floor", "room", "use", "area"]


class BuildingSerializer(serializers.ModelSerializer):
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Building
        fields = ["id", "code", "name", "standard_address", "floors", "lng", "lat", "area"]


class HouseholdSerializer(serializers.ModelSerializer):
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "number", "area", "dwelling", "head", "members"]

    def get_members(self, household: Household) -> list[int]:
        return [m.pk for m in household.members.all()]


class OrganisationSerializer(serializers.ModelSerializer):
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Organisation
        fields = ["id", "kind", "name", "credit_code", "contact_name", "phone", "address", "area"]

    def get_phone(self, org: Organisation) -> str:
        return pii.mask_phone(org.phone)


class OrganisationWriteSerializer(serializers.Serializer):
    """Fields accepted on create and update (the services normalise and check them)."""

    area = serializers.CharField(
        max_length=32, required=False, help_text="community, grid or estate code"
    )
    kind = serializers.ChoiceField(choices=OrganisationKind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True)
    contact_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)


class UnresolvedAddressSerializer(serializers.Serializer):
    """One address text no standard address matched, with how many people wait on it."""

    address_raw = serializers.CharField()
    waiting = serializers.IntegerField()
    areas = serializers.IntegerField(help_text="how many areas the people are filed in")
    area_name = serializers.CharField(help_text="the first of those areas by name")


class AddressResolveSerializer(serializers.Serializer):
    """Either `dwelling` (a registered standard address) or `building` + `room` (+ `unit`)."""

    raw = serializers.CharField(max_length=255, help_text="the address text as reported")
    dwelling = serializers.IntegerField(required=False, min_value=1)
    building = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    room = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class AddressResolutionSerializer(serializers.Serializer):
    raw = serializers.CharField()
    dwelling = DwellingSerializer()
    created = serializers.BooleanField(help_text="whether the standard address is new")
    people = serializers.ListField(child=serializers.IntegerField(), help_text="linked people")


class ImportBatchSerializer(serializers.ModelSerializer):
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    source: Any = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "file_name",
            "source",
            "area",
            "sheet",
            "status",
            "progress",
            "stats",
            "message",
            "created_at",
            "committed_at",
        ]


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    source = serializers.CharField(max_length=100)  # type: ignore[assignment]
    area = serializers.CharField(max_length=32)
    sheet = serializers.CharField(max_length=100, required=False, allow_blank=True)
    commit = serializers.BooleanField(default=False)

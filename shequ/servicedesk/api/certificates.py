"""Certificates API: the types (allowed and forbidden, with where to go instead), issuing,
revoking and printing through `certificates`, and the public verification answer.

A certificate is addressed by its verification code; one the caller may not see answers 404,
like one that does not exist. Asking for a forbidden type answers 409 `certificate_forbidden`
with `extra.alternative` before anything else about the request is looked at.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from shequ.core.errors import NotFound
from shequ.core.middleware import client_ip
from shequ.registry.access import access_person
from shequ.servicedesk import certificates
from shequ.servicedesk.access import access_application
from shequ.servicedesk.certificates import CONSENT_DEFAULTS, Outcome
from shequ.servicedesk.errors import CertificateError
from shequ.servicedesk.forms_certificates import CertificateFilter
from shequ.servicedesk.models import Certificate, CertificateType

CODE = OpenApiParameter(
    "code",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="verification code (16 characters; dashes and case are ignored)",
)


def _absolute(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class CertificateTypeSerializer(serializers.ModelSerializer):
    """A certificate type: allowed (with its template) or forbidden (with the alternative)."""

    class Meta:
        model = CertificateType
        fields = [
            "code",
            "name",
            "allowed",
            "legal_basis",
            "purpose",
            "procedure",
            "template",
            "valid_days",
            "time_limit_days",
            "alternative",
        ]
        read_only_fields = fields


class CertificateSerializer(serializers.ModelSerializer):
    """An issued certificate as the desk sees it (the holder's name masked)."""

    type: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    type_name = serializers.CharField(source="type.name", read_only=True)
    person: Any = serializers.PrimaryKeyRelatedField(read_only=True)
    holder = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    issued_at = serializers.DateTimeField(source="created_at", read_only=True)
    pdf = serializers.SerializerMethodField(help_text="staff-only link to the PDF (audited)")
    verify_url = serializers.SerializerMethodField(help_text="the public page the QR code opens")

    class Meta:
        model = Certificate
        fields = [
            "code",
            "serial",
            "type",
            "type_name",
            "person",
            "holder",
            "committee",
            "purpose",
            "consent",
            "issued_at",
            "valid_until",
            "status",
            "revoked_at",
            "revoke_reason",
            "pdf",
            "verify_url",
        ]
        read_only_fields = fields

    def get_holder(self, obj: Certificate) -> str:
        return certificates.mask_name(obj.person.name)

    def get_status(self, obj: Certificate) -> str:
        if obj.revoked_at is not None:
            return str(Outcome.REVOKED)
        return str(Outcome.EXPIRED if obj.valid_until < timezone.localdate() else Outcome.VALID)

    def get_pdf(self, obj: Certificate) -> str:
        from django.urls import reverse

        path = reverse("api:certificate-pdf", args=[obj.code])
        return _absolute(self.context.get("request"), path)

    def get_verify_url(self, obj: Certificate) -> str:
        return _absolute(self.context.get("request"), certificates.verify_path(obj.code))


class ConsentSerializer(serializers.Serializer):
    full_name = serializers.BooleanField(required=False, help_text="show the full name")
    purpose = serializers.BooleanField(required=False, help_text="show the purpose (default)")
    id_number = serializers.BooleanField(required=False, help_text="show the ID number, masked")
    address = serializers.BooleanField(required=False, help_text="show the address")
    phone = serializers.BooleanField(required=False, help_text="show the phone, masked")

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(CONSENT_DEFAULTS))
            if unknown:
                raise serializers.ValidationError(
                    _("Unknown consent keys: %(keys)s.") % {"keys": ", ".join(unknown)}
                )
        return super().to_internal_value(data)


class CertificateRequestSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=40, help_text="certificate type code")
    person = serializers.IntegerField(min_value=1, help_text="the person's register id")
    purpose = serializers.CharField(max_length=200)
    consent = ConsentSerializer(
        required=False,
        help_text="what the public verification may show; by default the type, committee, "
        "dates, the holder's masked name and the purpose",
    )
    full_id = serializers.BooleanField(
        default=False, help_text="print the whole ID number in the text (default: masked)"
    )
    application = serializers.CharField(
        required=False, max_length=24, help_text="the application number it answers, if any"
    )


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class PdfRenderer(BaseRenderer):
    """Lets clients ask for `Accept: application/pdf`; errors still go out as JSON text."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else json.dumps(data).encode()


class CertificateTypeViewSet(viewsets.ReadOnlyModelViewSet):
    """Every certificate type, allowed first; by code. For signed-in users."""

    serializer_class = CertificateTypeSerializer
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[CertificateType]:
        return certificates.type_list()

    def get_object(self) -> CertificateType:
        return certificates.access_type(self.kwargs["code"])


@extend_schema_view(retrieve=extend_schema(parameters=[CODE]))
class CertificateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Certificates issued in the caller's areas; issuing, revoking, printing."""

    serializer_class = CertificateSerializer
    filterset_class = CertificateFilter
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9]+"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Certificate]:
        return certificates.visible_certificates(self.request.user)

    def get_object(self) -> Certificate:
        return certificates.access_certificate(self.request.user, self.kwargs["code"])

    @extend_schema(
        request=CertificateRequestSerializer,
        responses={201: CertificateSerializer},
        description=(
            "Issue a certificate filled from the register. A forbidden type answers 409 "
            "`certificate_forbidden` with `extra.alternative` (where to go instead) whatever "
            "else the request holds; a person the caller may not see 404; what the register "
            "lacks 409 `certificate_register_incomplete` with `extra.missing`."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.data.get("type") if isinstance(request.data, dict) else None
        if isinstance(raw, str):
            # An unknown type is reported below, as an invalid field.
            with contextlib.suppress(NotFound):
                certificates.refuse_forbidden(certificates.access_type(raw))
        data = CertificateRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            certificate_type = certificates.access_type(values["type"])
        except NotFound as exc:
            raise serializers.ValidationError(
                {"type": [_("There is no such certificate type.")]}
            ) from exc
        person = access_person(request.user, values["person"])
        application = None
        if values.get("application"):
            application = access_application(request.user, values["application"])
        certificate = certificates.certificate_request(
            actor=request.user,
            type=certificate_type,
            person=person,
            purpose=values["purpose"],
            consent=values.get("consent"),
            application=application,
            full_id=values["full_id"],
        )
        body = CertificateSerializer(certificate, context=self.get_serializer_context())
        return Response(body.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CODE],
        request=RevokeSerializer,
        responses={200: CertificateSerializer},
        description="Revoke (needs a reason); verification answers `revoked` from now on.",
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        certificate = self.get_object()
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        certificate = certificates.certificate_revoke(
            actor=request.user, certificate=certificate, reason=data.validated_data["reason"]
        )
        return Response(CertificateSerializer(certificate, context={"request": request}).data)

    @extend_schema(
        parameters=[CODE],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        description="The PDF to print; for the issuing desk only, audited, never when revoked.",
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        certificate = self.get_object()
        pdf = certificates.certificate_print(
            actor=request.user, certificate=certificate, base_url=request.build_absolute_uri("/")
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{certificate.serial}.pdf"'
        response["Cache-Control"] = "no-store"
        return response


class VerifyThrottle(AnonRateThrottle):
    scope = "certificate-verify"
    rate = "60/min"


VERIFY_ANSWER = inline_serializer(
    "CertificateVerification",
    {
        "status": serializers.ChoiceField(choices=[o.value for o in Outcome]),
        "type": serializers.CharField(required=False),
        "committee": serializers.CharField(required=False),
        "serial": serializers.CharField(required=False),
        "issued_on": serializers.DateField(required=False),
        "valid_until": serializers.DateField(required=False),
        "revoked_at": serializers.DateTimeField(required=False),
        "holder": serializers.CharField(required=False, help_text="masked unless consented"),
        "purpose": serializers.CharField(required=False),
        "id_number": serializers.CharField(required=False, help_text="masked, if consented"),
        "address": serializers.CharField(required=False),
        "phone": serializers.CharField(required=False, help_text="masked, if consented"),
    },
)


class VerifyView(APIView):
    """Public (no sign-in): is the certificate with this code genuine and valid? A valid one
    shows only what its holder agreed to; an unknown or altered code says nothing more than
    `not_found`. Every look-up is logged."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(
        parameters=[CODE],
        responses={200: VERIFY_ANSWER, 404: OpenApiResponse(VERIFY_ANSWER)},
        summary="Verify a certificate",
    )
    def get(self, request: Request, code: str) -> Response:
        result = certificates.certificate_verify(code=code, ip=client_ip(request._request))
        response = Response(result.as_json())
        if result.status is Outcome.NOT_FOUND:
            response = Response(
                {
                    **result.as_json(),
                    "code": CertificateError.NOT_FOUND,
                    "message": _("No certificate has this code."),
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        response["Cache-Control"] = "no-store"
        return response

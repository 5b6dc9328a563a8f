"""POST /api/v1/auth/token/: exchange user name and password for an API token."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from shequ.accounts import services
from shequ.core.api import error_body


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    code = serializers.CharField(max_length=8, required=False, help_text="6-digit TOTP code")


class TokenThrottle(AnonRateThrottle):
    rate = "30/min"


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()})},
        summary="Obtain an API token",
    )
    def post(self, request: Request) -> Response:
        data = CredentialsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            services.sign_in_failed(username=data.validated_data["username"], reason="api")
            return Response(
                error_body("authentication_failed", _("Wrong user name or password.")),
                status=status.HTTP_401_UNAUTHORIZED,
            )
        if services.totp_enabled(user) and not services.second_factor_check(
            request=request._request, user=user, code=data.validated_data.get("code", "")
        ):
            if getattr(request._request, "axes_locked_out", False):
                return Response(
                    error_body("locked_out", _("This account is locked after repeated failures.")),
                    status=status.HTTP_403_FORBIDDEN,
                )
            return Response(
                error_body(
                    "totp_required",
                    _(
                        "This account uses two-step sign-in: "
                        "send the current 6-digit code as `code`."
                    ),
                ),
                status=status.HTTP_401_UNAUTHORIZED,
            )
        token = services.token_issue(user=user)
        return Response({"token": token.key})


class TokenRevokeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Revoke your API token")
    def delete(self, request: Request) -> Response:
        services.token_revoke(user=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

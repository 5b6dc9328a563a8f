"""Sign-in (with optional second step), sign-out, password and two-step settings."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from shequ.accounts import services
from shequ.accounts.forms import CodeForm, LoginForm
from shequ.accounts.models import TOTPDevice, User
from shequ.core.errors import DomainError
from shequ.lib import totp

_PENDING = "shequ_pending_user"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            if services.totp_enabled(user):
                request.session[_PENDING] = user.pk
                query = urlencode({"next": _next_url(request)})
                return redirect(f"{reverse('accounts:login_code')}?{query}")
            login(request, user)
            services.signed_in(user=user, method="password")
            return redirect(_next_url(request))
        services.sign_in_failed(username=str(form.data.get("username", "")), reason="password")
    elif request.GET.get("expired"):
        messages.info(
            request, _("Your session ended after a period of inactivity. Please sign in again.")
        )
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@never_cache
def login_code_view(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(_PENDING)
    user = User.objects.filter(pk=pending, is_active=True).first() if pending else None
    if user is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.second_factor_check(request=request, user=user, code=form.cleaned_data["code"]):
            next_url = _next_url(request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            services.signed_in(user=user, method="password+totp")
            return redirect(next_url)
        if getattr(request, "axes_locked_out", False):
            request.session.flush()
            return locked_out(request, None, {"username": user.username})
        form.add_error("code", _("The code is wrong or has expired."))
    return render(request, "accounts/login_code.html", {"form": form, "next": _next_url(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.signed_out(user=request.user)
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("accounts:login")


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """Shown instead of the sign-in answer once an account has 5 failed attempts."""
    message = _(
        "This account is locked after 5 failed sign-in attempts. Try again in 30 minutes "
        "or ask an administrator to unlock it."
    )
    username = str((credentials or {}).get("username", "")) or request.POST.get("username", "")
    services.sign_in_failed(username=username, reason="locked_out")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "message": message}, status=403)
    return render(request, "accounts/locked_out.html", {"message": message}, status=403)


def _qr_data_uri(uri: str) -> str:
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


@login_required
def security_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = TOTPDevice.objects.filter(user=user).first()
    form = CodeForm(request.POST or None)
    action = request.POST.get("action", "")
    try:
        if request.method == "POST" and action == "begin":
            device = services.totp_begin(user=user)
            form = CodeForm()
        elif request.method == "POST" and form.is_valid():
            code = form.cleaned_data["code"]
            if action == "confirm":
                services.totp_confirm(user=user, code=code)
                messages.success(request, _("Two-step sign-in is now on."))
            elif action == "disable":
                services.totp_disable(user=user, code=code)
                messages.success(request, _("Two-step sign-in is now off."))
            return HttpResponseRedirect(reverse("accounts:security"))
    except DomainError as exc:
        form.add_error("code" if "code" in form.fields else None, exc.message)
    pending = device is not None and not device.confirmed
    context = {
        "device": device,
        "form": form,
        "is_staff_account": services.is_staff_account(user),
        "pending": pending,
        "qr": _qr_data_uri(
            totp.provisioning_uri(device.secret, account=user.username, issuer="shequ")
        )
        if pending and device
        else "",
        "secret": device.secret if pending and device else "",
    }
    return render(request, "accounts/security.html", context)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=self.request.user)  # type: ignore[arg-type]
        messages.success(self.request, _("Your password has been changed."))
        return response

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs["class"] = "form-control"
        return form

"""The inbox page: a user's notices, newest first."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from shequ.core.errors import NotFound
from shequ.core.views import render_page
from shequ.inbox import services
from shequ.inbox.models import Notification


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(user_id=int(request.user.pk or 0))
    rows = mine.order_by("-created_at", "-id")
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render_page(request, "inbox/index.html", {"page": page}, partial="list")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("id", "")
    with contextlib.suppress(NotFound):  # someone else's or gone: nothing to mark
        services.notification_mark_read(
            actor=request.user, notification_id=int(raw) if raw.isdigit() else None
        )
    return redirect("inbox:index")

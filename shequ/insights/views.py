"""The home page: a dashboard for the signed-in user's main role."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shequ.insights import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    context = selectors.home(request.user)
    context["tile_url"] = settings.MAP_TILE_URL
    context["tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
    return render(request, "insights/home.html", context)

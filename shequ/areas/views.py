"""Area pages: the tree browser with search, an area's detail, and its grids as GeoJSON."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from shequ.areas import selectors
from shequ.areas.access import access_area
from shequ.areas.filters import AreaFilter
from shequ.core.views import render_page, require_perm


@require_perm("areas.browse")
def area_index(request: HttpRequest) -> HttpResponse:
    roots = selectors.roots_for(request.user)
    searching = any(request.GET.get(k) for k in ("q", "level", "kind", "parent"))
    filterset = AreaFilter(
        request.GET or None, queryset=selectors.area_list(visible_to=request.user)
    )
    page = None
    if searching and filterset.is_valid():
        page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    context = {
        "roots": [selectors.ChildRow(root, selectors.subtree_counts(root)) for root in roots],
        "filter": filterset,
        "page": page,
        "searching": searching,
    }
    return render_page(request, "areas/index.html", context, partial="results")


@require_perm("areas.browse")
def area_children(request: HttpRequest, code: str) -> HttpResponse:
    area = access_area(request.user, code)
    return render(
        request,
        "areas/_children.html",
        {"area": area, "rows": selectors.children_with_counts(area)},
    )


@require_perm("areas.browse")
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = access_area(request.user, code)
    context = {
        "area": area,
        "ancestors": selectors.ancestors(area),
        "counts": selectors.subtree_counts(area),
        "rows": selectors.children_with_counts(area),
        "workers": selectors.grid_workers_in(area)[:200],
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    return render(request, "areas/detail.html", context)


@require_perm("areas.view")
def area_geojson(request: HttpRequest, code: str) -> JsonResponse:
    area = access_area(request.user, code)
    return JsonResponse(selectors.grids_geojson(area))

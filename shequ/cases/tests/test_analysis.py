"""Case analysis: the pre-aggregated figures, their scoping, alerts, the page and the export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db.models import Sum
from django.test import Client

from shequ.cases import analysis, services
from shequ.cases.models import Case, CaseStat, Category, StatGrain
from shequ.cases.states import Light
from shequ.cases.testing import CaseWorld, photo
from shequ.core import testing
from shequ.core.models import AuditEntry

P = testing.persona
SH = ZoneInfo("Asia/Shanghai")
URL = "/cases/analysis/"
EXPORT = "/cases/analysis/export/"
PLACES = "/cases/analysis/places/"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2025 (10 March is a Monday; no holiday that month)."""
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def clock() -> Iterator[Any]:
    """`clock(when)` moves the time there (and stays there until the next call)."""
    travels: list[Any] = []

    def move(when: dt.datetime) -> None:
        if travels:
            travels.pop().stop()
        t = time_machine.travel(when, tick=False)
        t.start()
        travels.append(t)

    yield move
    for t in travels:
        t.stop()


def report(cw: CaseWorld, *, by: str = "resident_a", area: str = "A", **kw: Any) -> Case:
    kw.setdefault("category", cw.category)
    kw.setdefault("description", "楼道口堆满了旧家具")
    kw.setdefault("source", "resident" if by == "resident_a" else "grid")
    return services.case_create(actor=P(by), area=testing.area(area), **kw)


def move(case: Case, name: str, by: str, **kw: Any) -> Case:
    return services.case_move(actor=P(by), case=case, move=name, **kw)


def handle(case: Case) -> Case:
    """Accept, dispatch (routed to 城管 for 市容环境) and start."""
    move(case, "accept", "community_worker")
    move(case, "dispatch", "community_worker")
    return move(case, "start", "department")


def resolve(case: Case) -> Case:
    return move(case, "resolve", "department", answer="已清理", photos=[photo()])


@pytest.fixture
def week(cw: CaseWorld, media: Any, clock: Any) -> dict[str, Case]:
    """A week of cases in the personas world, made through the services:

    - fast (grid A): reported Mon 09:00, resolved Mon 11:00 (2 working hours), rated 5, closed;
    - slow (grid B): reported Mon 10:00, resolved Tue 10:00 (7.5 working hours), went overdue,
      rated 2;
    - stuck (grid A): reported Tue 09:00, dispatched, overdue now;
    - spot (grid A): resolved on the spot Wed 15:00 by the grid worker (0 working hours);
    - far (grid Z of the other community C2): reported Tue 09:00 by the district admin.
    """
    clock(at(10, 9))
    fast = handle(report(cw))
    clock(at(10, 10))
    slow = handle(report(cw, area="B"))
    clock(at(10, 11))
    resolve(fast)
    clock(at(10, 14))
    move(fast, "verify", "grid_worker_a")
    move(fast, "rate", "resident_a", rating=5)
    move(fast, "close", "community_worker")
    clock(at(11, 9))
    stuck = handle(report(cw))
    far = report(cw, by="district_admin", area="Z", source="hotline")
    clock(at(11, 10))
    resolve(slow)
    # The SLA worker marks what went overdue and turns the light red.
    Case.objects.filter(pk=slow.pk).update(overdue_ever=True)
    Case.objects.filter(pk=stuck.pk).update(overdue_ever=True, light=Light.RED)
    move(slow, "verify", "grid_worker_b")
    move(slow, "rate", "resident_a", rating=2)
    clock(at(12, 15))
    spot = report(cw, by="grid_worker_a", on_spot_answer="当场清理", photos=[photo()])
    clock(at(14, 18))
    return {"fast": fast, "slow": slow, "stuck": stuck, "spot": spot, "far": far}


def scope(user: str, *, area: str = "", first: int = 8, last: int = 14) -> analysis.Scope:
    roots = analysis.analysis_roots(P(user))
    return analysis.scope_for(
        P(user),
        roots=roots,
        area_code=testing.CODES.get(area, area),
        first=dt.date(2025, 3, first),
        last=dt.date(2025, 3, last),
    )


# ---------------------------------------------------------------------------------------------
# Figures


def test_the_week_adds_up_to_the_figures_of_its_cases(week: dict[str, Case]) -> None:
    assert analysis.stats_rebuild() > 0
    total = analysis.analyse(scope("community_worker")).total
    assert (total.reported, total.resolved, total.closed) == (4, 3, 1)
    assert (total.on_time, total.overdue) == (2, 1)  # fast and spot; slow went overdue
    assert total.on_time_rate == pytest.approx(200 / 3)
    # (2 + 7.5 + 0) working hours over three resolved cases.
    assert total.avg_hours == pytest.approx(9.5 / 3)
    assert (total.rating_count, total.avg_rating, total.good_rate) == (2, 3.5, 50.0)
    # stuck (overdue) and spot (resolved, waiting to be verified)
    assert (total.open_now, total.overdue_now) == (2, 1)


def test_handling_time_counts_only_office_hours_on_working_days(
    cw: CaseWorld, media: Any, clock: Any
) -> None:
    clock(at(14, 16))  # Friday 16:00
    case = handle(report(cw))
    clock(at(17, 9))  # Monday 09:00: 1.5 h on Friday, 0.5 h on Monday, nothing on the weekend
    resolve(case)
    analysis.stats_refresh(since=dt.date(2025, 3, 14))
    row = CaseStat.objects.get(grain=StatGrain.OWN, resolved=1)
    assert (row.day, row.handle_seconds_sum, row.handle_count) == (dt.date(2025, 3, 17), 7200, 1)


def test_each_figure_is_counted_on_the_day_it_happened(week: dict[str, Case]) -> None:
    analysis.stats_rebuild()
    own = CaseStat.objects.filter(grain=StatGrain.OWN)
    rows = own.filter(area_path__startswith=testing.area("C1").path).values_list(
        "day", "reported", "resolved", "closed"
    )
    by_day: dict[dt.date, list[int]] = {}
    for day, *counts in rows:
        by_day[day] = [a + b for a, b in zip(by_day.get(day, [0, 0, 0]), counts, strict=True)]
    assert by_day == {
        dt.date(2025, 3, 10): [2, 1, 1],  # fast and slow reported; fast resolved and closed
        dt.date(2025, 3, 11): [1, 1, 0],  # stuck reported; slow resolved
        dt.date(2025, 3, 12): [1, 1, 0],  # spot reported and resolved
    }


def test_a_refresh_recomputes_the_earlier_days_of_cases_that_moved_since(
    cw: CaseWorld, media: Any, clock: Any
) -> None:
    clock(at(3, 9))
    case = report(cw)
    analysis.stats_refresh()
    own = CaseStat.objects.filter(grain=StatGrain.OWN)
    assert own.get(day=dt.date(2025, 3, 3)).unit_id is None
    clock(at(12, 9))  # nine days later the case is dispatched to 城管 and resolved
    handle(case)
    resolve(case)
    analysis.stats_refresh()  # the last two days, and the case's earlier days
    reported = own.get(day=dt.date(2025, 3, 3))
    assert (reported.reported, reported.unit_id) == (1, cw.chengguan.pk)
    assert own.get(day=dt.date(2025, 3, 12)).resolved == 1


def test_a_redo_takes_back_the_resolution_from_its_day(
    cw: CaseWorld, media: Any, clock: Any
) -> None:
    clock(at(10, 9))
    case = resolve(handle(report(cw)))
    analysis.stats_refresh()
    own = CaseStat.objects.filter(grain=StatGrain.OWN)
    assert own.get(day=dt.date(2025, 3, 10)).resolved == 1
    clock(at(13, 9))
    move(case, "redo", "grid_worker_a", note="没有清理干净")
    analysis.stats_refresh()
    assert own.get(day=dt.date(2025, 3, 10)).resolved == 0


def test_the_rolled_up_rows_add_up_to_the_rows_of_the_cases_areas(
    week: dict[str, Case],
) -> None:
    analysis.stats_rebuild()
    district, street, community = (testing.area(k) for k in ("D", "S1", "C1"))

    def sums(rows: Any) -> tuple[Any, ...]:
        totals = rows.aggregate(*(Sum(name) for name in analysis.COUNTERS))
        return tuple(totals.values())

    own = CaseStat.objects.filter(grain=StatGrain.OWN)
    assert sums(own) == sums(CaseStat.objects.filter(grain=StatGrain.DISTRICT))
    assert set(
        CaseStat.objects.filter(grain=StatGrain.DISTRICT).values_list("area_id", flat=True)
    ) == {district.pk}
    in_street = own.filter(area_path__startswith=street.path)
    assert sums(in_street) == sums(
        CaseStat.objects.filter(grain=StatGrain.STREET, area_path=street.path)
    )
    community_rows = CaseStat.objects.filter(grain=StatGrain.COMMUNITY, area=community)
    assert sums(own.filter(area_path__startswith=community.path)) == sums(community_rows)
    # Community rows count by top-level category.
    assert set(community_rows.values_list("category__code", flat=True)) == {"01"}


def test_a_later_rating_is_counted_on_the_day_of_the_resolution(
    cw: CaseWorld, media: Any, clock: Any
) -> None:
    clock(at(10, 9))
    case = resolve(handle(report(cw)))
    analysis.stats_refresh()
    clock(at(13, 9))  # three days later it is verified and rated
    move(case, "verify", "grid_worker_a")
    move(case, "rate", "resident_a", rating=4)
    analysis.stats_refresh()
    resolved_day = CaseStat.objects.get(grain=StatGrain.OWN, day=dt.date(2025, 3, 10))
    assert (resolved_day.rating_count, resolved_day.rating_sum, resolved_day.rating_good) == (
        1,
        4,
        1,
    )


def test_a_rebuild_writes_the_same_rows_as_refreshes(week: dict[str, Case]) -> None:
    analysis.stats_refresh(since=dt.date(2025, 3, 1))
    fields = ("day", "grain", "area_id", "category_id", "unit_id", *analysis.COUNTERS)
    refreshed = sorted(CaseStat.objects.values_list(*fields), key=str)
    analysis.stats_rebuild()
    assert sorted(CaseStat.objects.values_list(*fields), key=str) == refreshed


def test_a_refresh_with_nothing_to_count_writes_nothing(db: Any) -> None:
    assert analysis.stats_refresh() == 0
    assert analysis.stats_rebuild() == 0
    assert not CaseStat.objects.exists()


# ---------------------------------------------------------------------------------------------
# Scoping


def test_a_community_worker_never_sees_another_communitys_figures(
    week: dict[str, Case],
) -> None:
    analysis.stats_rebuild()
    mine = analysis.analyse(scope("community_worker"))
    assert mine.total.reported == 4  # not `far`, in community C2
    everything = analysis.analyse(scope("district_admin"))
    assert everything.total.reported == 5
    assert [(line.label, line.figures.reported) for line in everything.by_area] == [
        ("一街道", 4),
        ("二街道", 1),
    ]


def test_the_breakdowns_split_the_figures_by_area_unit_and_category(
    week: dict[str, Case], cw: CaseWorld
) -> None:
    analysis.stats_rebuild()
    report_ = analysis.analyse(scope("community_worker"))
    assert [(line.label, line.figures.reported) for line in report_.by_area] == [
        ("甲社区第1网格", 3),
        ("甲社区第2网格", 1),
    ]
    units = {line.key: line.figures for line in report_.by_unit}
    chengguan = units[str(cw.chengguan.pk)]
    assert (chengguan.reported, chengguan.resolved, chengguan.open_now) == (3, 2, 1)
    assert report_.by_unit[-1].key == ""  # the spot case, never dispatched, comes last
    assert (units[""].reported, units[""].resolved, units[""].open_now) == (1, 1, 1)
    assert [(line.label, line.figures.reported) for line in report_.by_category] == [
        ("市容环境", 4)
    ]


@pytest.mark.parametrize("user", ["district_admin", "street_supervisor", "community_worker"])
@pytest.mark.parametrize("category", [None, "01", "05"])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize(
    "period",
    [
        (dt.date(2025, 3, 8), dt.date(2025, 3, 14)),
        # Long: whole weeks (6 January to 16 March) from the by-week rows, 1–5 January daily.
        (dt.date(2025, 1, 1), dt.date(2025, 3, 16)),
    ],
)
def test_rolled_up_and_own_rows_give_the_same_figures(
    week: dict[str, Case],
    cw: CaseWorld,
    user: str,
    category: str | None,
    unit: bool,
    period: tuple[dt.date, dt.date],
) -> None:
    """Whichever rows a scope reads (a district's and street's roll-ups, by day or by week, a
    community's own rows), the figures are those of the cases' own rows."""
    analysis.stats_rebuild()
    base = scope(user)
    chosen = analysis.Scope(
        base.roots,
        base.area,
        *period,
        Category.objects.get(code=category) if category else None,
        cw.chengguan if unit else None,
    )
    report_ = analysis.analyse(chosen)
    own = CaseStat.objects.filter(grain=StatGrain.OWN, area_path__startswith=base.roots[0].path)
    if category:
        own = own.filter(category__parent__code=category)
    if unit:
        own = own.filter(unit=cw.chengguan)
    expected = own.aggregate(reported=Sum("reported"), resolved=Sum("resolved"))
    assert (report_.total.reported, report_.total.resolved) == (
        expected["reported"] or 0,
        expected["resolved"] or 0,
    )
    assert sum(line.figures.reported for line in report_.by_area) == report_.total.reported
    assert sum(line.figures.reported for line in report_.by_unit) == report_.total.reported
    assert sum(line.figures.reported for line in report_.by_category) == report_.total.reported


def test_a_drill_down_outside_the_users_areas_is_not_found(
    login: Any, week: dict[str, Case]
) -> None:
    client = login("community_worker")
    assert client.get(URL, {"area": testing.CODES["A"]}).status_code == 200
    assert client.get(URL, {"area": testing.CODES["C2"]}).status_code == 404
    assert client.get(URL, {"area": testing.CODES["S1"]}).status_code == 404  # above, not in
    assert client.get(URL, {"area": "no-such-area"}).status_code == 404
    assert client.get(EXPORT, {"area": testing.CODES["C2"]}).status_code == 404


@pytest.mark.parametrize("user", ["resident_a", "grid_worker_a", "department", "auditor"])
def test_roles_without_case_analysis_are_refused(login: Any, user: str) -> None:
    client = login(user)
    assert client.get(URL).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(PLACES, HTTP_HX_REQUEST="true").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, db: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_navigation_shows_case_analysis_only_to_those_who_may_use_it(login: Any) -> None:
    assert URL in login("street_supervisor").get("/").content.decode()
    assert URL not in login("grid_worker_a").get("/").content.decode()


# ---------------------------------------------------------------------------------------------
# Alerts


def test_a_jump_needs_three_cases_and_three_deviations_above_the_usual() -> None:
    assert analysis.jump_threshold([0] * 8) == 3
    assert analysis.is_jump(3, [0] * 8)
    assert not analysis.is_jump(2, [0] * 8)
    # A steady 4 a week: the Poisson floor (√4 = 2) puts the bar at 4 + 3·2 = 10.
    assert analysis.jump_threshold([4] * 8) == 10
    assert not analysis.is_jump(9, [4] * 8)
    assert analysis.is_jump(10, [4] * 8)
    # A jumpy history raises the bar by its own deviation.
    history = [0, 10, 0, 10, 0, 10, 0, 10]
    assert analysis.jump_threshold(history) == pytest.approx(5 + 3 * 5)


def test_the_usual_level_is_the_eight_whole_weeks_before_the_last_seven_days() -> None:
    start, mondays = analysis.alert_windows(dt.date(2025, 3, 14))  # a Friday
    assert start == dt.date(2025, 3, 8)  # Saturday: the 7 days are 8–14 March
    # Whole Monday-to-Sunday weeks ending before the week of 8 March (3–9 March).
    assert mondays == [dt.date(2025, 1, 6) + dt.timedelta(weeks=k) for k in range(8)]
    assert mondays[-1] + dt.timedelta(days=6) < dt.date(2025, 3, 3)


def test_a_community_whose_category_jumps_this_week_raises_an_alert(
    cw: CaseWorld, clock: Any
) -> None:
    # One dispute a fortnight in C1, then four in the last seven days.
    for k in range(1, 9, 2):
        clock(at(14, 10) - dt.timedelta(weeks=k))
        report(cw, category=cw.dispute)
    for day in (10, 11, 12, 13):
        clock(at(day, 10))
        report(cw, category=cw.dispute)
    # A steady three littering cases a week is the usual level, not an alert.
    for k in range(10):
        for hour in (9, 10, 11):
            clock(at(14, hour) - dt.timedelta(weeks=k))
            report(cw)
    clock(at(14, 18))
    analysis.stats_rebuild()
    found = analysis.analyse(scope("street_supervisor")).alerts
    # Fridays 24 January, 7 and 21 February; 7 March is in the week the 7 days start in.
    history = [0, 0, 1, 0, 1, 0, 1, 0]
    assert [(a.area.name, a.category.code, a.count, a.history) for a in found] == [
        ("甲社区", "05", 4, history)
    ]
    assert found[0].threshold == pytest.approx(3 / 8 + 3 * 1)
    # Below community level, the chosen grid is the place (all these cases are in grid A).
    in_grid = analysis.analyse(scope("community_worker", area="A")).alerts
    assert [(a.area.name, a.category.code, a.count, a.history) for a in in_grid] == [
        ("甲社区第1网格", "05", 4, history)
    ]
    # The same cases seen a week earlier: nothing stood out then.
    assert analysis.analyse(scope("street_supervisor", first=1, last=7)).alerts == []


# ---------------------------------------------------------------------------------------------
# The page


def test_the_page_shows_the_figures_for_the_period(login: Any, week: dict[str, Case]) -> None:
    analysis.stats_rebuild()
    response = login("community_worker").get(
        URL, {"period": "custom", "date_from": "2025-03-08", "date_to": "2025-03-14"}
    )
    assert response.status_code == 200
    report_ = response.context["report"]
    assert (report_.total.reported, report_.total.resolved) == (4, 3)
    body = response.content.decode()
    assert 'id="analysis-trend"' in body and 'hx-get="/cases/analysis/places/?period=' in body
    assert report_.trend["labels"][:3] == ["03-08", "03-09", "03-10"]
    assert report_.trend["series"][0] == {"key": "reported", "data": [0, 0, 2, 1, 1, 0, 0]}


def test_the_default_period_is_the_last_30_days(login: Any, week: dict[str, Case]) -> None:
    response = login("community_worker").get(URL)
    scope_ = response.context["scope"]
    assert (scope_.first, scope_.last) == (dt.date(2025, 2, 13), dt.date(2025, 3, 14))


def test_a_period_that_ends_before_it_starts_is_refused_on_the_form(
    login: Any, cw: CaseWorld
) -> None:
    response = login("community_worker").get(
        URL, {"period": "custom", "date_from": "2025-03-08", "date_to": "2025-03-01"}
    )
    assert response.status_code == 200
    assert "report" not in response.context
    assert response.context["form"].errors


def test_an_htmx_request_gets_only_the_figures(login: Any, cw: CaseWorld) -> None:
    response = login("community_worker").get(URL, {"period": "7"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="analysis">')
    assert "<html" not in body


def test_long_periods_are_charted_by_week(login: Any, week: dict[str, Case]) -> None:
    analysis.stats_rebuild()
    response = login("street_supervisor").get(URL, {"period": "90"})
    report_ = response.context["report"]
    assert report_.weekly
    assert len(report_.trend["labels"]) == 14  # 90 days from a Sunday touch 14 weeks
    # 10–14 March: the daily rows after the last whole week (3–9 March), in its Monday's bar.
    assert report_.trend["labels"][-1] == "03-10"
    assert report_.trend["series"][0]["data"][-1] == report_.total.reported == 4


def test_hotspots_and_recurring_addresses(cw: CaseWorld, clock: Any) -> None:
    clock(at(10, 9))
    for i in range(3):  # one cell: latitudes 39.00375–39.00525
        report(cw, lat=39.0040 + i * 0.0002, lng=116.0051, address="翠苑一区3号楼西侧")
    report(cw, lat=39.0091, lng=116.0091, address="东门口")
    clock(at(14, 18))
    found = analysis.where(scope("community_worker"))
    assert [c.count for c in found.cells] == [3, 1]
    assert (found.cells[0].lat, found.cells[0].lng) == (
        pytest.approx(39.0045),
        pytest.approx(116.0055),
    )
    assert [(p.label, p.count, p.area) for p in found.recurring] == [
        ("翠苑一区3号楼西侧", 3, testing.area("A"))
    ]
    assert (found.cases, found.since) == (4, None)
    assert analysis.where(scope("street_supervisor", area="B")).cells == []


def test_a_busy_period_counts_its_latest_cases_and_says_since_when(
    cw: CaseWorld, clock: Any, monkeypatch: Any
) -> None:
    for day in (10, 11, 12):
        clock(at(day, 9))
        report(cw, lat=39.004, lng=116.005, address="东门口")
    clock(at(14, 18))
    monkeypatch.setattr(analysis, "PLACES_CASES", 2)
    found = analysis.where(scope("community_worker"))
    assert (found.cases, found.since) == (2, dt.date(2025, 3, 11))
    assert [c.count for c in found.cells] == [2]
    assert found.recurring == []  # two cases at 东门口 among those counted: not three


def test_the_map_panel_loads_after_the_page_with_the_same_filters(
    login: Any, cw: CaseWorld, clock: Any
) -> None:
    clock(at(10, 9))
    for _i in range(3):
        report(cw, lat=39.004, lng=116.005, address="东门口")
    client = login("community_worker")
    response = client.get(PLACES, {"period": "7"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["found"].recurring[0].label == "东门口"
    body = response.content.decode()
    assert 'data-cells="analysis-cells"' in body and "<html" not in body
    # Opened on its own (not by the page), it leads to the page.
    assert client.get(PLACES, {"period": "7"})["Location"] == URL + "?period=7"
    outside = {"area": testing.CODES["C2"]}
    assert client.get(PLACES, outside, HTTP_HX_REQUEST="true").status_code == 404


def test_the_page_needs_a_fixed_number_of_queries(
    login: Any, week: dict[str, Case], django_assert_max_num_queries: Any
) -> None:
    analysis.stats_rebuild()
    client = login("district_admin")
    with django_assert_max_num_queries(20):
        assert client.get(URL, {"period": "90"}).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(URL, {"area": testing.CODES["C1"]}).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(PLACES, HTTP_HX_REQUEST="true").status_code == 200


# ---------------------------------------------------------------------------------------------
# The export


def test_the_export_is_audited_and_its_formula_cells_are_text(
    login: Any, cw: CaseWorld, clock: Any
) -> None:
    clock(at(10, 9))
    for _i in range(3):
        report(cw, address='=HYPERLINK("http://evil","x")')
    Category.objects.filter(code="01").update(name="+市容环境")
    clock(at(14, 18))
    analysis.stats_refresh(since=dt.date(2025, 3, 8))
    response = login("community_worker").get(EXPORT, {"period": "7"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    texts = [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert '\'=HYPERLINK("http://evil","x")（甲社区第1网格）' in texts
    assert "'+市容环境" in texts
    assert not any(t.startswith(("=", "+", "-", "@")) for t in texts)
    assert all(
        cell.data_type != "f" for s in book.worksheets for row in s.iter_rows() for cell in row
    )
    entry = AuditEntry.objects.get(action="cases.analysis_exported")
    assert entry.actor == P("community_worker")
    assert entry.changes["area"] == testing.CODES["C1"]
    assert (entry.changes["from"], entry.changes["to"]) == ("2025-03-08", "2025-03-14")

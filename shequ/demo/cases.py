"""Demo cases: handling units and routing rules for the demo city, an Open311 client, and a few
months of cases in every state (some overdue), walked through the real services.

Each case is made through `case_create` / `case_move` at the current time and then moved back
in time as a whole (every timestamp shifted by the same amount), so its history, deadlines and
SLA light read as if it had happened weeks ago.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from shequ.accounts.models import Membership, User
from shequ.areas.models import Area, Level
from shequ.cases import analysis, services, sla
from shequ.cases.models import (
    Case,
    CaseEvent,
    CasePhoto,
    CaseTask,
    Category,
    Open311Client,
    RoutingRule,
    Unit,
    UnitKind,
)
from shequ.cases.states import OPEN, STAGE_OF, Light, Source, Stage, Status
from shequ.demo import city

OPEN311_KEY = "shequ-demo-open311"

DESCRIPTIONS: dict[str, list[str]] = {
    "0101": ["早点摊占用人行道经营，行人只能走机动车道", "水果店把货架摆到店外两米"],
    "0102": ["楼道口堆满旧家具和纸箱，挡住消防通道", "小区空地堆放建筑垃圾多日无人清理"],
    "0103": ["电线杆上贴满小广告", "围墙上新喷涂了办证电话"],
    "0104": ["顶楼住户正在搭建彩钢棚", "一楼住户私自扩建院墙"],
    "0201": ["消防车道上长期停放私家车", "非机动车乱停，盲道被占"],
    "0202": ["校门口放学时段流动摊贩聚集", "夜市流动摊点油烟扰民"],
    "0203": ["夜间装修噪声扰民，已持续一周", "广场舞音响声音过大"],
    "0301": ["路面塌陷出现坑洞，电动车经过很危险", "人行道地砖松动翘起"],
    "0302": ["小区主干道三盏路灯不亮", "路灯白天常亮不关"],
    "0303": ["雨水井盖缺失，已用锥桶临时围挡", "井盖破损下沉"],
    "0304": ["健身器材扭腰器轴承断裂", "儿童滑梯边缘开裂"],
    "0401": ["消防通道被杂物堵塞", "楼道内消防栓被柜子挡住"],
    "0402": ["有住户从楼上拉电线给电动车充电", "电动车推进电梯上楼充电"],
    "0403": ["阳台花盆摆放在护栏外", "外墙瓷砖有脱落迹象"],
    "0404": ["楼道里闻到煤气味", "餐馆液化气瓶露天存放"],
    "0501": ["楼上漏水到楼下，两家协商不成", "邻居在公共走廊堆放物品引发争执"],
    "0502": ["业主与物业因停车费发生纠纷", "物业费上涨业主意见大"],
    "0503": ["装修工人反映工钱被拖欠", "快递站员工反映未签劳动合同"],
    "0504": ["老人反映子女不尽赡养义务", "夫妻争吵邻居报告"],
    "0601": ["有陌生人挨家挨户推销保健品", "夜间有人在车棚附近徘徊"],
    "0602": ["车棚电瓶连续被盗", "快递柜包裹被冒领"],
    "0701": ["独居老人家中断粮，需要帮扶", "低保户房屋漏雨需要维修"],
    "0702": ["独居老人两天没有开门", "高龄老人走失后被找回，需要关注"],
    "0703": ["居民咨询高龄津贴申请条件", "咨询残疾人两项补贴办理"],
    "0801": ["3号楼电梯困人", "电梯运行有异响"],
    "0802": ["二次供水水质发黄", "高层水压不足"],
    "0803": ["绿化带被改种蔬菜", "树木遮挡低层采光需修剪"],
    "0901": ["垃圾房满溢无人清运", "河边堆积生活垃圾"],
    "0902": ["垃圾分类投放点混投严重", "厨余垃圾桶破损"],
    "0903": ["化粪池满溢污水流到路面", "下水道堵塞返水"],
    "0904": ["小区老鼠多，需要灭鼠", "积水处蚊虫滋生"],
    "9901": ["居民建议增设休息座椅", "反映公交站牌信息过时"],
}
ADDRESSES = [
    "东门口",
    "3号楼西侧",
    "菜市场南入口",
    "幼儿园门口",
    "垃圾房旁",
    "1单元楼道",
    "停车场",
    "小广场",
]


@dataclass
class DemoCases:
    units: int
    cases: int
    by_status: dict[str, int]


def _png(rng: random.Random) -> SimpleUploadedFile:
    buf = io.BytesIO()
    colour = (rng.randrange(80, 220), rng.randrange(80, 220), rng.randrange(80, 220))
    Image.new("RGB", (320, 240), colour).save(buf, "PNG")
    return SimpleUploadedFile("demo.png", buf.getvalue(), content_type="image/png")


# Handlers of the departments and the second street (documented in README.md).
HANDLERS = [
    ("zhujian", "钱住建", "qh-zhujian"),
    ("gongan", "孙公安", "qh-gongan"),
    ("shichang", "吴市监", "qh-shichang"),
    ("wuye", "郑物业", "qh-wuye"),
]


def _handlers(district: Area) -> dict[str, User]:
    from shequ.accounts import services as accounts
    from shequ.accounts.roles import Role

    made = {}
    for username, full_name, _unit in HANDLERS:
        user = User.objects.filter(username=username).first() or accounts.user_create(
            actor=city.ACTOR,
            username=username,
            password=city.PASSWORD,
            full_name=full_name,
            memberships=[(district, Role.DEPARTMENT)],
        )
        made[username] = user
    return made


def _units(district: Area) -> dict[str, Unit]:
    users = {u.username: u for u in User.objects.filter(username__in=["shequ", "jiedao", "bumen"])}
    handlers = _handlers(district)
    units: dict[str, Unit] = {}
    for code, name, kind in [
        ("qh-chengguan", "清河区城管局", UnitKind.DEPARTMENT),
        ("qh-zhujian", "清河区住建局", UnitKind.DEPARTMENT),
        ("qh-gongan", "清河公安分局", UnitKind.DEPARTMENT),
        ("qh-shichang", "清河区市场监管局", UnitKind.DEPARTMENT),
        ("qh-wuye", "绿城物业清河分公司", UnitKind.PROPERTY),
    ]:
        units[code] = Unit.objects.create(code=code, name=name, kind=kind, area=district)
    if "bumen" in users:
        units["qh-chengguan"].members.add(users["bumen"])
    for username, _name, unit_code in HANDLERS:
        units[unit_code].members.add(handlers[username])
    streets = Area.objects.filter(parent=district, level=Level.STREET).order_by("path")
    for index, street in enumerate(streets, 1):
        unit = Unit.objects.create(
            code=f"street-{street.code}", name=f"{street.name}办事处", kind=UnitKind.STREET,
            area=street,
        )  # fmt: skip
        if index == 1 and "jiedao" in users:
            unit.members.add(users["jiedao"])
        else:  # the other street's office is answered by the district's civil affairs
            unit.members.add(*User.objects.filter(username="minzheng"))
        units[unit.code] = unit
    heads = {
        m.area_id: m.user
        for m in Membership.objects.filter(
            area__parent__parent=district, role="community_head"
        ).select_related("user")
    }
    for index, community in enumerate(
        Area.objects.filter(parent__parent=district, level=Level.COMMUNITY).order_by("path"), 1
    ):
        unit = Unit.objects.create(
            code=f"community-{community.code}",
            name=f"{community.name}居委会",
            kind=UnitKind.COMMUNITY,
            area=community,
        )
        if community.pk in heads:
            unit.members.add(heads[community.pk])
        if index == 1 and "shequ" in users:
            unit.members.add(users["shequ"])
        units[unit.code] = unit
        RoutingRule.objects.create(category=None, area=community, unit=unit)
    rules = {
        "01": ("qh-chengguan", []),
        "02": ("qh-chengguan", ["qh-gongan"]),
        "03": ("qh-zhujian", []),
        "04": ("qh-zhujian", ["qh-gongan"]),
        "06": ("qh-gongan", []),
        "08": ("qh-wuye", []),
        "09": ("qh-chengguan", []),
    }
    for category_code, (unit_code, helpers) in rules.items():
        rule = RoutingRule.objects.create(
            category=Category.objects.get(code=category_code),
            area=district,
            unit=units[unit_code],
        )
        rule.helpers.set([units[h] for h in helpers])
    fallback = units[f"street-{streets[0].code}"]
    RoutingRule.objects.create(category=None, area=district, unit=fallback)
    return units


# How far along the loop each demo case goes, with its weight.
ENDINGS = [
    (Status.REPORTED, 6),
    (Status.ACCEPTED, 5),
    (Status.DISPATCHED, 8),
    (Status.IN_PROGRESS, 8),
    (Status.RESOLVED, 6),
    (Status.VERIFIED, 4),
    (Status.RATED, 6),
    (Status.CLOSED, 40),
    (Status.REJECTED, 3),
    (Status.MERGED, 2),
    (Status.SHELVED, 2),
]
# How long ago a case that is not finished was reported (days, low–high); finished ones over
# the last four months.
AGE_DAYS: dict[str, tuple[float, float]] = {
    Status.REPORTED: (0.05, 2),
    Status.ACCEPTED: (0.2, 4),
    Status.DISPATCHED: (0.5, 8),
    Status.IN_PROGRESS: (1, 15),
    Status.RESOLVED: (0.5, 6),
    # Verified or rated, not yet closed: within the days before the worker closes them.
    Status.VERIFIED: (0.5, 3),
    Status.RATED: (0.5, 3),
}
PATH = [Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.RESOLVED, Status.VERIFIED]


def _walk(case: Case, ending: str, rng: random.Random, people: dict[str, Any]) -> Case:
    manager, verifier = people["manager"], people["verifier"]
    if ending == Status.REJECTED:
        note = "不属于社区受理范围，已告知反映人向12345咨询"
        return services.case_move(actor=manager, case=case, move="reject", note=note)
    if ending == Status.MERGED:
        target = (
            Case.objects.filter(
                category=case.category, status__in=list(OPEN), district=case.district
            )
            .exclude(pk=case.pk)
            .first()
        )
        if target is not None:
            return services.case_move(
                actor=manager, case=case, move="merge", target=target, note="重复反映"
            )
        ending = Status.ACCEPTED
    if ending == Status.REPORTED:
        return case
    case = services.case_move(actor=manager, case=case, move="accept")
    if ending == Status.ACCEPTED:
        return case
    if ending == Status.SHELVED:
        return services.case_move(
            actor=manager, case=case, move="shelve", note="需纳入老旧小区改造计划统筹解决"
        )
    case = services.case_move(actor=manager, case=case, move="dispatch")
    handler = case.lead_unit.members.filter(is_active=True).first() if case.lead_unit else None
    if ending == Status.DISPATCHED or handler is None:
        return case
    case = services.case_move(actor=handler, case=case, move="start")
    if ending == Status.IN_PROGRESS:
        if rng.random() < 0.3:
            case = services.case_move(
                actor=handler, case=case, move="extend_request", days=3, note="需要采购配件"
            )
        return case
    case = services.case_move(
        actor=handler, case=case, move="resolve", answer="已到现场处置完毕", photos=[_png(rng)]
    )
    if ending == Status.RESOLVED:
        return case
    case = services.case_move(actor=verifier, case=case, move="verify", note="现场核查属实")
    if ending == Status.VERIFIED:
        return case
    if case.reporter_id or case.source in (Source.DESK, Source.HOTLINE):
        rater = case.reporter or manager
        case = services.case_move(
            actor=rater,
            case=case,
            move="rate",
            rating=rng.choices([5, 4, 3, 2, 1], [55, 25, 10, 6, 4])[0],
            note=rng.choice(["处理及时", "满意", "", "希望以后多巡查"]),
        )
    if ending == Status.RATED and case.status == Status.RATED:
        return case
    return services.case_move(actor=manager, case=case, move="close")


# Hours from the step before to each move (low, high): the demo's cases take the time real ones
# do, so handling times, durations and the weekly figures read true.
STEP_HOURS: dict[str, tuple[float, float]] = {
    "accept": (0.3, 6),
    "reject": (0.3, 6),
    "merge": (0.3, 6),
    "dispatch": (0.3, 8),
    "start": (1, 24),
    "resolve": (3, 96),
    "verify": (2, 30),
    "rate": (1, 48),
    "close": (2, 48),
}
OTHER_STEP_HOURS = (0.5, 12)
TIMES = (
    "created_at",
    "stage_started_at",
    "yellow_at",
    "due_at",
    "next_escalation_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
)


def _retime(case: Case, start: dt.datetime, now: dt.datetime, rng: random.Random) -> None:
    """Spread the steps of a case, made a moment apart, over the hours and days a real case
    takes from `start`, the last one before `now`. Every time of the case (and of its tasks and
    photos) moves with the step it follows, so deadlines still count from their stage."""
    events = list(case.events.order_by("at", "id").values_list("pk", "at", "kind", "to_status"))
    new_at = [start]
    for _pk, _at, kind, _status in events[1:]:
        low, high = STEP_HOURS.get(kind, OTHER_STEP_HOURS)
        new_at.append(new_at[-1] + dt.timedelta(hours=rng.uniform(low, high)))
    room, span = (now - start) * 0.95, new_at[-1] - start
    if span > room:  # a case reported lately has had less time for its steps
        new_at = [start + (t - start) * (room / span) for t in new_at]
    steps = [(at, new - at) for (_pk, at, *_rest), new in zip(events, new_at, strict=True)]

    def moved(value: dt.datetime) -> dt.datetime:
        delta = steps[0][1]
        for at, step_delta in steps:
            if at > value:
                break
            delta = step_delta
        return value + delta

    updates: dict[str, Any] = {f: moved(getattr(case, f)) for f in TIMES if getattr(case, f)}
    if case.stage and case.stage_started_at is not None:
        # The running stage's deadlines count from its start on the working calendar, whatever
        # came after it (a request for more time leaves the stage as it is; the demo approves
        # none).
        updates["yellow_at"], updates["due_at"] = sla.stage_deadlines(
            case.category, case.stage, updates["stage_started_at"]
        )
    # A step that came after its stage's deadline made the case overdue, as the SLA worker
    # would have marked it (the stage still running is the worker's to judge).
    status: str = Status.REPORTED
    for (_pk, _at, _kind, to_status), began, done in zip(
        events[:-1], new_at[:-1], new_at[1:], strict=True
    ):
        status = to_status or status
        _warn, due = sla.stage_deadlines(case.category, STAGE_OF.get(status, Stage.NONE), began)
        if due is not None and done > due:
            updates["overdue_ever"] = True
    # The case number tells the day it was reported: give it a number of its new day.
    updates["code"] = services.case_number(updates["created_at"])
    Case.objects.filter(pk=case.pk).update(**updates)
    for (pk, *_rest), at in zip(events, new_at, strict=True):
        CaseEvent.objects.filter(pk=pk).update(at=at)
    for task in CaseTask.objects.filter(case=case):
        CaseTask.objects.filter(pk=task.pk).update(
            created_at=moved(task.created_at),
            answered_at=moved(task.answered_at) if task.answered_at else None,
        )
    for photo in CasePhoto.objects.filter(case=case):
        CasePhoto.objects.filter(pk=photo.pk).update(created_at=moved(photo.created_at))


def load(*, seed: int = 2026, count: int = 240) -> DemoCases:
    """Units, routing, the Open311 demo client and `count` cases over the last four months."""
    rng = random.Random(seed + 311)
    district = Area.objects.get(code=city.DISTRICT_CODE)
    with transaction.atomic():
        units = _units(district)
        Open311Client.objects.get_or_create(
            name="12345 热线平台（演示）",
            defaults={"key_hash": hashlib.sha256(OPEN311_KEY.encode()).hexdigest()},
        )
    grids = list(
        Area.objects.filter(path__startswith=district.path, level=Level.GRID).order_by("path")
    )
    workers = {
        m.area_id: m.user
        for m in Membership.objects.filter(role="grid_worker", area__in=grids).select_related(
            "user"
        )
    }
    heads = {
        m.area_id: m.user
        for m in Membership.objects.filter(role="community_head").select_related("user")
    }
    resident = User.objects.filter(username="jumin").first()
    desk = User.objects.filter(username="shequ").first()
    desk_home = _home(desk, level=0) if desk else None
    resident_home = _home(resident) if resident else None
    categories = list(Category.objects.filter(children__isnull=True, active=True))
    weights = [
        {"01": 9, "02": 7, "09": 9, "03": 5, "04": 4, "05": 4, "08": 4}.get(c.code[:2], 2)
        for c in categories
    ]
    endings, ending_weights = zip(*ENDINGS, strict=True)
    now = timezone.now()
    for _ in range(count):
        grid = rng.choice(grids)
        community_id = grid.parent_id
        manager = desk if community_id == desk_home else heads.get(community_id) or desk
        verifier = workers.get(grid.pk) or manager
        category = rng.choices(categories, weights)[0]
        source = rng.choices(
            [Source.GRID, Source.RESIDENT, Source.DESK, Source.HOTLINE], [50, 20, 15, 15]
        )[0]
        reporter = {Source.GRID: verifier, Source.RESIDENT: resident}.get(source) or manager
        if source == Source.RESIDENT and (resident is None or community_id != resident_home):
            source, reporter = Source.GRID, verifier
        lng = (grid.centroid_lng or 120.2) + rng.uniform(-0.002, 0.002)
        lat = (grid.centroid_lat or 30.27) + rng.uniform(-0.002, 0.002)
        ending = rng.choices(endings, ending_weights)[0]
        age_days = rng.uniform(*AGE_DAYS.get(ending, (3, 120)))
        with transaction.atomic():
            case = services.case_create(
                actor=reporter,
                category=category,
                description=rng.choice(DESCRIPTIONS.get(category.code, ["居民反映的问题"])),
                source=source,
                area=grid,
                lat=lat,
                lng=lng,
                address=rng.choice(ADDRESSES),
                reporter_name="王先生" if source in (Source.DESK, Source.HOTLINE) else "",
                reporter_phone="13900001111" if source in (Source.DESK, Source.HOTLINE) else "",
                photos=[_png(rng)] if rng.random() < 0.5 else [],
            )
            case = _walk(case, ending, rng, {"manager": manager, "verifier": verifier})
            _retime(case, now - dt.timedelta(days=age_days), now, rng)
    _flip_lights(now)
    # The analysis pages read pre-counted figures: count every day the demo's cases span.
    analysis.stats_rebuild()
    by_status: dict[str, int] = {}
    for status in Case.objects.filter(district=district).values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    return DemoCases(units=len(units), cases=sum(by_status.values()), by_status=by_status)


def _home(user: Any, *, level: int = 1) -> int | None:
    """The community a user works or lives in: their area (level 0) or its parent (level 1)."""
    m = user.memberships.select_related("area").first()
    if m is None:
        return None
    return m.area.parent_id if level else m.area_id


def _flip_lights(now: dt.datetime) -> None:
    """Let the SLA worker look at the shifted cases once, so overdue ones show red."""
    from shequ.cases import worker

    worker.run_once(now=now)
    # Everything overdue counts as overdue since its deadline passed (the worker's own rule).
    Case.objects.filter(light=Light.RED).update(overdue_ever=True)


def remove(district: Area) -> None:
    """Delete the demo cases and units (before the areas they protect)."""
    cases = Case.objects.filter(district=district)
    CaseTask.objects.filter(case__in=cases).delete()
    Case.objects.filter(district=district, merged_into__isnull=False).update(merged_into=None)
    cases.delete()
    RoutingRule.objects.filter(area__path__startswith=district.path).delete()
    Unit.objects.filter(area__path__startswith=district.path).delete()
    Open311Client.objects.filter(name="12345 热线平台（演示）").delete()

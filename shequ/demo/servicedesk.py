"""Demo service desk: applications in every state of the loop (at the desk, online and 代办),
issued certificates (one revoked) with working verification, and the eligibility rules run over
the demo residents, all made through the real services so events, audit rows and notices exist.

Like the demo cases, each application is made now and then moved back in time as a whole, so
the desk's queues, deadlines and statistics read as if the work had happened over weeks.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Replace
from django.utils import timezone
from PIL import Image

from shequ.accounts.models import Membership, User
from shequ.areas.models import Area, Level
from shequ.core import audit
from shequ.demo import city, people
from shequ.inbox.models import Notification
from shequ.registry.models import Person
from shequ.registry.states import DwellingUse, PersonStatus, ResidenceType
from shequ.servicedesk import certificates, eligibility, eligibility_defaults, services
from shequ.servicedesk.models import (
    AppCounter,
    Application,
    ApplicationEvent,
    Certificate,
    CertificateType,
    EligibilityRule,
    Entitlement,
    ResidentLink,
    ServiceItem,
)
from shequ.servicedesk.states import Channel, Status

# Where a demo application's walk ends: the statuses of the loop, plus one that went through
# 补正 (more materials asked for and handed in) before it was approved.
SUPPLEMENTED = "supplemented"

# (service, who applies: "elderly" 80+, "senior" 60+, "adult", "jumin"; channel; ending)
PLAN: list[tuple[str, str, str, str]] = [
    ("gaoling-jintie", "elderly", Channel.DESK, Status.SUBMITTED),
    ("gaoling-jintie", "elderly", Channel.PROXY, Status.ACCEPTED),
    ("gaoling-jintie", "elderly", Channel.DESK, Status.NEEDS_MATERIALS),
    ("gaoling-jintie", "elderly", Channel.DESK, Status.APPROVED),
    ("gaoling-jintie", "elderly", Channel.PROXY, Status.RATED),
    ("gaoling-jintie", "elderly", Channel.DESK, SUPPLEMENTED),
    ("laonianren-youdaizheng", "senior", Channel.DESK, Status.RATED),
    ("laonian-zhucan", "senior", Channel.PROXY, Status.APPROVED),
    ("jujia-yanglao", "senior", Channel.DESK, Status.UNDER_REVIEW),
    ("yanglao-fuwu-butie", "elderly", Channel.PROXY, Status.DENIED),
    ("laonian-gongjiaoka", "senior", Channel.DESK, Status.REFUSED),
    ("dibao", "adult", Channel.DESK, Status.UNDER_REVIEW),
    ("linshi-jiuzhu", "adult", Channel.DESK, Status.DENIED),
    ("yiliao-jiuzhu", "adult", Channel.DESK, Status.ACCEPTED),
    ("shiye-dengji", "adult", Channel.DESK, Status.RATED),
    ("zhiye-peixun", "adult", Channel.DESK, Status.SUBMITTED),
    ("shengyu-dengji", "adult", Channel.DESK, Status.APPROVED),
    ("falv-yuanzhu", "adult", Channel.DESK, Status.REFUSED),
    ("chuzu-fangwu-dengji", "adult", Channel.PROXY, SUPPLEMENTED),
    ("jiating-yisheng", "jumin", Channel.ONLINE, Status.RATED),
    ("zhiye-peixun", "jumin", Channel.ONLINE, Status.NEEDS_MATERIALS),
    ("jumin-yibao-canbao", "jumin", Channel.ONLINE, Status.SUBMITTED),
    ("ruxue-juzhu-hezhen", "jumin", Channel.ONLINE, Status.UNDER_REVIEW),
    ("chongdianzhuang-tingchewei", "jumin", Channel.ONLINE, Status.APPROVED),
]
# A few applications in each of the other communities, taken by their heads.
OTHER_PLAN: list[tuple[str, str, str, str]] = [
    ("gaoling-jintie", "elderly", Channel.DESK, Status.APPROVED),
    ("jiating-yisheng", "adult", Channel.DESK, Status.RATED),
    ("linshi-jiuzhu", "adult", Channel.DESK, Status.SUBMITTED),
    ("laonianren-youdaizheng", "senior", Channel.PROXY, Status.ACCEPTED),
]
# Applications of the plan left at today's date, so the desk's daily figures are not empty.
TODAY = 4

NOTES = {
    "request_materials": "请补交本人社会保障卡或银行卡复印件，用于发放资金",
    "refuse": "不属于本社区受理范围，已告知申请人到户籍所在地社区办理",
    "deny": "经审核，申请人家庭收入超过当地标准，不符合条件",
    "approve": "经审核符合条件，已办结",
    "supplement": "已补交银行卡复印件",
}
RATING_NOTES = ["办理很快，工作人员耐心", "满意", "不用来回跑，很方便", ""]
TEXTS = {
    "bank_account": "6217 8560 1000 2345 678",
    "reason": "家庭成员突发重病，医疗支出大，生活困难",
    "course": "养老护理员（初级）",
    "work": "网约配送员",
    "hospital": "清河区人民医院",
    "summary": "装修工程款被拖欠三个月，多次催要未果",
    "other_party": "清河某装饰工程有限公司",
    "plate": "浙A·D12345",
    "place": "3号楼东侧新建车库",
    "tenants": "李某某等2人",
    "student_name": "孙小明",
    "child_name": "孙小明",
    "school": "清河区实验小学",
    "grade": "三年级",
    "spouse_name": "王丽",
    "needs": "卫生间加装扶手，单元门口修坡道",
    "current_housing": "一家三口租住单间，约18平方米",
    "last_employer": "清河某物流公司",
    "preferred_time": "工作日上午",
}
NUMBERS = {"household_size": 3, "monthly_income": 1800, "expense": 5200, "amount": 2000}
NUMBERS.update({"child_order": 2})


@dataclass
class DemoDesk:
    applications: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    certificates: int = 0
    revoked: int = 0
    rules: int = 0
    entitled: int = 0


def _png(rng: random.Random, name: str) -> SimpleUploadedFile:
    buf = io.BytesIO()
    colour = (rng.randrange(180, 250), rng.randrange(180, 250), rng.randrange(180, 250))
    Image.new("RGB", (240, 160), colour).save(buf, "PNG")
    return SimpleUploadedFile(f"{name}.png", buf.getvalue(), content_type="image/png")


def _extra(item: ServiceItem, rng: random.Random, today: dt.date) -> dict[str, Any]:
    """Plausible values for the item's own fields (the register fills in the rest)."""
    out: dict[str, Any] = {}
    for spec in item.extra_fields:
        code, kind = str(spec["code"]), str(spec.get("type", "text"))
        if not spec.get("required") and code not in TEXTS:
            continue
        if kind == "choice":
            out[code] = rng.choice(list(spec.get("choices", [])) or [""])
        elif kind == "number":
            out[code] = NUMBERS.get(code, 1)
        elif kind == "date":
            past = code in ("left_on", "child_birth_date")
            day = today - dt.timedelta(days=2400 if code == "child_birth_date" else 40)
            out[code] = (day if past else today + dt.timedelta(days=180)).isoformat()
        else:
            out[code] = TEXTS.get(code, "详见所附材料")
    return out


def link_resident() -> Person | None:
    """Link the documented resident account `jumin` to 孙居民 of the register (最多录一次: the
    register knows who they are, so online forms are filled in for them)."""
    user = User.objects.filter(username="jumin").first()
    person = (
        Person.objects.filter(
            district__code=city.DISTRICT_CODE,
            name=people.RESIDENT_NAME,
            status=PersonStatus.ACTIVE,
        )
        .order_by("pk")
        .first()
    )
    if user is None or person is None:
        return None
    link, created = ResidentLink.objects.get_or_create(user=user, defaults={"person": person})
    if created:
        audit.record(
            actor=city.ACTOR,
            action="resident_link.created",
            obj=link,
            area_path=person.area.path,
            changes={"user": user.username, "person": person.pk},
        )
    return link.person


class Picker:
    """Deterministic choice of applicants in a community, never the same one twice."""

    def __init__(self, community: Area, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.used: set[int] = set()
        base = Person.objects.filter(
            area__path__startswith=community.path,
            status=PersonStatus.ACTIVE,
            birth_date__isnull=False,
        ).exclude(name=people.RESIDENT_NAME)

        def born_before(years: int) -> dt.date:
            return eligibility.age_cutoff(today, years)

        self.pools: dict[str, list[int]] = {
            "elderly": list(
                base.filter(
                    birth_date__lte=born_before(80), residence_type=ResidenceType.REGISTERED
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
            "senior": list(
                base.filter(birth_date__lte=born_before(60), birth_date__gt=born_before(80))
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
            "adult": list(
                base.filter(birth_date__lte=born_before(20), birth_date__gt=born_before(60))
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
        }

    def pick(self, kind: str) -> Person | None:
        pool = [pk for pk in self.pools.get(kind, []) if pk not in self.used]
        if not pool:
            return None
        pk = self.rng.choice(pool[:400])
        self.used.add(pk)
        return Person.objects.select_related("area", "district", "dwelling", "household").get(pk=pk)


def _ask_for(app: Application) -> str:
    """What the desk asks to be handed in (补正): the bank card for a payment, else a clearer
    copy of the ID card."""
    if any(m["code"] == "bankcard" for m in app.item.materials):
        return NOTES["request_materials"]
    return "身份证照片不清晰，请补交身份证正反面清晰照片或复印件"


def _walk(
    app: Application, ending: str, *, staff: User, rater: User, rng: random.Random
) -> Application:
    def move(name: str, actor: User = staff, **kw: Any) -> Application:
        return services.application_move(actor=actor, application=app, move=name, **kw)

    if ending == Status.SUBMITTED:
        return app
    if ending == Status.REFUSED:
        return move("refuse", note=NOTES["refuse"])
    if ending == SUPPLEMENTED:
        app = move("request_materials", note=_ask_for(app))
        app = move("supplement", note=NOTES["supplement"], seen=[services.OTHER])
        app = move("accept")
        return move("approve", note=NOTES["approve"])
    app = move("accept")
    if ending == Status.ACCEPTED:
        return app
    if ending == Status.NEEDS_MATERIALS:
        return move("request_materials", note=_ask_for(app))
    if ending in (Status.UNDER_REVIEW, Status.DENIED) or rng.random() < 0.4:
        app = move("forward", forwarded_to=app.item.department)
        if ending == Status.UNDER_REVIEW:
            return app
    if ending == Status.DENIED:
        return move("deny", note=NOTES["deny"])
    app = move("approve", note=NOTES["approve"])
    if ending == Status.APPROVED:
        return app
    return move(
        "rate",
        actor=rater,
        rating=rng.choices([5, 4, 3], [70, 22, 8])[0],
        note=rng.choice(RATING_NOTES),
    )


def _apply(
    item: ServiceItem,
    person: Person,
    channel: str,
    *,
    actor: User,
    rng: random.Random,
    today: dt.date,
) -> Application:
    required = services.required_codes(item)
    if channel == Channel.ONLINE:
        names = {str(m["code"]): str(m["name"]) for m in item.materials}
        files = {code: _png(rng, names[code]) for code in required}
        return services.application_create(
            actor=actor,
            item=item,
            person=person,
            channel=channel,
            form=_extra(item, rng, today),
            files=files,
        )
    return services.application_create(
        actor=actor,
        item=item,
        person=person,
        channel=channel,
        proxy_authorisation="本人行动不便，书面委托网格员代办（委托书已存档）"
        if channel == Channel.PROXY
        else "",
        form=_extra(item, rng, today),
        seen=required,
    )


def _shift(app: Application, delta: dt.timedelta, rng: random.Random) -> None:
    """Move an application back in time: submitted `delta` ago, its steps spread over part of
    the time since (so durations read true), numbered by its new day."""
    events = list(ApplicationEvent.objects.filter(application=app).order_by("at", "id"))
    start = app.created_at - delta
    span = delta * rng.uniform(0.3, 0.9)
    for index, event in enumerate(events):
        event.at = start + span * (index / max(len(events) - 1, 1))
    ApplicationEvent.objects.bulk_update(events, ["at"])
    at = {e.kind: e.at for e in events}  # the last of each kind
    updates: dict[str, Any] = {
        "created_at": start,
        "due_at": app.due_at - delta if app.due_at else None,
        "accepted_at": at.get("accept") if app.accepted_at else None,
        "finished_at": next((at[k] for k in ("approve", "deny", "refuse") if k in at), None)
        if app.finished_at
        else None,
        "paused_at": at.get("request_materials") if app.paused_at else None,
    }
    with transaction.atomic():
        updates["code"] = code = services._code(start)
        Application.objects.filter(pk=app.pk).update(**updates)
        # The notices name the application and link to it: they follow its new number.
        Notification.objects.filter(url__contains=f"/{app.code}/").update(
            url=Replace("url", Value(app.code), Value(code)),
            title=Replace("title", Value(app.code), Value(code)),
            created_at=F("created_at") - delta,
        )


def _communities() -> list[Area]:
    return list(
        Area.objects.filter(
            path__startswith=Area.objects.get(code=city.DISTRICT_CODE).path,
            level=Level.COMMUNITY,
        ).order_by("path")
    )


def _heads() -> dict[int, User]:
    return {
        m.area_id: m.user
        for m in Membership.objects.filter(role="community_head").select_related("user")
    }


def _applications(rng: random.Random, resident: Person | None, summary: DemoDesk) -> None:
    items = {i.code: i for i in ServiceItem.objects.filter(active=True)}
    communities = _communities()
    heads = _heads()
    desk = User.objects.filter(username="shequ").first()
    workers = {
        m.area_id: m.user
        for m in Membership.objects.filter(role="grid_worker").select_related("user")
    }
    jumin = User.objects.filter(username="jumin").first()
    today = timezone.localdate()
    made = 0
    for index, community in enumerate(communities):
        staff = (desk if index == 0 else None) or heads.get(community.pk)
        if staff is None:
            continue
        picker = Picker(community, rng, today)
        for code, who, channel, ending in PLAN if index == 0 else OTHER_PLAN:
            item = items.get(code)
            if item is None:
                continue
            if who == "jumin":
                if (
                    resident is None
                    or jumin is None
                    or not resident.area.path.startswith(community.path)
                ):
                    continue
                person: Person | None = resident
                actor = jumin
            else:
                person = picker.pick(who)
            if person is None:
                continue
            if who != "jumin":
                # 代办 is the grid worker's, who goes to the resident's home (the desk's if the
                # grid has no worker).
                worker = workers.get(person.area_id) if channel == Channel.PROXY else None
                actor = worker or staff
            with transaction.atomic():
                app = _apply(item, person, channel, actor=actor, rng=rng, today=today)
                app = _walk(app, ending, staff=staff, rater=jumin if actor == jumin else staff,
                            rng=rng)  # fmt: skip
                finished = app.status not in (
                    Status.SUBMITTED, Status.ACCEPTED, Status.NEEDS_MATERIALS, Status.UNDER_REVIEW
                )  # fmt: skip
            # After the commit: the notices of each step are sent then, and move back too.
            if made >= TODAY or index:
                days = rng.uniform(3, 50) if finished else rng.uniform(0.5, 6)
                _shift(app, dt.timedelta(days=days), rng)
            made += 1
    # Today's numbers taken by the applications moved back are free again.
    prefix = f"BJ{today:%Y%m%d}-"
    used = Application.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    AppCounter.objects.filter(day=today).update(
        last=max((int(c[len(prefix) :]) for c in used), default=0)
    )
    for status in Application.objects.filter(district__code=city.DISTRICT_CODE).values_list(
        "status", flat=True
    ):
        summary.by_status[status] = summary.by_status.get(status, 0) + 1
    summary.applications = sum(summary.by_status.values())


PURPOSES = ["申领居住证", "子女入学", "办理社会保障", "公租房资格审核"]


def _certificates(rng: random.Random, resident: Person | None, summary: DemoDesk) -> None:
    """居住证明 and 租住证明 issued at the first community's desk; one revoked by its head."""
    communities = _communities()
    desk = User.objects.filter(username="shequ").first()
    if not communities or desk is None:
        return
    community = communities[0]
    head = _heads().get(community.pk)
    types = {t.code: t for t in CertificateType.objects.filter(code__in=["juzhu", "zuzhu"])}
    housed = Person.objects.filter(
        area__path__startswith=community.path,
        status=PersonStatus.ACTIVE,
        dwelling__isnull=False,
        birth_date__lte=eligibility.age_cutoff(timezone.localdate(), 18),
    ).order_by("pk")
    owners = list(housed.exclude(dwelling__use=DwellingUse.RENTED)[:300])
    tenants = list(housed.filter(dwelling__use=DwellingUse.RENTED)[:300])
    plan: list[tuple[str, Person]] = []
    if resident is not None and resident.dwelling_id is not None:
        plan.append(("juzhu", resident))
    plan += [("juzhu", p) for p in rng.sample(owners, min(4, len(owners)))]
    plan += [("zuzhu", p) for p in rng.sample(tenants, min(2, len(tenants)))]
    issued: list[Certificate] = []
    for number, (code, person) in enumerate(plan):
        if code not in types:
            continue
        issued.append(
            certificates.certificate_request(
                actor=desk,
                type=types[code],
                person=person,
                purpose=PURPOSES[number % len(PURPOSES)],
                consent={"full_name": number % 2 == 0, "address": number % 3 == 0},
            )
        )
    summary.certificates = len(issued)
    if head is not None and len(issued) > 1:
        certificates.certificate_revoke(
            actor=head, certificate=issued[-1], reason="居民已搬离本社区，证明内容不再属实"
        )
        summary.revoked = 1
    for certificate in issued[:2]:  # a bank clerk scanned these QR codes
        certificates.certificate_verify(code=certificate.code, ip="127.0.0.1")


def _eligibility(summary: DemoDesk) -> None:
    """The default rules (installed if missing) run over the demo residents; a few outreach
    tasks are already worked on by the grid workers."""
    if not EligibilityRule.objects.exists():
        eligibility_defaults.install_rules(EligibilityRule, ServiceItem)
    summary.rules = EligibilityRule.objects.filter(active=True).count()
    eligibility.eligibility_run(actor=city.ACTOR)
    tasks = Entitlement.objects.filter(
        district__code=city.DISTRICT_CODE, assignee__isnull=False, state="open"
    ).select_related("assignee")
    worked: list[tuple[str, str]] = [
        ("contacted", "已电话告知申请条件和所需材料"),
        ("contacted", "上门走访，本人表示近期到社区办理"),
        ("declined", "本人表示暂不需要"),
        ("contacted", "已告知其家属"),
        ("applied", "已协助到社区窗口提交申请"),
        ("declined", "已在外地领取，无需重复申请"),
    ]
    rules = EligibilityRule.objects.filter(active=True).order_by("code")
    for index, rule in enumerate(rules):
        states = worked[index % len(worked) :] + worked[: index % len(worked)]
        for (state, note), task in zip(
            states[:3], tasks.filter(rule=rule).order_by("pk")[:3], strict=False
        ):
            if task.assignee is not None:
                eligibility.entitlement_update(
                    actor=task.assignee, entitlement=task, state=state, note=note
                )
    summary.entitled = Entitlement.objects.filter(
        district__code=city.DISTRICT_CODE, still_entitled=True
    ).count()


def load(*, seed: int = 2026) -> DemoDesk:
    """Applications, certificates and eligibility results for the demo city."""
    rng = random.Random(f"shequ-demo-desk-{seed}")
    summary = DemoDesk()
    with transaction.atomic():
        resident = link_resident()
    _applications(rng, resident, summary)
    with transaction.atomic():
        _certificates(rng, resident, summary)
    _eligibility(summary)
    return summary


def remove(district: Area) -> None:
    """Delete the demo district's applications, certificates, outreach tasks and account links
    (before the residents and areas they protect)."""
    inside = {"district": district}
    with transaction.atomic():
        Certificate.objects.filter(**inside).delete()
        Application.objects.filter(**inside).delete()
        Entitlement.objects.filter(**inside).delete()
        ResidentLink.objects.filter(person__district=district).delete()

"""Build the demo city: one district, two streets, six communities (one rural), ~40 grids.

Deterministic for a given seed: boundaries are jittered quadrilaterals that tile their parent
without gaps, so the map looks like a real place rather than a chessboard.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from shequ.accounts import services as accounts
from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.areas import services as areas
from shequ.areas.models import Area, Kind, Level
from shequ.core import audit

PASSWORD = "shequ-demo-2026"  # noqa: S105  (documented demo password)
ACTOR = "demo"
DISTRICT_CODE = "330199000000"

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]  # sw, se, ne, nw

STREETS: list[tuple[str, str, str, list[tuple[str, str, str, int]]]] = [
    # (code suffix, name, kind, communities: (code suffix, name, kind, grids))
    (
        "001",
        "东湖街道",
        Kind.URBAN,
        [
            ("001", "阳光社区", Kind.URBAN, 8),
            ("002", "和谐社区", Kind.URBAN, 7),
            ("003", "幸福里社区", Kind.URBAN, 7),
        ],
    ),
    (
        "100",
        "西山镇",
        Kind.URBAN,
        [
            ("001", "青石社区", Kind.URBAN, 7),
            ("002", "枫林社区", Kind.URBAN, 6),
            ("201", "桃源村", Kind.RURAL, 5),
        ],
    ),
]
ESTATE_NAMES = [
    "翠苑",
    "金色家园",
    "锦绣花园",
    "和平里",
    "丽景湾",
    "紫荆苑",
    "春晖小区",
    "书香门第",
    "滨江花园",
    "梧桐苑",
    "东方明珠苑",
    "阳光公寓",
    "绿城桂花园",
    "新华坊",
    "康乐新村",
    "文化小区",
    "朝晖苑",
    "望湖公寓",
    "星河湾",
    "润园",
]
HAMLETS = ["王家坞", "李家塘", "石板桥", "上村", "下村", "茶山", "竹林湾", "枫树岭", "溪口", "后山"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国春梅海燕志强晓东文"

# The documented accounts; `area` names a node by its position (see `_area_for`).
ACCOUNTS: list[tuple[str, str, str, str]] = [
    ("minzheng", "李民政", Role.DISTRICT_ADMIN, "district"),
    ("jiedao", "王街道", Role.STREET, "street1"),
    ("shequ", "张社工", Role.COMMUNITY_WORKER, "community1"),
    ("wangge1", "刘网格", Role.GRID_WORKER, "grid1"),
    ("wangge2", "陈网格", Role.GRID_WORKER, "grid2"),
    ("bumen", "赵城管", Role.DEPARTMENT, "district"),
    ("jumin", "孙居民", Role.RESIDENT, "grid1"),
    ("shenji", "周审计", Role.AUDITOR, "district"),
]


@dataclass
class DemoSummary:
    areas: int
    users: int


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _bilinear(quad: Quad, u: float, v: float) -> Point:
    sw, se, ne, nw = quad
    return _lerp(_lerp(sw, se, u), _lerp(nw, ne, u), v)


def _cuts(n: int, rng: random.Random, jitter: float) -> list[tuple[float, float]]:
    """n+1 cut lines across the unit interval, each as (start, end) on the two opposite edges."""
    cuts = [(0.0, 0.0)]
    for k in range(1, n):
        base = k / n
        cuts.append(
            (base + rng.uniform(-jitter, jitter) / n, base + rng.uniform(-jitter, jitter) / n)
        )
    cuts.append((1.0, 1.0))
    return cuts


def split(quad: Quad, count: int, rng: random.Random, jitter: float = 0.25) -> list[Quad]:
    """Tile `quad` with `count` cells: rows of near-equal size, each row cut into columns."""
    rows = max(1, round(count**0.5))
    per_row = [count // rows + (1 if r < count % rows else 0) for r in range(rows)]
    cells: list[Quad] = []
    row_cuts = _cuts(rows, rng, jitter)
    for r, n in enumerate(per_row):
        (v0_left, v0_right), (v1_left, v1_right) = row_cuts[r], row_cuts[r + 1]
        row: Quad = (
            _bilinear(quad, 0, v0_left),
            _bilinear(quad, 1, v0_right),
            _bilinear(quad, 1, v1_right),
            _bilinear(quad, 0, v1_left),
        )
        col_cuts = _cuts(n, rng, jitter)
        for c in range(n):
            (u0_bottom, u0_top), (u1_bottom, u1_top) = col_cuts[c], col_cuts[c + 1]
            cells.append(
                (
                    _bilinear(row, u0_bottom, 0),
                    _bilinear(row, u1_bottom, 0),
                    _bilinear(row, u1_top, 1),
                    _bilinear(row, u0_top, 1),
                )
            )
    return cells


def polygon(quad: Quad) -> dict[str, Any]:
    ring = [[round(x, 6), round(y, 6)] for x, y in (*quad, quad[0])]
    return {"type": "Polygon", "coordinates": [ring]}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def exists() -> bool:
    return Area.objects.filter(code=DISTRICT_CODE).exists()


@transaction.atomic
def build(*, seed: int = 2026) -> DemoSummary:
    rng = random.Random(seed)
    district_quad: Quad = ((120.10, 30.20), (120.30, 30.20), (120.30, 30.33), (120.10, 30.33))
    district = areas.area_create(
        actor=ACTOR,
        code=DISTRICT_CODE,
        name="清河区",
        level=Level.DISTRICT,
        geometry=polygon(district_quad),
    )
    named: dict[str, Area] = {"district": district}
    grids: list[Area] = []
    for s_index, ((s_code, s_name, _s_kind, communities), s_quad) in enumerate(
        zip(STREETS, split(district_quad, len(STREETS), rng, 0.1), strict=True), start=1
    ):
        street = areas.area_create(
            actor=ACTOR,
            code=f"330199{s_code}000",
            name=s_name,
            level=Level.STREET,
            parent=district,
            geometry=polygon(s_quad),
            sort_order=s_index,
        )
        named[f"street{s_index}"] = street
        for c_index, ((c_code, c_name, c_kind, grid_count), c_quad) in enumerate(
            zip(communities, split(s_quad, len(communities), rng), strict=True), start=1
        ):
            community = areas.area_create(
                actor=ACTOR,
                code=f"330199{s_code}{c_code}",
                name=c_name,
                level=Level.COMMUNITY,
                parent=street,
                kind=c_kind,
                geometry=polygon(c_quad),
                sort_order=c_index,
            )
            named.setdefault("community1", community)
            for g_index, g_quad in enumerate(split(c_quad, grid_count, rng), start=1):
                grid = areas.area_create(
                    actor=ACTOR,
                    code=f"{community.code}{g_index:03d}",
                    name=f"{c_name}第{g_index}网格",
                    level=Level.GRID,
                    parent=community,
                    geometry=polygon(g_quad),
                    sort_order=g_index,
                )
                grids.append(grid)
                names = HAMLETS if c_kind == Kind.RURAL else ESTATE_NAMES
                estate_count = rng.randint(1, 3)
                for e_index, e_quad in enumerate(split(g_quad, estate_count, rng, 0.15), start=1):
                    base = rng.choice(names)
                    areas.area_create(
                        actor=ACTOR,
                        code=f"{grid.code}{e_index:02d}",
                        name=base if c_kind == Kind.RURAL else f"{base}{e_index}期",
                        level=Level.ESTATE,
                        parent=grid,
                        geometry=polygon(e_quad),
                        sort_order=e_index,
                    )
    community1_grids = [g for g in grids if g.parent_id == named["community1"].pk]
    named["grid1"], named["grid2"] = community1_grids[0], community1_grids[1]

    users = [
        accounts.user_create(
            actor=ACTOR,
            username="admin",
            password=PASSWORD,
            full_name="系统管理员",
            memberships=[(district, Role.SYSADMIN)],
            is_superuser=True,
        )
    ]
    for username, full_name, role, where in ACCOUNTS:
        users.append(
            accounts.user_create(
                actor=ACTOR,
                username=username,
                password=PASSWORD,
                full_name=full_name,
                memberships=[(named[where], role)],
            )
        )
    users.extend(_staff(rng, grids, named))
    audit.record(actor=ACTOR, action="demo.loaded", object_type="demo", changes={"seed": seed})
    return DemoSummary(areas=Area.objects.count(), users=len(users))


def _staff(rng: random.Random, grids: list[Area], named: dict[str, Area]) -> list[User]:
    """A head for every community and a worker for most grids (a few are left vacant)."""
    created: list[User] = []
    taken = {named["grid1"].pk, named["grid2"].pk}
    vacant = {g.pk for g in rng.sample([g for g in grids if g.pk not in taken], 3)}
    communities = sorted({g.parent_id for g in grids if g.parent_id is not None})
    for number, community in enumerate(Area.objects.filter(pk__in=communities).order_by("path"), 1):
        created.append(
            accounts.user_create(
                actor=ACTOR,
                username=f"sqzr{number:02d}",
                password=PASSWORD,
                full_name=_name(rng),
                memberships=[(community, Role.COMMUNITY_HEAD)],
            )
        )
    for grid in grids:
        if grid.pk in taken or grid.pk in vacant:
            continue
        created.append(
            accounts.user_create(
                actor=ACTOR,
                username=f"wg{grid.code[6:]}",
                password=PASSWORD,
                full_name=_name(rng),
                memberships=[(grid, Role.GRID_WORKER)],
            )
        )
    return created


def reset() -> None:
    """Remove what the demo created: its registry rows, its district's subtree and the accounts
    that work in it."""
    from shequ.accounts.models import Membership
    from shequ.accounts.scoping import subtree_q
    from shequ.demo import people

    district = Area.objects.filter(code=DISTRICT_CODE).first()
    if district is None:
        return
    with transaction.atomic():
        from shequ.demo import cases

        cases.remove(district)  # cases and registry rows protect their areas: they go first
        people.remove(DISTRICT_CODE)
        inside = Membership.objects.filter(subtree_q(district.path, "area__path"))
        users = set(inside.values_list("user_id", flat=True))
        inside.delete()
        # Accounts that also work outside the demo district keep their other memberships.
        User.objects.filter(pk__in=users, memberships__isnull=True).delete()
        demo_areas = Area.objects.subtree_of(district)
        for depth in range(8, 0, -1):
            demo_areas.filter(depth=depth).delete()
        audit.record(actor=ACTOR, action="demo.reset", object_type="demo")

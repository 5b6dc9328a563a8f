"""Fill the demo city with housing, households and residents that look like a real place.

Deterministic for a seed: every random choice comes from one `random.Random` walked in a fixed
order (estates by path, households in order, members in order). Dates are relative to the first
of January of the current year, so a seed gives the same people all year.

Rows are written with `bulk_create` in batches and `apply_indexes` per person (never the per-row
services), with one audit entry for the whole load: that is what lets a million residents load
in minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from shequ.areas.models import Area, Kind, Level
from shequ.core import audit
from shequ.core.bulk import FastInsert
from shequ.demo import city
from shequ.lib import idcard
from shequ.registry.models import Building, Dwelling, Household, Person, PersonTag, TagType
from shequ.registry.services import (
    apply_indexes,
    standard_building_address,
    standard_dwelling_address,
)
from shequ.registry.states import (
    DwellingUse,
    Gender,
    IdKind,
    PersonStatus,
    Relation,
    ResidenceType,
)
from shequ.registry.tags import DEFAULT_TAGS, tags_ensure_defaults

SOURCE = "demo"
RESIDENT_NAME = "孙居民"  # the documented resident account `jumin` (see city.ACCOUNTS)

# ---------------------------------------------------------------------------------------------
# Names


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Surname frequencies (per mille), national figures nudged towards Zhejiang (more 陈, 吴, 徐,
# 沈, 金, 钱). Homophones are there on purpose (王/汪, 张/章, 徐/许, 吴/武/伍, 刘/柳), and a tail
# of rare and compound surnames exercises pinyin and matching.
SURNAME_WEIGHTS: dict[str, float] = {
    "王": 70, "陈": 62, "李": 55, "张": 55, "刘": 40, "杨": 26, "吴": 26, "徐": 22, "周": 21,
    "黄": 20, "赵": 18, "朱": 17, "孙": 15, "胡": 15, "沈": 14, "马": 12, "郭": 11, "何": 11,
    "林": 11, "金": 11, "高": 10, "钱": 9, "罗": 9, "郑": 9, "梁": 8, "谢": 8, "宋": 7,
    "唐": 7, "许": 8, "韩": 6, "冯": 6, "邓": 6, "曹": 6, "彭": 5, "曾": 5, "肖": 5,
    "田": 5, "董": 5, "袁": 4, "潘": 6, "于": 4, "蒋": 5, "蔡": 5, "余": 5, "杜": 4,
    "叶": 6, "程": 4, "苏": 3, "魏": 3, "吕": 3, "丁": 3, "任": 3, "姚": 4, "卢": 3,
    "姜": 3, "崔": 2, "钟": 2, "谭": 2, "陆": 4, "汪": 5, "范": 2, "石": 2, "廖": 2,
    "夏": 2, "方": 3, "邵": 3, "章": 3, "顾": 2, "毛": 2, "俞": 3, "应": 2, "楼": 1.5,
    "傅": 2, "严": 1.5, "戴": 1.5, "柳": 1, "武": 1, "伍": 1, "秦": 1.5, "孔": 1, "汤": 1.5,
    # rare, with readings pypinyin gets wrong unless told
    "单": 0.5, "仇": 0.3, "覃": 0.3, "缪": 0.4, "翟": 0.3, "查": 0.4, "乐": 0.3, "解": 0.2,
    "盖": 0.1, "訾": 0.05, "眭": 0.05, "谌": 0.1, "郇": 0.05, "阚": 0.1, "厍": 0.03,
    # compound
    "欧阳": 0.4, "司马": 0.1, "诸葛": 0.1, "上官": 0.1, "东方": 0.05, "令狐": 0.03, "尉迟": 0.02,
}  # fmt: skip

# Given names by generation; the fashions changed a lot.
GIVEN: dict[tuple[str, str], tuple[str, ...]] = {
    ("M", "old"): _words(
        "建国 国庆 志明 德胜 春生 根宝 金林 永福 福根 水根 长生 国华 建华 振华 文华 德明 宝根 "
        "荣生 金荣 海林 新民 卫东 跃进 援朝 明 华 林 荣 富 生 忠 良 发 贵 德"
    ),
    ("F", "old"): _words(
        "桂英 秀英 玉兰 淑珍 凤英 秀珍 金娣 杏娣 彩娥 月娥 美英 素珍 菊英 翠花 招娣 雪琴 爱华 "
        "秀兰 桂芳 桂兰 阿娟 英 珍 兰 芬 娥 凤 梅 菊 琴"
    ),
    ("M", "mid"): _words(
        "伟 强 磊 军 勇 杰 涛 明 超 刚 平 斌 浩 鹏 辉 建军 建平 晓东 海涛 志强 文斌 国强 卫国 "
        "建新 永强 立新 俊 峰 波 鑫 斌斌 晓峰 建明 国平 伟东 志刚 小龙 海军 剑"
    ),
    ("F", "mid"): _words(
        "芳 娜 敏 静 丽 艳 娟 霞 燕 红 玲 萍 颖 婷 红梅 海燕 丽华 晓燕 春燕 雪梅 秀丽 美玲 "
        "丽萍 晓红 慧 丹 琴 洁 君 晓丽 丽娟 燕萍 佳 珍珍 雅琴"
    ),
    ("M", "young"): _words(
        "浩然 宇航 俊杰 子豪 浩宇 天宇 博文 宇轩 子轩 嘉豪 皓轩 一鸣 泽宇 明轩 家乐 晨 昊 鑫 "
        "哲 宇 磊 杰 帅 琦 凯 旭 阳 文杰 志豪 俊 鹏飞 振宇 伟杰"
    ),
    ("F", "young"): _words(
        "欣怡 雨婷 思琪 佳怡 梦瑶 诗涵 雨萱 子涵 欣妍 佳琪 婉婷 可欣 心怡 晓雯 倩 琳 婷 莹 "
        "璐 雪 颖 洁 晶晶 丹丹 梦婷 雅婷 思雨 佳慧 静怡"
    ),
    ("M", "kid"): _words(
        "沐宸 梓睿 奕辰 浩宇 宇轩 铭泽 子墨 一诺 俊熙 睿 辰逸 梓轩 锦程 承泽 嘉懿 宸 子睿 "
        "煜祺 昊然 明哲 宇泽 皓宇 思远 亦辰"
    ),
    ("F", "kid"): _words(
        "梓萱 一诺 若汐 语桐 依诺 欣妍 可馨 梓涵 思睿 安琪 芷若 诗琪 雨桐 沐瑶 紫萱 梓晴 "
        "语汐 欣然 可欣 芊芊 子琪 诗雨 清欢"
    ),
}
# Homophones a clerk may type for each other (伟/玮/炜 all read wei): matching must cope.
HOMOPHONES: dict[str, tuple[str, ...]] = {
    "伟": ("玮", "炜", "韦"), "静": ("婧", "靖"), "丽": ("莉", "俐", "立"), "杰": ("洁", "捷"),
    "明": ("铭", "鸣"), "华": ("桦", "骅"), "婷": ("亭", "庭"), "军": ("君", "钧"),
    "芳": ("方", "舫"), "涛": ("韬", "滔"), "红": ("虹", "鸿"), "燕": ("艳", "雁"),
    "霞": ("侠",), "琳": ("林", "霖"), "宇": ("羽", "雨"), "轩": ("萱", "宣"), "晨": ("辰", "臣"),
    "浩": ("昊", "皓"), "鑫": ("新", "欣"), "峰": ("锋", "丰"), "斌": ("彬", "滨"),
}  # fmt: skip
# Rare characters (some outside GBK, like 䶮) that break older systems.
RARE_GIVEN = tuple("喆堃昇赟珺玥犇淼燚垚焱旸翀晞彧瑄婳䶮嫚甦祎媛")
FOREIGN_NAMES: tuple[tuple[str, str], ...] = (
    ("John Smith", "M"), ("Maria Garcia", "F"), ("Kim Minjun", "M"), ("Tanaka Yuki", "F"),
    ("Nguyen Van An", "M"), ("Ali Hassan", "M"), ("Anna Ivanova", "F"), ("David Müller", "M"),
    ("Sophie Martin", "F"), ("Park Jiyeon", "F"),
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# ID numbers: region codes, checked against the division tables by the tests.

# Hangzhou codes for people registered here, (code, weight, born from, born before): codes
# abolished in 2021 (下城, 江干) only for people born before, new ones (临平, 钱塘) after.
HANGZHOU: tuple[tuple[str, float, int, int], ...] = (
    ("330102", 14, 1900, 2100), ("330103", 9, 1900, 2021), ("330104", 7, 1900, 2021),
    ("330105", 10, 1900, 2100), ("330106", 12, 1900, 2100), ("330108", 4, 1996, 2100),
    ("330109", 8, 1900, 2100), ("330110", 8, 1900, 2100), ("330183", 2, 1900, 2015),
    ("330111", 2, 2015, 2100), ("330185", 2, 1900, 2017), ("330112", 1, 2017, 2100),
    ("330113", 3, 2021, 2100), ("330114", 3, 2021, 2100), ("330122", 2, 1900, 2100),
    ("330127", 2, 1900, 2100), ("330182", 2, 1900, 2100),
)  # fmt: skip
# Elsewhere in Zhejiang: people who married or moved here, and about half the floating population.
ZHEJIANG = _words(
    "330302 330381 330382 330702 330782 330783 331002 331081 331082 331102 330802 330881 "
    "330602 330624 330683 330203 330282 330402 330502"
)
# Other provinces, the usual origins of Hangzhou's migrant workers (安徽, 江西, 河南, 四川,
# 贵州, 湖南, 湖北, 重庆, 江苏, 山东).
ELSEWHERE = _words(
    "341221 341222 341225 341623 341282 340826 361127 360721 360428 411524 411526 412726 "
    "511381 511922 522121 522427 430521 421083 500235 320323 370826"
)
PERMITS = ("810000", "820000", "830000")

PHONE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 "
    "173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
)
MINORITIES = (
    ("畲族", 3), ("土家族", 2), ("苗族", 2), ("回族", 1.5), ("布依族", 1.5), ("侗族", 1),
    ("满族", 1), ("壮族", 1), ("彝族", 0.5), ("蒙古族", 0.3), ("朝鲜族", 0.2),
)  # fmt: skip

SCHOOLS = {
    "kindergarten": ("清河区东湖幼儿园", "清河区实验幼儿园", "西山镇中心幼儿园"),
    "primary": ("清河区实验小学", "东湖小学", "西山镇中心小学"),
    "middle": ("清河区第二中学", "东湖中学", "西山镇初级中学"),
    "high": ("杭州市清河高级中学", "清河区职业高级中学"),
    "college": ("浙江大学", "浙江工业大学", "杭州师范大学", "浙江工商大学"),
}
EMPLOYERS = (
    "清河区人民医院", "东湖街道办事处", "杭州某网络科技有限公司", "清河区税务局",
    "浙江某建设集团", "个体经营", "杭州某商贸有限公司", "清河区实验小学", "中国移动杭州分公司",
    "某银行清河支行", "自由职业", "杭州某制造有限公司", "社区卫生服务中心",
)  # fmt: skip
MIGRANT_JOBS = (
    "快递员", "外卖骑手", "建筑工人", "家政服务员", "个体经营", "制造业工人", "保安",
    "餐饮服务员", "网约车司机", "保洁员",
)  # fmt: skip
ROADS = (
    "清河路", "东湖路", "西山路", "和平路", "建设路", "解放路", "人民路", "文化路", "学院路",
    "春晖路", "望江路", "朝晖路", "环城北路", "丽水路", "湖墅南路", "德胜路",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Helpers


def reference_date() -> dt.date:
    """The day the demo's ages are counted from: the first of January of this year."""
    return timezone.localdate().replace(month=1, day=1)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _weighted(items: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    keys = [k for k, _w in items]
    cum: list[float] = []
    total = 0.0
    for _k, w in items:
        total += w
        cum.append(total)
    return keys, cum


@dataclass(frozen=True)
class PersonSpec:
    """One generated person before it becomes a row (also used by the sample spreadsheets)."""

    name: str
    gender: str
    birth_date: dt.date
    id_number: str
    id_kind: str
    phone: str
    ethnicity: str
    residence_type: str
    hukou_address: str


class Generator:
    """Names, ID numbers and phones; one instance per population so ID numbers stay unique."""

    def __init__(self, rng: random.Random, *, today: dt.date, taken: Callable[[str], bool]):
        self.rng = rng
        self.today = today
        self.taken = taken  # is this ID number already registered elsewhere?
        self.used: set[str] = set()
        self._surnames, self._surname_cum = _weighted(list(SURNAME_WEIGHTS.items()))
        self._minorities, self._minority_cum = _weighted(MINORITIES)
        hz = [(code, w) for code, w, _f, _t in HANGZHOU]
        self._hz_spans = {code: (f, t) for code, _w, f, t in HANGZHOU}
        self._hz, self._hz_cum = _weighted(hz)

    # names
    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._surname_cum)[0]

    def given(self, gender: str, birth_year: int) -> str:
        rng = self.rng
        era = (
            "old"
            if birth_year < 1960
            else "mid"
            if birth_year < 1990
            else "young"
            if birth_year < 2010
            else "kid"
        )
        name = rng.choice(GIVEN[(gender, era)])
        if rng.random() < 0.12:
            name = "".join(
                rng.choice(HOMOPHONES[ch]) if ch in HOMOPHONES and rng.random() < 0.5 else ch
                for ch in name
            )
        if rng.random() < 0.012:
            name = (name[:1] + rng.choice(RARE_GIVEN)) if len(name) == 2 else rng.choice(RARE_GIVEN)
        return name

    def name(self, gender: str, birth_year: int, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given(gender, birth_year)

    def ethnicity(self, floating: bool) -> str:
        minority_rate = 0.03 if floating else 0.008
        if self.rng.random() >= minority_rate:
            return "汉族"
        return self.rng.choices(self._minorities, cum_weights=self._minority_cum)[0]

    # places
    def region(self, residence: str, birth_year: int) -> str:
        rng = self.rng
        if residence == ResidenceType.FOREIGN:
            return rng.choice(PERMITS)
        if residence == ResidenceType.FLOATING:
            return rng.choice(ZHEJIANG) if rng.random() < 0.45 else rng.choice(ELSEWHERE)
        if rng.random() < 0.12:
            return rng.choice(ZHEJIANG)
        while True:
            code = rng.choices(self._hz, cum_weights=self._hz_cum)[0]
            born_from, born_before = self._hz_spans[code]
            if born_from <= birth_year < born_before:
                return code

    @staticmethod
    def region_address(code: str) -> str:
        if code in PERMITS:
            return {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾省"}[
                code
            ]
        parts = [idcard.region_name(code[:2] + "0000"), idcard.region_name(code[:4] + "00")]
        parts.append(idcard.region_name(code))
        return "".join(p for p in parts if p and p not in ("市辖区", "县"))

    # numbers
    def id_number(self, region: str, born: dt.date, gender: str) -> str:
        stem = f"{region}{born:%Y%m%d}"
        parity = 1 if gender == Gender.MALE else 0
        for _attempt in range(200):
            first17 = f"{stem}{self.rng.randrange(0, 500) * 2 + parity:03d}"
            if first17 in self.used:
                continue
            number = first17 + idcard.check_digit(first17)
            if self.taken(number):
                continue
            self.used.add(first17)
            return number
        raise RuntimeError(f"ran out of sequence numbers for {stem}")  # pragma: no cover

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def birth(self, age: float) -> dt.date:
        born = self.today - dt.timedelta(days=int(age * 365.2425))
        return min(born, self.today - dt.timedelta(days=1))

    def person(
        self,
        *,
        gender: str,
        age: float,
        residence: str,
        surname: str | None = None,
        ethnicity: str | None = None,
        phone_rate: float | None = None,
    ) -> PersonSpec:
        """A whole person; `phone_rate` defaults to what people of that age have."""
        born = self.birth(age)
        years = age_on(born, self.today)
        if residence == ResidenceType.FOREIGN and self.rng.random() < 0.3:
            foreign_name, gender = self.rng.choice(FOREIGN_NAMES)
            return PersonSpec(
                name=foreign_name,
                gender=gender,
                birth_date=born,
                id_number="",
                id_kind=IdKind.OTHER,
                phone=self.phone() if self.rng.random() < 0.8 else "",
                ethnicity="",
                residence_type=residence,
                hukou_address="",
            )
        region = self.region(residence, born.year)
        if phone_rate is None:
            phone_rate = 0.0 if years < 12 else 0.35 if years < 18 else 0.95 if years < 70 else 0.7
        return PersonSpec(
            name=self.name(gender, born.year, surname),
            gender=gender,
            birth_date=born,
            id_number=self.id_number(region, born, gender),
            id_kind={"810000": IdKind.HK, "820000": IdKind.MACAO, "830000": IdKind.TAIWAN}.get(
                region, IdKind.RESIDENT
            ),
            phone=self.phone() if self.rng.random() < phone_rate else "",
            ethnicity=ethnicity or self.ethnicity(residence == ResidenceType.FLOATING),
            residence_type=residence,
            hukou_address=self.region_address(region),
        )


# ---------------------------------------------------------------------------------------------
# Households


@dataclass
class Member:
    relation: str
    gender: str
    age: float
    same_surname: bool  # carries the head's surname (children; the head's father)


@dataclass
class HouseholdPlan:
    kind: str
    residence: str
    members: list[Member]
    tags: set[str] = field(default_factory=set)  # household-level: dibao, dibao-edge


def _other(gender: str) -> str:
    return Gender.FEMALE if gender == Gender.MALE else Gender.MALE


def _couple(rng: random.Random, low: float, high: float) -> list[Member]:
    head_gender = Gender.MALE if rng.random() < 0.8 else Gender.FEMALE
    age = rng.uniform(low, high)
    spouse_age = max(20.0, age + rng.gauss(-2 if head_gender == Gender.MALE else 2, 2.5))
    return [
        Member(Relation.HEAD, head_gender, age, True),
        Member(Relation.SPOUSE, _other(head_gender), spouse_age, False),
    ]


def _children(rng: random.Random, parent_age: float, count: int, relation: str) -> list[Member]:
    out = []
    for _ in range(count):
        age = parent_age - rng.uniform(23, 36)
        if age < 0:
            continue
        gender = Gender.MALE if rng.random() < 0.52 else Gender.FEMALE
        out.append(Member(relation, gender, max(age, 0.05), True))
    return out


def _kids(rng: random.Random) -> int:
    return 1 if rng.random() < 0.62 else 2 if rng.random() < 0.93 else 3


def _household(rng: random.Random, kind: str, residence: str) -> HouseholdPlan:
    """Members for one household of `kind`; ages are floats in years."""
    m: list[Member]
    if kind == "single":
        gender = Gender.MALE if rng.random() < 0.55 else Gender.FEMALE
        m = [Member(Relation.HEAD, gender, rng.uniform(20, 40), True)]
    elif kind == "couple":
        m = _couple(rng, 23, 38)
    elif kind == "family":
        m = _couple(rng, 27, 56)
        m += _children(rng, m[0].age, _kids(rng), Relation.CHILD)
    elif kind == "three_generations":
        m = _couple(rng, 30, 56)
        m += _children(rng, m[0].age, _kids(rng), Relation.CHILD)
        parent_age = m[0].age + rng.uniform(24, 32)
        if rng.random() < 0.55:
            m.append(Member(Relation.PARENT, Gender.MALE, parent_age, True))
        m.append(Member(Relation.PARENT, Gender.FEMALE, parent_age - rng.uniform(0, 4), False))
    elif kind == "middle_couple":
        m = _couple(rng, 50, 70)
    elif kind == "elderly_couple":
        m = _couple(rng, 60, 84)
    elif kind == "elderly_alone":
        gender = Gender.FEMALE if rng.random() < 0.68 else Gender.MALE
        m = [Member(Relation.HEAD, gender, min(rng.gauss(74, 7), 102), True)]
        m[0].age = max(m[0].age, 60.5)
    elif kind == "elderly_with_child":
        gender = Gender.FEMALE if rng.random() < 0.65 else Gender.MALE
        head = Member(Relation.HEAD, gender, rng.uniform(68, 92), True)
        m = [head, *_children(rng, head.age, 1, Relation.CHILD)]
    elif kind == "single_parent":
        gender = Gender.FEMALE if rng.random() < 0.75 else Gender.MALE
        head = Member(Relation.HEAD, gender, rng.uniform(30, 50), True)
        m = [head, *_children(rng, head.age, 1, Relation.CHILD)]
    elif kind == "left_behind":
        # Parents work in the city; grandparents bring up the children (留守儿童).
        m = (
            _couple(rng, 52, 74)
            if rng.random() < 0.75
            else [Member(Relation.HEAD, Gender.FEMALE, rng.uniform(52, 74), True)]
        )
        for _ in range(_kids(rng)):
            gender = Gender.MALE if rng.random() < 0.52 else Gender.FEMALE
            m.append(Member(Relation.GRANDCHILD, gender, rng.uniform(1, 16), True))
    elif kind == "shared_flat":
        first = rng.uniform(20, 38)
        m = [
            Member(Relation.HEAD, Gender.MALE if rng.random() < 0.6 else Gender.FEMALE, first, True)
        ]
        for _ in range(rng.randint(1, 3)):
            gender = Gender.MALE if rng.random() < 0.6 else Gender.FEMALE
            m.append(Member(Relation.OTHER, gender, rng.uniform(19, 40), False))
    else:  # pragma: no cover - the tables below name only the kinds above
        raise ValueError(kind)
    return HouseholdPlan(kind=kind, residence=residence, members=m)


# (kind, weight) per setting. Tuned so that about 20 % of residents are over 60 and 3 % over 80,
# and 28 % are floating.
URBAN_REGISTERED = (
    ("single", 6), ("couple", 7), ("family", 30), ("three_generations", 9),
    ("middle_couple", 13), ("elderly_couple", 14), ("elderly_alone", 8),
    ("elderly_with_child", 4), ("single_parent", 3),
)  # fmt: skip
RURAL_REGISTERED = (
    ("single", 3), ("couple", 4), ("family", 22), ("three_generations", 16),
    ("middle_couple", 12), ("elderly_couple", 18), ("elderly_alone", 10),
    ("elderly_with_child", 3), ("left_behind", 12),
)  # fmt: skip
FLOATING = (("single", 38), ("couple", 22), ("family", 28), ("shared_flat", 12))
FOREIGN = (("single", 60), ("couple", 30), ("family", 10))


@dataclass
class EstateInfo:
    area: Area
    rural: bool
    community: str
    road: str
    road_number: int
    quad: tuple[tuple[float, float], ...]


class HouseholdTables:
    def __init__(self) -> None:
        self.tables = {
            name: _weighted(table)
            for name, table in (
                ("urban", URBAN_REGISTERED),
                ("rural", RURAL_REGISTERED),
                ("floating", FLOATING),
                ("foreign", FOREIGN),
            )
        }

    def draw(self, rng: random.Random, table: str) -> str:
        keys, cum = self.tables[table]
        return rng.choices(keys, cum_weights=cum)[0]


def plan_households(rng: random.Random, *, residents: int, rural: bool) -> list[HouseholdPlan]:
    """Households for `residents` people of an estate (the last one trimmed to fit)."""
    tables = HouseholdTables()
    plans: list[HouseholdPlan] = []
    count = 0
    floating_rate, foreign_rate = (0.10, 0.0) if rural else (0.32, 0.03)
    while count < residents:
        roll = rng.random()
        if roll < foreign_rate:
            plan = _household(rng, tables.draw(rng, "foreign"), ResidenceType.FOREIGN)
        elif roll < foreign_rate + floating_rate:
            plan = _household(rng, tables.draw(rng, "floating"), ResidenceType.FLOATING)
        else:
            table = "rural" if rural else "urban"
            plan = _household(rng, tables.draw(rng, table), ResidenceType.REGISTERED)
        plan.members = plan.members[: residents - count]
        count += len(plan.members)
        plans.append(plan)
    return plans


# ---------------------------------------------------------------------------------------------
# Tags


@dataclass(frozen=True)
class TagPlan:
    code: str
    source: str
    valid_from: dt.date | None
    valid_to: dt.date | None = None
    details: dict[str, str] = field(default_factory=dict)


DISABILITY_CATEGORY_WEIGHTS = (
    ("肢体", 30), ("听力", 24), ("多重", 16), ("视力", 14), ("智力", 7), ("精神", 7.5),
    ("言语", 1.5),
)  # fmt: skip
DISABILITY_LEVEL_WEIGHTS = (("一级", 10), ("二级", 20), ("三级", 30), ("四级", 40))
_CATEGORIES = _weighted(DISABILITY_CATEGORY_WEIGHTS)
_LEVELS = _weighted(DISABILITY_LEVEL_WEIGHTS)


def _days_before(rng: random.Random, day: dt.date, low: int, high: int) -> dt.date:
    return day - dt.timedelta(days=rng.randint(low, high))


def plan_tags(
    rng: random.Random,
    *,
    spec: PersonSpec,
    member: Member,
    plan: HouseholdPlan,
    rural: bool,
    political: str,
    today: dt.date,
) -> list[TagPlan]:
    """Special-group memberships for one person, at roughly the rates a community sees."""
    age = age_on(spec.birth_date, today)
    male = spec.gender == Gender.MALE
    tags: list[TagPlan] = []

    def add(code: str, source: str, valid_from: dt.date | None, **kw: Any) -> None:
        tags.append(TagPlan(code, source, valid_from, **kw))

    if age >= 80:
        add("elderly-80", "民政局", add_years(spec.birth_date, 80))
    if age >= 60:
        if plan.kind == "elderly_alone" and rng.random() < 0.95:
            add("elderly-alone", "社区走访", _days_before(rng, today, 30, 1500))
        if plan.kind in ("elderly_couple", "middle_couple") and all(
            x.age >= 60 for x in plan.members
        ):
            add("elderly-empty-nest", "社区走访", _days_before(rng, today, 30, 1500))
        roll, old = rng.random(), age >= 80
        if roll < (0.09 if old else 0.018):
            add("elderly-disabled", "卫健局", _days_before(rng, today, 30, 1200))
        elif roll < (0.24 if old else 0.06):
            add("elderly-semi-disabled", "卫健局", _days_before(rng, today, 30, 1200))
    disabled_rate = 0.015 if age < 18 else 0.05 if age < 60 else 0.11 if age < 80 else 0.18
    if rng.random() < disabled_rate:
        category = rng.choices(_CATEGORIES[0], cum_weights=_CATEGORIES[1])[0]
        level = rng.choices(_LEVELS[0], cum_weights=_LEVELS[1])[0]
        issued = max(spec.birth_date, _days_before(rng, today, 60, 7000))
        add("disabled", "区残联", issued, details={"category": category, "level": level})
    for code in sorted(plan.tags):
        start = _days_before(rng, today, 1, 360)
        add(code, "民政局", start, valid_to=start + dt.timedelta(days=364))
    if (
        plan.kind == "elderly_alone"
        and age >= 60
        and "dibao" not in plan.tags
        and (rng.random() < 0.04)
    ):
        add("tekun", "民政局", _days_before(rng, today, 30, 2000))
    if male and age >= 22 and rng.random() < (0.045 if age >= 40 else 0.025):
        add("veteran", "退役军人事务局", add_years(spec.birth_date, rng.randint(21, 24)))
        if age >= 70 and rng.random() < 0.2:
            add("youfu", "退役军人事务局", _days_before(rng, today, 100, 6000))
    elif age >= 65 and not male and rng.random() < 0.004:
        add("youfu", "退役军人事务局", _days_before(rng, today, 100, 6000))  # 烈属, 遗属
    if member.relation == Relation.GRANDCHILD and plan.kind == "left_behind" and age < 16:
        add(
            "left-behind-child",
            "民政局",
            _days_before(rng, today, 30, 900),
            valid_to=add_years(spec.birth_date, 16),
        )
    if age < 18 and rng.random() < (0.25 if plan.tags else 0.004):
        add("child-in-difficulty", "民政局", _days_before(rng, today, 30, 900),
            valid_to=add_years(spec.birth_date, 18))  # fmt: skip
    foreign = spec.residence_type == ResidenceType.FOREIGN
    if not male and 22 <= age <= 42 and not foreign and rng.random() < 0.045:
        start = _days_before(rng, today, 0, 280)
        add("maternal", "卫健局", start, valid_to=start + dt.timedelta(days=280 + 42))
    if 18 <= age <= 65:
        crime = 0.0009 if male else 0.0002
        roll = rng.random()
        if roll < crime:
            start = _days_before(rng, today, 30, 700)
            add("community-correction", "司法局", start,
                valid_to=start + dt.timedelta(days=rng.choice((365, 730, 1095))))  # fmt: skip
        elif roll < crime * 5:
            start = _days_before(rng, today, 30, 1800)
            add("released-prisoner", "司法局", start, valid_to=add_years(start, 5))
    if age >= 18 and rng.random() < 0.0045:
        add("severe-mental-illness", "卫健局", _days_before(rng, today, 60, 5000))
    if 12 <= age <= 25 and rng.random() < 0.012:
        add("key-youth", "综治中心", _days_before(rng, today, 30, 700))
    if political == "中共党员" and 22 <= age <= 65 and rng.random() < 0.3:
        add("party-member-in-community", "区委组织部", _days_before(rng, today, 30, 1000))
    if age >= 14 and rng.random() < (0.10 if 55 <= age <= 72 else 0.04):
        add("volunteer", "社区", _days_before(rng, today, 30, 2500))
    if rural and age >= 18 and rng.random() < 0.002:
        start = _days_before(rng, today, 400, 1500)
        add("dibao-edge", "民政局", start, valid_to=start + dt.timedelta(days=364))  # ended
    return tags


def _political(rng: random.Random, age: int, male: bool, residence: str) -> str:
    if residence == ResidenceType.FOREIGN or age < 14:
        return "" if residence == ResidenceType.FOREIGN else "少先队员" if age >= 7 else ""
    if age >= 18 and rng.random() < (0.11 if male else 0.06):
        return "中共党员"
    if age <= 28 and rng.random() < 0.45:
        return "共青团员"
    return "群众"


def _work(rng: random.Random, age: int, residence: str, rural: bool) -> str:
    if age < 3:
        return ""
    if age < 6:
        return rng.choice(SCHOOLS["kindergarten"])
    if age < 12:
        return rng.choice(SCHOOLS["primary"])
    if age < 15:
        return rng.choice(SCHOOLS["middle"])
    if age < 18:
        return rng.choice(SCHOOLS["high"])
    if age < 22 and rng.random() < 0.5:
        return rng.choice(SCHOOLS["college"])
    if age >= 60:
        return "退休" if not rural else "务农"
    if residence == ResidenceType.FLOATING:
        return rng.choice(MIGRANT_JOBS)
    if rural:
        return rng.choice(("务农", "外出务工", "个体经营", "西山镇某厂"))
    return rng.choice(EMPLOYERS)


# ---------------------------------------------------------------------------------------------
# Housing


def _point(rng: random.Random, quad: Sequence[tuple[float, float]]) -> tuple[float, float]:
    q: city.Quad = (quad[0], quad[1], quad[2], quad[3])
    lng, lat = city._bilinear(q, rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9))
    return round(lng, 6), round(lat, 6)


def _floors(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.45:  # walk-ups of the 1980s and 1990s
        return rng.randint(4, 7)
    if roll < 0.7:
        return rng.randint(8, 12)
    return rng.randint(13, 18)


@dataclass(slots=True)
class DwellingRow:
    """A dwelling before it is written (half a million of them need no model instances)."""

    building: int  # index into Housing.buildings
    unit: str
    floor: int
    room: str
    use: str
    floor_area: Decimal
    standard_address: str
    pk: int = 0


@dataclass
class Housing:
    buildings: list[Building]
    dwellings: list[DwellingRow]


def plan_housing(
    rng: random.Random,
    estate: EstateInfo,
    *,
    owner: int,
    rented: int,
    district: Area,
    first_building: int = 1,
) -> Housing:
    """Buildings and dwellings for an estate with `owner` + `rented` occupied homes.

    Urban: 4–18 floors, 2–4 units, 2–4 rooms a floor; some buildings have shops on the ground
    floor; about 10 % of homes stand empty. Rural: one 1–3 storey house per home. Buildings are
    numbered from `first_building` (hamlets of the same name share a numbering).
    """
    buildings: list[Building] = []
    dwellings: list[DwellingRow] = []
    homes: list[DwellingRow] = []
    needed = owner + rented
    target = math.ceil(needed / 0.9) + (1 if needed else 0)
    number = first_building - 1
    while len(homes) < target:
        number += 1
        index = len(buildings)
        lng, lat = _point(rng, estate.quad)
        rural = estate.rural
        floors = rng.choices((1, 2, 3), weights=(20, 45, 35))[0] if rural else _floors(rng)
        building = Building(
            area=estate.area,
            district=district,
            code=f"{estate.area.code}{index + 1:04d}",
            name=f"{number}号" if rural else f"{number}幢",
            road=estate.road,
            road_number="" if rural else str(estate.road_number),
            estate_name="" if rural else estate.area.name,
            floors=floors,
            lng=lng,
            lat=lat,
        )
        building.standard_address = standard_building_address(
            road=building.road,
            road_number=building.road_number,
            estate=building.estate_name,
            name=building.name,
        )
        buildings.append(building)
        if rural:
            shop = rng.random() < 0.03  # 小卖部 and the like
            row = DwellingRow(
                building=index,
                unit="",
                floor=1,
                room="",
                use=DwellingUse.COMMERCIAL if shop else DwellingUse.OWNER,
                floor_area=Decimal(rng.randint(90, 160) * floors),
                standard_address=standard_dwelling_address(building, "", ""),
            )
            dwellings.append(row)
            if not shop:
                homes.append(row)
            continue
        remaining = target - len(homes)
        units, rooms = rng.randint(2, 4), rng.randint(2, 4)
        if floors * units * rooms > remaining * 1.2:
            # The last building of a small population: as small as the ranges allow.
            units, rooms = 2, 2
            floors = min(max(4, math.ceil(remaining / (units * rooms))), 18)
            building.floors = floors
        shopfront = rng.random() < 0.25
        size = rng.choice((55, 70, 90, 110, 130))
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for r in range(1, rooms + 1):
                    room = f"{floor}{r:02d}"
                    shop = shopfront and floor == 1
                    row = DwellingRow(
                        building=index,
                        unit=str(unit),
                        floor=floor,
                        room=room,
                        use=DwellingUse.COMMERCIAL if shop else DwellingUse.OWNER,
                        floor_area=Decimal(size + rng.randint(-8, 8)),
                        standard_address=standard_dwelling_address(building, str(unit), room),
                    )
                    dwellings.append(row)
                    if not shop:
                        homes.append(row)
    rng.shuffle(homes)
    for index, row in enumerate(homes):
        row.use = (
            DwellingUse.OWNER
            if index < owner
            else DwellingUse.RENTED
            if index < needed
            else DwellingUse.VACANT
        )
    return Housing(buildings=buildings, dwellings=dwellings)


# ---------------------------------------------------------------------------------------------
# Writing


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class PopulationSummary:
    residents: int = 0
    households: int = 0
    dwellings: int = 0
    buildings: int = 0
    tags: int = 0
    seconds: float = 0.0
    by_tag: dict[str, int] = field(default_factory=dict)


def demo_estates(district: Area, rng: random.Random) -> list[EstateInfo]:
    """The estates and hamlets of the demo district, each with a road and house number."""
    estates = list(
        Area.objects.subtree_of(district)
        .filter(level=Level.ESTATE)
        .select_related("parent__parent")
        .order_by("path")
    )
    numbers: dict[str, int] = {}
    out = []
    for estate in estates:
        assert estate.parent is not None and estate.parent.parent is not None
        community = estate.parent.parent
        road = rng.choice(ROADS)
        numbers[road] = numbers.get(road, 0) + rng.randint(2, 40)
        rural = estate.kind == Kind.RURAL
        ring = (estate.geometry or {}).get("coordinates", [[(0.0, 0.0)] * 5])[0]
        out.append(
            EstateInfo(
                area=estate,
                rural=rural,
                community=community.name,
                road=f"{community.name}{estate.name}" if rural else road,
                road_number=numbers[road],
                quad=tuple((float(x), float(y)) for x, y in ring[:4]),
            )
        )
    return out


def _shares(rng: random.Random, estates: Sequence[EstateInfo], total: int) -> list[int]:
    """Split `total` residents over estates (hamlets are small), summing exactly."""
    weights = [(0.3 if e.rural else 1.0) * rng.uniform(0.6, 1.4) for e in estates]
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    shares = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _first_grid_estate(estates: Sequence[EstateInfo]) -> int:
    """Index of the first estate of 阳光社区's first grid, where the demo resident lives."""
    community1 = f"{city.DISTRICT_CODE[:6]}001001"
    for index, estate in enumerate(estates):
        if estate.area.code.startswith(community1):
            return index
    return 0


def _taken_ids(district: Area) -> Callable[[str], bool]:
    """ID numbers already registered outside the demo district (the demo must not collide)."""
    from shequ.registry import pii

    blinds = set(
        Person.objects.exclude(district=district)
        .exclude(id_blind="")
        .values_list("id_blind", flat=True)
    )
    if not blinds:
        return lambda _number: False
    return lambda number: pii.id_indexes(number)[0] in blinds


PERSON_COLUMNS = (
    "area", "district", "name", "name_pinyin", "name_initials", "gender", "birth_date",
    "ethnicity", "id_kind", "id_number", "id_blind", "id_last4_blind", "phone", "phone_blind",
    "phone_last4_blind", "residence_type", "status", "dwelling", "household",
    "relation_to_head", "political_status", "work", "hukou_address", "address_raw",
    "provenance", "version",
)  # fmt: skip
PROVENANCE_FIELDS = (
    "name", "gender", "birth_date", "ethnicity", "id_number", "phone", "residence_type",
    "political_status", "work", "hukou_address",
)  # fmt: skip


class Writers:
    def __init__(self, now: dt.datetime) -> None:
        self.building = FastInsert(
            Building,
            (
                "area", "district", "code", "name", "road", "road_number", "estate_name",
                "standard_address", "floors", "lng", "lat",
            ),
            now=now,
        )  # fmt: skip
        self.dwelling = FastInsert(
            Dwelling,
            (
                "area", "district", "building", "unit", "floor", "room", "use", "floor_area",
                "standard_address",
            ),
            now=now,
        )  # fmt: skip
        self.household = FastInsert(
            Household, ("area", "district", "number", "dwelling", "head"), now=now
        )
        self.person = FastInsert(Person, PERSON_COLUMNS, now=now)
        self.tag = FastInsert(
            PersonTag,
            (
                "area", "district", "person", "tag", "valid_from", "valid_to", "source",
                "details",
            ),
            now=now,
        )  # fmt: skip


def populate(*, seed: int, residents: int = 20_000) -> PopulationSummary:
    """Fill the demo city with buildings, dwellings, households, residents and their tags."""
    started = time.monotonic()
    district = Area.objects.get(code=city.DISTRICT_CODE)
    if Building.objects.filter(district=district).exists():
        raise RuntimeError("the demo city already has residents; reset it first")
    if TagType.objects.filter(code__in=[t.code for t in DEFAULT_TAGS]).count() < len(DEFAULT_TAGS):
        tags_ensure_defaults(actor=city.ACTOR)
    tag_types = {t.code: t.pk for t in TagType.objects.all()}
    rng = random.Random(f"shequ-demo-people-{seed}")
    today = reference_date()
    gen = Generator(rng, today=today, taken=_taken_ids(district))
    estates = demo_estates(district, rng)
    shares = _shares(rng, estates, residents)
    home = _first_grid_estate(estates)
    summary = PopulationSummary()
    house_numbers: dict[str, int] = {}
    writers = Writers(timezone.now())
    with transaction.atomic():
        for index, (estate, share) in enumerate(zip(estates, shares, strict=True)):
            _load_estate(
                rng,
                gen,
                estate,
                share,
                district=district,
                tag_types=tag_types,
                summary=summary,
                resident_home=index == home,
                house_numbers=house_numbers,
                writers=writers,
            )
        summary.seconds = round(time.monotonic() - started, 1)
        audit.record(
            actor=city.ACTOR,
            action="demo.people_loaded",
            object_type="demo",
            area_path=district.path,
            changes={
                "seed": seed,
                "residents": summary.residents,
                "households": summary.households,
                "dwellings": summary.dwellings,
                "buildings": summary.buildings,
                "tags": summary.tags,
            },
        )
    return summary


def _resident_home(rng: random.Random, plans: list[HouseholdPlan], share: int) -> None:
    """The documented resident `jumin` heads the first family of 阳光社区's first grid."""
    plans[0] = _household(rng, "family", ResidenceType.REGISTERED)
    plans[0].members[0].gender, plans[0].members[0].age = Gender.MALE, 44.3
    plans[0].members[1].gender = Gender.FEMALE
    surplus = sum(len(p.members) for p in plans) - share
    while surplus > 0:  # keep the count exact
        last = plans[-1]
        cut = min(surplus, len(last.members) - (1 if len(plans) == 1 else 0))
        last.members = last.members[: len(last.members) - cut]
        surplus -= cut
        if not last.members:
            plans.pop()


def _load_estate(
    rng: random.Random,
    gen: Generator,
    estate: EstateInfo,
    share: int,
    *,
    district: Area,
    tag_types: dict[str, int],
    summary: PopulationSummary,
    resident_home: bool,
    house_numbers: dict[str, int],
    writers: Writers,
) -> None:
    area_id, district_id = estate.area.pk, district.pk
    plans = plan_households(rng, residents=share, rural=estate.rural)
    if resident_home and plans:
        _resident_home(rng, plans, share)
    for plan in plans:
        if plan.residence == ResidenceType.REGISTERED:
            roll = rng.random()
            rate = (0.03 if estate.rural else 0.007) * (3 if plan.kind == "elderly_alone" else 1)
            if roll < rate:
                plan.tags.add("dibao")
            elif roll < rate + 0.005:
                plan.tags.add("dibao-edge")
    owned = sum(1 for p in plans if p.residence == ResidenceType.REGISTERED)
    housing = plan_housing(
        rng,
        estate,
        owner=owned,
        rented=len(plans) - owned,
        district=district,
        first_building=house_numbers.get(estate.road, 0) + 1,
    )
    if estate.rural:
        house_numbers[estate.road] = house_numbers.get(estate.road, 0) + len(housing.buildings)

    building_pks = writers.building.insert(
        [
            (
                area_id, district_id, b.code, b.name, b.road, b.road_number, b.estate_name,
                b.standard_address, b.floors, b.lng, b.lat,
            )
            for b in housing.buildings
        ]
    )  # fmt: skip
    dwelling_pks = writers.dwelling.insert(
        [
            (
                area_id, district_id, building_pks[d.building], d.unit, d.floor, d.room, d.use,
                d.floor_area, d.standard_address,
            )
            for d in housing.dwellings
        ]
    )  # fmt: skip
    for row, pk in zip(housing.dwellings, dwelling_pks, strict=True):
        row.pk = pk
    free = {
        DwellingUse.OWNER: [d for d in housing.dwellings if d.use == DwellingUse.OWNER],
        DwellingUse.RENTED: [d for d in housing.dwellings if d.use == DwellingUse.RENTED],
    }
    homes = [
        free[
            DwellingUse.OWNER if p.residence == ResidenceType.REGISTERED else DwellingUse.RENTED
        ].pop()
        for p in plans
    ]
    household_pks = writers.household.insert(
        [
            (area_id, district_id, f"{estate.area.code}{n:05d}", home.pk, None)
            for n, home in enumerate(homes, start=1)
        ]
    )

    people: list[tuple[Any, ...]] = []
    heads: list[tuple[int, int]] = []  # (person index, household index)
    person_tags: list[tuple[int, TagPlan]] = []
    stamp = {"source": SOURCE, "date": gen.today.isoformat()}
    scratch = Person()  # apply_indexes works on a Person; one is reused for every row
    for h_index, plan in enumerate(plans):
        home, household_pk = homes[h_index], household_pks[h_index]
        surname = gen.surname()
        ethnicity = gen.ethnicity(plan.residence == ResidenceType.FLOATING)
        registered = plan.residence == ResidenceType.REGISTERED
        for m_index, member in enumerate(plan.members):
            spec = gen.person(
                gender=member.gender,
                age=member.age,
                residence=plan.residence,
                surname=surname if member.same_surname else None,
                ethnicity=ethnicity if rng.random() < 0.92 else None,
            )
            if resident_home and h_index == 0 and m_index == 0:
                spec = replace(spec, name=RESIDENT_NAME)
            age = age_on(spec.birth_date, gen.today)
            political = _political(rng, age, spec.gender == Gender.MALE, spec.residence_type)
            work = _work(rng, age, spec.residence_type, estate.rural)
            hukou = (
                f"浙江省杭州市清河区{home.standard_address}" if registered else (spec.hukou_address)
            )
            scratch.name, scratch.id_number, scratch.phone = spec.name, spec.id_number, spec.phone
            apply_indexes(scratch)
            values = {
                "name": spec.name,
                "gender": spec.gender,
                "birth_date": spec.birth_date,
                "ethnicity": spec.ethnicity,
                "id_number": spec.id_number,
                "phone": spec.phone,
                "residence_type": spec.residence_type,
                "political_status": political,
                "work": work,
                "hukou_address": hukou,
            }
            if member.relation == Relation.HEAD:
                heads.append((len(people), h_index))
            for tag in plan_tags(
                rng,
                spec=spec,
                member=member,
                plan=plan,
                rural=estate.rural,
                political=political,
                today=gen.today,
            ):
                person_tags.append((len(people), tag))
            people.append(
                (
                    area_id, district_id, spec.name, scratch.name_pinyin, scratch.name_initials,
                    spec.gender, spec.birth_date, spec.ethnicity, spec.id_kind, spec.id_number,
                    scratch.id_blind, scratch.id_last4_blind, spec.phone, scratch.phone_blind,
                    scratch.phone_last4_blind, spec.residence_type, PersonStatus.ACTIVE, home.pk,
                    household_pk, member.relation, political, work, hukou, "",
                    {k: stamp for k in PROVENANCE_FIELDS if values[k]}, 1,
                )
            )  # fmt: skip
    person_pks = writers.person.insert(people)
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE registry_household SET head_id = %s WHERE id = %s",
            [(person_pks[p], household_pks[h]) for p, h in heads],
        )
    writers.tag.insert(
        [
            (
                area_id, district_id, person_pks[p], tag_types[t.code], t.valid_from,
                t.valid_to, t.source, t.details,
            )
            for p, t in person_tags
        ]
    )  # fmt: skip
    summary.residents += len(people)
    summary.households += len(plans)
    summary.dwellings += len(housing.dwellings)
    summary.buildings += len(housing.buildings)
    summary.tags += len(person_tags)
    for _p, tag in person_tags:
        summary.by_tag[tag.code] = summary.by_tag.get(tag.code, 0) + 1


def remove(district_code: str = city.DISTRICT_CODE) -> int:
    """Delete every registry row of the demo district, so its areas can go; returns persons."""
    from django.apps import apps

    district = Area.objects.filter(code=district_code).first()
    if district is None:
        return 0
    first: list[type[models.Model]] = [PersonTag, Person, Household, Dwelling, Building]
    others = [
        model
        for model in apps.get_app_config("registry").get_models()
        if model not in first and any(f.name == "district" for f in model._meta.fields)
    ]
    removed: dict[type[models.Model], int] = {}
    with transaction.atomic():
        for model in [*first, *others]:
            removed[model] = _purge(model._base_manager.filter(district=district))
    return removed[Person]


def _purge(qs: Any) -> int:
    """Delete a queryset without loading it (a million residents would not fit in memory).

    Follows the relations the way Django's collector does: cascades are purged first, SET_NULL
    references cleared, registry rows that protect these rows go with them, and anything else
    is deleted normally (so a PROTECT from another app still stops the reset).
    """
    for rel in qs.model._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one):
            continue
        related = rel.related_model._base_manager.filter(
            **{f"{rel.field.name}__in": qs.values("pk")}
        )
        if rel.on_delete is models.SET_NULL:
            related.update(**{rel.field.name: None})
        elif rel.on_delete is models.DO_NOTHING:
            continue
        elif rel.on_delete is models.CASCADE or rel.related_model._meta.app_label == "registry":
            _purge(related)
        else:
            related.delete()
    return int(qs._raw_delete(qs.db))

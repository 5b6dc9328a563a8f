"""Department spreadsheets to try the importer on, as messy as the real ones.

Each file mixes people already in the demo register (about 30 %, some with a new phone number,
which the importer should report as a conflict) with people it has never seen, and carries the
usual mess: title and footer rows, traditional characters, full-width digits, 15-digit IDs,
dates in every form (including bare Excel serials), invalid IDs, rows without an ID, and the
same person twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from shequ.areas.models import Area, Level
from shequ.demo import city
from shequ.demo.people import Generator, PersonSpec, add_years, reference_date
from shequ.lib import idcard
from shequ.registry import pii
from shequ.registry.models import Dwelling, Person, PersonTag
from shequ.registry.states import Gender, ResidenceType
from shequ.registry.tags import DISABILITY_CATEGORIES, DISABILITY_LEVELS

REGISTERED_SHARE = 0.3
EXCEL_EPOCH = dt.date(1899, 12, 30)
FULLWIDTH = str.maketrans("0123456789Xx-", "０１２３４５６７８９ＸＸ－")
TAIL = ("家庭住址", "备注")
CN_LEVELS = {"一级": "壹级", "二级": "贰级", "三级": "叁级", "四级": "肆级"}


@dataclass
class Row:
    """One data row of a sample sheet, before its cells are written."""

    person: PersonSpec
    address: str
    registered: bool
    id_text: str = ""
    birth: Any = None  # str, date or an Excel serial number
    phone_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Mess:
    """The ways a department's clerk writes an ID, a date, a phone or an address."""

    def __init__(self, rng: random.Random, *, heavy: bool = False) -> None:
        self.rng = rng
        self.heavy = heavy

    def id_text(self, number: str, born: dt.date) -> str:
        rng = self.rng
        if not number:
            return ""
        roll = rng.random()
        if roll < (0.06 if self.heavy else 0.02):  # a digit typed wrong: bad check digit
            wrong = "0" if number[-1] != "0" else "1"
            return number[:-1] + wrong
        if roll < (0.08 if self.heavy else 0.03):  # an impossible birth date
            return idcard_with_date(number, "13")
        if self.heavy and roll < 0.16 and born.year < 2000 and number[:6].isdigit():
            return number[:6] + number[8:17]  # the 15-digit number of a pre-1999 card
        if self.heavy and roll < 0.24:
            return number.translate(FULLWIDTH)
        if roll < 0.30:
            return number.replace("X", "x")
        if roll < 0.36:
            return f"{number[:6]} {number[6:14]} {number[14:]}"
        if roll < 0.40:
            return "'" + number
        return number

    def birth(self, born: dt.date) -> Any:
        forms: list[Callable[[dt.date], Any]] = [
            lambda d: f"{d.year}.{d.month}.{d.day}",
            lambda d: f"{d.year}年{d.month}月{d.day}日",
            lambda d: d.isoformat(),
            lambda d: f"{d:%Y%m%d}",
            lambda d: f"{d.year}/{d.month}/{d.day}",
            lambda d: (d - EXCEL_EPOCH).days,  # a bare serial: the cell lost its date format
            lambda d: d,  # a real date cell
        ]
        return self.rng.choice(forms)(born)

    def phone(self, phone: str) -> str:
        rng = self.rng
        if not phone:
            return ""
        roll = rng.random()
        if roll < 0.15:
            return f"{phone[:3]} {phone[3:7]} {phone[7:]}"
        if roll < 0.25:
            return f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
        if self.heavy and roll < 0.35:
            return phone.translate(FULLWIDTH)
        return phone

    def address(self, standard: str, community: str) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            return f"杭州市清河区{community}{standard}"
        if roll < 0.45:  # no road, units and rooms as 3-2-301
            parts = standard.split("号", 1)
            tail = parts[1] if len(parts) == 2 else standard
            return tail.replace("幢", "-").replace("单元", "-").replace("室", "")
        if roll < 0.55:
            return standard.replace("室", "")
        return standard


def idcard_with_date(number: str, month: str) -> str:
    """The same ID with an impossible month, and a check digit that fits (only the date fails)."""
    first17 = number[:10] + month + number[12:17]
    return first17 + idcard.check_digit(first17)


@cache
def _to_traditional() -> Callable[[str], str]:
    import opencc

    converter: Callable[[str], str] = opencc.OpenCC("s2t").convert  # slow to load: once
    return converter


def _traditional(text: str) -> str:
    return _to_traditional()(text)


def _gbk_safe(text: str) -> bool:
    try:
        text.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def _spec(person: Person) -> PersonSpec:
    return PersonSpec(
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date or dt.date(1970, 1, 1),
        id_number=person.id_number or "",
        id_kind=person.id_kind,
        phone=person.phone or "",
        ethnicity=person.ethnicity,
        residence_type=person.residence_type,
        hukou_address=person.hukou_address,
    )


class Sampler:
    """Rows for one sheet: registered people from a pool, new people from the generator."""

    def __init__(self, rng: random.Random, gen: Generator, community: Area | None) -> None:
        self.rng = rng
        self.gen = gen
        self.community = community
        self.addresses: list[str] = []
        if community is not None:
            self.addresses = list(
                Dwelling.objects.filter(area__path__startswith=community.path)
                .order_by("pk")
                .values_list("standard_address", flat=True)[:5000]
            )

    def address(self) -> str:
        if self.addresses:
            return self.rng.choice(self.addresses)
        return f"清河路{self.rng.randint(1, 300)}号{self.rng.randint(1, 20)}幢"

    def rows(
        self,
        count: int,
        pool: Sequence[Person],
        new: Callable[[], PersonSpec],
        *,
        gbk: bool = False,
    ) -> list[Row]:
        registered = min(len(pool), round(count * REGISTERED_SHARE))
        rows: list[Row] = []
        for person in self.rng.sample(list(pool), registered):
            spec = _spec(person)
            if spec.phone and self.rng.random() < 0.4:
                spec = replace(spec, phone=self.gen.phone())  # a new number: a conflict
            home = person.dwelling.standard_address if person.dwelling else self.address()
            rows.append(Row(spec, home, registered=True))
        while len(rows) < count:
            spec = new()
            if gbk and not _gbk_safe(spec.name):
                continue
            rows.append(Row(spec, self.address(), registered=False))
        self.rng.shuffle(rows)
        return rows

    def finish(self, rows: list[Row], mess: Mess, *, no_id: float, duplicates: float) -> list[Row]:
        """Write IDs, dates and phones the messy way; drop some IDs; repeat some rows."""
        community = self.community.name if self.community else ""
        for row in rows:
            p = row.person
            row.id_text = (
                "" if self.rng.random() < no_id else mess.id_text(p.id_number, p.birth_date)
            )
            row.birth = mess.birth(p.birth_date)
            row.phone_text = mess.phone(p.phone)
            row.address = mess.address(row.address, community)
        for original in self.rng.sample(rows, max(1, round(len(rows) * duplicates))):
            copy = replace(original, phone_text=mess.phone(original.person.phone))
            rows.insert(self.rng.randrange(len(rows) + 1), copy)
        return rows


def _community(name: str) -> Area | None:
    district = Area.objects.filter(code=city.DISTRICT_CODE).first()
    if district is None:
        return None
    return Area.objects.subtree_of(district).filter(level=Level.COMMUNITY, name=name).first()


def _people_in(community: Area | None) -> Any:
    if community is None:
        return Person.objects.none()
    return Person.objects.filter(area__path__startswith=community.path).select_related("dwelling")


def _gender_label(gender: str) -> str:
    return {"M": "男", "F": "女"}.get(str(gender), "")


def write_samples(*, seed: int, directory: Path) -> list[Path]:
    """Write the sample department files into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"shequ-demo-sheets-{seed}")
    today = reference_date()
    registered = set(
        Person.objects.exclude(id_blind="").values_list("id_blind", flat=True)
    )  # new people in the sheets must really be new
    gen = Generator(rng, today=today, taken=lambda n: pii.id_indexes(n)[0] in registered)
    return [
        _elderly(rng, gen, directory, today),
        _disabled(rng, gen, directory),
        _maternal(rng, gen, directory, today),
        _floating(rng, gen, directory, today),
    ]


def _random_gender(rng: random.Random, female: float = 0.5) -> str:
    return Gender.FEMALE if rng.random() < female else Gender.MALE


def _elderly(rng: random.Random, gen: Generator, directory: Path, today: dt.date) -> Path:
    """民政局's 高龄老人花名册: merged title, a 填报单位 line, header, data, a 制表人 footer."""
    import xlsxwriter

    community = _community("阳光社区")
    sampler = Sampler(rng, gen, community)
    pool = list(_people_in(community).filter(birth_date__lte=add_years(today, -80)).order_by("pk"))
    rows = sampler.rows(
        80,
        pool,
        lambda: gen.person(
            gender=_random_gender(rng, 0.6),
            age=rng.uniform(80, 99),
            residence=ResidenceType.REGISTERED,
            phone_rate=0.6,
        ),
    )
    rows = sampler.finish(rows, Mess(rng), no_id=0.04, duplicates=0.03)
    name = community.name if community else "阳光社区"
    path = directory / "民政局_高龄老人花名册.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("高龄老人")
    title = book.add_format({"bold": True, "font_size": 16, "align": "center"})
    date_cell = book.add_format({"num_format": "yyyy-mm-dd"})
    headers = ["序号", "姓名", "性别", "公民身份号码", "出生日期", "年龄", "联系电话", "现住址"]
    headers.append("备注")
    sheet.merge_range(0, 0, 0, len(headers) - 1, f"{name}高龄老人花名册", title)
    sheet.write_string(1, 0, f"填报单位：{name}居民委员会        填报日期：{today.year}年1月5日")
    sheet.write_row(2, 0, headers)
    r = 3
    for number, row in enumerate(rows, start=1):
        p = row.person
        sheet.write_number(r, 0, number)
        sheet.write_string(r, 1, p.name)
        sheet.write_string(r, 2, _gender_label(p.gender))
        sheet.write_string(r, 3, row.id_text)  # text, as a careful clerk sets the column
        if isinstance(row.birth, dt.date):
            sheet.write_datetime(r, 4, dt.datetime.combine(row.birth, dt.time()), date_cell)
        elif isinstance(row.birth, int):
            sheet.write_number(r, 4, row.birth)
        else:
            sheet.write_string(r, 4, row.birth)
        sheet.write_number(r, 5, today.year - p.birth_date.year)
        sheet.write_string(r, 6, row.phone_text)
        sheet.write_string(r, 7, row.address)
        sheet.write_string(r, 8, rng.choice(["", "", "", "独居", "子女同住", "卧床"]))
        r += 1
    sheet.write_string(
        r + 1, 0, "制表人：张社工        审核人：王主任        联系电话：0571-86001234"
    )
    book.close()
    return path


def _disabled(rng: random.Random, gen: Generator, directory: Path) -> Path:
    """区残联's 持证残疾人名册 (openpyxl): category and level, written several ways."""
    from openpyxl import Workbook

    community = _community("和谐社区")
    sampler = Sampler(rng, gen, community)
    tagged = PersonTag.objects.filter(tag__code="disabled", person__in=_people_in(community))
    details = {t.person_id: t.details for t in tagged.order_by("pk")}
    pool = list(_people_in(community).filter(pk__in=tagged.values("person_id")).order_by("pk"))
    rows = sampler.rows(
        100,
        pool,
        lambda: gen.person(
            gender=_random_gender(rng),
            age=rng.uniform(6, 90),
            residence=ResidenceType.REGISTERED,
        ),
    )
    rows = sampler.finish(rows, Mess(rng), no_id=0.03, duplicates=0.03)
    by_id = {p.id_number: details.get(p.pk, {}) for p in pool}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "残疾人名册"
    name = community.name if community else "和谐社区"
    sheet.append([f"{name}持证残疾人名册"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=10)
    sheet.append(
        ["序号", "姓名", "性别", "身份证号", "残疾类别", "残疾等级", "残疾证号", "联系电话", *TAIL]
    )
    for number, row in enumerate(rows, start=1):
        p = row.person
        known = by_id.get(p.id_number) or {}
        category = known.get("category") or rng.choice(DISABILITY_CATEGORIES)
        level = known.get("level") or rng.choice(DISABILITY_LEVELS)
        category_text = rng.choice([category, f"{category}残疾"])
        level_text = rng.choice([level, level, f"{DISABILITY_LEVELS.index(level) + 1}级"])
        if rng.random() < 0.1:
            level_text = CN_LEVELS[level]
        # 残疾证号: the ID number, then the category digit and the level digit.
        digits = f"{DISABILITY_CATEGORIES.index(category) + 1}{DISABILITY_LEVELS.index(level) + 1}"
        certificate = f"{p.id_number}{digits}" if p.id_number else ""
        sheet.append(
            [
                number,
                p.name,
                _gender_label(p.gender),
                row.id_text,
                category_text,
                level_text,
                certificate,
                row.phone_text,
                row.address,
                "",
            ]
        )
    sheet.append([])
    sheet.append(["制表人：李残联专干", None, None, "日期：" + reference_date().isoformat()])
    for cells in sheet.iter_rows(min_row=3, min_col=4, max_col=4):
        for cell in cells:
            cell.number_format = "@"  # IDs are text
    path = directory / "残联_残疾人名册.xlsx"
    book.save(path)
    return path


def _maternal(rng: random.Random, gen: Generator, directory: Path, today: dt.date) -> Path:
    """卫健's 孕产妇 list: a CSV exported from an old system, in GBK."""
    community = _community("幸福里社区")
    sampler = Sampler(rng, gen, community)
    tagged = PersonTag.objects.filter(tag__code="maternal", person__in=_people_in(community))
    pool = list(_people_in(community).filter(pk__in=tagged.values("person_id")).order_by("pk"))
    if len(pool) < 20:  # a small demo: any woman of the age will do
        pool = list(
            _people_in(community)
            .filter(
                gender=Gender.FEMALE,
                birth_date__gte=add_years(today, -40),
                birth_date__lte=add_years(today, -22),
            )
            .order_by("pk")[:200]
        )
    pool = [p for p in pool if _gbk_safe(p.name)]
    rows = sampler.rows(
        60,
        pool,
        lambda: gen.person(
            gender=Gender.FEMALE,
            age=rng.uniform(22, 41),
            residence=rng.choice([ResidenceType.REGISTERED, ResidenceType.FLOATING]),
            phone_rate=1.0,
        ),
        gbk=True,
    )
    rows = sampler.finish(rows, Mess(rng), no_id=0.02, duplicates=0.04)
    path = directory / "卫健_孕产妇.csv"
    with path.open("w", encoding="gbk", newline="", errors="replace") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["姓名", "身份证号码", "出生年月", "手机", "末次月经", "预产期", "现住址", "建档机构"]
        )
        for row in rows:
            p = row.person
            lmp = today - dt.timedelta(days=rng.randint(20, 270))
            due = lmp + dt.timedelta(days=280)
            birth = row.birth
            if isinstance(birth, dt.date):
                birth = birth.isoformat()
            writer.writerow(
                [
                    p.name,
                    row.id_text,
                    birth,
                    row.phone_text,
                    lmp.isoformat(),
                    f"{due.year}/{due.month}/{due.day}",
                    row.address,
                    "东湖街道社区卫生服务中心",
                ]
            )
    return path


def _floating(rng: random.Random, gen: Generator, directory: Path, today: dt.date) -> Path:
    """公安's 流动人口登记表: the messiest, with traditional characters and full-width digits."""
    import xlsxwriter

    community = _community("青石社区")
    sampler = Sampler(rng, gen, community)
    pool = list(_people_in(community).filter(residence_type=ResidenceType.FLOATING).order_by("pk"))
    rows = sampler.rows(
        300,
        pool,
        lambda: gen.person(
            gender=_random_gender(rng, 0.45),
            age=rng.uniform(18, 55),
            residence=ResidenceType.FLOATING,
        ),
    )
    mess = Mess(rng, heavy=True)
    rows = sampler.finish(rows, mess, no_id=0.05, duplicates=0.04)
    path = directory / "公安_流动人口登记表.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("流动人口")
    title = book.add_format({"bold": True, "align": "center"})
    headers = ["序号", "姓名", "性别", "民族", "公民身份号码", "出生日期", "户籍地址"]
    headers += ["手机号码", "现住址", "居住事由", "登记日期"]
    sheet.merge_range(0, 0, 0, len(headers) - 1, "清河区流动人口登记表（青石社区）", title)
    sheet.write_row(1, 0, headers)
    for number, row in enumerate(rows, start=1):
        p = row.person
        name, address, hukou = p.name, row.address, p.hukou_address
        if rng.random() < 0.3:  # typed on a traditional-character system
            name, address, hukou = _traditional(name), _traditional(address), _traditional(hukou)
        if rng.random() < 0.1:
            name = f"{name[:1]} {name[1:]}"  # a space inside the name
        r = number + 1
        sheet.write_number(r, 0, number)
        sheet.write_string(r, 1, name)
        sheet.write_string(r, 2, _gender_label(p.gender))
        sheet.write_string(r, 3, p.ethnicity or "汉族")
        if row.id_text.isdigit() and len(row.id_text) == 18 and rng.random() < 0.05:
            # a number cell: Excel keeps 15 significant digits, the rest is lost
            sheet.write_number(r, 4, float(row.id_text))
        else:
            sheet.write_string(r, 4, row.id_text)
        birth = row.birth
        if isinstance(birth, dt.date):
            birth = birth.isoformat()
        if isinstance(birth, int):
            sheet.write_number(r, 5, birth)
        else:
            sheet.write_string(r, 5, birth)
        sheet.write_string(r, 6, hukou)
        sheet.write_string(r, 7, row.phone_text)
        sheet.write_string(r, 8, address)
        sheet.write_string(r, 9, rng.choice(["务工", "务工", "经商", "投亲靠友", "就学"]))
        registered_on = today - dt.timedelta(days=rng.randint(10, 900))
        sheet.write_string(r, 10, f"{registered_on.year}.{registered_on.month}.{registered_on.day}")
    sheet.write_string(len(rows) + 3, 0, "填表人：青石社区警务室    审核：西山派出所")
    book.close()
    return path

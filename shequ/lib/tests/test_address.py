import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequ.lib import address
from shequ.lib.address import Address


@pytest.mark.parametrize(
    ("raw", "standard"),
    [
        ("文一西路12号3栋2单元301室", "文一西路12号3栋2单元301室"),
        ("文一西路12号3幢2单元301", "文一西路12号3栋2单元301室"),
        ("文一西路12号3号楼2单元301", "文一西路12号3栋2单元301室"),
        ("文一西路12号三号楼二单元301室", "文一西路12号3栋2单元301室"),
        ("文一西路12号十二栋2单元301室", "文一西路12号12栋2单元301室"),
        ("文一西路12号3-2-301", "文一西路12号3栋2单元301室"),
        ("文一西路12号 3栋 2单元 301室", "文一西路12号3栋2单元301室"),
        ("文一西路１２号３栋２单元３０１室", "文一西路12号3栋2单元301室"),
        ("XX大道88号", "XX大道88号"),
        ("XX街3弄", "XX街3弄"),
        ("长乐路100弄5号301室", "长乐路100弄5号301室"),
        ("金都花园3栋2单元301室", "金都花园3栋2单元301室"),
        ("金都花园3-2-301", "金都花园3栋2单元301室"),
        ("金都花园3栋2-301", "金都花园3栋2单元301室"),
        ("金都花园3-301", "金都花园3栋301室"),
        ("幸福小区5号楼3门502", "幸福小区5栋3单元502室"),
        ("阳光家园A座1201室", "阳光家园A栋1201室"),
        ("阳光城市花园二期B栋1单元1201", "阳光城市花园2期B栋1单元1201室"),
        ("红星新村12幢3单元402室", "红星新村12栋3单元402室"),
        ("翠苑一区5幢", "翠苑1区5栋"),
        ("翠苑东区5幢", "翠苑东区5栋"),
        ("文一西路12号金都花园3栋2单元301室", "文一西路12号金都花园3栋2单元301室"),
        ("文一西路金都花园3栋", "文一西路金都花园3栋"),
        ("幸福小区3#楼2单元101", "幸福小区3栋2单元101室"),
        ("幸福里3号楼", "幸福里3栋"),
    ],
)
def test_it_reads_the_building_level_part(raw, standard):
    parsed = address.parse(raw)
    assert parsed.standard_form() == standard
    assert parsed.complete


def test_it_splits_the_parts():
    parsed = address.parse("文一西路12号金都花园三号楼2单元301")
    assert (parsed.road, parsed.road_number, parsed.estate) == ("文一西路", "12号", "金都花园")
    assert (parsed.building, parsed.unit, parsed.room) == ("3", "2", "301")


@pytest.mark.parametrize(
    ("raw", "prefix", "code", "standard"),
    [
        ("浙江省杭州市西湖区文新街道文一西路12号3栋2单元301室",
         "浙江省杭州市西湖区文新街道", "330106", "文一西路12号3栋2单元301室"),
        ("杭州市西湖区文一西路12号", "杭州市西湖区", "330106", "文一西路12号"),
        ("浙江杭州西湖区文一西路12号", "浙江省杭州市西湖区", "330106", "文一西路12号"),
        ("杭州文一西路12号", "杭州市", "330100", "文一西路12号"),
        ("北京市朝阳区朝阳门外大街88号", "北京市朝阳区", "110105", "朝阳门外大街88号"),
        ("朝阳区幸福里3号楼", "朝阳区", "110105", "幸福里3栋"),
        ("吉林省长春市朝阳区人民大街5号", "吉林省长春市朝阳区", "220104", "人民大街5号"),
        ("上海市上海市徐汇区长乐路100弄5号", "上海市徐汇区", "310104", "长乐路100弄5号"),
        ("义乌市稠城街道红星新村12幢", "义乌市稠城街道", "330782", "红星新村12栋"),
        ("西湖区文新街道金都社区金都花园3-2-301", "西湖区文新街道金都社区", "330106",
         "金都花园3栋2单元301室"),
        ("浙江省杭州市西湖區文一西路12號", "浙江省杭州市西湖区", "330106", "文一西路12号"),
    ],
)  # fmt: skip
def test_it_strips_the_administrative_prefix(raw, prefix, code, standard):
    parsed = address.parse(raw)
    assert str(parsed.admin) == prefix
    assert parsed.admin.region_code == code
    assert parsed.standard_form() == standard
    assert parsed.full_form() == prefix + standard


@pytest.mark.parametrize(
    "raw",
    ["北京西路3号", "南京东路100弄5号", "上海路1号", "天津路12号", "金乡花园3栋", "新镇路5号"],
)
def test_road_names_that_start_with_a_place_name_are_kept(raw):
    parsed = address.parse(raw)
    assert parsed.standard_form() == raw
    assert str(parsed.admin) == ""


def test_what_it_cannot_read_is_kept_in_rest():
    parsed = address.parse("金都花园3栋2单元301室旁边的车库")
    assert parsed.standard_form() == "金都花园3栋2单元301室旁边的车库"
    assert parsed.rest == "旁边的车库"
    assert not parsed.complete
    nonsense = address.parse("随便写的东西")
    assert nonsense.rest == "随便写的东西"
    assert not nonsense.complete


def test_an_empty_address_is_empty():
    parsed = address.parse("")
    assert parsed == Address(raw="")
    assert parsed.standard_form() == ""


# ---------------------------------------------------------------------------------------------
# Properties

# Characters for generated names: none is a suffix of the grammar, a numeral, or a place suffix.
NAME_CHARS = "金都文华德阳光明秀丽春和平康泰兴隆盛祥瑞福嘉星月海天云松竹梅兰菊翠绿青白红东南西北中"
CN_DIGITS = "零一二三四五六七八九"


def cn(value: int) -> str:
    """10 → 十, 12 → 十二, 21 → 二十一, 3 → 三 (how people write building numbers)."""
    if value < 10:
        return CN_DIGITS[value]
    tens, ones = divmod(value, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def starts_with_place_name(text: str) -> bool:
    """Generated names that begin with a place name (海东…) are ambiguous without a prefix."""
    return any(text.startswith(n.text) for n in address._index().get(text[:2], ()))


names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=6).filter(
    lambda s: not starts_with_place_name(s)
)
small = st.integers(min_value=1, max_value=99)
rooms = st.integers(min_value=101, max_value=3299)


PREFIXES = ["", "浙江省杭州市西湖区", "杭州市西湖区", "北京市朝阳区", "浙江省杭州市西湖区文新街道",
            "江苏省苏州市姑苏区"]  # fmt: skip


@st.composite
def addresses(draw: st.DrawFn) -> tuple[str, str]:
    """(written form, expected standard form)."""
    road = draw(st.one_of(st.just(""), names.map(lambda s: s + draw(st.sampled_from(
        ["路", "大道", "街", "巷"])))))  # fmt: skip
    road_no = f"{draw(st.integers(min_value=1, max_value=999))}号" if road else ""
    estate = draw(st.one_of(st.just(""), names.map(lambda s: s + draw(st.sampled_from(
        ["小区", "花园", "苑", "家园", "新村", "公寓"])))))  # fmt: skip
    if not (road or estate):
        estate = "金都花园"
    building, unit, room = draw(small), draw(st.one_of(st.none(), small)), draw(rooms)
    b_style = draw(st.sampled_from(["{}栋", "{}幢", "{}号楼", "cn号楼", "cn栋", "{}座"]))
    written_b = b_style.replace("cn", cn(building)) if "cn" in b_style else b_style.format(building)
    u_style = draw(st.sampled_from(["{}单元", "cn单元"]))
    written_u = "" if unit is None else (
        u_style.replace("cn", cn(unit)) if "cn" in u_style else u_style.format(unit)
    )  # fmt: skip
    written_r = draw(st.sampled_from(["{}室", "{}"])).format(room)
    shorthand = unit is not None and draw(st.booleans())
    body = f"{building}-{unit}-{room}" if shorthand else f"{written_b}{written_u}{written_r}"
    prefix = draw(st.sampled_from(PREFIXES))
    spaced = draw(st.booleans())
    sep = " " if spaced else ""
    written = sep.join(p for p in (prefix, road + road_no, estate, body) if p)
    unit_part = f"{unit}单元" if unit is not None else ""
    standard = f"{road}{road_no}{estate}{building}栋{unit_part}{room}室"
    return written, standard


@given(addresses())
def test_addresses_built_from_parts_parse_back_to_their_parts(case):
    written, standard = case
    parsed = address.parse(written)
    assert parsed.standard_form() == standard, written
    assert parsed.complete
    assert address.parse(parsed.standard_form()).standard_form() == standard


@given(st.text())
def test_parse_never_raises_on_any_text(text):
    parsed = address.parse(text)
    assert isinstance(parsed.standard_form(), str)


@given(st.text(alphabet="0123456789-号栋幢单元室路街花园小区一二三十#AB 省市区", max_size=30))
def test_parse_never_raises_on_address_like_text(text):
    address.parse(text)

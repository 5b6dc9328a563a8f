import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequ.lib import normalize as n
from shequ.lib.normalize import Gender, NormalizeError


def test_halfwidth_turns_full_width_ascii_and_odd_spaces_plain():
    assert n.to_halfwidth("ＡＢＣ１２３，（）\u3000x\u00a0y") == "ABC123,() x y"
    assert n.to_halfwidth("a\u200bb\ufeff") == "ab"


def test_it_collapses_whitespace():
    assert n.collapse_spaces("  a \t\n b  ") == "a b"


def test_it_converts_traditional_to_simplified():
    assert n.to_simplified("張三 臺灣 鄉鎮 頭髮") == "张三 台湾 乡镇 头发"
    assert n.to_simplified("abc") == "abc"


def test_clean_text_does_width_script_and_spaces_together():
    assert n.clean_text("  浙江省　杭州市 ＸＸ路１２號  ") == "浙江省 杭州市 XX路12号"
    assert n.clean_text("張三", simplify=False) == "張三"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("張 三", "张三"),
        (" 买买提 • 艾力 ", "买买提·艾力"),
        ("买买提.艾力", "买买提·艾力"),
        ("买买提・艾力", "买买提·艾力"),
        ("John  Smith", "John Smith"),
    ],
)
def test_clean_name(raw, expected):
    assert n.clean_name(raw) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("三", 3), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("一百零五", 105),
        ("两千零二十四", 2024), ("三零一", 301), ("一九五〇", 1950), ("12", 12), ("壹拾贰", 12),
    ],
)  # fmt: skip
def test_cn_to_int(text, value):
    assert n.cn_to_int(text) == value


@pytest.mark.parametrize("text", ["", "三a", "二二十", "abc"])
def test_cn_to_int_refuses_non_numerals(text):
    with pytest.raises(ValueError):
        n.cn_to_int(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+86-13812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0571-88123456", "0571-88123456"),
        ("0571 8812 3456", "0571-88123456"),
        ("(0571)88123456", "0571-88123456"),
        ("（0571）88123456", "0571-88123456"),
        ("057188123456", "0571-88123456"),
        ("010-62345678", "010-62345678"),
        ("021 62345678", "021-62345678"),
        ("0739-5123456", "0739-5123456"),
        ("+86 571 8812 3456", "0571-88123456"),
        ("0571-88123456-8001", "0571-88123456-8001"),
        ("0571-88123456转8001", "0571-88123456-8001"),
    ],
)
def test_phone_normalises_mobiles_and_landlines(raw, expected):
    assert n.phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1381234567", "phone_invalid"),
        ("138123456789", "phone_invalid"),
        ("12812345678", "phone_invalid"),
        ("88123456", "phone_no_area_code"),
        ("0571-1234", "phone_invalid"),
        ("abc", "phone_invalid"),
        ("13812345678转1", "phone_invalid"),
    ],
)
def test_phone_rejects_with_a_code(raw, code):
    with pytest.raises(NormalizeError) as exc:
        n.phone(raw)
    assert exc.value.code == code
    assert exc.value.message


def test_a_local_landline_takes_the_default_area_code():
    assert n.phone("88123456", default_area_code="0571") == "0571-88123456"


def test_phones_splits_a_cell_with_several_numbers():
    assert n.phones("13812345678/0571-88123456、13812345678") == ["13812345678", "0571-88123456"]
    assert n.phones("13812345678，13912345678") == ["13812345678", "13912345678"]
    with pytest.raises(NormalizeError):
        n.phones(" / ")


@pytest.mark.parametrize(
    "raw",
    [
        "1950.3.2", "1950-03-02", "1950/3/2", "1950年3月2日", "1950年03月02日", "19500302",
        "1950-03-02 00:00:00", "1950-03-02T08:30", "1950. 3. 2", "１９５０．３．２",
        "一九五〇年三月二日", 18324, 18324.0, 18324.75, "18324", "18324.0",
        dt.date(1950, 3, 2), dt.datetime(1950, 3, 2, 10, 30),
    ],
)  # fmt: skip
def test_parse_date_reads_every_common_form(raw):
    assert n.parse_date(raw) == dt.date(1950, 3, 2)


@pytest.mark.parametrize("raw", ["1950.03", "1950.3", "1950年3月", "195003", "1950-03"])
def test_year_and_month_mean_the_first_of_the_month(raw):
    assert n.parse_date(raw) == dt.date(1950, 3, 1)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("1950", "date_incomplete"),
        ("1950-02-30", "date_invalid"),
        ("1950.13.1", "date_invalid"),
        ("19501301", "date_invalid"),
        ("abc", "date_invalid"),
        ("3/2/1950", "date_invalid"),
        (0, "date_invalid"),
        (-5, "date_invalid"),
        (1e12, "date_invalid"),
        (float("nan"), "date_invalid"),
        (True, "date_invalid"),
        (None, "date_invalid"),
    ],
)
def test_parse_date_rejects_with_a_clear_error(raw, code):
    with pytest.raises(NormalizeError) as exc:
        n.parse_date(raw)
    assert exc.value.code == code


def test_excel_serial_numbers_use_the_1900_system():
    assert n.parse_date(1) == dt.date(1900, 1, 1)
    assert n.parse_date(59) == dt.date(1900, 2, 28)
    assert n.parse_date(61) == dt.date(1900, 3, 1)
    with pytest.raises(NormalizeError):
        n.parse_date(60)  # Excel's 1900-02-29, a day that never was
    assert n.parse_date(45658) == dt.date(2025, 1, 1)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("男", Gender.MALE), ("女", Gender.FEMALE), ("1", Gender.MALE), ("2", Gender.FEMALE),
     ("M", Gender.MALE), ("f", Gender.FEMALE), (" 男性 ", Gender.MALE)],
)  # fmt: skip
def test_gender(raw, value):
    assert n.gender(raw) is value


def test_gender_rejects_unknown_values():
    with pytest.raises(NormalizeError) as exc:
        n.gender("未知")
    assert exc.value.code == "gender_invalid"
    assert Gender.MALE.label == "男"


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("李 四", "lisi", "ls"),
        ("張三", "zhangsan", "zs"),
        ("单田芳", "shantianfang", "stf"),
        ("曾国藩", "zengguofan", "zgf"),
        ("仇英", "qiuying", "qy"),
        ("解缙", "xiejin", "xj"),
        ("区小明", "ouxiaoming", "oxm"),
        ("查良镛", "zhaliangyong", "zly"),
        ("朴正", "piaozheng", "pz"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("长孙无忌", "zhangsunwuji", "zswj"),
        ("买买提·艾力", "maimaitiaili", "mmtal"),
        ("Zhang San", "zhangsan", "zs"),
        ("王2", "wang2", "w2"),
    ],
)
def test_pinyin_for_search(name, full, initials):
    assert n.pinyin_full(name) == full
    assert n.pinyin_initials(name) == initials
    assert n.pinyin(name) == (full, initials)


# ---------------------------------------------------------------------------------------------
# Properties

dates = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 12, 31))


DATE_STYLES = ["{y}.{m}.{d}", "{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日",
               "{y}{m:02d}{d:02d}", "{y}. {m}. {d}"]  # fmt: skip


@given(dates, st.sampled_from(DATE_STYLES))
def test_any_date_written_any_common_way_reads_back(date, fmt):
    assert n.parse_date(fmt.format(y=date.year, m=date.month, d=date.day)) == date


@given(dates)
def test_excel_serials_round_trip(date):
    serial = (date - dt.date(1899, 12, 30)).days
    assert n.parse_date(serial) == date
    assert n.parse_date(float(serial)) == date
    if not 1850 <= serial <= 2100:  # four digits that look like a year are read as one
        assert n.parse_date(str(serial)) == date


MOBILE_STYLES = [
    lambda m: m,
    lambda m: f"+86 {m}",
    lambda m: f"0086{m}",
    lambda m: f"{m[:3]} {m[3:7]} {m[7:]}",
    lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}",
    lambda m: n.to_halfwidth(m).translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)}),
]


@given(
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(MOBILE_STYLES),
)
def test_any_mobile_normalises_to_its_11_digits(second, rest, style):
    number = f"1{second}{rest}"
    assert n.phone(style(number)) == number


@given(st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.dates()))
def test_parse_date_raises_nothing_but_its_own_error(value):
    with contextlib.suppress(NormalizeError):
        n.parse_date(value)


@given(st.text())
def test_phone_raises_nothing_but_its_own_error(text):
    with contextlib.suppress(NormalizeError):
        n.phone(text)
    with contextlib.suppress(NormalizeError):
        n.phones(text)


@given(st.text())
def test_text_functions_never_raise(text):
    n.clean_text(text)
    n.clean_name(text)
    n.pinyin_full(text)
    n.pinyin_initials(text)

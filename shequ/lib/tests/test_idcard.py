import contextlib
import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shequ.lib import _divisions, idcard
from shequ.lib.idcard import ErrorCode, IdCardError, IdKind
from shequ.lib.normalize import Gender

# The examples printed in GB 11643-1999.
STANDARD_EXAMPLES = ["11010519491231002X", "440524188001010014"]


def with_check(first17: str) -> str:
    return first17 + idcard.check_digit(first17)


def test_it_accepts_the_examples_of_the_standard():
    for number in STANDARD_EXAMPLES:
        assert idcard.parse(number).number == number


def test_it_decodes_birth_date_gender_region_and_kind():
    parsed = idcard.parse("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender is Gender.FEMALE
    assert parsed.region_code == "110105"
    assert parsed.kind is IdKind.RESIDENT
    assert not parsed.upgraded
    assert idcard.parse("440524188001010014").gender is Gender.MALE


def test_it_masks_the_middle():
    assert idcard.parse("11010519491231002X").masked == "1101**********002X"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
        "'11010519491231002X",
        '="11010519491231002X"',
        "110105-19491231-002X",
        "\u3000110105\u00a019491231002X",
    ],
)
def test_it_normalises_what_people_and_excel_do_to_ids(raw):
    assert idcard.parse(raw).number == "11010519491231002X"


def test_it_upgrades_15_digit_ids():
    assert idcard.upgrade15("110105491231002") == "11010519491231002X"
    parsed = idcard.parse("110105491231002")
    assert parsed.number == "11010519491231002X"
    assert parsed.upgraded
    assert parsed.birth_date == dt.date(1949, 12, 31)


def test_upgrade15_refuses_anything_but_15_digits():
    with pytest.raises(IdCardError) as exc:
        idcard.upgrade15("11010519491231002X")
    assert exc.value.code is ErrorCode.LENGTH


def test_check_digit_computes_x_for_ten():
    assert idcard.check_digit("11010519491231002") == "X"
    with pytest.raises(IdCardError):
        idcard.check_digit("1234")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", ErrorCode.LENGTH),
        ("1101051949123100", ErrorCode.LENGTH),
        ("1101051949123100201", ErrorCode.LENGTH),
        ("11010519491231002A", ErrorCode.CHARS),
        ("1101051949123X002X", ErrorCode.CHARS),
        ("11010519491231A02", ErrorCode.LENGTH),
        ("11010549123100A", ErrorCode.CHARS),
        ("110105194912310021", ErrorCode.CHECK_DIGIT),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", ErrorCode.CHARS),
    ],
)
def test_it_rejects_malformed_numbers_with_a_stable_code(raw, code):
    with pytest.raises(IdCardError) as exc:
        idcard.parse(raw)
    assert exc.value.code is code
    assert exc.value.message  # a Chinese sentence for the import report


@pytest.mark.parametrize("date", ["19490230", "19491301", "19490000", "20990101", "18000101"])
def test_it_rejects_impossible_birth_dates(date):
    with pytest.raises(IdCardError) as exc:
        idcard.parse(with_check(f"110105{date}002"))
    assert exc.value.code is ErrorCode.BIRTH_DATE


def test_impossible_dates_in_15_digit_ids_are_rejected():
    with pytest.raises(IdCardError) as exc:
        idcard.parse("110105490230002")
    assert exc.value.code is ErrorCode.BIRTH_DATE


def test_today_bounds_the_birth_date():
    number = with_check("11010520200101002")
    assert idcard.is_valid(number, today=dt.date(2020, 1, 1))
    assert not idcard.is_valid(number, today=dt.date(2019, 12, 31))


@pytest.mark.parametrize(
    "region",
    [
        "510212",  # 沙坪坝区 while Chongqing was part of Sichuan (to 1997)
        "110103",  # 崇文区, merged into 东城区 in 2010
        "420600",  # 襄樊市, renamed 襄阳市 in 2010 (same code)
        "130171",  # a development zone code in the current table
    ],
)
def test_it_accepts_historical_and_current_region_codes(region):
    assert idcard.parse(with_check(f"{region}19900101001")).region_code == region


@pytest.mark.parametrize("region", ["990101", "000000", "910000", "110199", "810101"])
def test_it_rejects_unknown_region_codes(region):
    with pytest.raises(IdCardError) as exc:
        idcard.parse(with_check(f"{region}19900101001"))
    assert exc.value.code is ErrorCode.REGION


def test_taiwan_province_codes_pass_on_the_prefix_alone():
    assert idcard.is_valid(with_check("71010119900101001"))


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [("810000", IdKind.HK_PERMIT), ("820000", IdKind.MO_PERMIT), ("830000", IdKind.TW_PERMIT)],
)
def test_it_reads_residence_permits_of_hk_macao_taiwan_residents(prefix, kind):
    parsed = idcard.parse(with_check(f"{prefix}19800101001"))
    assert parsed.kind is kind
    assert kind.label


def test_region_name_knows_current_and_historic_names():
    assert idcard.region_name("110105") == "朝阳区"
    assert idcard.region_name("510212") == "沙坪坝区"
    assert idcard.region_name("999999") is None


def test_is_valid_is_parse_without_the_exception():
    assert idcard.is_valid("11010519491231002X")
    assert not idcard.is_valid("110105194912310021")


# ---------------------------------------------------------------------------------------------
# Properties

REGIONS = sorted(
    line.split(" ", 1)[0]
    for line in (_divisions.CURRENT + _divisions.HISTORIC).splitlines()
    if line and not line.startswith(("71", "81", "82", "83"))
)

regions = st.sampled_from(REGIONS)
births = st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2024, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    first17 = f"{draw(regions)}{draw(births):%Y%m%d}{draw(sequences):03d}"
    return with_check(first17)


@given(valid_ids())
def test_any_generated_valid_id_parses_and_its_check_digit_verifies(number):
    parsed = idcard.parse(number)
    assert parsed.number == number
    assert idcard.check_digit(number[:17]) == number[17]
    assert parsed.gender is (Gender.MALE if int(number[16]) % 2 else Gender.FEMALE)
    assert parsed.birth_date.strftime("%Y%m%d") == number[6:14]


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_any_single_character_change_is_caught(number, position, shift):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(number[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == number[position]:
        return
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(IdCardError):
        idcard.parse(changed)


@given(regions, st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)), sequences)
def test_15_digit_ids_upgrade_to_the_18_digit_id_of_the_same_person(region, born, seq):
    number18 = with_check(f"{region}{born:%Y%m%d}{seq:03d}")
    number15 = number18[:6] + number18[8:17]
    assert idcard.upgrade15(number15) == number18
    parsed = idcard.parse(number15)
    assert parsed.number == number18
    assert parsed.upgraded


@given(st.text())
@example("1" * 15)
@example("X" * 18)
@example("\x00" * 18)
def test_parse_raises_nothing_but_its_own_error_on_arbitrary_text(text):
    try:
        idcard.parse(text)
    except IdCardError as exc:
        assert exc.code in ErrorCode


@given(st.text(alphabet="0123456789Xx -", min_size=14, max_size=20))
def test_parse_raises_nothing_but_its_own_error_on_id_like_text(text):
    with contextlib.suppress(IdCardError):
        idcard.parse(text)

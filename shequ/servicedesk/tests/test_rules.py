"""The eligibility rule language: what it accepts, what it refuses (always with the position of
the offending part), and that no input at all makes the parser fail any other way."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.servicedesk import rules
from shequ.servicedesk.rules import And, Comparison, Const, Facts, Not, Or, RuleError, Subject


def refused(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        rules.parse(text)
    return caught.value


def where(text: str) -> tuple[int, int]:
    error = refused(text)
    return error.line, error.column


# ---------------------------------------------------------------------------------------------
# Accepted


def test_it_reads_comparisons_joined_by_and_or_not() -> None:
    tree = rules.parse('age >= 80 and (gender == "F" or not lives_alone)')
    assert tree == And(
        (
            Comparison(Subject("age"), ">=", 80),
            Or(
                (
                    Comparison(Subject("gender"), "==", "F"),
                    Not(Comparison(Subject("lives_alone"), "==", True)),
                )
            ),
        )
    )


def test_it_reads_every_function_with_its_quoted_arguments() -> None:
    tree = rules.parse(
        'has_tag("disabled") and tag_level("disabled") <= 2 '
        'and tag_attr("disabled", "category") in ["肢体", "视力"] and in_area("110199001001")'
    )
    assert tree == And(
        (
            Comparison(Subject("has_tag", ("disabled",)), "==", True),
            Comparison(Subject("tag_level", ("disabled",)), "<=", 2),
            Comparison(Subject("tag_attr", ("disabled", "category")), "in", ("肢体", "视力")),
            Comparison(Subject("in_area", ("110199001001",)), "==", True),
        )
    )


def test_a_value_on_the_left_is_turned_around() -> None:
    assert rules.parse("80 <= age") == Comparison(Subject("age"), ">=", 80)


def test_a_chained_comparison_is_both_comparisons() -> None:
    assert rules.parse("60 <= age < 80") == And(
        (Comparison(Subject("age"), ">=", 60), Comparison(Subject("age"), "<", 80))
    )


def test_true_and_false_stand_alone_and_compare_with_yes_no_conditions() -> None:
    assert rules.parse("True") == Const(True)
    assert rules.parse("lives_alone == False") == Comparison(Subject("lives_alone"), "==", False)
    assert rules.parse('has_tag("dibao") != True') == Comparison(
        Subject("has_tag", ("dibao",)), "!=", True
    )


def test_lists_may_be_square_or_round_and_lose_repeated_values() -> None:
    assert rules.parse('residence_type in ("registered", "floating", "registered")') == Comparison(
        Subject("residence_type"), "in", ("registered", "floating")
    )
    assert rules.parse("age not in [80, 90]") == Comparison(Subject("age"), "not in", (80, 90))


def test_a_rule_may_span_lines_as_a_textarea_sends_them() -> None:
    text = 'age >= 80\r\n  and residence_type == "registered"\r\n  and not lives_alone'
    assert isinstance(rules.parse(text), And)


def test_levels_are_numbers_or_their_chinese_names() -> None:
    assert rules.parse('tag_level("disabled") in ["一级", 2]') == Comparison(
        Subject("tag_level", ("disabled",)), "in", ("一级", 2)
    )


@pytest.mark.parametrize(
    ("op", "value", "levels"),
    [
        ("<=", 2, {1, 2}),
        (">", 2, {3, 4}),
        ("==", "三级", {3}),
        ("!=", 1, {2, 3, 4}),
        ("in", ("一级", 4), {1, 4}),
        ("not in", ("一级", 4), {2, 3}),
        ("<", 1, set()),
    ],
)
def test_a_level_comparison_names_the_levels_it_accepts(
    op: str, value: object, levels: set[int]
) -> None:
    assert rules.level_set(op, value) == levels


# ---------------------------------------------------------------------------------------------
# Refused, each with its position


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        ('age >= 80 and person.name == "x"', (1, 15), "Attribute access"),
        ('has_tag("x").__class__', (1, 1), "Attribute access"),
        ("age >= 80 and tags[0] == 1", (1, 15), "Subscripts"),
        ("(lambda: True)()", (1, 2), "Lambdas"),
        ('f"{age}" == "80"', (1, 1), "Formatted strings"),
        ("age in [a for a in [80]]", (1, 8), "Comprehensions"),
        ("age + 1 >= 81", (1, 1), "Arithmetic"),
        ("age >= 40 * 2", (1, 8), "Arithmetic"),
        ("age >= (80 if True else 70)", (1, 9), "Conditional"),
        ("age in {80, 90}", (1, 8), "Sets"),
        ('gender == {"a": 1}', (1, 11), "Dictionaries"),
        ("(x := 80) == age", (1, 2), "Assignments"),
        ('__import__("os").system("x")', (1, 1), "Attribute access"),
        ('__import__("os")', (1, 1), "Unknown function"),
        ('open("/etc/passwd")', (1, 1), "Unknown function"),
        ('eval("1")', (1, 1), "Unknown function"),
        ("__builtins__", (1, 1), "Unknown name"),
        ("age >= 80 and 高龄", (1, 15), "Unknown name"),
        ('has_tag(code="dibao")', (1, 14), "Keyword arguments"),
        ("has_tag(dibao)", (1, 9), "quoted text"),
        ('has_tag("a", "b")', (1, 1), "takes these arguments"),
        ('has_tag("残疾人")', (1, 9), "not a valid code"),
        ('tag_attr("disabled", "__class__")', (1, 22), "not a valid attribute"),
        ('"abc"()', (1, 1), "Only the rule functions"),
        ("age", (1, 1), "must be compared"),
        ("has_tag", (1, 1), "is a function"),
        ("80", (1, 1), "value alone"),
        ("age is 80", (1, 1), "instead of “is”"),
        ("1 < 2", (1, 1), "attribute on one side"),
        ("age == age", (1, 8), "attribute on one side"),
        ('age >= "80"', (1, 8), "whole number"),
        ("age >= 80.5", (1, 8), "whole numbers"),
        ("age >= -3", (1, 8), "Ages go from"),
        ('gender == "male"', (1, 11), "not a value of gender"),
        ('residence_type > "floating"', (1, 18), "no order"),
        ('has_tag("x") == 1', (1, 17), "yes/no"),
        ('tag_level("disabled") == "五级"', (1, 26), "level is 1 to 4"),
        ('tag_attr("disabled", "level") >= 2', (1, 34), "no order"),
        ("age in 80", (1, 8), "need a list"),
        ("[80] == age", (1, 1), "list goes only after in"),
        ('["M"] in gender', (1, 1), "attribute first"),
        ("age in []", (1, 8), "empty"),
        ("age >= 80 # and lives_alone", (1, 11), "Comments"),
        ("age >= 80 and", (1, 14), "ends too early"),
        ('has_tag("x"', (1, 8), "never closed"),
        ("age >= = 80", (1, 8), "not valid here"),
        ("age >= 80 $", (1, 11), "not valid here"),
        ('age >= 80 and\n  residence_type == "registered" and\n  person.x', (3, 3), "Attribute"),
        ('"高龄补贴" == 1 and x.y == 1', (1, 1), "attribute on one side"),
        ('age >= 80 and "残疾".join([]) == ""', (1, 15), "Attribute access"),
        ("age >= 80\x00", (1, 10), "control character"),
        ("   ", (1, 1), "empty"),
    ],
)
def test_it_refuses_what_is_not_in_the_language_and_says_where(
    text: str, position: tuple[int, int], says: str
) -> None:
    error = refused(text)
    assert (error.line, error.column) == position, str(error)
    assert says in error.message % error.params
    assert f"at line {position[0]}, column {position[1]}" in str(error)


def test_columns_count_characters_not_bytes() -> None:
    # Each of 张三丰 is three bytes in UTF-8; the column is still the character's.
    assert where('tag_attr("x", "name") == "张三丰" and x.y') == (1, 36)


def test_an_overlong_rule_is_refused() -> None:
    error = refused("age >= 80 or " * 200 + "True")
    assert "longer than" in error.message


def test_deep_nesting_is_refused_not_recursed_into() -> None:
    assert "nested too deeply" in refused("not " * 60 + "True").message
    assert refused("(" * 300 + "True" + ")" * 300).message  # the parser's own limit


def test_render_translates_the_message_and_the_position() -> None:
    error = refused("age >= 80 and x.y")
    table = {
        rules.POSITION: "第 %(line)s 行第 %(column)s 列：%(message)s",
        error.message: "不允许访问属性",
    }
    assert error.render(lambda s: table.get(s, s)) == "第 1 行第 15 列：不允许访问属性"


# ---------------------------------------------------------------------------------------------
# Fuzzing: nothing but RuleError, whatever comes in

TOKENS = [
    "age", "gender", "residence_type", "status", "lives_alone", "has_tag", "tag_level",
    "tag_attr", "in_area", "and", "or", "not", "in", "is", "==", "!=", "<", "<=", ">", ">=",
    "(", ")", "[", "]", ",", ".", ":", "+", "-", "*", "**", "lambda", "if", "else", "for",
    '"M"', '"F"', '"registered"', '"floating"', '"dibao"', '"disabled"', '"一级"', '"level"',
    "80", "0", "-1", "2", "True", "False", "None", "1.5", "__class__", "__import__", "x",
    "f\"{age}\"", "#", "\n", "\\", "'", '"', "{", "}", ":=", "yield", "await",
]  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_crashes_the_parser(text: str) -> None:
    try:
        rules.parse(text)
    except RuleError as exc:
        assert exc.line >= 1 and exc.column >= 1


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join))
def test_random_token_soup_never_crashes_the_parser(text: str) -> None:
    try:
        tree = rules.parse(text)
    except RuleError as exc:
        lines = text.splitlines() or [""]
        assert 1 <= exc.line <= max(1, len(lines))
    else:
        # Whatever parses can be interpreted.
        rules.evaluate(tree, Facts(age=80))


# ---------------------------------------------------------------------------------------------
# Generated valid rules always parse


TAG_CODES = ["dibao", "disabled", "tekun", "elderly-alone"]
AREA_CODES = ["110199001001", "110199001001001", "110199002000"]


def rule_leaves() -> st.SearchStrategy[str]:
    """One comparison of every kind the language has (the tags and areas of the test world)."""
    ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    code = st.sampled_from(TAG_CODES)
    return st.one_of(
        st.builds("age {} {}".format, ops, st.integers(0, 150)),
        st.builds("{} <= age".format, st.integers(0, 150)),
        st.builds("age {} {}".format, st.sampled_from(["in", "not in"]), st.just("[0, 80, 86]")),
        st.builds('gender {} "{}"'.format, st.sampled_from(["==", "!="]), st.sampled_from("MFU")),
        st.builds(
            "residence_type {} {}".format,
            st.sampled_from(["in", "not in"]),
            st.sampled_from(['["registered"]', '["floating", "foreign"]']),
        ),
        st.builds('status == "{}"'.format, st.sampled_from(["active", "moved_out"])),
        st.builds('has_tag("{}")'.format, code),
        st.builds('tag_level("{}") {} {}'.format, code, ops, st.integers(1, 4)),
        st.builds(
            'tag_level("{}") in ["一级", "{}"]'.format, code, st.sampled_from(["二级", "四级"])
        ),
        st.builds(
            'tag_attr("{}", "{}") {} {}'.format,
            code,
            st.sampled_from(["category", "level", "kind"]),
            st.sampled_from(["==", "!="]),
            st.sampled_from(['"肢体"', '"二级"', "2", '"x"']),
        ),
        st.builds(
            'tag_attr("{}", "category") {} ["肢体", "视力"]'.format,
            code,
            st.sampled_from(["in", "not in"]),
        ),
        st.sampled_from(["lives_alone", "not lives_alone", "lives_alone == False"]),
        st.builds('in_area("{}")'.format, st.sampled_from(AREA_CODES)),
        st.sampled_from(["True", "False"]),
    )


def rule_texts() -> st.SearchStrategy[str]:
    """Valid rules: the comparisons above, nested with and, or, not."""
    return st.recursive(
        rule_leaves(),
        lambda inner: st.one_of(
            st.builds("({}) and ({})".format, inner, inner),
            st.builds("({})\nor ({})".format, inner, inner),
            st.builds("not ({})".format, inner),
        ),
        max_leaves=10,
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(rule_texts())
def test_generated_rules_always_parse(text: str) -> None:
    tree = rules.parse(text)
    assert isinstance(tree, Comparison | And | Or | Not | Const)

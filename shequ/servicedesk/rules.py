"""The eligibility rule language: a small, safe expression language over resident attributes.

    age >= 80 and residence_type == "registered"
    has_tag("disabled") and tag_level("disabled") <= 2
    (has_tag("dibao") or has_tag("tekun")) and not lives_alone

The text is read with Python's `ast` module in "eval" mode, and only a whitelist of node kinds
is accepted: and/or/not, comparisons, whole numbers, quoted text, True/False and lists of them,
the attribute names in `FIELDS` and the functions in `FUNCTIONS`. Everything else (attribute
access, subscripts, other calls, lambdas, f-strings, comprehensions, arithmetic …) is refused
with a `RuleError` that names the line and column of the offending part. Nothing is ever
evaluated as Python: the parser returns a small tree of the dataclasses below, which
`shequ.servicedesk.eligibility` compiles to one database query, and which `evaluate` (used by
the tests as an oracle) interprets over plain facts.

This module does not import Django. Its messages are English message ids marked with `_` so
`makemessages` collects them; whoever shows an error translates it (`RuleError.render`).
"""

from __future__ import annotations

import ast
import bisect
import io
import operator
import re
import tokenize
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def _(text: str) -> str:
    """Mark a message for translation; it is translated where it is shown."""
    return text


MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_LIST = 100
AGE_RANGE = (0, 150)

# The attributes a rule may read, and the values each accepts (None: a whole number).
ENUMS: dict[str, tuple[str, ...]] = {
    "gender": ("M", "F", "U"),
    "residence_type": ("registered", "floating", "foreign"),
    "status": ("active", "moved_out", "deceased"),
}
FIELDS = ("age", "gender", "residence_type", "status", "lives_alone")
FUNCTIONS: dict[str, str] = {
    "has_tag": 'has_tag("code")',
    "tag_level": 'tag_level("code")',
    "tag_attr": 'tag_attr("code", "attribute")',
    "in_area": 'in_area("area code")',
}
# Disability levels as the register records them; tag_level also compares them as 1–4.
LEVELS = ("一级", "二级", "三级", "四级")
LEVEL_NUMBER: dict[Any, int] = {
    **{name: i for i, name in enumerate(LEVELS, start=1)},
    **{i: i for i in range(1, len(LEVELS) + 1)},
}

TAG_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
ATTRIBUTE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
AREA_CODE = re.compile(r"^[-a-zA-Z0-9]{1,32}$")

OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
ORDERING = frozenset({"<", "<=", ">", ">="})
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# What is refused, by node kind, with a message a district admin can act on.
REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: _("Attribute access (a.b) is not allowed in a rule."),
    ast.Subscript: _("Subscripts (a[b]) are not allowed in a rule."),
    ast.Lambda: _("Lambdas are not allowed in a rule."),
    ast.JoinedStr: _('Formatted strings (f"…") are not allowed in a rule.'),
    ast.FormattedValue: _('Formatted strings (f"…") are not allowed in a rule.'),
    ast.ListComp: _("Comprehensions are not allowed in a rule."),
    ast.SetComp: _("Comprehensions are not allowed in a rule."),
    ast.DictComp: _("Comprehensions are not allowed in a rule."),
    ast.GeneratorExp: _("Comprehensions are not allowed in a rule."),
    ast.BinOp: _("Arithmetic is not allowed in a rule; write the number itself."),
    ast.IfExp: _("Conditional expressions (a if b else c) are not allowed in a rule."),
    ast.Dict: _("Dictionaries are not allowed in a rule."),
    ast.Set: _("Sets are not allowed in a rule; write a list in square brackets."),
    ast.NamedExpr: _("Assignments are not allowed in a rule."),
    ast.Starred: _("Starred expressions are not allowed in a rule."),
    ast.Await: _("This construct is not allowed in a rule."),
    ast.Yield: _("This construct is not allowed in a rule."),
    ast.YieldFrom: _("This construct is not allowed in a rule."),
    ast.Slice: _("Subscripts (a[b]) are not allowed in a rule."),
}
POSITION = _("%(message)s at line %(line)s, column %(column)s")


class RuleError(ValueError):
    """A rule that cannot be accepted, with where (1-based line and column) and why."""

    def __init__(self, message: str, *, line: int, column: int, **params: Any) -> None:
        self.message = message
        self.params = params
        self.line = line
        self.column = column
        super().__init__(self.render())

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The message with its position, translated by `translate` (e.g. Django's gettext)."""
        text = translate(self.message)
        if self.params:
            text = text % self.params
        return translate(POSITION) % {"message": text, "line": self.line, "column": self.column}


# ---------------------------------------------------------------------------------------------
# The parsed rule


@dataclass(frozen=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True)
class Subject:
    """What a comparison reads: an attribute (`age`) or a function of quoted arguments."""

    kind: str  # a name of FIELDS or FUNCTIONS
    args: tuple[str, ...] = ()
    pos: Pos = field(default=Pos(1, 1), compare=False)

    @property
    def boolean(self) -> bool:
        return self.kind in ("lives_alone", "has_tag", "in_area")

    @property
    def label(self) -> str:
        if not self.args:
            return self.kind
        return f"{self.kind}({', '.join(repr(a) for a in self.args)})".replace("'", '"')


@dataclass(frozen=True)
class Comparison:
    """`subject op value`; `value` is a tuple for in / not in. A boolean subject alone is
    `Comparison(subject, "==", True)`."""

    subject: Subject
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Const:
    value: bool


Node = Comparison | And | Or | Not | Const


# ---------------------------------------------------------------------------------------------
# Parsing


def parse(text: str) -> Node:
    """Parse a rule; raises RuleError for anything outside the language.

    A rule may span lines (a textarea sends them, with CR LF): line breaks are read as spaces,
    so no brackets are needed around a long rule, and positions still name the line typed.
    """
    if not isinstance(text, str) or not text.strip():
        raise RuleError(_("The rule is empty."), line=1, column=1)
    where = _Where(text)
    if len(text) > MAX_LENGTH:
        raise where.error(
            MAX_LENGTH, _("The rule is longer than %(limit)s characters."), limit=MAX_LENGTH
        )
    for index, char in enumerate(text):
        if (ord(char) < 32 and char not in "\t\r\n") or char == "\x7f":
            raise where.error(index, _("The rule contains a control character."))
    flat = text.replace("\r", " ").replace("\n", " ")
    _refuse_comments(flat, where)
    try:
        tree = ast.parse(flat, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(flat, exc, where) from None
    except (ValueError, RecursionError, MemoryError):  # absurd nesting
        raise RuleError(_("This is not a valid rule."), line=1, column=1) from None
    return _Reader(flat, where).condition(tree.body, 0)


class _Where:
    """Maps a character offset of the rule read as one line back to (line, column) as typed."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        i = 0
        while i < len(text):
            if text[i] == "\r" and i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
            if text[i] in "\r\n":
                self.starts.append(i + 1)
            i += 1
        self.length = len(text)

    def pos(self, offset: int) -> Pos:
        offset = max(0, min(offset, self.length))
        line = bisect.bisect_right(self.starts, offset)
        return Pos(line, offset - self.starts[line - 1] + 1)

    def error(self, offset: int, message: str, **params: Any) -> RuleError:
        at = self.pos(offset)
        return RuleError(message, line=at.line, column=at.column, **params)


def _refuse_comments(flat: str, where: _Where) -> None:
    """A # would silently drop the rest of the rule (every later line): refuse it."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(flat).readline):
            if token.type == tokenize.COMMENT:
                raise where.error(token.start[1], _("Comments (#) are not allowed in a rule."))
    except (tokenize.TokenError, SyntaxError):
        return  # the parser reports it, with its position


def check(text: str) -> RuleError | None:
    """The error of a rule, or None when it parses."""
    try:
        parse(text)
    except RuleError as exc:
        return exc
    return None


def _syntax_error(flat: str, exc: SyntaxError, where: _Where) -> RuleError:
    offset, why = exc.offset or 0, exc.msg or ""
    if "never closed" in why and offset:
        return where.error(offset - 1, _("This bracket is never closed."))
    if offset == 0 or offset > len(flat.rstrip()):
        return where.error(len(flat.rstrip()), _("The rule ends too early."))
    return where.error(offset - 1, _("This is not valid here."))


class _Reader:
    """Walks the Python syntax tree and builds the rule tree, refusing everything else."""

    def __init__(self, flat: str, where: _Where) -> None:
        self.encoded = flat.encode("utf-8")
        self.where = where

    def pos(self, node: ast.AST) -> Pos:
        """Line and column as typed (ast gives UTF-8 byte offsets into the one line read)."""
        offset = int(getattr(node, "col_offset", 0) or 0)
        chars = len(self.encoded[:offset].decode("utf-8", errors="ignore"))
        return self.where.pos(chars)

    def error(self, node: ast.AST, message: str, **params: Any) -> RuleError:
        at = self.pos(node)
        return RuleError(message, line=at.line, column=at.column, **params)

    def refuse(self, node: ast.AST) -> RuleError:
        message = next(
            (m for kind, m in REFUSED.items() if isinstance(node, kind)),
            _("This construct is not allowed in a rule."),
        )
        return self.error(node, message)

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(node, _("The rule is nested too deeply."))
        if isinstance(node, ast.BoolOp):
            items = tuple(self.condition(v, depth + 1) for v in node.values)
            return And(items) if isinstance(node.op, ast.And) else Or(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.condition(node.operand, depth + 1))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return Const(node.value)
        if isinstance(node, ast.Name | ast.Call):
            subject = self.subject(node)
            if not subject.boolean:
                raise self.error(
                    node,
                    _("“%(name)s” must be compared with a value, e.g. %(example)s."),
                    name=subject.label,
                    example=_example(subject),
                )
            return Comparison(subject, "==", True)
        if isinstance(node, ast.Constant | ast.List | ast.Tuple | ast.UnaryOp):
            raise self.error(
                node, _("A value alone is not a condition; compare an attribute with it.")
            )
        raise self.refuse(node)

    def compare(self, node: ast.Compare) -> Node:
        tests: list[Node] = []
        left = node.left
        for op_node, right in zip(node.ops, node.comparators, strict=True):
            tests.append(self.pair(left, op_node, right))
            left = right
        return tests[0] if len(tests) == 1 else And(tuple(tests))

    def pair(self, left: ast.expr, op_node: ast.cmpop, right: ast.expr) -> Comparison:
        op = OPS.get(type(op_node))
        if op is None:  # is / is not
            raise self.error(left, _("Use == or != instead of “is”."))
        left_is_subject = _is_subject(left)
        right_is_subject = _is_subject(right)
        if left_is_subject == right_is_subject:
            bad = right if left_is_subject else left
            for side in (left, right):
                if left_is_subject:
                    self.subject(side)  # an unknown name or function says so first
                else:
                    self.check_node(side)
            raise self.error(
                bad,
                _("A comparison needs a resident attribute on one side and a value on the other."),
            )
        if right_is_subject:
            if op in ("in", "not in"):
                raise self.error(
                    left, _("Write the attribute first: attribute in [values], not the reverse.")
                )
            subject_node, value_node, op = right, left, FLIPPED[op]
        else:
            subject_node, value_node = left, right
        subject = self.subject(subject_node)
        if op in ("in", "not in"):
            values = self.values(value_node, subject)
            return Comparison(subject, op, values)
        value = self.literal(value_node)
        self.fits(subject, op, value, value_node)
        return Comparison(subject, op, value)

    def check_node(self, node: ast.expr) -> None:
        """Refuse a side of a comparison that is neither an attribute nor a value."""
        if isinstance(node, ast.Constant | ast.List | ast.Tuple):
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return
        if not _is_subject(node):
            raise self.refuse(node)

    # -- subjects -----------------------------------------------------------------------------

    def subject(self, node: ast.expr) -> Subject:
        at = self.pos(node)
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise self.error(
                    node,
                    _("“%(name)s” is a function: write %(signature)s."),
                    name=node.id,
                    signature=FUNCTIONS[node.id],
                )
            if node.id not in FIELDS:
                raise self.error(
                    node,
                    _("Unknown name “%(name)s”; use one of: %(names)s."),
                    name=node.id[:40],
                    names=", ".join(FIELDS),
                )
            return Subject(node.id, (), at)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Constant):
                raise self.error(node, _("Only the rule functions may be called."))
            if not isinstance(node.func, ast.Name):
                raise self.refuse(node.func)
            name = node.func.id
            if name not in FUNCTIONS:
                raise self.error(
                    node,
                    _("Unknown function “%(name)s”; use one of: %(names)s."),
                    name=name[:40],
                    names=", ".join(FUNCTIONS),
                )
            if node.keywords:
                raise self.error(node.keywords[0].value, _("Keyword arguments are not allowed."))
            arity = 2 if name == "tag_attr" else 1
            if len(node.args) != arity:
                raise self.error(
                    node,
                    _("“%(name)s” takes these arguments: %(signature)s."),
                    name=name,
                    signature=FUNCTIONS[name],
                )
            args = []
            for arg in node.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    if isinstance(arg, ast.Constant | ast.Name | ast.Call | ast.UnaryOp):
                        raise self.error(
                            arg,
                            _("Arguments must be quoted text, e.g. %(signature)s."),
                            signature=FUNCTIONS[name],
                        )
                    raise self.refuse(arg)
                args.append(arg.value)
            pattern = AREA_CODE if name == "in_area" else TAG_CODE
            if not pattern.match(args[0]):
                raise self.error(
                    node.args[0], _("“%(code)s” is not a valid code."), code=args[0][:40]
                )
            if name == "tag_attr" and not ATTRIBUTE.match(args[1]):
                raise self.error(
                    node.args[1],
                    _("“%(code)s” is not a valid attribute name."),
                    code=args[1][:40],
                )
            if name == "tag_level":
                return Subject("tag_level", (args[0],), at)
            return Subject(name, tuple(args), at)
        raise self.refuse(node)

    # -- values -------------------------------------------------------------------------------

    def literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | str):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int
        ):
            return -node.operand.value
        if isinstance(node, ast.Constant) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd)
        ):
            raise self.error(
                node, _("Only whole numbers, quoted text, True and False may be used as values.")
            )
        if isinstance(node, ast.List | ast.Tuple):
            raise self.error(node, _("A list goes only after in or not in."))
        raise self.refuse(node)

    def values(self, node: ast.expr, subject: Subject) -> tuple[Any, ...]:
        if not isinstance(node, ast.List | ast.Tuple):
            if isinstance(node, ast.Constant | ast.UnaryOp):
                raise self.error(
                    node, _("in and not in need a list in square brackets, e.g. [1, 2].")
                )
            raise self.refuse(node)
        if not node.elts:
            raise self.error(node, _("The list is empty."))
        if len(node.elts) > MAX_LIST:
            raise self.error(
                node.elts[MAX_LIST], _("A list may hold at most %(limit)s values."), limit=MAX_LIST
            )
        out = []
        for item in node.elts:
            value = self.literal(item)
            self.fits(subject, "==", value, item)
            out.append(value)
        return tuple(dict.fromkeys(out))

    def fits(self, subject: Subject, op: str, value: Any, node: ast.expr) -> None:
        """Refuse a value the subject cannot take, or an ordering it has not."""
        kind = subject.kind
        if subject.boolean:
            if not isinstance(value, bool) or op not in ("==", "!="):
                raise self.error(
                    node,
                    _("“%(name)s” is a yes/no condition; compare it only with == True or False."),
                    name=subject.label,
                )
            return
        if isinstance(value, bool):
            raise self.error(node, _("“%(name)s” is not a yes/no condition."), name=subject.label)
        if kind == "age":
            if not isinstance(value, int):
                raise self.error(
                    node, _("Compare “%(name)s” with a whole number."), name=subject.label
                )
            if not AGE_RANGE[0] <= value <= AGE_RANGE[1]:
                raise self.error(
                    node,
                    _("Ages go from %(low)s to %(high)s."),
                    low=AGE_RANGE[0],
                    high=AGE_RANGE[1],
                )
            return
        if kind in ENUMS:
            if op in ORDERING:
                raise self.error(
                    node, _("“%(name)s” has no order; use == or in."), name=subject.label
                )
            if value not in ENUMS[kind]:
                raise self.error(
                    node,
                    _("“%(value)s” is not a value of %(name)s; use one of: %(values)s."),
                    value=str(value)[:40],
                    name=kind,
                    values=", ".join(f'"{v}"' for v in ENUMS[kind]),
                )
            return
        if kind == "tag_level":
            if value not in LEVEL_NUMBER or (isinstance(value, str) and op in ORDERING):
                raise self.error(
                    node, _("A level is 1 to 4 (compare with <, >, …) or “一级” to “四级”.")
                )
            return
        if kind == "tag_attr":
            if op in ORDERING:
                raise self.error(
                    node,
                    _("Attributes of a tag have no order; use == or in (only tag_level has)."),
                )
            if isinstance(value, str) and len(value) > 100:
                raise self.error(node, _("The text is too long."))
            return


def _is_subject(node: ast.AST) -> bool:
    return isinstance(node, ast.Name | ast.Call)


def _example(subject: Subject) -> str:
    if subject.kind == "age":
        return "age >= 80"
    if subject.kind in ENUMS:
        return f'{subject.kind} == "{ENUMS[subject.kind][0]}"'
    if subject.kind == "tag_level":
        return f"{subject.label} <= 2"
    return f'{subject.label} == "…"'


# ---------------------------------------------------------------------------------------------
# Walking a parsed rule


def subjects(node: Node) -> Iterator[Subject]:
    """Every subject the rule reads, in order (the compiler resolves tag and area codes)."""
    if isinstance(node, Comparison):
        yield node.subject
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from subjects(item)
    elif isinstance(node, Not):
        yield from subjects(node.item)


def level_set(op: str, value: Any) -> frozenset[int]:
    """The level numbers (1–4) that `tag_level(...) op value` accepts, for a positive op."""
    if op in ("in", "not in"):
        wanted = {LEVEL_NUMBER[v] for v in value}
    else:
        target = LEVEL_NUMBER[value]
        wanted = {n for n in range(1, len(LEVELS) + 1) if COMPARE[op](n, target)}
    if op == "not in":
        wanted = set(range(1, len(LEVELS) + 1)) - wanted
    return frozenset(wanted)


# ---------------------------------------------------------------------------------------------
# Interpreting a rule over plain facts (the oracle the database query is tested against)


@dataclass
class Facts:
    """What a rule may know about one resident."""

    age: int | None
    gender: str = "U"
    residence_type: str = "registered"
    status: str = "active"
    lives_alone: bool = False
    # Active tags today: code → the details of each (a person may hold a tag twice).
    tags: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    # Codes of the person's area and all its ancestors.
    areas: frozenset[str] = frozenset()


def evaluate(node: Node, facts: Facts) -> bool:
    """Whether `facts` satisfy the rule (same semantics as the compiled query)."""
    if isinstance(node, Const):
        return node.value
    if isinstance(node, And):
        return all(evaluate(i, facts) for i in node.items)
    if isinstance(node, Or):
        return any(evaluate(i, facts) for i in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, facts)
    return _test(node, facts)


def _test(test: Comparison, facts: Facts) -> bool:
    subject, op, value = test.subject, test.op, test.value
    kind = subject.kind
    if kind in ("lives_alone", "has_tag", "in_area"):
        if kind == "lives_alone":
            truth = facts.lives_alone
        elif kind == "has_tag":
            truth = bool(facts.tags.get(subject.args[0]))
        else:
            truth = subject.args[0] in facts.areas
        return truth == value if op == "==" else truth != value
    if kind == "tag_level":
        wanted = level_set(op, value)
        return any(
            LEVEL_NUMBER.get(_hashable(d.get("level"))) in wanted
            for d in facts.tags.get(subject.args[0], ())
        )
    if kind == "tag_attr":
        code, key = subject.args
        found = [d[key] for d in facts.tags.get(code, ()) if key in d]
        if op == "==":
            return any(_same(v, value) for v in found)
        if op == "!=":
            return any(not _same(v, value) for v in found)
        if op == "in":
            return any(any(_same(v, w) for w in value) for v in found)
        return any(not any(_same(v, w) for w in value) for v in found)
    actual: Any = facts.age if kind == "age" else getattr(facts, kind)
    if actual is None:
        return False
    if op == "in":
        return actual in value
    if op == "not in":
        return actual not in value
    return COMPARE[op](actual, value)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _same(stored: Any, wanted: Any) -> bool:
    """JSON equality: 1 and "1" differ, and so do True and 1."""
    return type(stored) is type(wanted) and stored == wanted

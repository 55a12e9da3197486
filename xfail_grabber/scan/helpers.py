"""Recognise a helper function that returns a mark, and keep that mark as a template.

    def _importorskip(modname, minversion=None):
        ...
        has = find_spec(modname) is not None
        reason = f"requires {modname}"
        return has, pytest.mark.skipif(not has, reason=reason)

becomes a `Helper` whose second returned value is `skipif(not (find_spec(<0>) is not None),
reason=<requires {0}>)`; `template.instantiate` fills it in for `_importorskip("x")`.

The helper's locals are followed the way Python runs the body, as far as that can be known
without running it: straight-line assignments at the top of the body (a reassignment, `+=`)
give a name its value from there on, and a mark sees the values its arguments had where it
was made. A top-level `if` whose branches only assign names gives them both values; a string
built from them is decided where the helper is called when the test is one of its parameters
(`if min_version: msg += f" >= {min_version}"`, as pandas' `skip_if_no` does), and is
otherwise kept as written. A name whose value depends on running code is kept as written,
never replaced by one of its values: one assigned in a loop, a `try`, a `with` or any other
branch (or as a loop variable, an `except ... as`, an import, a walrus), changed in place
(`names.append(x)`, `d[k] = v`), or bound to a mutable display (`[]`, `{}`). The same goes
for a parameter the body assigns that way: the call's argument may not be what the mark sees.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import libcst as cst

from .facts import Helper, Piece
from .flow import body_of, branches
from .marks import Arg, MarkSpec
from .params import constant, elements

if TYPE_CHECKING:
    from .cst import Walker

MAX_LOCAL_HOPS = 4
# A parameter inside a template's source text, while it is built (a cst.Name must be an
# identifier); `template.PLACEHOLDER` in the template itself.
PARAM_NAME = "__grabber_param_{}__"
PARAM_TEXT = re.compile(r"\b__grabber_param_([0-9]+)__\b")
# Values that are not one value (a name bound to them may change in place) or that bind
# names of their own: a local bound to one of these is kept as written.
OPAQUE_VALUES = (
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
    cst.Lambda,
    cst.Yield,
    cst.Await,
    cst.NamedExpr,
)
PERCENT = re.compile(r"(%%|%[sr])")
SCOPES = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


@dataclass(frozen=True)
class Bound:
    """A local's value where it was assigned, and what the names in it meant there."""

    expr: cst.BaseExpression
    env: Env


@dataclass(frozen=True)
class Choice:
    """A local given a value in each branch of a top-level `if` (`test` seen in `env`)."""

    test: cst.BaseExpression
    env: Env
    then: Value
    orelse: Value


# A name's value: where it was assigned (Bound, Choice), a parameter's number (int), or None:
# known to be unknown.
Value = Union[Bound, Choice, int, None]  # noqa: UP007 - a runtime alias: `|` needs classes
Env = Mapping[str, Value]


def build_helper(node: cst.FunctionDef, walker: Walker) -> Helper | None:
    from .cst import literal, source_of, to_args

    body = body_of(node.body)
    if not _may_return_a_mark(body, walker):
        return None  # most functions: the cheap look of the old days says no
    declared = (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
    params = [p.name.value for p in declared]
    opaque = _opaque(body, ":=" in walker.source)
    start: dict[str, Value] = {
        name: None if name in opaque else index for index, name in enumerate(params)
    }
    returns: list[tuple[cst.BaseExpression, Env]] = []
    firsts: dict[str, Bound] = {}
    _walk(body, start, True, opaque, returns, firsts)
    defaults = []
    for p in declared:
        if p.default is not None:
            ok, value = literal(p.default)
            defaults.append((p.name.value, Arg(None, source_of(p.default), value, ok)))

    made: list[tuple[int | None, MarkSpec, tuple[tuple[Piece, ...] | None, ...]]] = []
    for value, env in returns:
        value, env = _deref(value, env, firsts)
        items: list[tuple[int | None, cst.BaseExpression, Env]]
        if isinstance(value, cst.Tuple):
            items = [(i, *_deref(e.value, env, firsts)) for i, e in enumerate(value.elements)]
        else:
            items = [(None, value, env)]
        for index, expr, where in items:
            if any(i == index for i, _, _ in made):
                continue
            found = walker.resolve(expr)
            if found is None or not walker.counts(found.spec) or found.spec is None:
                continue
            spec = found.spec
            call_args = expr.args if isinstance(expr, cst.Call) else ()
            args: list[Arg] = []
            pieces: list[tuple[Piece, ...] | None] = []
            for arg, raw in zip(to_args(call_args), call_args, strict=True):
                if arg.name is not None and arg.name.startswith("*"):
                    args.append(arg)
                    pieces.append(None)
                    continue
                how = Expansion()
                target = _expand(raw.value, where, 0, how)
                text = PARAM_TEXT.sub(lambda m: f"\x00{m.group(1)}\x00", source_of(target))
                ok, result = literal(target)
                args.append(Arg(arg.name, text, result, ok))
                if how.met:  # the string may be decided where the helper is called
                    target = _expand(raw.value, where, 0, Expansion(choose=True))
                pieces.append(_pieces(target))
            # A mark alias returned as is keeps its own arguments.
            kept = spec.args[: len(spec.args) - len(args)] if args else spec.args
            made.append(
                (
                    index,
                    MarkSpec(spec.qualname, spec.marker, kept + tuple(args)),
                    (None,) * len(kept) + tuple(pieces),
                )
            )
    if not made:
        return None
    return Helper(tuple(params), tuple(defaults), tuple(made))


def _may_return_a_mark(body: Sequence[cst.BaseStatement], walker: Walker) -> bool:
    """Does a returned value (or an element of a returned tuple), through any value of the
    locals it names, name a mark? A superset of what `build_helper` finds, for a fraction
    of its cost: most functions return no mark."""
    returns: list[cst.BaseExpression] = []
    values: dict[str, list[cst.BaseExpression]] = {}
    _collect(body, returns, values)

    def marks(expr: cst.BaseExpression, depth: int, whole: bool) -> bool:
        if isinstance(expr, cst.Name) and expr.value in values:
            more = values[expr.value] if depth < MAX_LOCAL_HOPS else []
            return any(marks(v, depth + 1, whole) for v in more)
        if isinstance(expr, cst.Tuple) and whole:  # `return has, mark`
            return any(marks(e.value, depth, False) for e in expr.elements)
        found = walker.resolve(expr)
        return found is not None and walker.counts(found.spec)

    return any(marks(value, 0, True) for value in returns)


def _collect(
    body: Sequence[cst.BaseStatement],
    returns: list[cst.BaseExpression],
    values: dict[str, list[cst.BaseExpression]],
) -> None:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    returns.append(small.value)
                elif isinstance(small, cst.Assign | cst.AnnAssign) and small.value is not None:
                    targets = small.targets if isinstance(small, cst.Assign) else [small]
                    for target in targets:
                        if isinstance(target.target, cst.Name):
                            values.setdefault(target.target.value, []).append(small.value)
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            for inner, _ in branches(stmt, None):
                _collect(inner, returns, values)


def _walk(
    body: Sequence[cst.BaseStatement],
    env: dict[str, Value],
    top: bool,
    opaque: set[str],
    returns: list[tuple[cst.BaseExpression, Env]],
    firsts: dict[str, Bound],
) -> None:
    """Returns with the locals they see, locals' first values (to find a returned mark even
    when it is assigned in a branch); `env` moves along the top level of the body."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    returns.append((small.value, dict(env)))
                    continue
                assigned: list[tuple[str, cst.BaseExpression]] = []
                if isinstance(small, cst.Assign):
                    names = [t.target for t in small.targets if isinstance(t.target, cst.Name)]
                    assigned = [(n.value, small.value) for n in names]
                elif isinstance(small, cst.AnnAssign) and small.value is not None:
                    if isinstance(small.target, cst.Name):
                        assigned = [(small.target.value, small.value)]
                elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
                    name = small.target.value
                    if isinstance(small.operator, cst.AddAssign) and env.get(name) is not None:
                        # `reason += "..."`: `reason + "..."` with the value it had
                        grown = cst.BinaryOperation(cst.Name(name), cst.Add(), small.value)
                        assigned = [(name, grown)]
                    elif top:
                        env[name] = None
                for name, value in assigned:
                    bound = Bound(value, dict(env))
                    firsts.setdefault(name, bound)
                    if top and name not in opaque:
                        env[name] = bound
        elif top and isinstance(stmt, cst.If) and _assigns_only(stmt):
            _choose(stmt, env, opaque, returns, firsts)
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            for inner, _ in branches(stmt, None):
                _walk(inner, dict(env), False, opaque, returns, firsts)


def _choose(
    stmt: cst.If,
    env: dict[str, Value],
    opaque: set[str],
    returns: list[tuple[cst.BaseExpression, Env]],
    firsts: dict[str, Bound],
) -> None:
    """`if test: a = ... else: a = ...` (elif, or no else): each name the branches assign
    gets a Choice between its values after each branch."""
    then = dict(env)
    _walk(body_of(stmt.body), then, True, opaque, returns, firsts)
    orelse = dict(env)
    if isinstance(stmt.orelse, cst.If):
        _choose(stmt.orelse, orelse, opaque, returns, firsts)
    elif isinstance(stmt.orelse, cst.Else):
        _walk(body_of(stmt.orelse.body), orelse, True, opaque, returns, firsts)
    test_env = dict(env)
    for name in then.keys() | orelse.keys():
        first, second = then.get(name), orelse.get(name)
        if first is second:
            continue
        both = first is not None and second is not None
        env[name] = Choice(stmt.test, test_env, first, second) if both else None


def _assigns_only(stmt: cst.If) -> bool:
    """Branches that only assign names (`a = ...`, `a += ...`), elif and else included."""
    node: cst.If | cst.Else | None = stmt
    while node is not None:
        for line in body_of(node.body):
            if not isinstance(line, cst.SimpleStatementLine):
                return False
            for small in line.body:
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AugAssign | cst.AnnAssign):
                    targets = [small.target]
                elif isinstance(small, cst.Pass):
                    targets = []
                else:
                    return False
                if not all(isinstance(t, cst.Name) for t in targets):
                    return False
        node = node.orelse if isinstance(node, cst.If) else None
    return True


def _deref(
    expr: cst.BaseExpression, env: Env, firsts: dict[str, Bound]
) -> tuple[cst.BaseExpression, Env]:
    """A returned name's value. One assigned in a branch gives its first value here: which
    mark a helper returns is worth a record even when a branch decides it."""
    for _ in range(MAX_LOCAL_HOPS):
        if not isinstance(expr, cst.Name) or isinstance(env.get(expr.value), int):
            break
        bound = env.get(expr.value)
        if not isinstance(bound, Bound):
            bound = firsts.get(expr.value)
        if bound is None:
            break
        expr, env = bound.expr, bound.env
    return expr, env


@dataclass
class Expansion:
    """How locals a branch decides are expanded: kept as written, or with `choose` as
    `a if test else b`; `met` says whether one was seen."""

    choose: bool = False
    met: bool = False


def _expand(expr: cst.BaseExpression, env: Env, depth: int, how: Expansion) -> cst.BaseExpression:
    """The expression with its locals replaced by their values and its parameters by
    placeholders; a replacement is parenthesized unless it is an atom."""
    if isinstance(expr, cst.Name):
        return _value_of(expr, env, depth, how, top=True)
    if not env:
        return expr
    return expr.visit(_Substitute(env, depth, how))  # type: ignore[return-value]


def _value_of(
    name: cst.Name, env: Env, depth: int, how: Expansion, top: bool
) -> cst.BaseExpression:
    result = _resolved(name, env.get(name.value), depth, how)
    return result if top else _paren(result)


def _resolved(name: cst.Name, value: Value, depth: int, how: Expansion) -> cst.BaseExpression:
    if isinstance(value, int):
        return name.with_changes(value=PARAM_NAME.format(value))
    if depth >= MAX_LOCAL_HOPS:
        return name
    if isinstance(value, Bound) and not isinstance(value.expr, OPAQUE_VALUES):
        return _expand(value.expr, value.env, depth + 1, how)
    if isinstance(value, Choice):
        how.met = True
        if how.choose:
            return cst.IfExp(
                test=_expand(value.test, value.env, depth + 1, how),
                body=_paren(_resolved(name, value.then, depth + 1, how)),
                orelse=_paren(_resolved(name, value.orelse, depth + 1, how)),
            )
    return name


def _paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(expr, ATOMS) or getattr(expr, "lpar", None):
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.List,
    cst.Dict,
    cst.Set,
)


class _Substitute(cst.CSTTransformer):
    def __init__(self, env: Env, depth: int, how: Expansion) -> None:
        super().__init__()
        self.env = env
        self.depth = depth
        self.how = how

    def on_visit(self, node: cst.CSTNode) -> bool:
        return not isinstance(node, SCOPES)  # names bound inside: left as written

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return _value_of(updated, self.env, self.depth, self.how, top=False)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)  # `x.name`: not the local `name`

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        return updated.with_changes(keyword=original.keyword)  # `f(name=...)`


def _opaque(body: Sequence[cst.BaseStatement], walruses: bool) -> set[str]:
    """Names whose value at a point cannot be known by reading the top level in order
    (`walruses`: the file has a `:=` somewhere, so a walk of the body looks for them)."""
    names: set[str] = set()
    _opaque_statements(body, True, names)
    for walrus in _NamedExprs.of(body) if walruses else ():
        if isinstance(walrus.target, cst.Name):
            names.add(walrus.target.value)
    return names


def _opaque_statements(body: Sequence[cst.BaseStatement], top: bool, names: set[str]) -> None:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _opaque_small(small, top, names)
            continue
        if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            names.add(stmt.name.value)
            continue
        if top and isinstance(stmt, cst.If) and _assigns_only(stmt):
            for inner, _ in branches(stmt, None):
                _opaque_statements(inner, True, names)  # followed: see _choose
            continue
        if isinstance(stmt, cst.For):
            names.update(_target_names(stmt.target))
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    names.update(_target_names(item.asname.name))
        elif isinstance(stmt, cst.Try | cst.TryStar):
            for handler in stmt.handlers:
                if handler.name is not None:
                    names.update(_target_names(handler.name.name))
        for inner, _ in branches(stmt, None):
            _opaque_statements(inner, False, names)


def _opaque_small(small: cst.BaseSmallStatement, top: bool, names: set[str]) -> None:
    targets: list[cst.BaseExpression] = []
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
    elif isinstance(small, cst.AnnAssign | cst.AugAssign | cst.Del):
        targets = [small.target]
    elif isinstance(small, cst.Global | cst.Nonlocal):
        names.update(n.name.value for n in small.names)
    elif isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
        small.names, cst.ImportStar
    ):
        for alias in small.names:
            bound: cst.BaseExpression = alias.asname.name if alias.asname else alias.name
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                names.add(bound.value)
    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func  # `found.append(x)`: changed in place
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            names.add(func.value.value)
    for target in targets:
        if isinstance(target, cst.Name):
            if not top or isinstance(small, cst.Del):
                names.add(target.value)
        else:
            names.update(_target_names(target))


def _target_names(target: cst.BaseExpression) -> set[str]:
    """Names an assignment target binds or changes (`a, b`, `*rest`, `d[k]`, `x.attr`)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        found: set[str] = set()
        for element in target.elements:
            found |= _target_names(element.value)
        return found
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    if isinstance(target, cst.Subscript | cst.Attribute):
        return _target_names(target.value)
    return set()


class _NamedExprs(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.NamedExpr] = []

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.found.append(node)

    @classmethod
    def of(cls, body: Sequence[cst.BaseStatement]) -> list[cst.NamedExpr]:
        visitor = cls()
        for stmt in body:
            stmt.visit(visitor)
        return visitor.found


def _pieces(expr: cst.BaseExpression) -> tuple[Piece, ...] | None:
    """A string's parts, when it is built from literals and parameters only (`+`, f-strings,
    `str.format`, `%`): text, and where it formats a parameter, its number (`f"{x}"`),
    `("r", n)` for `f"{x!r}"`, `("+", n)` for `"..." + x` (a string is needed there),
    `(test, n, then, else)` for a choice on a parameter (facts.Piece). None for anything
    else."""
    if isinstance(expr, cst.IfExp):
        test = _test(expr.test)
        then, orelse = _pieces(expr.body), _pieces(expr.orelse)
        if test is None or then is None or orelse is None:
            return None
        return ((test[0], test[1], then, orelse),)
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return (value,) if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left, right = _pieces(expr.left), _pieces(expr.right)
        return left + right if left is not None and right is not None else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        parts = []
        for side in (expr.left, expr.right):
            number = _param(side)
            found = (("+", number),) if number is not None else _pieces(side)
            if found is None:
                return None
            parts.append(found)
        return parts[0] + parts[1]
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
        return _percent(expr.left, expr.right)
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        if expr.func.attr.value == "format":
            return _format(expr.func.value, expr.args)
        return None
    if not isinstance(expr, cst.FormattedString) or "b" in expr.prefix.lower():
        return None
    result: list[Piece] = []
    for part in expr.parts:
        if isinstance(part, cst.FormattedStringText):
            if "\\" in part.value and "r" not in expr.prefix.lower():
                return None  # escapes: the text as written is not the value
            result.append(part.value.replace("{{", "{").replace("}}", "}"))
            continue
        if not isinstance(part, cst.FormattedStringExpression) or part.format_spec is not None:
            return None
        found = _formatted(part.expression, part.conversion or "s")
        if found is None:
            return None  # a value known only when the code runs
        result.extend(found)
    return tuple(result)


def _formatted(expr: cst.BaseExpression, conversion: str) -> tuple[Piece, ...] | None:
    """A value as `f"{x}"` (conversion "s") or `f"{x!r}"` ("r") formats it."""
    number = _param(expr)
    if number is not None and conversion in ("s", "r"):
        return (number if conversion == "s" else ("r", number),)
    ok, value = constant(expr)
    if ok and conversion in ("s", "r") and not isinstance(value, bytes):
        return (str(value) if conversion == "s" else repr(value),)
    return _pieces(expr) if conversion == "s" else None


def _format(template: cst.BaseExpression, args: Sequence[cst.Arg]) -> tuple[Piece, ...] | None:
    """`"requires {}".format(name)`: plain fields (`{}`, `{0}`, `{name}`, `!r`) only."""
    ok, text = constant(template)
    if not ok or not isinstance(text, str) or any(a.star for a in args):
        return None
    positional = [a.value for a in args if a.keyword is None]
    named = {a.keyword.value: a.value for a in args if a.keyword is not None}
    result: list[Piece] = []
    auto = 0
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return None
    for literal_text, field, spec, conversion in fields:
        result.append(literal_text)
        if field is None:
            continue
        if spec or "." in field or "[" in field:
            return None
        if field == "":
            field, auto = str(auto), auto + 1
        if field.isdigit():
            value = positional[int(field)] if int(field) < len(positional) else None
        else:
            value = named.get(field)
        if value is None:
            return None  # Python raises: IndexError or KeyError
        found = _formatted(value, conversion or "s")
        if found is None:
            return None
        result.extend(found)
    return tuple(p for p in result if p != "")


def _percent(template: cst.BaseExpression, right: cst.BaseExpression) -> tuple[Piece, ...] | None:
    """`"requires %s" % name`, `"%s and %r" % (a, b)`: `%s`, `%r` and `%%` only."""
    ok, text = constant(template)
    if not ok or not isinstance(text, str):
        return None
    values = list(elements(right)) if isinstance(right, cst.Tuple) else [right]
    if not isinstance(right, cst.Tuple) and _param(right) is None and not constant(right)[0]:
        return None  # a name that may hold a tuple
    result: list[Piece] = []
    parts = PERCENT.split(text)
    for index, part in enumerate(parts):
        if index % 2 == 0:
            if "%" in part:
                return None  # a directive other than %s, %r, %%
            result.append(part)
        elif part == "%%":
            result.append("%")
        else:
            if not values:
                return None
            found = _formatted(values.pop(0), part[1])
            if found is None:
                return None
            result.extend(found)
    return tuple(p for p in result if p != "") if not values else None


def _test(expr: cst.BaseExpression) -> tuple[str, int] | None:
    """A test on a parameter alone: `x`, `not x`, `x is None`, `x is not None`."""
    number = _param(expr)
    if number is not None:
        return "if", number
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
        number = _param(expr.expression)
        return ("if not", number) if number is not None else None
    if isinstance(expr, cst.Comparison) and len(expr.comparisons) == 1:
        number = _param(expr.left)
        target = expr.comparisons[0]
        none = isinstance(target.comparator, cst.Name) and target.comparator.value == "None"
        if number is not None and none and isinstance(target.operator, cst.Is | cst.IsNot):
            return ("is None" if isinstance(target.operator, cst.Is) else "is not None"), number
    return None


def _param(expr: cst.BaseExpression) -> int | None:
    if isinstance(expr, cst.Name):
        match = PARAM_TEXT.fullmatch(expr.value)
        if match:
            return int(match.group(1))
    return None

"""Recognise a helper function that returns a mark, and keep that mark as a template.

    def _importorskip(modname, minversion=None):
        ...
        reason = f"requires {modname}"
        return has, pytest.mark.skipif(not has, reason=reason)

becomes a `Helper` whose second returned value is `skipif(not has, reason=<requires
{0}>)`; `template.instantiate` fills it in for `_importorskip("x")`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from .facts import Helper
from .flow import body_of, branches
from .marks import Arg, MarkSpec

if TYPE_CHECKING:
    from .cst import Walker

MAX_LOCAL_HOPS = 4


def build_helper(node: cst.FunctionDef, walker: Walker) -> Helper | None:
    from .cst import literal, source_of, to_args

    returns: list[cst.BaseExpression] = []
    local: dict[str, cst.BaseExpression] = {}
    _collect(body_of(node.body), returns, local)
    if not returns:
        return None
    params = [
        p.name.value
        for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
    ]
    for name in params:
        local.pop(name, None)
    defaults = []
    for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
        if p.default is not None:
            ok, value = literal(p.default)
            defaults.append((p.name.value, Arg(None, source_of(p.default), value, ok)))

    def deref(expr: cst.BaseExpression) -> cst.BaseExpression:
        for _ in range(MAX_LOCAL_HOPS):
            if isinstance(expr, cst.Name) and expr.value in local:
                expr = local[expr.value]
            else:
                break
        return expr

    made: list[tuple[int | None, MarkSpec, tuple[tuple[str | int, ...] | None, ...]]] = []
    for value in returns:
        value = deref(value)
        items: list[tuple[int | None, cst.BaseExpression]]
        if isinstance(value, cst.Tuple):
            items = [(i, deref(e.value)) for i, e in enumerate(value.elements)]
        else:
            items = [(None, value)]
        for index, expr in items:
            if any(i == index for i, _, _ in made):
                continue
            found = walker.resolve(expr)
            if found is None or not walker.counts(found.spec) or found.spec is None:
                continue
            spec = found.spec
            call_args = expr.args if isinstance(expr, cst.Call) else ()
            args, pieces = [], []
            for arg, raw in zip(to_args(call_args), call_args, strict=True):
                target = deref(raw.value)
                text = _placeholders(source_of(target), params)
                if target is raw.value:
                    args.append(Arg(arg.name, text, arg.value, arg.literal))
                else:
                    ok, result = literal(target)
                    args.append(Arg(arg.name, text, result, ok))
                pieces.append(_pieces(target, params))
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


def _collect(
    body: Sequence[cst.BaseStatement],
    returns: list[cst.BaseExpression],
    local: dict[str, cst.BaseExpression],
) -> None:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and small.value is not None:
                    returns.append(small.value)
                elif isinstance(small, cst.Assign) and len(small.targets) == 1:
                    target = small.targets[0].target
                    if isinstance(target, cst.Name) and target.value not in local:
                        local[target.value] = small.value
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            for inner, _ in branches(stmt, None):
                _collect(inner, returns, local)


def _placeholders(text: str, params: list[str]) -> str:
    if not params:
        return text
    # A parameter's name, but not an attribute (`x.name`) or a keyword (`name=`).
    names = "|".join(re.escape(p) for p in params)
    pattern = r"(?<![\w.])(" + names + r")(?!\w)(?!\s*=(?!=))"
    return re.sub(pattern, lambda m: f"\x00{params.index(m.group(1))}\x00", text)


def _pieces(expr: cst.BaseExpression, params: list[str]) -> tuple[str | int, ...] | None:
    """An f-string's parts: text, and parameter numbers where it formats a parameter."""
    from .cst import source_of

    if not isinstance(expr, cst.FormattedString) or "b" in expr.prefix.lower():
        return None
    result: list[str | int] = []
    for part in expr.parts:
        if isinstance(part, cst.FormattedStringText):
            result.append(part.value.replace("{{", "{").replace("}}", "}"))
        elif not isinstance(part, cst.FormattedStringExpression):
            return None
        elif (
            isinstance(part.expression, cst.Name)
            and part.expression.value in params
            and part.conversion is None
            and part.format_spec is None
        ):
            result.append(params.index(part.expression.value))
        else:
            result.append("{" + source_of(part.expression) + "}")
    return tuple(result)

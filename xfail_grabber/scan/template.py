"""Marks made by helper functions: `requires_x = _importorskip("x")`, `@skip_if_no("pkg")`.

A helper's returned mark is kept as a template (facts.Helper): argument texts with
`\\x00N\\x00` where the helper used its Nth parameter, and for string arguments built from
literals and parameters (`f"requires {modname}"`, `"requires " + modname`) the pieces of the
string. A call site fills them with its literal arguments (or the parameter's default). Pure:
used by the walker for helpers of the same file and by the linker for imported ones, never
touching source.
"""

from __future__ import annotations

import re

from .facts import Helper, Piece
from .marks import Arg, MarkSpec

PLACEHOLDER = re.compile("\x00([0-9]+)\x00")


def bind(helper: Helper, call: tuple[Arg, ...]) -> list[Arg]:
    """The call's argument for each helper parameter (its default, else its name)."""
    defaults = dict(helper.defaults)
    values = [defaults.get(name) or Arg(None, name) for name in helper.params]
    positional = [a for a in call if a.name is None]
    for index, arg in enumerate(positional[: len(values)]):
        values[index] = arg
    for arg in call:
        if arg.name in helper.params:
            values[helper.params.index(arg.name)] = arg
    return values


def instantiate(helper: Helper, call: tuple[Arg, ...], index: int | None) -> MarkSpec | None:
    """The mark a call of the helper returns (element `index` of a returned tuple)."""
    values = bind(helper, call)
    for returned_index, template, pieces in helper.returns:
        if returned_index != index:
            continue
        args = tuple(
            _fill(arg, piece, values) for arg, piece in zip(template.args, pieces, strict=True)
        )
        return MarkSpec(template.qualname, template.marker, args)
    return None


def _fill(arg: Arg, pieces: tuple[Piece, ...] | None, values: list[Arg]) -> Arg:
    if pieces is not None:
        texts = [_piece(p, values) for p in pieces]
        if all(t is not None for t in texts):
            text = "".join(t for t in texts if t is not None)
            return Arg(arg.name, repr(text), text, literal=True)
    if "\x00" not in arg.text:
        return arg
    whole = PLACEHOLDER.fullmatch(arg.text)
    if whole:  # `reason=reason`: the call's argument itself, a literal where it is one
        value = values[int(whole.group(1))]
        return Arg(arg.name, value.text, value.value, value.literal)

    def replace(match: re.Match[str]) -> str:
        return values[int(match.group(1))].text

    return Arg(arg.name, PLACEHOLDER.sub(replace, arg.text))


def _piece(piece: Piece, values: list[Arg]) -> str | None:
    """A piece's text, or None when the value it needs is not a literal (or, for `+`, not a
    string: Python would raise)."""
    if isinstance(piece, str):
        return piece
    if isinstance(piece, tuple) and len(piece) == 4:
        test, number, then, orelse = piece
        value = values[number]
        if not value.literal:
            return None
        taken = {
            "if": bool(value.value),
            "if not": not value.value,
            "is None": value.value is None,
            "is not None": value.value is not None,
        }[test]
        texts = [_piece(p, values) for p in (then if taken else orelse)]
        return "".join(t for t in texts if t is not None) if None not in texts else None
    how, number = ("s", piece) if isinstance(piece, int) else piece
    value = values[number]
    if not value.literal or (how == "+" and not isinstance(value.value, str)):
        return None
    if how == "r":
        return repr(value.value)
    return value.value if isinstance(value.value, str) else repr(value.value)

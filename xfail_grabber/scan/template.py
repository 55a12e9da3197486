"""Marks made by helper functions: `requires_x = _importorskip("x")`, `@skip_if_no("pkg")`.

A helper's returned mark is kept as a template (facts.Helper): argument texts with
`\\x00N\\x00` where the helper used its Nth parameter, and for string arguments built from
parameters (`f"requires {modname}"`) the pieces of the string. A call site fills them with
its literal arguments (or the parameter's default). Pure: used by the walker for helpers of
the same file and by the linker for imported ones, never touching source.
"""

from __future__ import annotations

import re

from .facts import Helper
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


def _fill(arg: Arg, pieces: tuple[str | int, ...] | None, values: list[Arg]) -> Arg:
    if pieces is not None and all(isinstance(p, str) or values[p].literal for p in pieces):
        text = "".join(p if isinstance(p, str) else _as_text(values[p]) for p in pieces)
        return Arg(arg.name, repr(text), text, literal=True)
    if "\x00" not in arg.text:
        return arg

    def replace(match: re.Match[str]) -> str:
        return values[int(match.group(1))].text

    return Arg(arg.name, PLACEHOLDER.sub(replace, arg.text))


def _as_text(arg: Arg) -> str:
    return arg.value if isinstance(arg.value, str) else repr(arg.value)

"""Control flow around a mute: the blocks of a compound statement and the condition of each.

A mute under `if sys.platform == "win32":` is a guard, not debt; the record keeps the
condition's source text. `elif` and `else` branches say what they stand for
(`not (a) and b`), an `except ImportError:` handler says `except ImportError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import libcst as cst

from .marks import one_line

EMPTY_MODULE = cst.Module(body=[])


# A condition that needs parentheses to be one operand of `and`.
LOOSE = re.compile(r"\bor\b|\bif\b|\blambda\b|:=")


def _source(node: cst.CSTNode) -> str:
    # one line, comments dropped, string literals untouched
    return one_line(EMPTY_MODULE.code_for_node(node).strip())


def both(outer: str | None, inner: str | None) -> str | None:
    """`outer and inner`, each parenthesized where `and` would bind tighter than it."""
    if outer and inner:
        return f"{_operand(outer)} and {_operand(inner)}"
    return outer or inner


STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
BRACKETS = re.compile(r"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}")


def _operand(text: str) -> str:
    """Parenthesized when an `or`, a conditional or a lambda sits outside any bracket."""
    top = STRING.sub("''", text)
    for _ in range(100):
        inner = BRACKETS.sub("_", top)
        if inner == top:
            break
        top = inner
    return f"({text})" if LOOSE.search(top) else text


def body_of(suite: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    if isinstance(suite, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=suite.body)]
    return []


def branches(
    stmt: cst.BaseStatement, condition: str | None
) -> Iterator[tuple[Sequence[cst.BaseStatement], str | None]]:
    """(statements, condition under which they run) for each block of a compound statement."""
    if isinstance(stmt, cst.If):
        yield from _if_branches(stmt, condition)
    elif isinstance(stmt, cst.Try | cst.TryStar):
        yield body_of(stmt.body), condition
        caught = []
        for handler in stmt.handlers:
            what = f"except {_source(handler.type)}" if handler.type is not None else "except"
            caught.append(what)
            yield body_of(handler.body), both(condition, what)
        if stmt.orelse is not None:
            guard = f"not ({' or '.join(caught)})" if caught else None
            yield body_of(stmt.orelse.body), both(condition, guard)
        if stmt.finalbody is not None:
            yield body_of(stmt.finalbody.body), condition
    elif isinstance(stmt, cst.For | cst.While):
        yield body_of(stmt.body), condition
        if stmt.orelse is not None:
            yield body_of(stmt.orelse.body), condition
    elif isinstance(stmt, cst.With):
        yield body_of(stmt.body), condition
    elif isinstance(stmt, cst.Match):
        for case in stmt.cases:
            pattern = f"case {_source(case.pattern)}"
            if case.guard is not None:
                pattern += f" if {_source(case.guard)}"
            yield body_of(case.body), both(condition, pattern)


def _if_branches(
    stmt: cst.If, condition: str | None
) -> Iterator[tuple[Sequence[cst.BaseStatement], str | None]]:
    tests: list[str] = []
    node: cst.If | cst.Else | None = stmt
    while node is not None:
        if isinstance(node, cst.If):
            test = _source(node.test)
            here = " and ".join([*(f"not ({t})" for t in tests), _operand(test)]) if tests else test
            yield body_of(node.body), both(condition, here)
            tests.append(test)
            node = node.orelse
        else:
            yield body_of(node.body), both(condition, " and ".join(f"not ({t})" for t in tests))
            node = None

"""The fallback for files libcst cannot parse (Python 2, merge conflicts, huge or odd files).

Unlike the original tool's single regex, this one works line by line on decorators: every
`@...` line (and its continuation lines, up to the balancing parenthesis) above a `def` is
read on its own, so stacked marks are all found and keyword order does not matter. It knows
less than the libcst walker (no aliases, no inheritance, no parametrize cases) and says so in
each record: `"parser": "regex"`.

It reads hostile files too (a 10 MB string literal, a 2 MB list), so its work is linear in
the file's size: string patterns are possessive (no backtracking stack per character), a
name pattern starts only at the start of a word, and a call's text is joined once.
"""

from __future__ import annotations

import ast
import re

from ..config import Settings
from ..model import MutedTest
from .marks import Arg, MarkSpec, Target, kind_of, make_record
from .tickets import comment_ticket

DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?def[ \t]+(?P<name>\w+)")
CLASS = re.compile(r"^(?P<indent>[ \t]*)class[ \t]+(?P<name>\w+)[ \t]*(?:\((?P<bases>[^)]*)\))?")
DECORATOR = re.compile(r"^[ \t]*@[ \t]*(?P<expr>[\w.]+)[ \t]*(?P<rest>.*)$")
IMPERATIVE = re.compile(r"^[ \t]*(?P<call>pytest\.skip|pytest\.xfail|self\.skipTest)[ \t]*\(")
QUOTED = r"\"[^\"\\]*+(?:\\.[^\"\\]*+)*+\"|'[^'\\]*+(?:\\.[^'\\]*+)*+'"
KWARG = re.compile(r"(?<!\w)(?P<name>\w++)[ \t]*+=[ \t]*+(?P<value>" + QUOTED + r"|[\w.]++)")
STRING = re.compile(r"^[ \t]*+(?P<value>" + QUOTED + ")")
PYTESTMARK = re.compile(r"(?<![\w.])([\w.]+\.mark\.\w++)[ \t]*+(\((?:[^()]++|\([^()]*+\))*+\))?")
MAX_CONTINUATION_LINES = 50


def _value(text: str) -> Arg:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return Arg(None, text)
    if isinstance(value, str | int | float | bool) or value is None:
        return Arg(None, text, value, True)
    return Arg(None, text)


def _args(inner: str) -> tuple[Arg, ...]:
    args: list[Arg] = []
    first = STRING.match(inner)
    if first:
        args.append(_value(first.group("value")))
    for match in KWARG.finditer(inner):
        value = _value(match.group("value"))
        args.append(Arg(match.group("name"), value.text, value.value, value.literal))
    return tuple(args)


def _balanced_call(lines: list[str], start: int, rest: str) -> tuple[str, int]:
    """The text inside the parentheses that open in `rest` (possibly over several lines)."""
    if not rest.startswith("("):
        return "", start
    parts = [rest]
    end = start
    depth = rest.count("(") - rest.count(")")
    while depth > 0 and end + 1 < len(lines) and end - start < MAX_CONTINUATION_LINES:
        end += 1
        parts.append(lines[end])
        depth += lines[end].count("(") - lines[end].count(")")
    inner = "\n".join(parts)[1:]
    close = inner.rfind(")")
    return (inner[:close] if close >= 0 else inner), end


def _qualname(expr: str) -> tuple[str, str] | None:
    parts = expr.split(".")
    name = parts[-1]
    if len(parts) >= 2 and parts[-2] == "mark":
        return f"pytest.mark.{name}", name
    if name in ("skip", "skipIf", "skipUnless", "expectedFailure") and (
        len(parts) == 1 or parts[-2] == "unittest"
    ):
        return f"unittest.{name}", name
    if name == "flaky" and len(parts) <= 2:
        return "flaky.flaky", "flaky"
    return None


def scan_text(text: str, path: str, settings: Settings) -> tuple[MutedTest, ...]:
    discovery = settings.discovery
    lines = text.split("\n")
    records: list[MutedTest] = []
    pending: list[tuple[MarkSpec, int]] = []  # decorators seen since the last def/class
    classes: list[tuple[int, str, bool]] = []  # (indent, name, collected)
    class_marks: dict[str, list[tuple[MarkSpec, int]]] = {}
    module_marks: list[tuple[MarkSpec, int]] = []
    current: tuple[str, int, int] | None = None  # (test name, def line, indent) for bodies
    tests: list[Target] = []  # pytestmark may come after the tests it marks
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" \t"))
        if stripped and not stripped.startswith(("#", "@", ")")):
            while classes and indent <= classes[-1][0] and not stripped.startswith("class"):
                classes.pop()
            if current and indent <= current[2]:
                current = None
        decorator = DECORATOR.match(line)
        if decorator:
            inner, end = _balanced_call(lines, index, decorator.group("rest"))
            found = _qualname(decorator.group("expr"))
            if found:
                pending.append((MarkSpec(found[0], found[1], _args(inner)), index + 1))
            index = end + 1
            continue
        if stripped.startswith("pytestmark"):
            inner = stripped.split("=", 1)[-1]
            for match in PYTESTMARK.finditer(inner):
                found = _qualname(match.group(1))
                if found:
                    spec = MarkSpec(found[0], found[1], _args((match.group(2) or "()")[1:-1]))
                    bucket = (
                        class_marks.setdefault(classes[-1][1], [])
                        if classes and indent > classes[-1][0]
                        else module_marks
                    )
                    bucket.append((spec, index + 1))
        klass = CLASS.match(line)
        if klass:
            while classes and len(klass.group("indent")) <= classes[-1][0]:
                classes.pop()
            name = klass.group("name")
            bases = klass.group("bases") or ""
            collected = discovery.is_test_class(name) or "TestCase" in bases
            classes.append((len(klass.group("indent")), name, collected))
            class_marks[name] = list(pending)
            pending = []
        function = DEF.match(line)
        if function:
            name = function.group("name")
            fn_indent = len(function.group("indent"))
            in_class = [c for c in classes if c[0] < fn_indent]
            is_test = discovery.is_test_function(name) and (not in_class or in_class[-1][2])
            if is_test:
                test = "::".join([c[1] for c in in_class] + [name])
                marks = [("function", m) for m in pending]
                marks += [("class", m) for c in in_class for m in class_marks.get(c[1], [])]
                tests.append(Target(path, test, index + 1, "module"))
                top = pending[0][1] if pending else index + 1
                for scope, (spec, mark_line) in marks:
                    lines_near = [mark_line, index + 1] if scope == "function" else [mark_line]
                    hint = comment_ticket(lines, lines_near, top if scope == "function" else 0)
                    target = Target(path, test, index + 1, scope)
                    _emit(records, spec, target, mark_line, settings, hint)
                current = (test, index + 1, fn_indent)
            else:
                current = None
            pending = []
        elif current is not None:
            call = IMPERATIVE.match(line)
            if call:
                inner, _ = _balanced_call(lines, index, line[call.end() - 1 :].lstrip())
                name = call.group("call")
                spec = MarkSpec(
                    "skipTest" if name == "self.skipTest" else name,
                    name.split(".")[-1] if name == "self.skipTest" else name,
                    _args(inner),
                )
                target = Target(path, current[0], current[1], "body")
                hint = comment_ticket(lines, [index + 1], index + 1)
                _emit(records, spec, target, index + 1, settings, hint)
        index += 1
    for target in tests:
        for spec, mark_line in module_marks:
            _emit(records, spec, target, mark_line, settings)
    return tuple(records)


def _emit(
    records: list[MutedTest],
    spec: MarkSpec,
    target: Target,
    mark_line: int,
    settings: Settings,
    hint: str | None = None,
) -> None:
    classified = kind_of(spec, settings.mark_names, settings.retry_flaky)
    if classified is None or not settings.wants(classified[0]):
        return
    records.append(
        make_record(spec, target, mark_line, *classified, parser="regex", ticket_hint=hint)
    )

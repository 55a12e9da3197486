"""What a muting mark means: kind, category and metadata, from its evaluated arguments.

Both parsers (libcst and the regex fallback) reduce a mark to a `MarkSpec`: the qualified
name it resolves to and its arguments as `Arg`s (source text plus the literal value when the
argument is a literal). Everything here is pure and picklable, so specs travel to worker
processes, into the scan cache and across files (imported aliases).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import MutedTest
from .tickets import comment_of, find_ticket

NOT_LITERAL: Any = None


@dataclass(frozen=True)
class Arg:
    name: str | None  # None for a positional argument
    text: str  # source text as written
    value: Any = NOT_LITERAL  # the literal's value (str, int, float, bool, None) ...
    literal: bool = False  # ... when this is True

    def shown(self) -> Any:
        return self.value if self.literal else self.text


@dataclass(frozen=True)
class MarkSpec:
    """A mark (or unittest decorator, or imperative call) with its arguments."""

    qualname: str  # pytest.mark.xfailflake, unittest.skipIf, flaky.flaky, pytest.skip, ...
    marker: str  # the form as written: xfailflake, skipIf, flaky, pytest.skip, skipTest
    args: tuple[Arg, ...] = ()

    def called_with(self, args: tuple[Arg, ...]) -> MarkSpec:
        """An alias called again: pytest merges the new arguments over the old ones."""
        names = {a.name for a in args if a.name}
        kept = tuple(a for a in self.args if a.name is None or a.name not in names)
        return MarkSpec(self.qualname, self.marker, kept + args)


@dataclass(frozen=True)
class Target:
    """Where a mark lands: one collected test (or one parametrized case of it)."""

    path: str
    test: str  # `test`, `Class::test`, `test[id]`
    line: int
    scope: str
    param_index: int | None = None  # a marked pytest.param value: its index ...
    param_id: str | None = None  # ... and pytest's id for it (None: cannot be known)
    cases: int | None = None  # collected items this target stands for (None: unknown)
    # The file that defines the test function, holding `line`, when it is not `path`: a
    # method inherited from a base class in another file.
    def_path: str | None = None


UNITTEST_KINDS = {
    "skip": ("unittest-skip", "muted"),
    "skipIf": ("unittest-skip", "conditional"),
    "skipUnless": ("unittest-skip", "conditional"),
    "expectedFailure": ("expectedFailure", "muted"),
    "SkipTest": ("imperative-skip", "muted"),
}
IMPERATIVE_KINDS = {
    "pytest.skip": "imperative-skip",
    "pytest.xfail": "imperative-xfail",
    "skipTest": "imperative-skip",
    "SkipTest": "imperative-skip",
}
TRIAL_KINDS = {"twisted.trial.skip": "trial-skip", "twisted.trial.todo": "trial-todo"}
TICKET_KEYS = ("jira", "ticket", "issue", "bug")


def kind_of(
    spec: MarkSpec, mark_names: tuple[str, ...], retry_flaky: bool = True
) -> tuple[str, str] | None:
    """(kind, category) of a mark, or None when it does not mute anything we report.

    `retry_flaky` is False when the project registers its own `flaky` marker: then
    `pytest.mark.flaky` is one of its custom markers, not a rerun plugin's.
    """
    qualname = spec.qualname
    if qualname.startswith("pytest.mark."):
        name = qualname.removeprefix("pytest.mark.")
        if name not in mark_names:
            return None
        if name == "flaky" and retry_flaky:
            return "flaky", "retry"
        if name in ("skipif", "xfail"):
            return name, "muted" if _always(_condition_arg(spec, name)) else "conditional"
        if name == "skip":
            return "skip", "muted"
        return name, "conditional" if _named(spec, "condition") is not None else "muted"
    if qualname == "flaky.flaky":
        return ("flaky", "retry") if "flaky" in mark_names else None
    if qualname.startswith("unittest."):
        base = qualname.rsplit(".", 1)[-1]
        found = UNITTEST_KINDS.get(base)
        if found and base in ("skipIf", "skipUnless"):
            arg = _condition_arg(spec, base)
            if arg is not None and arg.literal and arg.value is (base == "skipIf"):
                return found[0], "muted"  # skipIf(True, ...), skipUnless(False, ...)
        return found
    if qualname in IMPERATIVE_KINDS:
        return IMPERATIVE_KINDS[qualname], "muted"
    if qualname == "pytest.importorskip":
        return "imperative-skip", "conditional"
    if qualname in TRIAL_KINDS:
        return TRIAL_KINDS[qualname], "muted"
    return None


def _condition_arg(spec: MarkSpec, base: str) -> Arg | None:
    named = _named(spec, "condition")
    if named is not None:
        return named
    first = _first_positional(spec)
    if base == "xfail" and first is None:
        return None
    return first


def _always(arg: Arg | None) -> bool:
    """No condition, or a literal True one: the mark applies everywhere."""
    return arg is None or (arg.literal and arg.value is True)


def _first_positional(spec: MarkSpec) -> Arg | None:
    return next((a for a in spec.args if a.name is None), None)


def _named(spec: MarkSpec, *names: str) -> Arg | None:
    for name in names:
        for arg in spec.args:
            if arg.name == name:
                return arg
    return None


def _text(arg: Arg | None) -> str | None:
    if arg is None:
        return None
    value = arg.shown()
    return value if isinstance(value, str) else arg.text


def one_line(text: str) -> str:
    """Source text spread over several lines, on one line (comments dropped)."""
    if "\n" not in text:
        return text
    parts = []
    for line in text.split("\n"):
        comment = comment_of(line)
        if comment is not None:
            line = line[: len(line) - len(line.lstrip())] + line.strip()[: -len(comment)]
        parts.append(line.strip())
    joined = " ".join(p for p in parts if p)
    return joined.replace("( ", "(").replace("[ ", "[").replace(" )", ")").replace(" ]", "]")


def _importorskip(spec: MarkSpec, condition: str | None) -> tuple[MarkSpec, str | None]:
    """`pytest.importorskip("x")`: the condition is the import; the reason, pytest's."""
    module = _named(spec, "modname") or _first_positional(spec)
    if module is None:
        return spec, condition
    name = module.value if module.literal else module.text
    guard = f"cannot import {name}"
    rest = tuple(a for a in spec.args if a is not module)
    if _named(spec, "reason") is None:
        why = f"could not import {name!r}"
        rest = (Arg("reason", repr(why), why, True), *rest)
    return MarkSpec(spec.qualname, spec.marker, rest), (
        f"{condition} and {guard}" if condition else guard
    )


def make_record(
    spec: MarkSpec,
    target: Target,
    mark_line: int,
    kind: str,
    category: str,
    *,
    parser: str,
    condition: str | None = None,
    ticket_hint: str | None = None,
    mark_path: str | None = None,
) -> MutedTest:
    """Turn a classified mark on a target into the record of DESIGN.md.

    `condition` is an enclosing guard (`if`/`elif`/`else`, `except ImportError`); it makes an
    unconditional mark conditional. `ticket_hint` is a ticket found in comments next to the
    mark, used when neither a ticket argument nor the reason names one. `mark_path` is the
    file holding `mark_line` (kept only when it is not the target's own file).
    """
    if spec.qualname == "pytest.importorskip":
        spec, condition = _importorskip(spec, condition)
    positional = [a for a in spec.args if a.name is None]
    used: set[str] = set()
    reason_arg = _named(spec, "reason", "msg")
    cond_arg: Arg | None = _named(spec, "condition")
    base = spec.marker.rsplit(".", 1)[-1]
    takes_condition = kind in ("skipif", "xfail") or base in ("skipIf", "skipUnless")
    if takes_condition and cond_arg is None and positional:
        cond_arg = positional[0]
        positional = positional[1:]
    if reason_arg is None and positional and kind not in ("flaky",):
        reason_arg = positional[0]
        positional = positional[1:]
    ticket_arg = _named(spec, *TICKET_KEYS)
    since_arg = _named(spec, "since")
    strict_arg = _named(spec, "strict")
    for arg in (reason_arg, cond_arg, ticket_arg, since_arg, strict_arg):
        if arg is not None and arg.name:
            used.add(arg.name)
    reason = _text(reason_arg)
    reason_is_source = reason_arg is not None and not reason_arg.literal
    if reason_arg is not None and reason_arg.literal and reason_arg.value is None:
        reason = None
    elif reason is not None and reason_is_source:
        reason = one_line(reason)
    ticket = _text(ticket_arg) if ticket_arg is not None else find_ticket(reason)
    ticket = ticket or ticket_hint
    strict = strict_arg.value if strict_arg is not None and strict_arg.literal else None
    kwargs: dict[str, Any] = {}
    for arg in spec.args:
        if arg.name and arg.name not in used:
            kwargs[arg.name] = arg.shown()
    for index, arg in enumerate(positional):
        kwargs[f"arg{index}"] = arg.shown()
    if condition is not None and category == "muted":
        category = "conditional"
    if cond_arg is not None:
        own = one_line(cond_arg.text)
        condition = own if condition is None else f"({condition}) and ({own})"
    nodeid = f"{target.path}::{target.test}"
    return MutedTest(
        nodeid=nodeid,
        path=target.path,
        test=target.test,
        line=target.line,
        mark_line=mark_line,
        kind=kind,
        marker=spec.marker,
        scope=target.scope,
        category=category,
        ticket=ticket,
        reason=reason,
        since=_text(since_arg),
        strict=strict if isinstance(strict, bool) else None,
        condition=condition,
        kwargs=tuple(sorted(kwargs.items())),
        parser=parser,
        param_index=target.param_index,
        param_id=target.param_id,
        cases=target.cases,
        reason_is_source=reason_is_source,
        mark_path=mark_path if mark_path != target.path else None,
        def_path=target.def_path if target.def_path != target.path else None,
    )


# Modules whose marks are known by name; imports from anywhere else may be repository aliases.
KNOWN_MODULES = ("pytest", "_pytest", "unittest", "flaky")

UNITTEST_NAMES = ("skip", "skipIf", "skipUnless", "expectedFailure", "SkipTest")


def normalize(qualname: str) -> str:
    if qualname == "_pytest.mark.param":
        return "pytest.param"  # where pytest.param is defined; not a mark named `param`
    if qualname.startswith("_pytest.mark."):
        qualname = "pytest.mark." + qualname.removeprefix("_pytest.mark.").split(".")[-1]
    if qualname.startswith("unittest.case."):
        qualname = "unittest." + qualname.removeprefix("unittest.case.")
    return qualname


def known_spec(qualname: str, written: str, call: tuple[Arg, ...] | None) -> MarkSpec | None:
    args = call or ()
    if qualname.startswith("pytest.mark.") and qualname.count(".") == 2:
        return MarkSpec(qualname, qualname.rsplit(".", 1)[-1], args)
    if qualname in ("pytest.skip", "pytest.xfail"):
        return MarkSpec(qualname, qualname, args)
    if qualname == "pytest.param":  # mutes nothing itself; the linker asks what an alias is
        return MarkSpec(qualname, written, args)
    if qualname in ("flaky.flaky", "flaky"):
        return MarkSpec("flaky.flaky", "flaky", args)
    if qualname.startswith("unittest.") and qualname.count(".") == 1:
        name = qualname.rsplit(".", 1)[-1]
        if name in UNITTEST_NAMES:
            return MarkSpec(qualname, name, args)
    if qualname == "pytest.mark.parametrize":
        return None
    return None

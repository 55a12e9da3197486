"""What a muting mark means: kind, category and metadata, from its evaluated arguments.

Both parsers (libcst and the regex fallback) reduce a mark to a `MarkSpec`: the qualified
name it resolves to and its arguments as `Arg`s (source text plus the literal value when the
argument is a literal). Everything here is pure and picklable, so specs travel to worker
processes, into the scan cache and across files (imported aliases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..model import MutedTest

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
TICKET_URL = re.compile(r"https?://[^\s'\"<>)\]]+")
TICKET_KEY = re.compile(r"\b([A-Z][A-Z0-9]{1,15}-[1-9][0-9]{0,8})\b")
# Things that look like ticket keys but are not.
NOT_TICKETS = frozenset(
    [
        "UTF",
        "ISO",
        "SHA",
        "MD",
        "PEP",
        "RFC",
        "TLS",
        "SSL",
        "HTTP",
        "AES",
        "RSA",
        "UCS",
        "CP",
        "ECMA",
        "IEEE",
        "ANSI",
        "X86",
        "WIN",
        "GPL",
        "LGPL",
    ]
)


def kind_of(spec: MarkSpec, mark_names: tuple[str, ...]) -> tuple[str, str] | None:
    """(kind, category) of a mark, or None when it does not mute anything we report."""
    qualname = spec.qualname
    if qualname.startswith("pytest.mark."):
        name = qualname.removeprefix("pytest.mark.")
        if name not in mark_names:
            return None
        if name == "flaky":
            return "flaky", "retry"
        if name == "skipif":
            return "skipif", "conditional"
        if name == "xfail":
            conditional = any(a.name is None or a.name == "condition" for a in spec.args)
            return "xfail", "conditional" if conditional else "muted"
        if name == "skip":
            return "skip", "muted"
        conditional = any(a.name == "condition" for a in spec.args)
        return name, "conditional" if conditional else "muted"
    if qualname == "flaky.flaky":
        return ("flaky", "retry") if "flaky" in mark_names else None
    if qualname.startswith("unittest."):
        found = UNITTEST_KINDS.get(qualname.rsplit(".", 1)[-1])
        return found
    if qualname in IMPERATIVE_KINDS:
        return IMPERATIVE_KINDS[qualname], "muted"
    if qualname == "pytest.importorskip":
        return "imperative-skip", "conditional"
    if qualname in TRIAL_KINDS:
        return TRIAL_KINDS[qualname], "muted"
    return None


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


def find_ticket(reason: str | None) -> str | None:
    if not reason:
        return None
    url = TICKET_URL.search(reason)
    if url:
        return url.group(0).rstrip(".,;:")
    for match in TICKET_KEY.finditer(reason):
        if match.group(1).split("-")[0] not in NOT_TICKETS:
            return match.group(1)
    return None


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
) -> MutedTest:
    """Turn a classified mark on a target into the record of DESIGN.md."""
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
    ticket = _text(ticket_arg) if ticket_arg is not None else find_ticket(reason)
    strict = strict_arg.value if strict_arg is not None and strict_arg.literal else None
    kwargs: dict[str, Any] = {}
    for arg in spec.args:
        if arg.name and arg.name not in used:
            kwargs[arg.name] = arg.shown()
    for index, arg in enumerate(positional):
        kwargs[f"arg{index}"] = arg.shown()
    if cond_arg is not None:
        condition = cond_arg.text
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
        category="conditional" if condition is not None and category == "muted" else category,
        ticket=ticket,
        reason=reason,
        since=_text(since_arg),
        strict=strict if isinstance(strict, bool) else None,
        condition=condition,
        kwargs=tuple(sorted(kwargs.items())),
        parser=parser,
    )


# Modules whose marks are known by name; imports from anywhere else may be repository aliases.
KNOWN_MODULES = ("pytest", "_pytest", "unittest", "flaky")

UNITTEST_NAMES = ("skip", "skipIf", "skipUnless", "expectedFailure", "SkipTest")


def normalize(qualname: str) -> str:
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
    if qualname in ("flaky.flaky", "flaky"):
        return MarkSpec("flaky.flaky", "flaky", args)
    if qualname.startswith("unittest.") and qualname.count(".") == 1:
        name = qualname.rsplit(".", 1)[-1]
        if name in UNITTEST_NAMES:
            return MarkSpec(qualname, name, args)
    if qualname == "pytest.mark.parametrize":
        return None
    return None

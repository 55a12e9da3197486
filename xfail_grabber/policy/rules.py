"""The policy rules: one table, one small function per rule.

A record rule looks at one muted-test record and returns a message when the record breaks it
(None when it is fine). A totals rule looks at the counts of a whole snapshot (and of the
baseline, when there is one). Adding a rule is one decorated function: its name is the key in
`[policy]`, its options are declared next to it and validated by the loader, and its id, help
and summary phrase feed every output format.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..model import CATEGORIES, MutedTest

SEVERITIES = ("error", "warning")


class OptionError(ValueError):
    """An option value of the wrong type or range; the message says what was expected."""


@dataclass(frozen=True)
class Context:
    """What the rules may know besides the record: today, and the scanned repo's pytest config."""

    today: date
    custom_markers: frozenset[str] = frozenset()
    # Markers registered in the scanned repository (pytest config, conftest.py); None: unknown.
    registered_markers: frozenset[str] | None = None
    xfail_strict: bool = False  # the repository's `xfail_strict` ini setting


@dataclass(frozen=True)
class Totals:
    """Counts of the judged snapshot, and of the baseline when there is one."""

    total: int
    by_kind: Mapping[str, int]
    base_total: int | None = None
    base_by_kind: Mapping[str, int] | None = None

    @classmethod
    def of(cls, records: tuple[MutedTest, ...], base: tuple[MutedTest, ...] | None) -> Totals:
        return cls(
            len(records),
            Counter(r.kind for r in records),
            None if base is None else len(base),
            None if base is None else Counter(r.kind for r in base),
        )


Options = Mapping[str, Any]
RecordCheck = Callable[[MutedTest, Options, Context], str | None]
# (subject, message) pairs; the subject names the limit broken, for fingerprints.
TotalsCheck = Callable[[Totals, Options], list[tuple[str, str]]]


@dataclass(frozen=True)
class Option:
    name: str
    parse: Callable[[Any], Any]  # raises OptionError
    default: Any
    holds_kinds: bool = False  # a list of kinds, or a table keyed by kind (checked by name)


@dataclass(frozen=True)
class Rule:
    name: str  # the key in [policy], and what text output prints
    id: str  # stable, opaque (SARIF ruleId): never reuse or renumber
    title: str  # PascalCase friendly name (SARIF rule name)
    summary: str  # "without a ticket": "+2 mutes, 1 without a ticket"
    help: str  # what the rule wants and how to fix a finding
    options: tuple[Option, ...] = ()
    shorthand: str | None = None  # the option a bare non-severity value sets
    per_path: bool = True  # may [[policy.paths]] override it
    default_severity: str | None = None  # in the policy used when there is no [policy]
    check_record: RecordCheck | None = None
    check_totals: TotalsCheck | None = None
    option_map: dict[str, Option] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_map", {o.name: o for o in self.options})


RULES: dict[str, Rule] = {}


def _register(rule: Rule) -> None:
    assert rule.name not in RULES and rule.id not in {r.id for r in RULES.values()}
    RULES[rule.name] = rule


def record_rule(
    name: str,
    id: str,
    summary: str,
    help: str,
    *,
    options: tuple[Option, ...] = (),
    shorthand: str | None = None,
    default_severity: str | None = None,
) -> Callable[[RecordCheck], RecordCheck]:
    def decorate(check: RecordCheck) -> RecordCheck:
        title = "".join(part.capitalize() for part in name.split("-"))
        _register(
            Rule(
                name,
                id,
                title,
                summary,
                help,
                options,
                shorthand,
                default_severity=default_severity,
                check_record=check,
            )
        )
        return check

    return decorate


# Option parsers -------------------------------------------------------------------------


def categories(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(v in CATEGORIES for v in value):
        raise OptionError(f"must be a list of categories ({', '.join(CATEGORIES)})")
    return tuple(value)


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise OptionError("must be true or false")
    return value


def count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise OptionError("must be a whole number >= 0")
    return value


def kind_counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise OptionError("must be a table of kind = number, like { skip = 10 }")
    return {str(k): count(v) for k, v in value.items()}


def kind_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise OptionError('must be a list of kinds, like ["skip"]')
    return tuple(value)


_DURATION = re.compile(r"([0-9]{1,6})([dw])")


def duration(value: Any) -> int:
    """'90d' or '12w' -> days."""
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise OptionError('must be a duration in days or weeks, like "90d" or "12w"')
    return int(match[1]) * (7 if match[2] == "w" else 1)


def one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise OptionError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return str(value)

    return parse


# Record rules ---------------------------------------------------------------------------


@record_rule(
    "ticket-required",
    "XG001",
    "without a ticket",
    "A muted test must name the ticket that tracks its fix, e.g. "
    '`@pytest.mark.xfailflake(jira="PROJ-123", reason="...")`, or a ticket id in the reason. '
    "`categories` chooses which mutes need one (default: unconditional mutes only).",
    options=(Option("categories", categories, ("muted",)),),
    shorthand="categories",
    default_severity="error",
)
def ticket_required(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.category in options["categories"] and not record.ticket:
        return f"{record.kind} mute of {record.test} has no ticket"
    return None


@record_rule(
    "reason-required",
    "XG002",
    "without a reason",
    'A muted test must say why, e.g. `@pytest.mark.skip(reason="...")`.',
    options=(Option("categories", categories, ("muted", "conditional")),),
    shorthand="categories",
    default_severity="warning",
)
def reason_required(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.category in options["categories"] and not (record.reason or "").strip():
        return f"{record.kind} mute of {record.test} has no reason"
    return None


@record_rule(
    "since-required",
    "XG003",
    "without a since date",
    'A muted test must say since when it is muted, e.g. `since="2024-01-15"`, so that '
    "`max-age` can tell how old it is.",
    options=(Option("categories", categories, ("muted",)),),
    shorthand="categories",
)
def since_required(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.category in options["categories"] and not record.since:
        return f"{record.kind} mute of {record.test} has no since date"
    return None


def muted_since(record: MutedTest) -> date | str | None:
    """When the mute began: its `since` date, else when git blame says its mark was written
    (`--blame`); the unreadable text, or None when unknown."""
    if not record.since:
        return record.first_seen.date.date() if record.first_seen else None
    try:
        return date.fromisoformat(record.since.strip()[:10])
    except ValueError:
        return record.since


@record_rule(
    "max-age",
    "XG004",
    "older than allowed",
    'A mute may not stay longer than `max` (like "90d" or "12w"), counted from its '
    "`since` date, or without one from the commit that wrote the mark (with `--blame`): "
    "fix the test, or re-triage it and update `since`.",
    options=(Option("max", duration, 90),),
    shorthand="max",
)
def max_age(record: MutedTest, options: Options, context: Context) -> str | None:
    began = muted_since(record)
    if isinstance(began, str):
        return f"since {began!r} is not a date (YYYY-MM-DD)"
    if began is None:
        return None
    days = (context.today - began).days
    if days > options["max"]:
        return f"muted for {days} days (since {began.isoformat()}; max {options['max']} days)"
    return None


@record_rule(
    "strict-xfail",
    "XG005",
    "with the wrong xfail strictness",
    '`mode = "require"`: an xfail must be strict (`strict=True`, or `xfail_strict = true` in '
    'the pytest config), so a test that starts passing is noticed. `mode = "forbid"`: an '
    "xfail must not be strict.",
    options=(Option("mode", one_of("require", "forbid"), "require"),),
    shorthand="mode",
)
def strict_xfail(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.kind != "xfail" or record.scope == "body":
        return None
    strict = context.xfail_strict if record.strict is None else record.strict
    if options["mode"] == "require" and not strict:
        return f"xfail of {record.test} is not strict (add strict=True)"
    if options["mode"] == "forbid" and strict:
        return f"xfail of {record.test} is strict (strict xfails are forbidden here)"
    return None


@record_rule(
    "forbid-kinds",
    "XG006",
    "of a forbidden kind",
    'Mutes of these kinds are not allowed, e.g. `kinds = ["skip"]` to ask for '
    "`xfailflake` with a ticket instead of a bare skip.",
    options=(Option("kinds", kind_list, (), holds_kinds=True),),
    shorthand="kinds",
)
def forbid_kinds(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.kind in options["kinds"]:
        return f"{record.kind} is not allowed here ({record.marker} on {record.test})"
    return None


@record_rule(
    "known-markers",
    "XG007",
    "with an unregistered marker",
    "A custom marker must be registered in the repository's pytest config (`markers = ...` "
    "in pytest.ini, pyproject.toml, tox.ini or setup.cfg, or `config.addinivalue_line` in a "
    "conftest.py); pytest --strict-markers fails on an unregistered one.",
    default_severity="warning",
)
def known_markers(record: MutedTest, options: Options, context: Context) -> str | None:
    registered = context.registered_markers
    if registered is None or record.kind not in context.custom_markers:
        return None
    if record.kind not in registered:
        return f"marker {record.kind!r} is not registered in the pytest config"
    return None


@record_rule(
    "closed-ticket",
    "XG008",
    "whose ticket is closed",
    "The ticket of this mute is closed in its tracker (`--tickets`), but the test is still "
    "muted: unmute it, or reopen or replace the ticket.",
)
def closed_ticket(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.ticket_status == "closed":
        title = f" ({record.ticket_title})" if record.ticket_title else ""
        return f"{record.kind} mute of {record.test}: ticket {record.ticket} is closed{title}"
    return None


@record_rule(
    "owner-required",
    "XG009",
    "without an owner",
    "Every muted test must have an owner in the repository's CODEOWNERS "
    "(`.github/CODEOWNERS`, `CODEOWNERS` or `docs/CODEOWNERS`).",
    options=(Option("categories", categories, ("muted",)),),
    shorthand="categories",
)
def owner_required(record: MutedTest, options: Options, context: Context) -> str | None:
    if record.category in options["categories"] and not record.owners:
        return f"{record.kind} mute of {record.test} has no owner in CODEOWNERS"
    return None


# Totals rules ---------------------------------------------------------------------------


def _mutes(n: int, kind: str) -> str:
    return f"{n} {kind} mute" + ("" if n == 1 else "s")


def _budget(totals: Totals, options: Options) -> list[tuple[str, str]]:
    found = []
    limit = options["max-total"]
    if limit is not None and totals.total > limit:
        found.append(("max-total", f"{totals.total} muted tests, over the budget of {limit}"))
    for kind, most in sorted(options["max-per-kind"].items()):
        have = totals.by_kind.get(kind, 0)
        if have > most:
            found.append(
                (f"max-per-kind:{kind}", f"{_mutes(have, kind)}, over the budget of {most}")
            )
    base = totals.base_total
    if options["no-increase"] and base is not None and totals.total > base:
        found.append(("no-increase", f"{totals.total} muted tests, up from {base} at the baseline"))
    return found


_register(
    Rule(
        "budget",
        "XG100",
        "Budget",
        "over the budget",
        "The number of muted tests may not exceed `max-total`, per kind `max-per-kind` "
        "(`{ skip = 10 }`), and with `no-increase = true` may not grow from the baseline "
        "(`--baseline REF`): the ratchet.",
        options=(
            Option("max-total", lambda v: count(v), None),
            Option("max-per-kind", kind_counts, {}, holds_kinds=True),
            Option("no-increase", flag, False),
        ),
        per_path=False,
        check_totals=_budget,
    )
)

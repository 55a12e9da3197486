"""Every rule, on records built by hand: what it flags, what it lets through, its options."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from xfail_grabber.model import MutedTest, Snapshot, utc_now
from xfail_grabber.policy.check import evaluate, registered_markers
from xfail_grabber.policy.load import parse_policy
from xfail_grabber.policy.rules import RULES, Context

TODAY = date(2026, 6, 1)
CONTEXT = Context(today=TODAY, custom_markers=frozenset({"xfailflake", "quarantined"}))


def record(**fields: object) -> MutedTest:
    base = MutedTest(
        nodeid="tests/test_a.py::test_a",
        mark_line=3,
        kind="skip",
        marker="skip",
        path="tests/test_a.py",
        test="test_a",
        line=4,
        scope="function",
        category="muted",
        ticket="ABC-1",
        reason="broken",
        since="2026-05-01",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def snapshot(*records: MutedTest) -> Snapshot:
    return Snapshot("repo", "main", None, None, utc_now(), (), tuple(records))


def findings(policy_text: str, *records: MutedTest, context: Context = CONTEXT, base=None):
    policy = parse_policy(policy_text, "grabber.toml")
    found = evaluate(policy, snapshot(*records), context, base=base)
    return [(f.rule.name, f.severity, f.message) for f in found]


def test_ticket_required_muted_only_by_default() -> None:
    text = '[policy]\nticket-required = "error"\n'
    assert findings(text, record(ticket=None)) == [
        ("ticket-required", "error", "skip mute of test_a has no ticket")
    ]
    assert findings(text, record(ticket=None, category="conditional")) == []
    assert findings(text, record()) == []


def test_ticket_required_conditional_too() -> None:
    text = '[policy]\nticket-required = ["muted", "conditional"]\n'
    assert findings(text, record(ticket=None, category="conditional", kind="skipif")) == [
        ("ticket-required", "error", "skipif mute of test_a has no ticket")
    ]


def test_reason_required() -> None:
    text = '[policy]\nreason-required = "warning"\n'
    assert findings(text, record(reason="  ")) == [
        ("reason-required", "warning", "skip mute of test_a has no reason")
    ]
    assert findings(text, record(reason=None, category="retry", kind="flaky")) == []


def test_since_required() -> None:
    text = "[policy]\nsince-required = true\n"
    assert findings(text, record(since=None)) == [
        ("since-required", "error", "skip mute of test_a has no since date")
    ]
    assert findings(text, record()) == []


def test_max_age() -> None:
    text = '[policy]\nmax-age = "30d"\n'
    assert findings(text, record(since="2026-05-02")) == []  # 30 days: allowed
    assert findings(text, record(since="2026-05-01")) == [
        ("max-age", "error", "muted for 31 days (since 2026-05-01; max 30 days)")
    ]
    assert findings(text, record(since="last week")) == [
        ("max-age", "error", "since 'last week' is not a date (YYYY-MM-DD)")
    ]
    assert findings(text, record(since=None)) == []  # since-required's business
    assert findings('[policy]\nmax-age = { max = "4w" }\n', record(since="2026-05-01")) == [
        ("max-age", "error", "muted for 31 days (since 2026-05-01; max 28 days)")
    ]


def test_strict_xfail_require_and_forbid() -> None:
    xfail = record(kind="xfail", marker="xfail")
    require = '[policy]\nstrict-xfail = "require"\n'
    assert findings(require, xfail) == [
        ("strict-xfail", "error", "xfail of test_a is not strict (add strict=True)")
    ]
    assert findings(require, replace(xfail, strict=True)) == []
    # xfail_strict = true in the repository's pytest config makes strict the default.
    assert findings(require, xfail, context=replace(CONTEXT, xfail_strict=True)) == []
    assert findings(require, replace(xfail, kind="imperative-xfail", scope="body")) == []
    forbid = '[policy]\nstrict-xfail = { severity = "warning", mode = "forbid" }\n'
    assert findings(forbid, replace(xfail, strict=True)) == [
        ("strict-xfail", "warning", "xfail of test_a is strict (strict xfails are forbidden here)")
    ]
    assert findings(forbid, xfail) == []


def test_forbid_kinds() -> None:
    text = '[policy]\nforbid-kinds = ["skip", "flaky"]\n'
    assert findings(text, record()) == [
        ("forbid-kinds", "error", "skip is not allowed here (skip on test_a)")
    ]
    assert findings(text, record(kind="xfailflake", marker="xfailflake")) == []


def test_known_markers() -> None:
    text = '[policy]\nknown-markers = "error"\n'
    mark = record(kind="quarantined", marker="quarantined")
    known = replace(CONTEXT, registered_markers=frozenset({"xfailflake"}))
    assert findings(text, mark, context=known) == [
        ("known-markers", "error", "marker 'quarantined' is not registered in the pytest config")
    ]
    assert findings(text, record(), context=known) == []  # skip is pytest's own
    assert findings(text, replace(mark, kind="xfailflake"), context=known) == []


def test_registered_markers_from_ini_pyproject_and_conftest() -> None:
    ini = {"markers": "\nxfailflake: flaky, with a ticket\nslow(seconds): takes long"}
    assert registered_markers(ini, []) == {"xfailflake", "slow"}
    assert registered_markers({"markers": ["quarantined: q"]}, []) == {"quarantined"}
    conftest = (
        b"def pytest_configure(config):\n"
        b'    config.addinivalue_line(\n        "markers", "quarantined: do not run"\n    )\n'
    )
    assert registered_markers(None, [conftest]) == {"quarantined"}


def test_budget_totals_and_per_kind() -> None:
    text = "[policy]\nbudget = { max-total = 1, max-per-kind = { skip = 0 } }\n"
    two = [record(), record(nodeid="tests/test_a.py::test_b", kind="xfail")]
    assert findings(text, *two) == [
        ("budget", "error", "1 skip mute, over the budget of 0"),
        ("budget", "error", "2 muted tests, over the budget of 1"),
    ]
    assert findings(text) == []


def test_budget_no_increase_needs_a_baseline() -> None:
    text = "[policy]\nbudget = { no-increase = true }\n"
    two = [record(), record(nodeid="tests/test_a.py::test_b")]
    assert findings(text, *two) == []
    assert findings(text, *two, base=snapshot(record())) == [
        ("budget", "error", "2 muted tests, up from 1 at the baseline")
    ]
    assert findings(text, *two, base=snapshot(*two)) == []


def test_path_overrides_later_entries_win() -> None:
    text = """
[policy]
ticket-required = "error"
max-age = { severity = "warning", max = "10d" }

[[policy.paths]]
match = "tests/legacy/**"
ticket-required = "off"
max-age = "365d"

[[policy.paths]]
match = ["tests/legacy/keep/*.py"]
ticket-required = "warning"
"""
    old = record(ticket=None, since="2026-01-01")
    assert findings(text, old) == [
        ("ticket-required", "error", "skip mute of test_a has no ticket"),
        ("max-age", "warning", "muted for 151 days (since 2026-01-01; max 10 days)"),
    ]
    legacy = replace(old, path="tests/legacy/x/test_a.py")
    assert findings(text, legacy) == []
    keep = replace(old, path="tests/legacy/keep/test_a.py")
    assert findings(text, keep) == [
        ("ticket-required", "warning", "skip mute of test_a has no ticket")
    ]


def test_default_policy_without_a_policy_table() -> None:
    assert findings('markers = ["quarantined"]\n', record(ticket=None, reason=None)) == [
        ("ticket-required", "error", "skip mute of test_a has no ticket"),
        ("reason-required", "warning", "skip mute of test_a has no reason"),
    ]


def test_every_rule_has_a_stable_unique_id_and_help() -> None:
    ids = [rule.id for rule in RULES.values()]
    assert len(set(ids)) == len(ids)
    assert {r.name: r.id for r in RULES.values()} == {
        "ticket-required": "XG001",
        "reason-required": "XG002",
        "since-required": "XG003",
        "max-age": "XG004",
        "strict-xfail": "XG005",
        "forbid-kinds": "XG006",
        "known-markers": "XG007",
        "closed-ticket": "XG008",
        "owner-required": "XG009",
        "budget": "XG100",
    }
    for rule in RULES.values():
        assert rule.help and rule.summary and rule.title.isalnum()


def test_fingerprint_survives_a_line_move() -> None:
    policy = parse_policy('[policy]\nticket-required = "error"\n', "grabber.toml")
    a = evaluate(policy, snapshot(record(ticket=None)), CONTEXT)
    b = evaluate(policy, snapshot(record(ticket=None, mark_line=40, line=41)), CONTEXT)
    c = evaluate(policy, snapshot(record(ticket=None, nodeid="tests/test_a.py::x")), CONTEXT)
    assert a[0].fingerprint == b[0].fingerprint != c[0].fingerprint


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_can_be_turned_off(name: str) -> None:
    text = f'[policy]\n{name} = "off"\n'
    everything = [
        record(ticket=None, reason=None, since=None),
        record(kind="xfail", marker="xfail", since="1999-01-01", nodeid="t::x"),
    ]
    assert all(rule != name for rule, _, _ in findings(text, *everything))


def test_a_finding_on_an_inherited_mark_points_at_the_base_file() -> None:
    inherited = record(ticket=None, mark_path="tests/bases.py", mark_line=6)
    policy = parse_policy('[policy]\nticket-required = "error"\n', "grabber.toml")
    found = evaluate(policy, snapshot(inherited, record(ticket=None)), CONTEXT)
    assert [(f.path, f.line) for f in found] == [("tests/bases.py", 6), ("tests/test_a.py", 3)]

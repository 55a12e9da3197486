"""Compare a static snapshot with what pytest applied (`pytest -p xfail_grabber.collect`).

Marks (skip, skipif, xfail, flaky, custom markers) are compared with pytest's collection,
record for record, by node id and kind. Mutes that are not marks (`pytest.skip()` in a body
or setup method, unittest and trial skips) are compared with the outcomes of a run when the
collected file has them (`marker: "outcome"`): an unconditional one must have skipped or
xfailed its test. What pytest applied that the scan did not find is `missed` (dynamic mutes:
hooks, fixtures, computed marks); what the scan reports that pytest did not apply is `added`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOT_MARKS = frozenset(
    {
        "unittest-skip",
        "expectedFailure",
        "imperative-skip",
        "imperative-xfail",
        "trial-skip",
        "trial-todo",
    }
)
SKIPPING = {
    "unittest-skip": "skip",
    "imperative-skip": "skip",
    "trial-skip": "skip",
    "skip": "skip",
    "skipif": "skip",
}
XFAILING = {"imperative-xfail": "xfail", "expectedFailure": "xfail", "trial-todo": "xfail"}
RUN_TIME_SCOPES = ("body", "setup")  # `request.applymarker()` in a body: no mark at collection


class CrosscheckError(Exception):
    """A file that is not a snapshot; the message says which and why."""


@dataclass(frozen=True)
class Difference:
    nodeid: str
    kind: str
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class Comparison:
    missed: tuple[Difference, ...]  # pytest applied it; the static scan did not find it
    added: tuple[Difference, ...]  # the static scan found it; pytest did not apply it
    compared: int  # static records that could be compared
    outcomes: bool  # the collected file came from a run (tests skipped or xfailed running)
    # Conditional marks (a mark in an `if` branch) pytest did not apply here: the branch was
    # not taken on this machine, which neither confirms nor refutes the scan.
    unconfirmed: tuple[Difference, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "missed": [d.to_dict() for d in self.missed],
            "added": [d.to_dict() for d in self.added],
            "unconfirmed": [d.to_dict() for d in self.unconfirmed],
            "compared": self.compared,
            "outcomes": self.outcomes,
        }


def load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrosscheckError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CrosscheckError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("muted"), list):
        raise CrosscheckError(f"{path}: not a snapshot (no 'muted' list)")
    return [r for r in data["muted"] if isinstance(r, dict) and "nodeid" in r and "kind" in r]


def compare(static: list[dict[str, Any]], collected: list[dict[str, Any]]) -> Comparison:
    marks = [r for r in collected if r.get("marker") != "outcome"]
    outcomes = [r for r in collected if r.get("marker") == "outcome"]
    at_run = [r for r in static if _at_run_time(r)]
    static_marks = Counter((r["nodeid"], r["kind"]) for r in static if not _at_run_time(r))
    pytest_marks = Counter((r["nodeid"], r["kind"]) for r in marks)
    reasons = {(r["nodeid"], r["kind"]): r.get("reason") for r in [*static, *collected]}
    conditional = {(r["nodeid"], r["kind"]) for r in static if r.get("category") == "conditional"}
    missed = [Difference(*key, reasons.get(key)) for key in pytest_marks - static_marks]
    added: list[Difference] = []
    unconfirmed: list[Difference] = []
    for key in static_marks - pytest_marks:
        (unconfirmed if key in conditional else added).append(Difference(*key, reasons[key]))
    compared = sum(static_marks.values())
    ran = any("::" in r["nodeid"] for r in outcomes)
    if outcomes:
        # A run: each unexplained skip/xfail must be a mute the scan found, and each
        # unconditional run-time mute the scan found must have skipped or xfailed its test.
        # A module skipped while importing has an outcome under the module's node id.
        done = {(r["nodeid"], _effect(r["kind"])) for r in outcomes}
        found = {(r["nodeid"], _effect(r["kind"])) for r in static}
        found |= {(r["nodeid"].split("::")[0], _effect(r["kind"])) for r in static}
        for record in outcomes:
            if (record["nodeid"], _effect(record["kind"])) not in found:
                missed.append(Difference(record["nodeid"], record["kind"], record.get("reason")))
        for record in at_run if ran else ():
            if record.get("category") != "muted":
                continue
            compared += 1
            effect = _effect(record["kind"])
            module = record["nodeid"].split("::")[0]
            if (record["nodeid"], effect) not in done and (module, effect) not in done:
                added.append(Difference(record["nodeid"], record["kind"], record.get("reason")))
    return Comparison(
        tuple(sorted(set(missed), key=_order)),
        tuple(sorted(set(added), key=_order)),
        compared,
        ran,
        tuple(sorted(set(unconfirmed), key=_order)),
    )


def _at_run_time(record: dict[str, Any]) -> bool:
    """Mutes pytest applies only while running the test (not marks it sees collecting)."""
    return record["kind"] in NOT_MARKS or record.get("scope") in RUN_TIME_SCOPES


def _effect(kind: str) -> str:
    return SKIPPING.get(kind) or XFAILING.get(kind) or kind


def _order(difference: Difference) -> tuple[str, str]:
    return difference.nodeid, difference.kind


def render(comparison: Comparison) -> str:
    lines = []
    for label, items in (
        ("missed", comparison.missed),
        ("added", comparison.added),
        ("unconfirmed", comparison.unconfirmed),
    ):
        for item in items:
            reason = f"  ({item.reason})" if item.reason else ""
            lines.append(f"{label}\t{item.nodeid}\t{item.kind}{reason}")
    lines.append(
        f"{len(comparison.missed)} missed, {len(comparison.added)} added, "
        f"{comparison.compared} static records compared"
        + ("" if comparison.outcomes else " (marks only: the collected file has no outcomes)")
    )
    return "\n".join(lines) + "\n"

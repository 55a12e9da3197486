"""Renderers for policy findings: Report -> text, one function per format, the same signature.

Each output is the shape its consumer documents:
- text: `path:line: rule: message`, then a summary line (people, editors' error parsers);
- github: workflow commands, `::error file=...,line=...,title=...::message` (annotations);
- sarif: SARIF 2.1.0 for code scanning (stable rule ids, help, partialFingerprints);
- gitlab: Code Quality JSON (`description`, `check_name`, `fingerprint`, `severity`,
  `location.path`, `location.lines.begin`);
- markdown: a summary for $GITHUB_STEP_SUMMARY or a merge request note;
- json: the report as data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ..__about__ import __version__
from ..diff import _md as md
from ..model import TOOL_NAME, iso
from ..policy.check import Finding, Report
from ..policy.rules import RULES
from .formats import to_json_text


def render_text(report: Report) -> str:
    lines = []
    for f in report.findings:
        suffix = " (warning)" if f.severity == "warning" else ""
        lines.append(f"{f.path}:{f.line}: {f.rule.name}: {f.message}{suffix}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    snapshot = report.snapshot
    data = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "repo": snapshot.repo,
        "branch": snapshot.branch,
        "commit": snapshot.commit,
        "scanned_at": iso(snapshot.scanned_at),
        "policy": report.policy.source,
        "baseline": None
        if report.baseline is None
        else {"ref": report.baseline_ref, "commit": report.baseline.commit},
        "counts": {
            "muted": len(snapshot.muted),
            "judged": report.judged,
            "errors": report.errors,
            "warnings": report.warnings,
            "by_rule": dict(sorted(Counter(f.rule.name for f in report.findings).items())),
        },
        "findings": [f.to_dict() for f in report.findings],
    }
    return to_json_text(data)


# GitHub workflow commands ----------------------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for f in report.findings:
        props = [f"file={_escape_property(f.path)}", f"line={f.line}"]
        props.append(f"title={_escape_property(f'grabber {f.rule.name}')}")
        lines.append(f"::{f.severity} {','.join(props)}::{_escape_data(f.message)}")
    # Not a command: shown as plain log text.
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


# SARIF 2.1.0 -----------------------------------------------------------------------------

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _sarif_rule(name: str) -> dict[str, Any]:
    rule = RULES[name]
    return {
        "id": rule.id,
        "name": rule.title,
        "shortDescription": {"text": f"Muted tests {rule.summary}."},
        "fullDescription": {"text": rule.help.replace("`", "")},
        "help": {"text": rule.help.replace("`", ""), "markdown": rule.help},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["maintainability", "tests"]},
    }


def _artifact(path: str) -> dict[str, str]:
    """A SARIF artifactLocation: repository-relative URIs against %SRCROOT%."""
    if path.startswith("/"):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}


def _repository_uri(repo: str) -> str | None:
    """An absolute URI for the repository, or None (scp-like `host:path` is not one)."""
    if repo.startswith("/"):
        return Path(repo).as_uri()
    parts = urlsplit(repo)
    return repo if parts.scheme and parts.netloc else None


def render_sarif(report: Report) -> str:
    names = list(RULES)
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.rule.id,
            "ruleIndex": names.index(f.rule.name),
            "level": f.severity,
            "message": {"text": f.message + "."},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(f.path),
                        "region": {"startLine": f.line},
                    }
                }
            ],
            "partialFingerprints": {"xfailGrabberFinding/v1": f.fingerprint},
        }
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_sarif_rule(name) for name in names],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The repository root."}}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    snapshot = report.snapshot
    uri = _repository_uri(snapshot.repo)
    if snapshot.commit and uri:
        provenance = {
            "repositoryUri": uri,
            "revisionId": snapshot.commit,
            "mappedTo": {"uriBaseId": "%SRCROOT%"},
        }
        if snapshot.branch:
            provenance["branch"] = snapshot.branch
        run["versionControlProvenance"] = [provenance]
    return to_json_text({"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [run]})


# GitLab Code Quality ---------------------------------------------------------------------

GITLAB_SEVERITY = {"error": "major", "warning": "minor"}


def render_gitlab(report: Report) -> str:
    return to_json_text(
        [
            {
                "description": f.message,
                "check_name": f.rule.name,
                "fingerprint": f.fingerprint,
                "severity": GITLAB_SEVERITY[f.severity],
                "location": {"path": f.path, "lines": {"begin": f.line}},
            }
            for f in report.findings
        ]
    )


# Markdown --------------------------------------------------------------------------------


def finding_rows(findings: tuple[Finding, ...]) -> list[str]:
    rows = ["| severity | where | rule | message |", "|---|---|---|---|"]
    for f in findings:
        where = f"`{md(f.path)}:{f.line}`"
        rows.append(f"| {f.severity} | {where} | {f.rule.name} | {md(f.message)} |")
    return rows


def render_markdown(report: Report) -> str:
    lines = ["### Mute policy", "", report.summary().capitalize() + "."]
    if report.findings:
        lines += ["", *finding_rows(report.findings)]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "sarif": render_sarif,
    "gitlab": render_gitlab,
    "markdown": render_markdown,
}

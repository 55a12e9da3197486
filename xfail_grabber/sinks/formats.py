"""Pure renderers: Snapshot -> text. One function per format, the same signature each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..model import RECORD_COLUMNS, Snapshot, iso
from ..visible import visible


def to_json_text(data: Any, *, indent: int | None = 2) -> str:
    """JSON as we print it everywhere: stable key order, UTF-8 kept, newline at the end."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(data, indent=indent, ensure_ascii=False, separators=separators) + "\n"


def render_json(snapshot: Snapshot) -> str:
    return to_json_text(snapshot.to_dict())


def render_jsonl(snapshot: Snapshot) -> str:
    return "".join(to_json_text(r.to_dict(), indent=None) for r in snapshot.muted)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def render_csv(snapshot: Snapshot) -> str:
    lines = [",".join(RECORD_COLUMNS)]
    for record in snapshot.muted:
        row = record.to_dict()
        lines.append(",".join(_csv_field(_cell(row[c])) for c in RECORD_COLUMNS))
    return "\n".join(lines) + "\n"


CSV_QUOTED = re.compile('[,"\r\n]')
# A line break followed by a formula character: a reader that splits rows at a bare CR or
# LF (or a user pasting the cell) would start a new cell with a formula.
FORMULA_AFTER_BREAK = re.compile("(?<=[\r\n])(?=[=+@\t-])")


def _csv_field(text: str) -> str:
    """One field, RFC 4180 style: quoted when it holds a comma, a quote, a CR or a LF (the csv
    module leaves a bare CR unquoted when rows end in LF); control and bidi characters
    visible; a formula neutralised at the start and after every line break."""
    text = FORMULA_AFTER_BREAK.sub("'", visible(text, keep="\t\r\n"))
    # A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if CSV_QUOTED.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


MD_ESCAPED = re.compile(r"([\\`*_\[\]~|])")


def _md(text: Any) -> str:
    """A table cell's text: markdown syntax (emphasis, links, images, code) shown as written,
    HTML as text, one line, control and bidi characters visible."""
    value = visible(_cell(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return MD_ESCAPED.sub(r"\\\1", value)


def _md_code(text: Any) -> str:
    """A code span that holds `text` whatever it holds: a fence one backtick longer than any
    run of backticks inside (backslashes do not escape in code spans), padded when the text
    starts or ends with a backtick; no HTML escapes (they would show as written); a pipe
    escaped for the table, as GFM wants even inside code spans."""
    value = visible(_cell(text).replace("\r\n", " ").replace("\r", " ").replace("\n", " "))
    value = value.replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    if value.startswith(("`", " ")) or value.endswith(("`", " ")):
        value = f" {value} "
    return f"{fence}{value}{fence}"


MARKDOWN_COLUMNS = ("nodeid", "kind", "category", "ticket", "since", "reason")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def dynamic_note(snapshot: Snapshot) -> str:
    """'N dynamic mute sites (not counted)' for summaries; '' when there are none."""
    n = len(snapshot.dynamic)
    return f"{_count(n, 'dynamic mute site')} (not counted)" if n else ""


def summary(snapshot: Snapshot) -> str:
    """One line of counts for people (dump -v on stderr)."""
    counts = snapshot.counts()
    text = (
        f"{counts['total']} muted ({_count(counts['tests'], 'test')} in "
        f"{_count(counts['files'], 'file')}; {counts['files_scanned']} files scanned)"
    )
    note = dynamic_note(snapshot)
    return f"{text}; {note}" if note else text


def render_markdown(snapshot: Snapshot) -> str:
    counts = snapshot.counts()
    label = snapshot.repo + (f"@{snapshot.branch}" if snapshot.branch else "")
    commit = f" ({snapshot.commit[:12]})" if snapshot.commit else ""
    if counts["total"]:
        kinds = ", ".join(f"{k}: {v}" for k, v in counts["by_kind"].items())
        headline = (
            f"**{counts['total']}** muted ({_count(counts['tests'], 'test')} in "
            f"{_count(counts['files'], 'file')}; {kinds})"
        )
    else:
        headline = "No muted tests"
    note = dynamic_note(snapshot)
    headline += f"; {note}." if note else ("" if counts["total"] else ".")
    lines = [f"### Muted tests in {_md(label)}{_md(commit)}", "", headline, ""]
    if snapshot.muted:
        lines.append("| " + " | ".join(MARKDOWN_COLUMNS) + " |")
        lines.append("|" + "---|" * len(MARKDOWN_COLUMNS))
        for record in snapshot.muted:
            row = record.to_dict()
            cells = [_md(row[c]) for c in MARKDOWN_COLUMNS]
            cells[0] = _md_code(row["nodeid"])
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines.extend(_md_dynamic(snapshot))
    if snapshot.errors:
        lines.append(f"{len(snapshot.errors)} file(s) could not be scanned:")
        lines.append("")
        lines.extend(f"- {_md_code(e.path)}: {_md(e.error)}" for e in snapshot.errors)
        lines.append("")
    return "\n".join(lines)


def _md_dynamic(snapshot: Snapshot) -> list[str]:
    """The dynamic mute sites: hooks and fixtures that add marks while pytest runs."""
    if not snapshot.dynamic:
        return []
    lines = [
        f"{_count(len(snapshot.dynamic), 'dynamic mute site')}: hooks and fixtures that may "
        "mute more tests at run time (not counted above):",
        "",
        "| where | marker | hook |",
        "|---|---|---|",
    ]
    for site in snapshot.dynamic:
        where = _md_code(f"{site.path}:{site.line}")
        lines.append(f"| {where} | {_md_code(site.marker)} | {_md_code(site.hook)} |")
    lines.append("")
    return lines


# Redash's column types: integer, float, boolean, string, datetime, date.
REDASH_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("repo", "string", "Repository"),
    ("branch", "string", "Branch"),
    ("commit", "string", "Commit"),
    ("committed_at", "datetime", "Committed at"),
    ("scanned_at", "datetime", "Scanned at"),
    ("nodeid", "string", "Test id"),
    ("path", "string", "File"),
    ("test", "string", "Test"),
    ("line", "integer", "Line"),
    ("def_path", "string", "Def file"),
    ("mark_line", "integer", "Mark line"),
    ("mark_path", "string", "Mark file"),
    ("kind", "string", "Kind"),
    ("marker", "string", "Marker"),
    ("scope", "string", "Scope"),
    ("category", "string", "Category"),
    ("ticket", "string", "Ticket"),
    ("reason", "string", "Reason"),
    ("since", "string", "Since"),
    ("strict", "boolean", "Strict"),
    ("strict_set", "boolean", "Strict given"),
    ("condition", "string", "Condition"),
    ("kwargs", "string", "Other arguments"),
    ("parser", "string", "Parser"),
    ("param_index", "integer", "Param index"),
    ("param_id", "string", "Param id"),
    ("cases", "integer", "Cases"),
    ("ticket_url", "string", "Ticket URL"),
    ("reason_is_source", "boolean", "Reason is source"),
    ("owners", "string", "Owners"),
    ("first_seen_at", "datetime", "First seen"),
    ("first_seen_commit", "string", "First seen in"),
    ("first_seen_author", "string", "First seen by"),
    ("age_days", "integer", "Age (days)"),
    ("ticket_status", "string", "Ticket status"),
    ("ticket_title", "string", "Ticket title"),
    ("stale", "boolean", "Stale"),
)


def redash_result(snapshot: Snapshot) -> dict[str, Any]:
    """Redash's query-result shape: {"columns": [...], "rows": [...]}."""
    context = _snapshot_cells(snapshot)
    rows = []
    for record in snapshot.muted:
        row = {**context, **record.to_dict()}
        row["kwargs"] = _cell(row["kwargs"]) or None
        # Redash's JSON data source types a column from its first value: a null would make
        # the boolean column text. strict=None (not written) becomes False plus strict_set.
        row["strict_set"] = row["strict"] is not None
        row["strict"] = bool(row["strict"])
        row["stale"] = bool(row["stale"])
        row["owners"] = _cell(row["owners"]) or None
        seen = row["first_seen"] or {}
        row["first_seen_at"] = seen.get("date")
        row["first_seen_commit"] = seen.get("commit")
        row["first_seen_author"] = seen.get("author")
        rows.append(row)
    return _query_result(REDASH_COLUMNS, rows)


REDASH_DYNAMIC_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("repo", "string", "Repository"),
    ("branch", "string", "Branch"),
    ("commit", "string", "Commit"),
    ("scanned_at", "datetime", "Scanned at"),
    ("path", "string", "File"),
    ("line", "integer", "Line"),
    ("marker", "string", "Marker"),
    ("hook", "string", "Hook or fixture"),
)


def redash_dynamic_result(snapshot: Snapshot) -> dict[str, Any]:
    """The dynamic mute sites in Redash's query-result shape (one row per site)."""
    context = _snapshot_cells(snapshot)
    rows = [{**context, **site.to_dict()} for site in snapshot.dynamic]
    return _query_result(REDASH_DYNAMIC_COLUMNS, rows)


def _snapshot_cells(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's own cells, repeated on each of its rows."""
    return {
        "repo": snapshot.repo,
        "branch": snapshot.branch,
        "commit": snapshot.commit,
        "committed_at": iso(snapshot.committed_at),
        "scanned_at": iso(snapshot.scanned_at),
    }


def _query_result(
    columns: tuple[tuple[str, str, str], ...], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """{"columns", "rows"} with each row's cells of these columns only, in their order."""
    return {
        "columns": [
            {"name": name, "type": kind, "friendly_name": friendly}
            for name, kind, friendly in columns
        ],
        "rows": [{name: row[name] for name, _, _ in columns} for row in rows],
    }


def render_redash(snapshot: Snapshot) -> str:
    return to_json_text(redash_result(snapshot))


RENDERERS: dict[str, Callable[[Snapshot], str]] = {
    "json": render_json,
    "jsonl": render_jsonl,
    "csv": render_csv,
    "markdown": render_markdown,
    "redash": render_redash,
}

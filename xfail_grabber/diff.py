"""Mutes added, removed and changed between two refs (the library behind `grabber diff`).

Tests are matched by nodeid; a file git sees as renamed (`git diff -M`) keeps its tests'
identity, so moving `tests/a.py` to `tests/b.py` is not "all removed, all added". Within one
test, marks that are equal on the compared fields are unchanged; the rest are paired in
line order as "changed", and what is left over is added or removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Settings
from .model import MutedTest, Snapshot
from .source.commit import Revision
from .source.open import GitRepository, open_git
from .timings import TIMINGS

COMPARED = ("kind", "ticket", "reason", "since", "strict")


@dataclass(frozen=True)
class Change:
    before: MutedTest
    after: MutedTest

    @property
    def fields(self) -> list[str]:
        return [f for f in COMPARED if getattr(self.before, f) != getattr(self.after, f)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.after.nodeid,
            "fields": self.fields,
            "before": _side(self.before),
            "after": _side(self.after),
        }


def _side(record: MutedTest) -> dict[str, Any]:
    """A changed test's compared fields and where it is: `line` is in `def_path` when that is
    set (a test inherited from a base class in another file), else in the nodeid's file."""
    return {f: getattr(record, f) for f in COMPARED} | {
        "nodeid": record.nodeid,
        "line": record.line,
        "def_path": record.def_path,
    }


def location(record: MutedTest) -> str:
    """`def_path:line` for a test inherited from another file, else `line` (the nodeid names
    its file)."""
    return f"{record.def_path}:{record.line}" if record.def_path else str(record.line)


@dataclass(frozen=True)
class MuteDiff:
    base: Snapshot
    head: Snapshot
    added: tuple[MutedTest, ...]
    removed: tuple[MutedTest, ...]
    changed: tuple[Change, ...]
    renamed: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        def side(snapshot: Snapshot, ref: str) -> dict[str, Any]:
            return {"ref": ref, "commit": snapshot.commit, "total": len(snapshot.muted)}

        return {
            "repo": self.head.repo,
            "base": side(self.base, self.base.branch or ""),
            "head": side(self.head, self.head.branch or ""),
            "counts": {
                "added": len(self.added),
                "removed": len(self.removed),
                "changed": len(self.changed),
            },
            "added": [r.to_dict() for r in self.added],
            "removed": [r.to_dict() for r in self.removed],
            "changed": [c.to_dict() for c in self.changed],
            "renamed": dict(sorted(self.renamed.items())),
        }


def renames(repo: GitRepository, base: str, head: str) -> dict[str, str]:
    """old path -> new path for the files git detects as renamed between two commits."""
    out = repo.output(["diff", "-M", "--name-status", "-z", base, head, "--"])
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    result: dict[str, str] = {}
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        if status.startswith(("R", "C")):
            if status.startswith("R"):
                result[fields[index + 1]] = fields[index + 2]
            index += 3
        else:
            index += 2
    return result


def _renamed_nodeid(record: MutedTest, moved: dict[str, str]) -> str:
    new_path = moved.get(record.path)
    if new_path is None:
        return record.nodeid
    return new_path + record.nodeid[len(record.path) :]


def _same(a: MutedTest, b: MutedTest) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in COMPARED)


def compare(base: Snapshot, head: Snapshot, moved: dict[str, str] | None = None) -> MuteDiff:
    """The mute differences from `base` to `head`; `moved` maps renamed paths."""
    moved = moved or {}
    before: dict[str, list[MutedTest]] = defaultdict(list)
    after: dict[str, list[MutedTest]] = defaultdict(list)
    for record in base.muted:
        before[_renamed_nodeid(record, moved)].append(record)
    for record in head.muted:
        after[record.nodeid].append(record)
    added: list[MutedTest] = []
    removed: list[MutedTest] = []
    changed: list[Change] = []
    for nodeid in sorted(set(before) | set(after)):
        old = sorted(before.get(nodeid, []), key=lambda r: r.mark_line)
        new = sorted(after.get(nodeid, []), key=lambda r: r.mark_line)
        for record in list(new):
            match = next((o for o in old if _same(o, record)), None)
            if match is not None:
                old.remove(match)
                new.remove(record)
        # Prefer pairing marks of the same kind (a reason edited), then in line order.
        for record in list(new):
            match = next((o for o in old if o.kind == record.kind), None)
            if match is not None:
                old.remove(match)
                new.remove(record)
                changed.append(Change(match, record))
        for old_record, new_record in zip(old, new, strict=False):
            changed.append(Change(old_record, new_record))
        pairs = min(len(old), len(new))
        removed.extend(old[pairs:])
        added.extend(new[pairs:])
    used = {old: new for old, new in moved.items() if any(r.path == old for r in base.muted)}
    return MuteDiff(base, head, tuple(added), tuple(removed), tuple(changed), used)


def diff_refs(
    repository: str,
    base_ref: str,
    head_ref: str,
    settings: Settings,
    *,
    workers: int | None = None,
    cache_dir: Path | None = None,
) -> MuteDiff:
    from .core import snapshot_of
    from .source.cache import open_scan_cache

    with TIMINGS.phase("resolve"):
        repo = open_git(repository, cache_dir=cache_dir)
    snapshots = []
    commits = []
    # closing(): GitPython's cat-file processes end with the diff, not at a later collection.
    with closing(repo), open_scan_cache(cache_dir) as cache:
        for ref in (base_ref, head_ref):
            commit = repo.commit_of(ref)
            revision = Revision(ref, commit, repo.commit_time(commit))
            snapshots.append(
                snapshot_of(repo.checkout(revision), settings, workers=workers, cache=cache)
            )
            commits.append(commit)
        moved = renames(repo, commits[0], commits[1])
    return compare(snapshots[0], snapshots[1], moved)


def _md(value: Any) -> str:
    text = "" if value is None else str(value)
    for old, new in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("|", "\\|"),
        ("`", "\\`"),
        ("\r", " "),
        ("\n", " "),
    ):
        text = text.replace(old, new)
    return text


def render_markdown(
    result: MuteDiff, *, note: str | None = None, appendix: Sequence[str] = ()
) -> str:
    """The diff as markdown; `note` goes under the counts, `appendix` lines at the end."""
    data = result.to_dict()
    base, head = data["base"], data["head"]
    lines = [
        f"### Muted tests: {_md(base['ref'])} → {_md(head['ref'])}",
        "",
        f"**{len(result.added)}** added, **{len(result.removed)}** removed, "
        f"**{len(result.changed)}** changed ({base['total']} → {head['total']} muted).",
    ]
    if note:
        lines += ["", note]
    if result.added:
        lines += ["", "#### Added", "", "| test | kind | ticket | reason |", "|---|---|---|---|"]
        lines += [
            f"| `{_md(r.nodeid)}` | {_md(r.kind)} | {_md(r.ticket)} | {_md(r.reason)} |"
            for r in result.added
        ]
    if result.removed:
        lines += ["", "#### Removed", "", "| test | kind | ticket |", "|---|---|---|"]
        lines += [
            f"| `{_md(r.nodeid)}` | {_md(r.kind)} | {_md(r.ticket)} |" for r in result.removed
        ]
    if result.changed:
        lines += ["", "#### Changed", "", "| test | field | before | after |", "|---|---|---|---|"]
        for change in result.changed:
            test = f"`{_md(change.after.nodeid)}`"
            if change.after.def_path:  # inherited: the def is not in the nodeid's file
                test += f" (`{_md(location(change.after))}`)"
            for name in change.fields or ["line"]:
                before, after = (
                    (location(change.before), location(change.after))
                    if name == "line"
                    else (getattr(change.before, name), getattr(change.after, name))
                )
                lines.append(f"| {test} | {name} | {_md(before)} | {_md(after)} |")
    if appendix:
        lines += ["", *appendix]
    return "\n".join(lines) + "\n"

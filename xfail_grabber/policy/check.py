"""Applying a Policy to a snapshot: findings, the baseline, and the scanned repo's context."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import BUILTIN_KINDS, Settings, pytest_ini, under
from ..diff import MuteDiff
from ..model import MutedTest, Snapshot, utc_now
from ..source import Checkout, SourceError, SourceFile

if TYPE_CHECKING:
    from ..source.local import DirectoryCheckout
from .load import Policy
from .rules import RULES, Context, Rule, Totals

EXIT_FINDINGS = 3


@dataclass(frozen=True)
class Finding:
    rule: Rule
    severity: str  # error or warning
    path: str  # repository-relative; a budget finding points at the policy file
    line: int
    message: str
    subject: str  # what the finding is about, without its line (for fingerprints)
    record: MutedTest | None = None

    @property
    def fingerprint(self) -> str:
        """Stable across line moves: the rule and the mute (test, kind, marker), not the line."""
        text = "\0".join((self.rule.id, self.subject))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule.name,
            "rule_id": self.rule.id,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "nodeid": self.record.nodeid if self.record else None,
            "kind": self.record.kind if self.record else None,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Report:
    snapshot: Snapshot
    policy: Policy
    findings: tuple[Finding, ...]
    judged: int  # records the record rules looked at
    baseline: Snapshot | None = None
    baseline_ref: str | None = None

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.errors else 0

    def summary(self) -> str:
        files = len({f.path for f in self.findings})
        scope = f"{self.judged} of {len(self.snapshot.muted)} mutes checked"
        if self.baseline_ref is not None:
            scope += f" (added or changed since {self.baseline_ref})"
        if not self.findings:
            return f"no policy violations; {scope}"
        return (
            f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')} "
            f"in {_plural(files, 'file')}; {scope}"
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def evaluate(
    policy: Policy,
    snapshot: Snapshot,
    context: Context,
    *,
    judged: Iterable[MutedTest] | None = None,
    base: Snapshot | None = None,
    totals: bool = True,
) -> tuple[Finding, ...]:
    """The findings of every enabled rule; record rules see only `judged` (default: all).

    `totals=False` leaves out the rules that count a whole repository (budget): a snapshot
    of a few files cannot say anything about them.
    """
    findings: list[Finding] = []
    for record in snapshot.muted if judged is None else judged:
        for name, setting in policy.for_path(record.path).items():
            rule = RULES[name]
            if setting.severity is None or rule.check_record is None:
                continue
            message = rule.check_record(record, setting.options, context)
            if message is not None:
                subject = "\0".join((record.nodeid, record.kind, record.marker, record.scope))
                findings.append(
                    Finding(
                        rule,
                        setting.severity,
                        record.mark_path or record.path,  # where the mark is written
                        record.mark_line,
                        message,
                        subject,
                        record,
                    )
                )
    counts = Totals.of(snapshot.muted, None if base is None else base.muted)
    for name, setting in policy.for_path(None).items():
        rule = RULES[name]
        if not totals or setting.severity is None or rule.check_totals is None:
            continue
        for subject, message in rule.check_totals(counts, setting.options):
            line = policy.line_of(f"policy.{name}")
            findings.append(
                Finding(rule, setting.severity, policy.source or "", line, message, subject)
            )
    findings.sort(key=lambda f: (f.path, f.line, f.rule.id, f.subject))
    return tuple(findings)


# What the rules need to know about the scanned repository --------------------------------

_ADDINI = re.compile(
    rb"""addinivalue_line\(\s*["']markers["']\s*,\s*[rRuUbBfF]*(?:'''|\"\"\"|'|")\s*"""
    rb"([A-Za-z_][A-Za-z0-9_]*)"
)
_MARKER_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)")


def registered_markers(section: dict[str, Any] | None, conftests: Iterable[bytes]) -> set[str]:
    """Marker names registered in the pytest ini `markers` and by conftest.py files."""
    names: set[str] = set()
    raw = (section or {}).get("markers")
    entries = raw.splitlines() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    for entry in entries:
        match = _MARKER_LINE.match(str(entry))
        if match:
            names.add(match[1])
    for data in conftests:
        names.update(m.decode() for m in _ADDINI.findall(data))
    return names


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def context_of(checkout: Checkout, settings: Settings, today: date | None = None) -> Context:
    """The Context for a checkout: its pytest config, its conftest.py files, today."""
    from ..source.subdir import scope_of

    rootdir, _ = scope_of(checkout)
    found = pytest_ini(under(checkout.read_root_file, rootdir.path))
    section = found[1] if found else None
    conftests = [f for f in checkout.files() if f.path.rsplit("/", 1)[-1] == "conftest.py"]
    datas = [data for _, data in checkout.read(conftests) if isinstance(data, bytes)]
    return Context(
        today=today or utc_now().date(),
        custom_markers=frozenset(m for m in settings.custom_markers if m not in BUILTIN_KINDS),
        registered_markers=frozenset(registered_markers(section, datas)),
        xfail_strict=_truthy((section or {}).get("xfail_strict", False)),
    )


# Running a check -------------------------------------------------------------------------


if TYPE_CHECKING:
    from ..enrich.apply import Enrichment


def check_repository(
    repository: str,
    branch: str | None,
    settings: Settings,
    policy: Policy,
    *,
    ref: str | None = None,
    baseline: str | None = None,
    workers: int | None = None,
    cache_dir: Path | None = None,
    progress: bool = False,
    enrichment: Enrichment | None = None,
) -> Report:
    """Scan REPOSITORY at BRANCH and judge it (with `baseline`: only what changed since);
    `enrichment` adds blame and ticket status for the rules that use them."""
    from ..core import snapshot_of
    from ..diff import compare, renames
    from ..source.cache import open_scan_cache
    from ..source.commit import Revision
    from ..source.open import open_git, open_source

    with (
        open_source(repository, branch, ref, cache_dir=cache_dir) as checkout,
        open_scan_cache(cache_dir) as cache,
    ):
        policy.check_globs(f.path for f in checkout.files())
        snapshot = snapshot_of(
            checkout,
            settings,
            workers=workers,
            progress=progress,
            cache=cache,
            enrichment=enrichment,
        )
        context = context_of(checkout, settings)
        if baseline is None:
            findings = evaluate(policy, snapshot, context)
            return Report(snapshot, policy, findings, len(snapshot.muted))
        with closing(open_git(repository, cache_dir=cache_dir)) as repo:
            commit = repo.commit_of(baseline)
            revision = Revision(baseline, commit, repo.commit_time(commit))
            base = snapshot_of(repo.checkout(revision), settings, workers=workers, cache=cache)
            moved = renames(repo, commit, snapshot.commit) if snapshot.commit else {}
    diff = compare(base, snapshot, moved)
    judged = diff.added + tuple(change.after for change in diff.changed)
    findings = evaluate(policy, snapshot, context, judged=judged, base=base)
    return Report(snapshot, policy, findings, len(judged), base, baseline)


def judge_diff(result: MuteDiff, policy: Policy, context: Context) -> tuple[Finding, ...]:
    """The findings on what a diff added or changed (and the budget against its base)."""
    judged = result.added + tuple(change.after for change in result.changed)
    return evaluate(policy, result.head, context, judged=judged, base=result.base)


def diff_summary(result: MuteDiff, findings: tuple[Finding, ...]) -> str:
    """'+2 mutes, 1 without a ticket': what a pull request does to the mute debt."""
    added = len(result.added)
    parts = [f"+{added} {'mute' if added == 1 else 'mutes'}"]
    if result.removed:
        parts.append(f"{len(result.removed)} removed")
    if result.changed:
        parts.append(f"{len(result.changed)} changed")
    per_rule = Counter(f.rule.name for f in findings if f.record is not None)
    parts += [f"{per_rule[name]} {rule.summary}" for name, rule in RULES.items() if per_rule[name]]
    parts += [f.message for f in findings if f.record is None]
    return ", ".join(parts)


def context_at(
    repository: str, ref: str, settings: Settings, *, cache_dir: Path | None = None
) -> Context:
    """The Context of a repository at a commit (its pytest config and conftest.py files)."""
    from ..source.commit import Revision
    from ..source.open import open_git

    with closing(open_git(repository, cache_dir=cache_dir)) as repo:
        commit = repo.commit_of(ref)
        return context_of(repo.checkout(Revision(ref, commit, repo.commit_time(commit))), settings)


def repository_root(start: Path) -> Path:
    """The top of the git work tree holding `start` (or `start` itself outside git)."""
    from ..source.command import git_for, run

    proc = run(git_for(cwd=start), ["rev-parse", "--show-toplevel"], check=False)
    if proc.returncode != 0:
        return start.resolve()
    return Path(proc.stdout.decode("utf-8", "surrogateescape").strip()).resolve()


def check_files(
    paths: Iterable[str],
    settings: Settings,
    policy: Policy,
    *,
    cache_dir: Path | None = None,
) -> Report:
    """Judge only these files (pre-commit hands over the staged ones), as they are on disk.

    Cross-file facts (a mark alias imported from a file not given) are not seen: the full
    `grabber check` is the complete answer; this mode is the fast one.
    """
    from ..core import snapshot_of
    from ..source.cache import open_scan_cache
    from ..source.local import DirectoryCheckout
    from ..source.open import local_label, probe, worktree_checkout

    cwd = Path.cwd()
    top = repository_root(cwd)
    relative = []
    for name in paths:
        full = (cwd / name).resolve()
        if not full.is_relative_to(top):
            raise SourceError(f"not inside the repository {top}: {name}")
        if not full.is_file():
            raise SourceError(f"{'not a file' if full.exists() else 'no such file'}: {name}")
        relative.append(full.relative_to(top).as_posix())
    label = local_label(top)
    whole: Checkout = (
        worktree_checkout(top, label) if probe(top) else DirectoryCheckout(top, label=label)
    )
    policy.check_globs(f.path for f in whole.files())
    checkout = _HashedFiles(
        DirectoryCheckout(
            top,
            label=label,
            branch=whole.branch,
            commit=whole.commit,
            committed_at=whole.committed_at,
            paths=relative,
        )
    )
    with open_scan_cache(cache_dir) as cache:
        snapshot = snapshot_of(checkout, settings, workers=1, cache=cache)
    findings = evaluate(policy, snapshot, context_of(whole, settings), totals=False)
    return Report(snapshot, policy, findings, len(snapshot.muted))


class _HashedFiles:
    """A few files on disk, listed with their git blob ids: the scan cache then answers for
    every file it has seen before, and a commit of unchanged files needs no parser at all."""

    def __init__(self, checkout: DirectoryCheckout) -> None:
        self.checkout = checkout
        self.repo = checkout.repo
        self.branch = checkout.branch
        self.commit = checkout.commit
        self.committed_at = checkout.committed_at

    def files(self) -> list[SourceFile]:
        from ..scan.tree import git_blob_id

        listed = self.checkout.files()
        hashed = {
            item.path: replace(item, blob_id=git_blob_id(data))
            for item, data in self.checkout.read(f for f in listed if not f.error)
            if isinstance(data, bytes)
        }
        return [hashed.get(f.path, f) for f in listed]

    def read(self, files: Iterable[SourceFile]) -> Iterator[tuple[SourceFile, bytes | str]]:
        return self.checkout.read(files)

    def read_root_file(self, name: str) -> bytes | None:
        return self.checkout.read_root_file(name)

"""Scanning the commits of a branch one after another, each from the scan before it.

History visits tens of commits; between two of them a few percent of the files change. The
walk scans the first commit in full, then for each next commit takes the tree diff from the
commit before (`git diff-tree -r -M`, source/treediff.py) and updates the scan with the files
that changed (scan/incremental.py): a commit costs what changed in it, not the size of its
tree. A commit whose pytest configuration changed (test discovery may differ), or that
changes symlinks or submodules named `.py`, is scanned afresh, still from the caches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from .config import Settings, discovery_from_files
from .core import TimedCheckout
from .scan.incremental import TreeScan
from .scan.tree import Parser, ScanCache, ScanResult
from .source import SourceFile
from .source.commit import ROOT_FILES, Revision
from .source.open import GitRepository
from .source.treediff import BlobSizes, Change, tree_diff, tree_entries
from .timings import TIMINGS

log = logging.getLogger("xfail_grabber")

PLAIN_MODES = ("100644", "100755", "000000")


@dataclass
class WalkCounts:
    commits: int = 0  # commits whose scan was computed (afresh or updated)
    afresh: int = 0  # of which scanned from an empty tree
    parsed: int = 0  # files handed to the parser


class CommitWalk:
    """`scan(commit)` gives the scan of a commit, updated from the previous call's commit."""

    def __init__(
        self,
        repo: GitRepository,
        branch: str | None,
        settings: Settings,
        cache: ScanCache | None,
        *,
        workers: int | None = None,
    ) -> None:
        self.repo = repo
        self.branch = branch
        self.base = settings
        self.cache = cache
        self.workers = workers
        self.counts = WalkCounts()
        self.tree: TreeScan | None = None
        self.reader: TimedCheckout | None = None
        self.commit: str | None = None
        self.links: set[str] = set()  # `.py` paths of the tree that are not plain files
        self.result: ScanResult | None = None
        self._parsed_before = 0
        self._sizes_reader = BlobSizes(repo.git_dir, repo.objects.network)
        # A partial clone lacks blobs; inexact rename detection would fetch them one by one.
        self.renames = not repo.objects.is_promisor()

    @property
    def settings(self) -> Settings:
        """The settings of the last commit scanned (with its test discovery)."""
        return self.tree.settings if self.tree is not None else self.base

    def close(self) -> None:
        self._sizes_reader.close()
        if self.tree is not None:
            self.tree.parser.close()
            self.tree = None

    def scan(self, commit: str, committed_at: datetime | None) -> ScanResult:
        if self.tree is None or self.commit is None or self.reader is None or self.links:
            return self._afresh(commit, committed_at)
        if commit == self.commit and self.result is not None:
            return self.result
        with TIMINGS.phase("list"):
            diff = tree_diff(self.repo.git_dir, self.commit, commit, renames=self.renames)
        changes = [c for c in diff if any(p.endswith(".py") or p in ROOT_FILES for p in c.paths)]
        self.commit = commit
        if not changes and self.result is not None:
            return self.result  # docs, CI, other languages: the same Python files
        if any(_needs_full_scan(c) for c in changes):
            return self._afresh(commit, committed_at)
        removed = [c.old_path for c in changes if c.old_path and c.old_path.endswith(".py")]
        fresh = [c for c in changes if c.new_blob and c.path.endswith(".py")]
        sizes = self._sizes({c.new_blob for c in fresh if c.new_blob})
        added = [
            SourceFile(c.path, sizes[c.new_blob], c.new_blob)
            if c.new_blob in sizes
            else SourceFile(c.path, 0, c.new_blob, error="blob missing from the repository")
            for c in fresh
        ]
        self.tree.update(self.reader, removed=removed, added=added)
        return self._done()

    def _afresh(self, commit: str, committed_at: datetime | None) -> ScanResult:
        checkout = TimedCheckout(self.repo.checkout(Revision(self.branch, commit, committed_at)))
        settings = self.base.with_discovery(discovery_from_files(checkout.read_root_file))
        parser = None
        if self.tree is not None:
            if self.tree.settings == settings:
                parser = self.tree.parser
            else:
                self.tree.parser.close()
            self._parsed_before += self.tree.parsed
        if parser is None:
            parser = Parser(settings, self.workers)
        self.tree = TreeScan(settings, cache=self.cache, parser=parser)
        self.tree.update(checkout, added=checkout.files())
        self.reader, self.commit = checkout, commit
        self.links = {
            c.path
            for c in tree_entries(self.repo.git_dir, commit)
            if c.path.endswith(".py") and c.new_mode not in PLAIN_MODES
        }
        self.counts.afresh += 1
        return self._done()

    def _done(self) -> ScanResult:
        assert self.tree is not None
        self.counts.commits += 1
        self.counts.parsed = self._parsed_before + self.tree.parsed
        self.result = self.tree.result()
        return self.result

    def _sizes(self, oids: set[str]) -> dict[str, int]:
        known = self.repo.objects.sizes
        unknown = oids - known.keys()
        if unknown:
            known.update(self._sizes_reader.get(unknown))
        return {oid: known[oid] for oid in oids if oid in known}


def _needs_full_scan(change: Change) -> bool:
    """Changes an update cannot follow: pytest configuration, symlinks, submodules."""
    if any(path in ROOT_FILES for path in change.paths):
        return True
    return any(p.endswith(".py") for p in change.paths) and not (
        change.old_mode in PLAIN_MODES and change.new_mode in PLAIN_MODES
    )

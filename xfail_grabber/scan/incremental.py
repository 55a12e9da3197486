"""The scan of one tree, kept up to date as its files change.

`TreeScan.update(source, removed, added)` takes the paths that went away and the files that
came or changed, and brings the scan up to date: only those files go through the prefilter
and the parser (or the cache); the other files' facts are kept. Then:

- pass 2 (files that only mention names other files export as marks) runs over the files
  with no marker word, as a full scan does, but answers from what the previous update found
  for each path and set of names, so only new files or new names cost anything;
- a file's cross-file records (imported aliases...) are linked again only when a path its
  linking looked at (a module it imports, a candidate path that did or did not exist) changed
  its facts; the linker is given a mapping that records what it looks at.

A full scan is one update from an empty tree (`scan_checkout`), so a commit reached by
updates and the same commit scanned afresh give the same records by construction; the tests
compare them anyway.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

from ..config import Settings
from ..model import MutedTest, ScanError
from ..source import Checkout, SourceFile
from ..timings import TIMINGS
from .facts import FileFacts
from .tree import (
    MAX_FILE_BYTES,
    NEGATIVE,
    SCANNER_VERSION,
    Parser,
    ScanCache,
    ScanResult,
    _cached_facts,
    _exported,
    _progress,
    git_blob_id,
    remember,
)
from .words import KEY_SEPARATOR, NameSearch, class_key, import_words

log = logging.getLogger("xfail_grabber.scan")

# The bytes of files with no marker word are kept during an update, up to this much, for
# pass 2 to look for exported names in without reading them again.
HOLD_BYTES = 64 * 1024 * 1024
MAX_BASE_ROUNDS = 5
# With this many files to read, some are bound to need parsing: the parser workers start
# before reading does, ready for the first job. Fewer, and they start with the first jobs.
EARLY_START_FILES = 200


class _Recording(Mapping[str, FileFacts]):
    """The facts of a tree, noting which paths a reader asks about (present or not)."""

    def __init__(self, facts: Mapping[str, FileFacts]) -> None:
        self.facts = facts
        self.seen: set[str] = set()
        self.everything = False

    def __getitem__(self, path: str) -> FileFacts:
        self.seen.add(path)
        return self.facts[path]

    def __contains__(self, path: object) -> bool:
        if isinstance(path, str):
            self.seen.add(path)
        return path in self.facts

    def __iter__(self) -> Iterator[str]:
        self.everything = True
        return iter(self.facts)

    def __len__(self) -> int:
        self.everything = True
        return len(self.facts)

    def start(self) -> None:
        self.seen = set()
        self.everything = False

    def looked_at(self) -> frozenset[str] | None:
        """The paths read since `start` (None: the whole mapping was walked)."""
        return None if self.everything else frozenset(self.seen)


K = TypeVar("K")


def _defined(facts: FileFacts) -> list[str]:
    """The module-level names a file defines as marks or mark-making helpers."""
    return [*facts.aliases, *facts.helpers, *facts.pending_aliases]


def module_word(path: str) -> str:
    """The word an import of this file's module must hold: its name (a package's for an
    `__init__.py`)."""
    parts = path.split("/")
    stem = parts[-1].removesuffix(".py")
    return parts[-2] if stem == "__init__" and len(parts) > 1 else stem


def _imports(facts: FileFacts) -> list[tuple[str, str, str]]:
    """(name imported, local name, this module's word) of the file's imports of names."""
    word = module_word(facts.path)
    return [(ref.name, local, word) for local, ref in facts.imports.items() if ref.name]


def _class_keys(facts: FileFacts) -> list[str]:
    word = module_word(facts.path)
    return [class_key(name, word) for name in facts.classes]


def _add(counter: Counter[K], keys: Iterable[K], sign: int) -> None:
    for key in keys:
        counter[key] += sign
        if counter[key] == 0:
            del counter[key]


class _Exports:
    """The names files export, kept as counts while files come and go.

    A name is exported when a file defines it as a mark alias or a helper that makes marks, or
    imports an exported name under it (to a fixpoint: `from .marks import flaky as retry`
    exports `retry`); as `tree._exported` computes it from scratch.

    A class the scanner read (it mentions a mute, or has a base from another file) is exported
    too, as a key (`class_key`): its name and the word an import of its module holds. A test
    class in a file without a marker word may inherit its marked tests: such a file holds
    both words (`from tests.bases import Base` ... `class TestA(Base)`). A file that imports
    the class re-exports it under its local name with its own module's word.
    """

    def __init__(self) -> None:
        self.aliases: Counter[str] = Counter()
        # (name imported, local name, the importing module's word)
        self.imports: Counter[tuple[str, str, str]] = Counter()
        self.classes: Counter[str] = Counter()  # class keys
        self._names: frozenset[str] | None = None

    def count(self, facts: FileFacts, sign: int) -> None:
        imports = _imports(facts)
        defined = _defined(facts)
        classes = _class_keys(facts)
        if not defined and not imports and not classes:
            return
        self._names = None
        _add(self.aliases, defined, sign)
        _add(self.imports, imports, sign)
        _add(self.classes, classes, sign)

    def names(self, extra: Iterable[FileFacts] = ()) -> set[str]:
        """The exported names of the counted files and of `extra` ones."""
        more = list(extra)
        if not more and self._names is not None:
            return set(self._names)
        names = set(self.aliases)
        classes = set(self.classes)
        imports = list(self.imports)
        for facts in more:
            names.update(_defined(facts))
            classes.update(_class_keys(facts))
            imports += _imports(facts)
        reached: dict[str, list[str]] = {}
        importers: dict[str, set[str]] = {}
        for name, local, word in imports:
            reached.setdefault(name, []).append(local)
            importers.setdefault(local, set()).add(word)
        todo = list(names)
        while todo:
            for local in reached.get(todo.pop(), ()):
                if local not in names:
                    names.add(local)
                    todo.append(local)
        # Classes re-exported: `from tests.bases import Base as Renamed` in middle.py makes
        # `Renamed` reachable from files that import middle.
        class_names = {key.split(KEY_SEPARATOR)[0] for key in classes}
        todo = list(class_names)
        while todo:
            for local in reached.get(todo.pop(), ()):
                for word in importers.get(local, ()):
                    key = class_key(local, word)
                    if key not in classes:
                        classes.add(key)
                        if local not in class_names:
                            class_names.add(local)
                            todo.append(local)
        names |= classes
        if not more:
            self._names = frozenset(names)
        return names


class TreeScan:
    """Facts, cross-file links and records of one tree; `update` moves it to another tree."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: ScanCache | None = None,
        workers: int | None = None,
        parser: Parser | None = None,
    ) -> None:
        from .words import keyword_bytes_pattern

        self.settings = settings
        self.cache = cache
        self.parser = parser if parser is not None else Parser(settings, workers)
        self._own_parser = parser is None
        self.prefilter = TIMINGS.search(
            keyword_bytes_pattern(settings.mark_names), "prefilter", "prefiltered out"
        )
        self.fingerprint = settings.fingerprint() + SCANNER_VERSION
        self.files: dict[str, SourceFile] = {}  # the files scanned (listed without error)
        self.blobs: dict[str, str] = {}  # path -> blob id of the version read
        self.errors: dict[str, str] = {}  # path -> why it could not be listed or read
        # Pass 1 of each file read: its facts, or None when it mentions no marker word.
        self.first: dict[str, FileFacts | None] = {}
        self.positive: dict[str, FileFacts] = {}  # the files pass 1 found facts in
        self.negatives: set[str] = set()  # the others
        self.exports = _Exports()  # the names the positive files export
        # Pass 2 of negative files: names id -> path -> facts (None: mentions none of the
        # names), and the paths with facts.
        self.second: dict[str, dict[str, FileFacts | None]] = {}
        self.second_hits: dict[str, set[str]] = {}
        # Pass 3 of files defining imported bases of test classes: path -> names -> facts.
        self.third: dict[str, dict[tuple[str, ...], FileFacts]] = {}
        self.facts: dict[str, FileFacts] = {}  # the facts in force, passes 1 to 3
        self.linked: dict[str, tuple[MutedTest, ...]] = {}  # records from other files
        self.depends: dict[str, frozenset[str] | None] = {}  # paths the linking looked at
        self.records: dict[str, tuple[MutedTest, ...]] = {}  # a file's records, sorted
        self.parsed = 0  # files handed to the parser, all updates together
        self.changed: frozenset[str] = frozenset()  # paths whose facts the last update changed
        self._result: ScanResult | None = None
        self._held: dict[str, bytes] = {}  # bytes of files with no marker word, in an update
        self._words: dict[str, frozenset[bytes]] = {}  # their import_words, in an update

    def close(self) -> None:
        if self._own_parser:
            self.parser.close()

    def key(self, path: str, blob: str, *extra: str) -> str:
        is_test = self.settings.discovery.is_test_file(path)
        return hashlib.sha256(
            "\0".join([self.fingerprint, path, blob, str(is_test), *extra]).encode()
        ).hexdigest()

    # -- update ---------------------------------------------------------------------------

    def update(
        self,
        source: Checkout,
        *,
        removed: Iterable[str] = (),
        added: Iterable[SourceFile] = (),
        progress: bool = False,
    ) -> None:
        """Forget `removed` paths, (re)scan `added` files (a changed file: its new version)."""
        discovery = self.settings.discovery
        before = self.facts
        touched = set()
        for path in removed:
            self._forget(path)
            touched.add(path)
        fresh = []
        for item in added:
            if discovery.skips_path(item.path, item.in_git):
                continue
            self._forget(item.path)
            touched.add(item.path)
            if item.error:
                self.errors[item.path] = item.error
            elif item.size > MAX_FILE_BYTES:
                self.errors[item.path] = f"larger than {MAX_FILE_BYTES // 2**20} MB; not scanned"
            else:
                self.files[item.path] = item
                fresh.append(item)
        to_store: dict[str, bytes | FileFacts] = {}
        try:
            self._first_pass(source, fresh, to_store, progress)
            facts = self._second_pass(source, to_store)
            self._third_pass(source, facts, to_store)
        finally:
            self._held.clear()
            self._words.clear()
        self._store(to_store)
        # Passes 2 and 3 can change the facts of files that did not change themselves.
        self.changed = frozenset(
            p for p in before.keys() | facts.keys() if before.get(p) is not facts.get(p)
        )
        self.facts = facts
        for path in self.changed:
            found = facts.get(path)
            if found is not None and found.note:
                log.info("%s: %s; read with the regex fallback", path, found.note)
        self._link()
        if self.changed or touched:
            self._result = None

    def _forget(self, path: str) -> None:
        for table in (self.files, self.blobs, self.errors):
            table.pop(path, None)
        found = self.first.pop(path, None)
        if found is not None:
            del self.positive[path]
            self.exports.count(found, -1)
        self.negatives.discard(path)
        for results in self.second.values():
            results.pop(path, None)
        for hits in self.second_hits.values():
            hits.discard(path)
        self.third.pop(path, None)

    def _found(self, path: str, found: FileFacts | None) -> None:
        """Pass 1's result for a file."""
        self.first[path] = found
        if found is None:
            self.negatives.add(path)
        else:
            self.positive[path] = found
            self.exports.count(found, +1)

    def _first_pass(
        self,
        source: Checkout,
        items: list[SourceFile],
        to_store: dict[str, bytes | FileFacts],
        progress: bool,
    ) -> None:
        tick = _progress(len(items), progress)
        next(tick)
        keys = {self.key(f.path, f.blob_id): f for f in items if f.blob_id}
        resolved = _cached_facts(self.cache, keys)
        for item in items:
            if item.path in resolved:
                self.blobs[item.path] = item.blob_id or ""
                self._found(item.path, resolved[item.path])
                next(tick)
        job_keys: dict[str, str] = {}
        held = 0
        unread = [f for f in items if f.path not in resolved]
        if len(unread) >= EARLY_START_FILES:
            self.parser.start(len(unread))
        for item, data in source.read(unread):
            next(tick)
            if isinstance(data, str):
                self.errors[item.path] = data
                continue
            blob = item.blob_id or git_blob_id(data)
            self.blobs[item.path] = blob
            key = self.key(item.path, blob)
            if self.prefilter.search(data):
                is_test = self.settings.discovery.is_test_file(item.path)
                self.parser.submit((item.path, data, is_test, ()))
                job_keys[item.path] = key
            else:
                self._found(item.path, None)
                to_store[key] = NEGATIVE
                if held + len(data) <= HOLD_BYTES:
                    self._held[item.path] = data  # pass 2 may need it: not read twice
                    held += len(data)
        self.parsed += len(job_keys)
        for result in self.parser.results():
            self._found(result.path, result)
            if result.error is None:
                to_store[job_keys[result.path]] = result

    def _second_pass(
        self, source: Checkout, to_store: dict[str, bytes | FileFacts]
    ) -> dict[str, FileFacts]:
        """Pass 2 over the files with no marker word, to a fixpoint of exported names.

        Round by round as a full scan does it; a file's answer for a set of names is kept,
        so a round costs only the files (or names) it has not seen.
        """
        facts = dict(self.positive)
        negatives = set(self.negatives)
        found: list[FileFacts] = []
        names = self.exports.names()
        seen: set[str] = set()
        used: set[str] = set()
        before: dict[str, FileFacts | None] = {}  # the answers of the round before
        while names - seen:
            new = names - seen
            seen |= names
            names_id = hashlib.sha256("\0".join(sorted(names)).encode()).hexdigest()
            used.add(names_id)
            known = self.second.setdefault(names_id, {})
            hits = self.second_hits.setdefault(names_id, set())
            unknown = negatives - known.keys()
            if unknown:
                wanted = {self.key(p, self.blobs[p], names_id): self.files[p] for p in unknown}
                # Names only grow from round to round: a file that named none of the last
                # round's names is asked about the new ones only.
                cleared = {p for p in unknown if p in before and before[p] is None}
                answers = self._second_read(source, wanted, (names, new, cleared), to_store)
                for path, result in answers.items():
                    known[path] = result
                    if result is not None:
                        hits.add(path)
            before = known
            now = hits & negatives
            for path in now:
                result = known[path]
                assert result is not None
                facts[path] = result
                found.append(result)
            negatives -= now
            names = self.exports.names(found)
        for names_id in [n for n in self.second if n not in used]:
            del self.second[names_id]
            del self.second_hits[names_id]
        return facts

    def _third_pass(
        self, source: Checkout, facts: dict[str, FileFacts], to_store: dict[str, bytes | FileFacts]
    ) -> None:
        """Pass 3: the files that define imported bases of test classes, parsed again for
        those class names (a base without a mark of its own is not selected otherwise)."""
        from .link import Linker

        asked: set[tuple[str, tuple[str, ...]]] = set()
        for _ in range(MAX_BASE_ROUNDS):
            wanted = Linker(facts, self.settings).wanted_bases(set(self.files))
            if not wanted:
                break
            exported = _exported(facts.values())
            asks = {
                p: tuple(sorted(n | exported))
                for p, n in wanted.items()
                if p in self.blobs and (p, tuple(sorted(n))) not in asked
            }
            asked.update((p, tuple(sorted(n))) for p, n in wanted.items())
            for path in [p for p in asks if asks[p] in self.third.get(p, {})]:
                facts[path] = self.third[path][asks.pop(path)]
            if not asks:
                continue
            keys = {self.key(p, self.blobs[p], "bases", *extra): p for p, extra in asks.items()}
            found = _cached_facts(self.cache, {k: self.files[p] for k, p in keys.items()})
            for path, result in found.items():
                if result is not None:
                    self._third_found(path, asks.pop(path), result, facts)
            jobs = []
            for item, data in source.read([self.files[p] for p in sorted(asks)]):
                if isinstance(data, bytes):
                    is_test = self.settings.discovery.is_test_file(item.path)
                    jobs.append((item.path, data, is_test, asks[item.path]))
            self.parsed += len(jobs)
            for result in self.parser.run(jobs):
                if result.error is None:
                    extra = asks[result.path]
                    self._third_found(result.path, extra, result, facts)
                    to_store[self.key(result.path, self.blobs[result.path], "bases", *extra)] = (
                        result
                    )

    def _third_found(
        self, path: str, extra: tuple[str, ...], found: FileFacts, facts: dict[str, FileFacts]
    ) -> None:
        self.third.setdefault(path, {})[extra] = found
        facts[path] = found

    def _second_read(
        self,
        source: Checkout,
        unknown: dict[str, SourceFile],
        asked: tuple[set[str], set[str], set[str]],
        to_store: dict[str, bytes | FileFacts],
    ) -> dict[str, FileFacts | None]:
        """The answers of `unknown` files for `names`, where `asked` is (names, the names new
        in this round, the files that named none of the others)."""
        names, new, cleared = asked
        found = _cached_facts(self.cache, unknown)
        by_path = {item.path: key for key, item in unknown.items()}
        hits = [item for item in unknown.values() if item.path not in found]
        every, only_new = NameSearch(names), NameSearch(new)
        extra = tuple(sorted({name.split(KEY_SEPARATOR)[0] for name in names}))
        jobs = []
        held = [(item, self._held[item.path]) for item in hits if item.path in self._held]
        unread = [item for item in hits if item.path not in self._held]
        for item, data in itertools.chain(held, source.read(unread)):
            search = only_new if item.path in cleared else every
            if isinstance(data, bytes) and search.search(data, self._import_words(item.path, data)):
                is_test = self.settings.discovery.is_test_file(item.path)
                jobs.append((item.path, data, is_test, extra))
            else:
                found[item.path] = None
                to_store[by_path[item.path]] = NEGATIVE
        self.parsed += len(jobs)
        for result in self.parser.run(jobs):
            found[result.path] = result
            if result.error is None:
                to_store[by_path[result.path]] = result
        return found

    def _import_words(self, path: str, data: bytes) -> Callable[[], frozenset[bytes]]:
        def words() -> frozenset[bytes]:
            found = self._words.get(path)
            if found is None:
                found = self._words[path] = import_words(data)
            return found

        return words

    def _store(self, to_store: dict[str, bytes | FileFacts]) -> None:
        """Write new results to the scan cache (NEGATIVE or facts), and keep them decoded."""
        if not to_store:
            return
        encoded = {k: v if isinstance(v, bytes) else v.dumps() for k, v in to_store.items()}
        if self.cache is not None:
            self.cache.put_many(encoded)
        for key, value in to_store.items():
            remember(key, value if isinstance(value, FileFacts) else None, len(encoded[key]))

    def _link(self) -> None:
        """Link again the files whose cross-file lookups touched a changed path."""
        from .link import Linker

        changed = self.changed
        for path in changed:
            self.linked.pop(path, None)
            self.depends.pop(path, None)
            self.records.pop(path, None)
        recording = _Recording(self.facts)
        linker = Linker(recording, self.settings)
        for path, found in self.facts.items():
            if found.error is not None:
                continue
            crossing = bool(found.pending or found.open_classes)
            if path in self.records and not crossing:
                continue
            if path in self.linked:
                depends = self.depends[path]
                if depends is not None and depends.isdisjoint(changed):
                    continue
            if crossing:
                recording.start()
                linked = linker.records(found.pending, path) if found.pending else []
                if found.open_classes:
                    linked += linker.class_records(found)
                self.linked[path] = tuple(linked)
                self.depends[path] = recording.looked_at()
            mine = [*found.records, *self.linked.get(path, ())]
            mine.sort(key=MutedTest.sort_key)
            self.records[path] = tuple(mine)

    # -- result ---------------------------------------------------------------------------

    def result(self) -> ScanResult:
        if self._result is not None:
            return self._result
        errors = [ScanError(path, error) for path, error in self.errors.items()]
        errors += [ScanError(p, f.error) for p, f in self.facts.items() if f.error is not None]
        errors.sort()
        # Sorted by nodeid, `path::test`: files in the order of `path::`, each file's records
        # sorted already. A path that starts with another's `path::` would interleave them.
        paths = sorted((p for p, r in self.records.items() if r), key=lambda p: p + "::")
        records = [r for path in paths for r in self.records[path]]
        if any(b.startswith(a + "::") for a, b in itertools.pairwise(paths)):
            records.sort(key=MutedTest.sort_key)
        dynamic = [d for f in self.facts.values() if f.error is None for d in f.dynamic]
        dynamic.sort(key=lambda d: (d.path, d.line))
        self._result = ScanResult(tuple(records), tuple(errors), len(self.files), tuple(dynamic))
        return self._result


def scan_checkout(
    checkout: Checkout,
    settings: Settings,
    *,
    workers: int | None = None,
    progress: bool = False,
    cache: ScanCache | None = None,
) -> ScanResult:
    """Scan every file of the checkout: one update from an empty tree."""
    scan = TreeScan(settings, cache=cache, workers=workers)
    try:
        scan.update(checkout, added=checkout.files(), progress=progress)
        return scan.result()
    finally:
        scan.close()

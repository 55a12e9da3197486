"""Resolve what crosses files, from the per-file summaries only (never from source).

`from .helpers import requires_network` in a test file leaves a `Pending` use; here we find
helpers.py among the scanned files, look its name up (following re-exports), and turn the
use into a record. The same goes for helper functions that return marks
(`requires_x = _importorskip("x")`, `@skip_if_no("pkg")`) and for test classes whose bases
are imported (`class TestX(Base)`): the base's tests, marks, setup skips and unittest-ness
come from the base file's `ClassInfo`. Names that lead outside the repository, or to
something that is not a mark, are dropped: they were ordinary decorators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..config import Settings
from ..model import MutedTest
from ..timings import TIMINGS
from .classes import Hit, class_hits, collected, is_testcase
from .facts import (
    BaseRef,
    ClassInfo,
    FileFacts,
    ImportRef,
    MarkUse,
    ModuleInfo,
    ParamVia,
    Pending,
)
from .marks import (
    KNOWN_MODULES,
    Arg,
    MarkSpec,
    Target,
    kind_of,
    known_spec,
    make_record,
    normalize,
)
from .template import instantiate

MAX_HOPS = 10


def module_candidates(ref: ImportRef, importer: str) -> list[str]:
    """Paths that `ref`, imported from the file `importer`, may name."""
    module_path = ref.module.replace(".", "/")
    directory = importer.rsplit("/", 1)[0] if "/" in importer else ""
    bases: list[str] = []
    if ref.level:
        base = directory
        for _ in range(ref.level - 1):
            base = base.rsplit("/", 1)[0] if "/" in base else ""
        bases.append(base)
    else:
        # pytest puts the test's directory (rootdir-relative packages) on sys.path; a src
        # layout or the repository root are the other usual places.
        base = directory
        while True:
            bases.append(base)
            if not base:
                break
            base = base.rsplit("/", 1)[0] if "/" in base else ""
        bases.append("src")
    result = []
    for base in bases:
        stem = "/".join(p for p in (base, module_path) if p)
        if stem:
            result += [f"{stem}.py", f"{stem}/__init__.py"]
    return result


class Linker:
    @TIMINGS.timed("link")
    def __init__(self, facts: Mapping[str, FileFacts], settings: Settings) -> None:
        self.facts = facts
        self.settings = settings

    def find(self, ref: ImportRef, importer: str) -> str | None:
        for candidate in module_candidates(ref, importer):
            if candidate in self.facts:
                return candidate
        return None

    def wanted_bases(self, paths: set[str]) -> dict[str, set[str]]:
        """Files (among `paths`) that define an imported base of a test class, or an imported
        name parametrize values are made by (`P(1, marks=...)`), but were not parsed for it
        (a module that only says `P = pytest.param` mentions no marker word): path -> names
        to look for."""
        wanted: dict[str, set[str]] = {}
        self._wanted_params(paths, wanted)
        work: list[tuple[str, ClassInfo]] = [
            (f.path, info) for f in self.facts.values() for info in f.open_classes
        ]
        done: set[tuple[str, str]] = set()
        while work and len(done) < 10_000:
            path, info = work.pop()
            if (path, info.name) in done:
                continue
            done.add((path, info.name))
            for base in info.bases:
                found = self.base(base, path, info)
                if found is not None:
                    work.append(found)
                    continue
                if base[0] != "import":
                    continue
                assert isinstance(base[1], ImportRef) and isinstance(base[2], tuple)
                named = _named(base[1], base[2])
                if named is None:
                    continue
                ref, name = named
                for candidate in module_candidates(ref, path):
                    if candidate in paths:
                        known = self.facts.get(candidate)
                        if known is None or (
                            name not in known.classes and name not in known.imports
                        ):
                            wanted.setdefault(candidate, set()).add(name)
                        break
        return wanted

    def _wanted_params(self, paths: set[str], wanted: dict[str, set[str]]) -> None:
        vias = {(f.path, u.via) for f in self.facts.values() for u in f.pending if u.via}
        for importer, via in vias:
            ref, tail = via
            for _ in range(MAX_HOPS):
                named = _named(ref, tail)
                candidates = module_candidates(named[0], importer) if named else []
                candidate = next((c for c in candidates if c in paths), None)
                if named is None or candidate is None:
                    break
                name, known = named[1], self.facts.get(candidate)
                if known is not None and name in known.imports:  # a re-export: follow it
                    ref, tail, importer = known.imports[name], (), candidate
                    continue
                if known is None or name not in known.aliases:
                    wanted.setdefault(candidate, set()).add(name)
                break

    def resolve(
        self,
        ref: ImportRef,
        tail: tuple[str, ...],
        call: tuple[Arg, ...] | None,
        importer: str,
        hops: int = 0,
        index: int | None = None,
    ) -> MarkSpec | None:
        if hops > MAX_HOPS:
            return None
        if ref.level == 0 and ref.module.split(".")[0] in KNOWN_MODULES:
            qualname = normalize(".".join([ref.module, *([ref.name] if ref.name else []), *tail]))
            written = tail[-1] if tail else (ref.name or ref.module.rsplit(".", 1)[-1])
            return known_spec(qualname, written, call)
        name = ref.name
        if name is None:  # `import helpers` then `helpers.requires_network`
            if not tail:
                return None
            name, tail = tail[0], tail[1:]
            path = self.find(ref, importer)
        else:
            path = self.find(ref, importer)
            if path is None:  # `from tests import helpers` then `helpers.requires_network`
                sub = ImportRef(f"{ref.module}.{name}".lstrip("."), ref.level, None)
                return self.resolve(sub, tail, call, importer, hops + 1, index) if tail else None
        if path is None:
            return None
        facts = self.facts[path]
        if tail:
            return None
        if name in facts.helpers:
            if call is None:
                return None
            made = instantiate(facts.helpers[name], call, index)
            return MarkSpec(made.qualname, name, made.args) if made is not None else None
        if index is not None:
            return (
                self.resolve(facts.imports[name], tail, call, path, hops + 1, index)
                if (name in facts.imports)
                else None
            )
        if name in facts.aliases:
            spec = facts.aliases[name]
            spec = MarkSpec(spec.qualname, name, spec.args)
            return spec.called_with(call) if call is not None else spec
        if name in facts.pending_aliases:
            use = facts.pending_aliases[name]
            if use.ref is None:
                return None
            made = self.resolve(use.ref, use.tail, use.call, path, hops + 1, use.index)
            if made is None:
                return None
            made = MarkSpec(made.qualname, name, made.args)
            return made.called_with(call) if call is not None else made
        if name in facts.imports:
            return self.resolve(facts.imports[name], tail, call, path, hops + 1)
        return None

    def is_param(self, via: ParamVia, importer: str) -> bool:
        """Does an imported name (`from .helpers import P`) stand for `pytest.param`?"""
        made = self.resolve(via[0], via[1], None, importer)
        return made is not None and made.qualname == "pytest.param"

    @TIMINGS.timed("link")
    def records(self, pending: Iterable[Pending], importer: str) -> list[MutedTest]:
        result = []
        for use in pending:
            if use.via is not None and not self.is_param(use.via, importer):
                continue
            spec = use.spec
            if use.ref is not None:
                spec = self.resolve(use.ref, use.tail, use.call, importer, index=use.index)
            if spec is None:
                continue
            if use.written:
                spec = MarkSpec(spec.qualname, use.written, spec.args)
            classified = kind_of(spec, self.settings.mark_names, self.settings.retry_flaky)
            if classified is None or not self.settings.wants(classified[0]):
                continue
            result.append(
                make_record(
                    spec,
                    use.target,
                    use.mark_line,
                    *classified,
                    parser="libcst",
                    condition=use.condition,
                    ticket_hint=use.ticket_hint,
                )
            )
        return result

    # -- classes whose bases are imported ---------------------------------------------------

    def find_class(
        self, ref: ImportRef, tail: tuple[str, ...], importer: str, hops: int = 0
    ) -> tuple[str, ClassInfo] | None:
        """The class an imported base names (following re-exports), with its file."""
        if hops > MAX_HOPS or (ref.level == 0 and ref.module.split(".")[0] in KNOWN_MODULES):
            return None
        name = ref.name
        path = self.find(ref, importer)
        if name is None:
            if not tail:
                return None
            name, tail = tail[0], tail[1:]
        elif path is None:
            sub = ImportRef(f"{ref.module}.{name}".lstrip("."), ref.level, None)
            return self.find_class(sub, tail, importer, hops + 1) if tail else None
        if path is None or tail:
            return None
        facts = self.facts[path]
        if name in facts.classes:
            return path, facts.classes[name]
        if name in facts.imports:
            return self.find_class(facts.imports[name], (), path, hops + 1)
        return None

    def mro(
        self, path: str, info: ClassInfo, seen: frozenset[tuple[str, str]] = frozenset()
    ) -> tuple[list[tuple[str, ClassInfo]], bool]:
        """The class and its bases across files; True when an unresolved base says TestCase."""
        result: list[tuple[str, ClassInfo]] = [(path, info)]
        testcase = False
        seen = seen | {(path, info.name)}
        if len(seen) > MAX_HOPS * 4:
            return result, testcase
        for base in info.bases:
            found = self.base(base, path, info)
            if found is None:
                testcase = testcase or _named_testcase(base)
                continue
            if (found[0], found[1].name) in seen:
                continue
            more, more_testcase = self.mro(found[0], found[1], seen)
            testcase = testcase or more_testcase
            for item in more:
                if item not in result:
                    result.append(item)
        return result, testcase

    def base(self, base: BaseRef, path: str, info: ClassInfo) -> tuple[str, ClassInfo] | None:
        if base[0] == "local":
            classes = self.facts[path].classes if path in self.facts else {}
            name = str(base[1])
            return (path, classes[name]) if name in classes and name != info.name else None
        if base[0] == "import":
            ref, tail = base[1], base[2]
            assert isinstance(ref, ImportRef) and isinstance(tail, tuple)
            return self.find_class(ref, tail, path)
        return None

    @TIMINGS.timed("link")
    def class_records(self, facts: FileFacts) -> list[MutedTest]:
        """Records of a file's test classes whose bases come from other files."""
        result: list[MutedTest] = []
        for info in facts.open_classes:
            for hit in self._hits(facts.path, info, facts.module, ""):
                result.extend(self._record(hit, facts.path))
        return result

    def _hits(self, path: str, info: ClassInfo, module: ModuleInfo, prefix: str) -> list[Hit]:
        mro, named_testcase = self.mro(path, info)
        if named_testcase:
            # An unresolvable base named like `...TestCase` (django.test.TestCase...).
            first = mro[0][1]
            mro[0] = (mro[0][0], ClassInfo(**{**first.__dict__, "testcase": True}))
        discovery = self.settings.discovery
        hits = list(class_hits(mro, module, path, discovery, prefix))
        if collected(mro, discovery) and not is_testcase(mro):
            for nested in info.nested:
                hits += self._hits(path, nested, module, f"{prefix}{info.name}::")
        return hits

    def _record(self, hit: Hit, path: str) -> list[MutedTest]:
        use: MarkUse = hit.use
        target = Target(
            path,
            hit.test,
            hit.line,
            hit.scope,
            hit.param_index,
            hit.param_id,
            hit.cases,
            # An inherited method: `line` is its def in the base's file (a third file through
            # a chain of bases).
            def_path=hit.def_origin,
        )
        if use.via is not None and not self.is_param(use.via, hit.origin):
            return []
        spec = use.spec
        if spec is None and use.ref is not None:
            spec = self.resolve(use.ref, use.tail, use.call, hit.origin, index=use.index)
            if spec is not None and use.written:
                spec = MarkSpec(spec.qualname, use.written, spec.args)
        if spec is None:
            return []
        classified = kind_of(spec, self.settings.mark_names, self.settings.retry_flaky)
        if classified is None or not self.settings.wants(classified[0]):
            return []
        return [
            make_record(
                spec,
                target,
                use.mark_line,
                *classified,
                parser="libcst",
                condition=use.condition,
                ticket_hint=use.ticket_hint,
                # A mark inherited from a base class in another file: mark_line is there.
                mark_path=hit.origin,
            )
        ]


def _named(ref: ImportRef, tail: tuple[str, ...]) -> tuple[ImportRef, str] | None:
    """The module and the name in it that an imported name with attributes stands for (None:
    outside the repository, or deeper than a module's attribute)."""
    if ref.name is None and len(tail) == 1:
        name = tail[0]
    elif ref.name is not None and not tail:
        name = ref.name
    elif ref.name is not None and len(tail) == 1:  # `from tests import base`
        ref, name = ImportRef(f"{ref.module}.{ref.name}", ref.level, None), tail[0]
    else:
        return None
    if ref.level == 0 and ref.module.split(".")[0] in KNOWN_MODULES:
        return None
    return ref, name


def _named_testcase(base: BaseRef) -> bool:
    if base[0] != "import":
        return False
    ref, tail = base[1], base[2]
    assert isinstance(ref, ImportRef) and isinstance(tail, tuple)
    last = tail[-1] if tail else (ref.name or ref.module.rsplit(".", 1)[-1])
    return last.endswith("TestCase")

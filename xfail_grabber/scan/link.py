"""Resolve marks imported from other files of the repository.

`from .helpers import requires_network` in a test file leaves a `Pending` use; here we find
helpers.py among the scanned files, look its name up (following re-exports), and turn the
use into a record. Names that lead outside the repository, or to something that is not a
mark, are dropped: they were ordinary decorators.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..config import Settings
from ..model import MutedTest
from ..timings import TIMINGS
from .facts import FileFacts, ImportRef, Pending
from .marks import KNOWN_MODULES, Arg, MarkSpec, kind_of, known_spec, make_record, normalize

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

    def resolve(
        self,
        ref: ImportRef,
        tail: tuple[str, ...],
        call: tuple[Arg, ...] | None,
        importer: str,
        hops: int = 0,
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
                return self.resolve(sub, tail, call, importer, hops + 1) if tail else None
        if path is None:
            return None
        facts = self.facts[path]
        if name in facts.aliases and not tail:
            spec = facts.aliases[name]
            spec = MarkSpec(spec.qualname, name, spec.args)
            return spec.called_with(call) if call is not None else spec
        if name in facts.imports:
            return self.resolve(facts.imports[name], tail, call, path, hops + 1)
        return None

    @TIMINGS.timed("link")
    def records(self, pending: Iterable[Pending], importer: str) -> list[MutedTest]:
        result = []
        for use in pending:
            spec = self.resolve(use.ref, use.tail, use.call, importer)
            if spec is None:
                continue
            classified = kind_of(spec, self.settings.mark_names)
            if classified is None or not self.settings.wants(classified[0]):
                continue
            result.append(
                make_record(spec, use.target, use.mark_line, *classified, parser="libcst")
            )
        return result

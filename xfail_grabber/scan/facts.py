"""What one file tells on its own: its records, what it exports, what it could not resolve.

A `FileFacts` depends only on the file's path and bytes (and the settings), never on another
file, so it can be cached by blob id. What crosses files is left as a summary for `link.py`:
marks imported from another module (`Pending`), helper functions that return marks
(`Helper`), module-level classes (`ClassInfo`, so a test class in another file can inherit
from them), and this file's test classes whose bases live elsewhere (`open_classes`).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

from ..model import DynamicSite, MutedTest
from .marks import Arg, MarkSpec, Target


@dataclass(frozen=True)
class ImportRef:
    """`from <module> import <name>` (name None for `import module`), as written."""

    module: str  # dotted, without the leading dots
    level: int  # leading dots of a relative import
    name: str | None


# A parametrize value made by a name imported from the repository (`P(1, marks=...)` with
# `from .helpers import P`): its marks count only if the name turns out to be `pytest.param`.
# The import and the attributes after it, as in a `Pending`.
ParamVia = tuple[ImportRef, tuple[str, ...]]


@dataclass(frozen=True)
class Pending:
    """A decorator (or pytestmark entry) that names something imported from the repository,
    or a mark resolved here (`spec`) on a value of an imported `pytest.param` alias (`via`)."""

    ref: ImportRef | None
    tail: tuple[str, ...]  # attributes after the imported name: `helpers.marks.flaky` -> (...)
    call: tuple[Arg, ...] | None  # arguments when it is called, else None
    target: Target
    mark_line: int
    condition: str | None = None
    # The use is the value of a helper call: `has_x, requires_x = _importorskip("x")` -> 1
    index: int | None = None
    written: str | None = None  # the local name it was used by (`requires_x`)
    ticket_hint: str | None = None  # a ticket in the comments next to the use
    spec: MarkSpec | None = None  # the mark, when known here (then `via` is set)
    via: ParamVia | None = None


@dataclass(frozen=True)
class MarkUse:
    """A mark where it was found: resolved (`spec`) or naming an import (`ref`)."""

    mark_line: int
    spec: MarkSpec | None = None
    ref: ImportRef | None = None
    tail: tuple[str, ...] = ()
    call: tuple[Arg, ...] | None = None
    condition: str | None = None
    index: int | None = None
    written: str | None = None
    ticket_hint: str | None = None  # a ticket in the comments next to the mark
    via: ParamVia | None = None  # on a value of an imported `pytest.param` alias

    def pending(self, target: Target) -> Pending:
        assert self.ref is not None or self.via is not None
        return Pending(
            self.ref,
            self.tail,
            self.call,
            target,
            self.mark_line,
            self.condition,
            self.index,
            self.written,
            self.ticket_hint,
            self.spec if self.ref is None else None,
            self.via,
        )


@dataclass(frozen=True)
class ParamMark:
    """A mark on one `pytest.param` value: the value's index in its parametrize, pytest's id
    for it (None: cannot be known), and how many cases the other parametrizes of the same
    function or class make (None: unknown)."""

    index: int
    id: str | None
    others: int | None
    use: MarkUse

    @property
    def suffix(self) -> str:
        if self.index < 0:
            return "[?]"  # a value made by a comprehension: which one cannot be known
        return f"[{self.id}]" if self.id is not None else f"[#{self.index}]"


@dataclass(frozen=True)
class MethodInfo:
    """A function of a class (or module): its name, line and what mutes it."""

    name: str
    line: int
    collectable: bool  # pytest would collect it by name (and it is no fixture)
    marks: tuple[MarkUse, ...] = ()  # decorators
    params: tuple[ParamMark, ...] = ()  # marks of pytest.param values
    cases: int | None = 1  # items its own parametrizes make (None: unknown)
    body: tuple[MarkUse, ...] = ()  # pytest.skip(), self.skipTest(), raise SkipTest
    trial: tuple[MarkUse, ...] = ()  # `test_x.skip = "..."` (twisted trial)


# ("local", name) | ("import", ImportRef, tail) | ("ext", qualname)
BaseRef = tuple[object, ...]


@dataclass(frozen=True)
class ClassInfo:
    name: str
    bases: tuple[BaseRef, ...]
    testcase: bool  # derives from a unittest TestCase known by name (ext)
    trial: bool  # derives from twisted.trial.unittest.(Synchronous)TestCase
    excluded: bool  # `__test__ = False`, or an `__init__`
    marks: tuple[MarkUse, ...] = ()  # decorators and class pytestmark
    trial_attrs: tuple[MarkUse, ...] = ()  # `skip = "..."` / `todo = "..."` in the body
    methods: tuple[MethodInfo, ...] = ()
    nested: tuple[ClassInfo, ...] = ()
    explicit_test: bool = False  # `__test__ = True`
    params: tuple[ParamMark, ...] = ()  # marks of pytest.param values of class parametrizes
    cases: int | None = 1  # items its class-level parametrizes make (None: unknown)


@dataclass(frozen=True)
class ModuleInfo:
    """What reaches every test of a module: pytestmark, setup_module skips, trial `skip`."""

    marks: tuple[MarkUse, ...] = ()
    setup: tuple[MarkUse, ...] = ()  # setup_module / setUpModule
    setup_function: tuple[MarkUse, ...] = ()  # module-level test functions only
    trial: tuple[MarkUse, ...] = ()


# A piece of a string a helper builds: text, or the Nth parameter's value as `f"{x}"` formats
# it (N), as `f"{x!r}"` does (("r", N)), or as `"..." + x` takes it (("+", N): a string), or
# the pieces of one branch, chosen by a test on the Nth parameter: (test, N, then, else) with
# test "if", "if not", "is None" or "is not None".
Piece = str | int | tuple[str, int] | tuple[str, int, tuple["Piece", ...], tuple["Piece", ...]]


@dataclass(frozen=True)
class Helper:
    """A module-level function that returns a mark (or a tuple holding marks).

    `returns` holds (tuple index or None for the whole value, template, pieces); a
    template's argument texts hold `\\x00N\\x00` where the helper used its Nth parameter, and
    an argument that is a string built from literals and parameters has its pieces.
    """

    params: tuple[str, ...]
    defaults: tuple[tuple[str, Arg], ...]
    returns: tuple[tuple[int | None, MarkSpec, tuple[tuple[Piece, ...] | None, ...]], ...]


@dataclass(frozen=True)
class FileFacts:
    path: str
    records: tuple[MutedTest, ...] = ()
    # Module-level names other files may import: a mark alias, or a name imported here.
    aliases: dict[str, MarkSpec] = field(default_factory=dict)
    imports: dict[str, ImportRef] = field(default_factory=dict)
    pending: tuple[Pending, ...] = ()
    error: str | None = None  # set when the file could not be read or parsed at all
    parser: str = "libcst"
    note: str | None = None  # why the regex fallback was used
    helpers: dict[str, Helper] = field(default_factory=dict)
    # name -> (helper ref, tail, call, index): `has_x, requires_x = imported_helper("x")`
    pending_aliases: dict[str, MarkUse] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    open_classes: tuple[ClassInfo, ...] = ()  # test classes with a base from another file
    module: ModuleInfo = field(default_factory=ModuleInfo)
    dynamic: tuple[DynamicSite, ...] = ()

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> FileFacts:
        facts = pickle.loads(data)  # noqa: S301 - our own cache file, written by this code
        if not isinstance(facts, FileFacts):
            raise TypeError("not a FileFacts")
        return facts

"""What one file tells on its own: its records, what it exports, what it could not resolve.

A `FileFacts` depends only on the file's path and bytes (and the settings), never on another
file, so it can be cached by blob id. Marks that come from other files of the repository
(`from .helpers import requires_network`) are left as `Pending` uses and resolved by
`link.py` once every file's facts are in.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

from ..model import MutedTest
from .marks import Arg, MarkSpec, Target


@dataclass(frozen=True)
class ImportRef:
    """`from <module> import <name>` (name None for `import module`), as written."""

    module: str  # dotted, without the leading dots
    level: int  # leading dots of a relative import
    name: str | None


@dataclass(frozen=True)
class Pending:
    """A decorator (or pytestmark entry) that names something imported from the repository."""

    ref: ImportRef
    tail: tuple[str, ...]  # attributes after the imported name: `helpers.marks.flaky` -> (...)
    call: tuple[Arg, ...] | None  # arguments when it is called, else None
    target: Target
    mark_line: int


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

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> FileFacts:
        facts = pickle.loads(data)  # noqa: S301 - our own cache file, written by this code
        if not isinstance(facts, FileFacts):
            raise TypeError("not a FileFacts")
        return facts

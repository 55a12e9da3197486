"""One file: bytes in, FileFacts out. Never raises for bad input; says what happened instead.

Order of work, cheapest first:
1. a text prefilter (the caller's): files that mention no marker name are never parsed;
2. decoding (PEP 263 cookie or BOM, else UTF-8), NUL bytes and size limits;
3. `ast.parse` as a guard: libcst's native parser can overflow the C stack (a segfault, not
   an exception) on pathological nesting that CPython rejects cleanly, and ast costs a
   tenth of libcst;
4. the selection: only the top-level statements that can matter go to libcst: imports,
   assignments that mention a marker, and classes/functions whose text mentions a marker
   (plus the base and derived classes of those). Everything else is skipped unparsed;
5. a budget on what libcst would get (see `over_budget`): ast accepts some inputs flat that
   libcst builds as deep trees (`a and b and ...` is one ast node, but one nesting level per
   operator in libcst, whose native parser then overflows the stack: a segfault, no
   exception), libcst's time grows faster than linearly with nesting, and its memory is
   about 2 KB per token. A check of the ast is far cheaper than any of that;
6. libcst on the selected statements.
Files that fail 3, 5 or 6 go through the regex fallback (linear in the file's size), with a
note saying why.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
import tokenize
import warnings

import libcst as cst

from ..config import Settings
from .cst import Snippet, Walker
from .facts import FileFacts
from .marks import KNOWN_MODULES
from .regex import scan_text as regex_scan
from .words import keyword_pattern

MAX_ALIAS_ROUNDS = 10
# What libcst may be given from one file. Measured (libcst 1.9, 8 MB stack): an `and` chain of
# 8,000 operands crashes it; nesting 250 levels deep costs up to 0.35 s a statement, 1,000
# levels up to 9 s; it takes about 60 us and 2 KB a token. Real code stays far below both
# (benchmarks/README.md: the largest and deepest selections of CPython's test suite).
MAX_LIBCST_DEPTH = 100
MAX_LIBCST_NODES = 40_000
# ast.parse itself takes about 400 bytes a token: a denser file is read by the fallback only.
# (A word or a punctuation character counts as a token, in strings and comments too.)
MAX_AST_TOKENS = 400_000
TOKEN = re.compile(r"\w+|[^\w\s]")
ODD_LINE_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def decode(data: bytes) -> str:
    """Source bytes to text the way Python reads them (PEP 263 cookie, BOM, UTF-8)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def scan_bytes(
    path: str, data: bytes, settings: Settings, is_test: bool, extra_names: tuple[str, ...] = ()
) -> FileFacts:
    if b"\x00" in data:
        return FileFacts(path=path, error="contains NUL bytes; not a Python source file")
    try:
        text = decode(data)
    except (SyntaxError, LookupError) as exc:
        return FileFacts(path=path, error=f"unknown source encoding: {exc}")
    except UnicodeDecodeError as exc:
        # Python would refuse to import it; we still look for marks, with what we can read.
        text = data.decode("utf-8", errors="replace")
        return _fallback(path, text, settings, is_test, f"undecodable bytes ({exc.reason})")
    return scan_text(path, text, settings, is_test, extra_names)


def scan_text(
    path: str, text: str, settings: Settings, is_test: bool, extra_names: tuple[str, ...] = ()
) -> FileFacts:
    if len(text) > settings.max_parse_bytes:
        return _fallback(path, text, settings, is_test, "too large to parse")
    if len(text) > MAX_AST_TOKENS and _count(TOKEN, text, MAX_AST_TOKENS + 1) > MAX_AST_TOKENS:
        return _fallback(path, text, settings, is_test, f"over {MAX_AST_TOKENS} tokens to parse")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not our business
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return _fallback(path, text, settings, is_test, f"not valid Python 3: {exc}")
    snippets = select(text, tree, settings, extra_names)
    why = over_budget(snippets)
    if why:
        return _fallback(path, text, settings, is_test, why)
    walker = Walker(path, settings, is_test)
    walker.source = text
    walker.tree = tree
    try:
        for statements, source in snippets:
            walker.walk_module(Snippet(cst.parse_module(source), statements))
        return walker.facts()
    except (cst.ParserSyntaxError, RecursionError, MemoryError) as exc:
        return _fallback(path, text, settings, is_test, f"libcst cannot parse it: {exc}")


def _count(pattern: re.Pattern[str], text: str, limit: int) -> int:
    """Matches of pattern in text, counted up to limit (no list of them is built)."""
    return sum(1 for _ in itertools.islice(pattern.finditer(text), limit))


def over_budget(snippets: list[tuple[list[ast.stmt], str]]) -> str | None:
    """Why libcst must not see these snippets (too large, or nested too deep), or None.

    One iterative walk of their ast (a deep tree must not exhaust Python's stack here either);
    a function body that select() blanked is not counted: libcst never sees it.
    """
    nodes = 0
    for statements, _ in snippets:
        stack: list[tuple[ast.AST, int]] = [(node, 1) for node in statements]
        while stack:
            node, depth = stack.pop()
            nodes += 1
            if isinstance(node, ast.BoolOp):
                depth += len(node.values) - 1  # libcst: one BooleanOperation per operator
            if depth > MAX_LIBCST_DEPTH:
                return f"nested too deeply for libcst (over {MAX_LIBCST_DEPTH} levels)"
            if nodes > MAX_LIBCST_NODES:
                return f"too large for libcst (over {MAX_LIBCST_NODES} syntax nodes)"
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and getattr(
                node, BLANKED, False
            ):
                children: list[ast.AST] = [*node.decorator_list, node.args]
                if node.returns is not None:
                    children.append(node.returns)
            else:
                children = list(ast.iter_child_nodes(node))
            stack.extend((child, depth + 1) for child in children)
    return None


def _fallback(path: str, text: str, settings: Settings, is_test: bool, why: str) -> FileFacts:
    records = regex_scan(text, path, settings) if is_test else ()
    return FileFacts(path=path, records=records, parser="regex", note=why.splitlines()[0][:200])


def _span(node: ast.stmt) -> tuple[int, int]:
    start = node.lineno
    for decorator in getattr(node, "decorator_list", ()):
        start = min(start, decorator.lineno)
    return start, node.end_lineno or node.lineno


def select(
    text: str, tree: ast.Module, settings: Settings, extra_names: tuple[str, ...]
) -> list[tuple[list[ast.stmt], str]]:
    """The snippets (ast statements, source) of the top-level statements that can matter."""
    if ODD_LINE_BREAKS.search(text):
        return [(tree.body, text)]  # str.splitlines would disagree with Python's lines
    lines = text.splitlines(keepends=True)
    pattern = keyword_pattern([*settings.mark_names, *extra_names])
    spans = [_span(node) for node in tree.body]
    if any(_marks_whole_module(node, pattern) for node in tree.body):
        # pytestmark or a module-level skip reaches every test: take every statement.
        return _snippets(tree.body, spans, [True] * len(spans), lines)
    segments = ["".join(lines[start - 1 : end]) for start, end in spans]
    wanted = [False] * len(spans)
    local_names: set[str] = set()
    classes: dict[str, int] = {}
    imported = _imported_names(tree)
    roots = imported | _param_roots(tree)
    helper_results: set[str] = set()
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.Import | ast.ImportFrom):
            wanted[index] = True
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = index
        elif _calls_imported(node, imported):
            # `has_x, requires_x = imported_helper("x")`: the names may be marks, used as
            # decorators (looked for below, like imported names).
            wanted[index] = True
            helper_results |= _assigned_names(node)
        elif _renames(node, roots):
            # `P = pytest.param`, `retry = helpers.retry`: the walker binds the new name as an
            # import; a decorator that names it may be a mark (taken below, like imported
            # names), and `Q = P` renames it again.
            wanted[index] = True
            helper_results |= _assigned_names(node)
            roots |= _assigned_names(node)
    # Assignments that make mark aliases, then anything that mentions them, until no new
    # alias appears (an alias of an alias of an alias...).
    for _ in range(MAX_ALIAS_ROUNDS):
        found = False
        for index, node in enumerate(tree.body):
            if not wanted[index] and pattern.search(segments[index]):
                wanted[index] = True
                names = _assigned_names(node) - local_names
                if (
                    isinstance(node, ast.FunctionDef)
                    and "return" in segments[index]
                    and not node.name.startswith("test")
                ):
                    names.add(node.name)  # a helper that may return a mark
                found = found or bool(names)
                local_names |= names
        if not found:
            break
        pattern = keyword_pattern([*settings.mark_names, *extra_names, *local_names])
    # Decorators that name something imported from another module may be mark aliases.
    if imported or helper_results:
        decorating = imported | helper_results
        for index, node in enumerate(tree.body):
            if not wanted[index] and decorating & _decorator_names(node):
                wanted[index] = True
    # A class whose base is imported may inherit marked tests from another file.
    if imported:
        for index, node in enumerate(tree.body):
            if isinstance(node, ast.ClassDef) and not wanted[index]:
                bases = {n.id for b in node.bases for n in ast.walk(b) if isinstance(n, ast.Name)}
                wanted[index] = bool(bases & imported)
    # Classes inherit marks and tests: take the bases and subclasses of taken classes.
    changed = True
    while changed:
        changed = False
        for index, node in enumerate(tree.body):
            if not isinstance(node, ast.ClassDef):
                continue
            local = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in classes]
            related = [classes[b] for b in local]
            if wanted[index]:
                for other in related:
                    if not wanted[other]:
                        wanted[other] = changed = True
            elif any(wanted[other] for other in related):
                wanted[index] = changed = True
    return _snippets(tree.body, spans, wanted, lines)


def _snippets(
    body: list[ast.stmt], spans: list[tuple[int, int]], wanted: list[bool], lines: list[str]
) -> list[tuple[list[ast.stmt], str]]:
    lines = list(lines)
    _blank_bodies([node for node, take in zip(body, wanted, strict=True) if take], lines)
    # One libcst call per run of consecutive statements: each call has a fixed cost.
    runs: list[tuple[list[ast.stmt], list[int]]] = []
    previous = False
    for node, (start, end), take in zip(body, spans, wanted, strict=True):
        if take and runs and (previous or start <= runs[-1][1][1]):
            runs[-1][0].append(node)
            runs[-1][1][1] = max(runs[-1][1][1], end)
        elif take:
            runs.append(([node], [start, end]))
        previous = take
    return [(nodes, "".join(lines[start - 1 : end])) for nodes, (start, end) in runs]


MODULE_WIDE_NAMES = frozenset({"pytestmark", "skip", "todo"})  # pytestmark; trial attributes
SETUP_FUNCTIONS = frozenset({"setup_module", "setUpModule", "setup_function"})
BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _marks_whole_module(node: ast.stmt, pattern: re.Pattern[str]) -> bool:
    """Does this module-level statement reach every test of the module (any branch)?"""
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        if _assigned_names(node) & MODULE_WIDE_NAMES:
            return True
        value = node.value
        return isinstance(value, ast.Call) and "importorskip" in ast.dump(value.func)
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Call) and bool(pattern.search(ast.dump(node.value.func)))
    if isinstance(node, ast.Raise):
        return node.exc is not None and bool(BODY_WORDS.search(ast.dump(node.exc)))
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name in SETUP_FUNCTIONS and bool(BODY_WORDS.search(ast.dump(node)))
    if isinstance(node, ast.ClassDef):
        return False
    for name in BLOCK_FIELDS:
        for child in getattr(node, name, ()):
            nested = isinstance(child, ast.ExceptHandler | ast.match_case)
            statements = child.body if nested else [child]
            if any(_marks_whole_module(s, pattern) for s in statements):
                return True
    return False


def _assigned_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    else:
        return set()
    names = set()
    for target in targets:
        for element in target.elts if isinstance(target, ast.Tuple | ast.List) else [target]:
            if isinstance(element, ast.Name):
                names.add(element.id)
    return names


def _calls_imported(node: ast.stmt, imported: set[str]) -> bool:
    if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
        return False
    func = node.value.func
    return isinstance(func, ast.Name) and func.id in imported


def _renames(node: ast.stmt, roots: set[str]) -> bool:
    """`P = pytest.param`, `P = param`, `parametrize = pytest.mark.parametrize` or `X =
    helpers.X` (an imported name): an assignment of a dotted name the walker binds as an
    import."""
    if not isinstance(node, ast.Assign):
        return False
    value = node.value
    last = value.attr if isinstance(value, ast.Attribute) else None
    while isinstance(value, ast.Attribute):
        value = value.value
    if not isinstance(value, ast.Name):
        return False
    return last in ("param", "parametrize") or value.id == "param" or value.id in roots


def _param_roots(tree: ast.Module) -> set[str]:
    """Names imports bind to pytest (`import pytest as pt`) or pytest.param (`from pytest
    import param as p`)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(a.asname for a in node.names if a.asname and "pytest" in a.name)
        elif isinstance(node, ast.ImportFrom) and "pytest" in (node.module or ""):
            names.update(a.asname for a in node.names if a.asname and a.name == "param")
    return names


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").split(".")[0] in KNOWN_MODULES:
                continue
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (a.asname or a.name).split(".")[0]
                for a in node.names
                if a.name.split(".")[0] not in KNOWN_MODULES
            )
    return names


def _decorator_names(node: ast.stmt) -> set[str]:
    names: set[str] = set()
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        for decorator in node.decorator_list:
            names.update(n.id for n in ast.walk(decorator) if isinstance(n, ast.Name))
    if isinstance(node, ast.ClassDef):
        for child in node.body:
            names |= _decorator_names(child)
    return names


BLANKED = "_grabber_blanked"  # set on an ast function node whose body libcst will not see
BODY_WORDS = re.compile(r"\b(?:skip|xfail|skipTest|SkipTest|importorskip|add_marker|applymarker)\b")


def _blank_bodies(nodes: list[ast.stmt], lines: list[str], top: bool = True) -> None:
    """Replace function bodies that hold no imperative skip by `...` and empty lines.

    Only a body can hold `pytest.skip()`; everything else libcst needs is in the `def` line
    and the decorators. Line numbers stay as they were, and libcst parses far less.
    """
    for node in nodes:
        if isinstance(node, ast.ClassDef):
            _blank_bodies(node.body, lines, top=False)
            continue
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0]
        start, end = _span(first)[0], node.end_lineno or first.lineno
        head = lines[start - 1][: first.col_offset]
        if start == node.lineno or head.strip() or head != head.lstrip("\ufeff"):
            continue  # a one-line function, or a body that shares the signature's last line
        text = "".join(lines[start - 1 : end])
        if BODY_WORDS.search(text) or (top and "mark" in text and "return" in text):
            continue  # an imperative skip, or a helper that may return a mark
        lines[start - 1] = head + "...\n"
        setattr(node, BLANKED, True)
        for index in range(start, end):
            lines[index] = "\n"

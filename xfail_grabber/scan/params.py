"""`@pytest.mark.parametrize`: each value's id as pytest prints it, and how many cases there are.

pytest makes the ids of one parametrize call on its own (`_pytest.python.IdMaker`): an explicit
`pytest.param(..., id=...)`, else an entry of `ids=[...]`, else one token per argument value
joined by `-` (strings and bytes ASCII-escaped, numbers, booleans and None as `str()`, a
function or class by `__name__`, an Enum member as `str()`, `argname` + index otherwise), then
duplicates are numbered. Whatever depends on running code (a computed value, `ids=callable`,
a string over 100 characters, whose id depends on the pytest version) is None here: unknown,
never guessed.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import libcst as cst

M = TypeVar("M")
LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.Imaginary)

# pytest >= 9 ids long strings by argname + index ("short"), older ones by the whole string.
MAX_STR_ID = 100
# Builtins whose __name__ is their name (`int`, `ValueError`, `len`; not `IOError`).
BUILTIN_NAMES = frozenset(
    name for name in dir(builtins) if getattr(getattr(builtins, name), "__name__", None) == name
)
NON_PRINTABLE = {i: f"\\x{i:02x}" for i in range(128) if i not in range(32, 127)}
NON_PRINTABLE.update({ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"})


@dataclass
class Case(Generic[M]):
    """One value of a parametrize call: its index, pytest's id for it (None: unknown), and
    the marks given with `pytest.param(..., marks=...)`."""

    index: int
    id: str | None
    marks: list[M] = field(default_factory=list)


@dataclass(frozen=True)
class Names:
    """What the module binds, as far as ids need it."""

    # module-level `def`/`class` without decorators: their __name__ is their name
    plain: frozenset[str] = frozenset()
    # classes deriving from enum.Enum only, without __str__: name -> member names
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    # every other module-level binding (imports, assignments, decorated defs)
    other: frozenset[str] = frozenset()


def module_names(tree: ast.Module | None) -> Names:
    """The module-level bindings parametrize ids may name, from the whole file's ast."""
    if tree is None:
        return Names(other=frozenset(["*"]))
    plain: set[str] = set()
    other: set[str] = set()
    enums: dict[str, frozenset[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.decorator_list:
                other.add(node.name)
            elif isinstance(node, ast.ClassDef) and _plain_enum(node):
                enums[node.name] = frozenset(_members(node))
            else:
                plain.add(node.name)
        else:
            other.update(_bound(node))
    for name in other:
        enums.pop(name, None)
    return Names(frozenset(plain - other), enums, frozenset(other))


def _plain_enum(node: ast.ClassDef) -> bool:
    """`class C(Enum)` / `class C(enum.Enum)` without mixins, keywords or its own __str__:
    str() of its members is `C.NAME` on every Python version."""
    if len(node.bases) != 1 or node.keywords:
        return False
    base = ast.unparse(node.bases[0])
    if base not in ("Enum", "enum.Enum"):
        return False
    return not any(
        isinstance(item, ast.FunctionDef) and item.name in ("__str__", "__format__", "__repr__")
        for item in node.body
    )


def _members(node: ast.ClassDef) -> list[str]:
    names = []
    for item in node.body:
        if isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name) and not target.id.startswith("_"):
                    names.append(target.id)
    return names


def _bound(node: ast.stmt) -> set[str]:
    """Names a module-level statement binds (imports, assignments, anything nested)."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.alias):
            names.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(sub.name)
    return names


def ascii_escaped(value: str | bytes) -> str:
    """`_pytest.compat.ascii_escaped`."""
    if isinstance(value, bytes):
        text = value.decode("ascii", "backslashreplace")
    else:
        text = value.encode("unicode_escape").decode("ascii")
    return text.translate(NON_PRINTABLE)


def constant(node: cst.BaseExpression) -> tuple[bool, object]:
    """(True, value) for a literal str/bytes/int/float/complex/bool/None, else (False, None)."""
    if isinstance(node, cst.Name):
        known = {"True": True, "False": False, "None": None}
        return (True, known[node.value]) if node.value in known else (False, None)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus | cst.Plus):
        ok, value = constant(node.expression)
        if ok and isinstance(value, int | float | complex) and not isinstance(value, bool):
            return True, -value if isinstance(node.operator, cst.Minus) else +value
        return False, None
    if not isinstance(node, LITERALS):
        return False, None
    try:
        code = cst.Module(body=[]).code_for_node(node)
        value = ast.literal_eval(code.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return False, None
    if isinstance(value, str | bytes | int | float | complex | bool) or value is None:
        return True, value
    return False, None


def value_id(node: cst.BaseExpression, names: Names) -> tuple[bool, str | None]:
    """pytest's `_idval_from_value` for a value written as `node`: (True, id) when the value
    is of a kind pytest names, (True, None) when it is of a kind pytest does not name (it then
    uses argname + index), (False, None) when what it is cannot be known statically."""
    ok, value = constant(node)
    if ok:
        if isinstance(value, str | bytes):
            return True, ascii_escaped(value)
        return True, str(value)
    if isinstance(node, cst.Lambda):
        return True, "<lambda>"
    if isinstance(node, cst.List | cst.Tuple | cst.Dict | cst.Set):
        return True, None  # no __name__: argname + index
    if isinstance(node, cst.Name):
        if node.value in names.plain:
            return True, node.value
        if node.value in BUILTIN_NAMES and node.value not in names.other | set(names.enums):
            return True, node.value
        if node.value in names.enums:
            return True, node.value
        return False, None
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.attr.value in names.enums.get(node.value.value, frozenset())
    ):
        return True, f"{node.value.value}.{node.attr.value}"
    return False, None


def auto_token(node: cst.BaseExpression, argname: str, index: int, names: Names) -> str | None:
    """One argument's part of a generated id (None: unknown)."""
    ok, value = constant(node)
    if ok and isinstance(value, str | bytes) and len(value) > MAX_STR_ID:
        return None  # depends on the pytest version and its long-string strategy
    known, token = value_id(node, names)
    if not known:
        return None
    return token if token is not None else f"{argname}{index}"


def argnames_of(node: cst.BaseExpression) -> list[str] | None:
    ok, value = constant(node)
    if ok and isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    if isinstance(node, cst.List | cst.Tuple):
        result = []
        for element in node.elements:
            ok, value = constant(element.value)
            if not ok or not isinstance(value, str):
                return None
            result.append(value)
        return result
    return None


# The marks of a value that is a `pytest.param(...)` call (its `marks=`), None for any other
# value: the caller decides what `pytest.param` is (an alias, an import) and what is not.
ParamMarks = Callable[[cst.Call], list[M] | None]


def arguments(
    call: cst.Call,
) -> tuple[cst.BaseExpression | None, cst.BaseExpression | None, dict[str, cst.BaseExpression]]:
    """(argnames, argvalues, keyword arguments) of a parametrize call."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    names_node = positional[0].value if positional else keywords.get("argnames")
    values_node = positional[1].value if len(positional) > 1 else keywords.get("argvalues")
    return names_node, values_node, keywords


def comprehension_marks(call: cst.Call, param_marks: ParamMarks[M]) -> list[M]:
    """Marks of `[pytest.param(x, marks=...) for x in ...]` values: which values and how many
    cannot be known, so the caller records them once, as `test[?]`."""
    values = arguments(call)[1]
    if not isinstance(values, cst.ListComp | cst.GeneratorExp | cst.SetComp):
        return []
    element = values.elt
    marks = param_marks(element) if isinstance(element, cst.Call) else None
    return marks or []


def parametrize_cases(
    call: cst.Call,
    names: Names,
    param_marks: ParamMarks[M],
    values: cst.BaseExpression | None = None,
) -> list[Case[M]] | None:
    """The cases of one parametrize call, or None when its values cannot be listed.

    `values` replaces the call's argvalues (a module-level list the caller resolved).
    """
    names_node, values_node, keywords = arguments(call)
    values_node = values or values_node
    if names_node is None or not isinstance(values_node, cst.List | cst.Tuple):
        return None
    if any(isinstance(e, cst.StarredElement) for e in values_node.elements):
        return None
    argnames = argnames_of(names_node)
    # pytest wraps each value in a 1-tuple when the names are one string naming one argument
    # ("x"); `["x"]` takes each value as the sequence of its values; "x," is one or the other
    # depending on the pytest version (9 made it the sequence form): unknown.
    ok, names_value = constant(names_node)
    single = ok and isinstance(names_value, str)
    if single and argnames is not None and len(argnames) == 1:
        assert isinstance(names_value, str)
        if names_value.rstrip().endswith(","):
            argnames = None
    # ids=[...]: (known, id) per entry, (True, None) for a None entry (pytest generates
    # that one); None when ids= is not a list (a callable, a name): generated ids unknown.
    explicit: list[tuple[bool, str | None]] | None = None
    ids_node = keywords.get("ids")
    if ids_node is None or (isinstance(ids_node, cst.Name) and ids_node.value == "None"):
        explicit = []
    elif isinstance(ids_node, cst.List | cst.Tuple):
        entries: list[tuple[bool, str | None]] = []
        for element in ids_node.elements:
            if isinstance(element, cst.StarredElement):
                break
            known, token = value_id(element.value, names)
            is_none = isinstance(element.value, cst.Name) and element.value.value == "None"
            entries.append((True, None) if is_none else (known and token is not None, token))
        else:
            explicit = entries
    cases: list[Case[M]] = []
    for index, element in enumerate(values_node.elements):
        value = element.value
        marks: list[M] = []
        case_id: str | None = None
        decided = False
        parts: Sequence[cst.BaseExpression] | None = [value]
        param = param_marks(value) if isinstance(value, cst.Call) else None
        if param is not None:
            assert isinstance(value, cst.Call)
            marks = param
            parts = [a.value for a in value.args if a.keyword is None]
            if any(a.star for a in value.args if a.keyword is None):
                parts = None
            for arg in value.args:
                if arg.keyword is not None and arg.keyword.value == "id":
                    ok, id_value = constant(arg.value)
                    if ok and isinstance(id_value, str):
                        case_id, decided = ascii_escaped(id_value), True
                    elif not (ok and id_value is None):
                        decided = True  # a computed id (or pytest.HIDDEN_PARAM): unknown
        elif argnames is not None and not (len(argnames) == 1 and single):
            # several names, or one name given as a list: each value is a sequence of values
            parts = list(elements(value)) if isinstance(value, cst.List | cst.Tuple) else None
        if not decided:
            if explicit is None:
                decided = True  # ids=callable or a name: unknown
            elif index < len(explicit) and explicit[index] != (True, None):
                case_id, decided = explicit[index][1], True
        if not decided:
            case_id = _generated(parts, argnames, index, names)
        cases.append(Case(index, case_id, marks))
    return _numbered(cases)


def _generated(
    parts: Sequence[cst.BaseExpression] | None, argnames: list[str] | None, index: int, names: Names
) -> str | None:
    if parts is None or argnames is None or len(parts) != len(argnames):
        return None
    tokens = [auto_token(v, n, index, names) for v, n in zip(parts, argnames, strict=True)]
    if any(t is None for t in tokens):
        return None
    return "-".join(t for t in tokens if t is not None)


def _numbered(cases: list[Case[M]]) -> list[Case[M]]:
    """pytest's numbering of duplicate ids (`a0`, `a1`; `1_0`, `1_1`). Where an unknown id is
    among them, numbered ids cannot be known either."""
    ids = [c.id for c in cases]
    counts: dict[str, int] = {}
    for case_id in ids:
        if case_id is not None:
            counts[case_id] = counts.get(case_id, 0) + 1
    if all(n == 1 for n in counts.values()):
        return cases
    if None in ids:
        for case in cases:
            if case.id is not None and counts[case.id] > 1:
                case.id = None
        return cases
    # As IdMaker.make_unique_parameterset_ids does it, step for step.
    resolved = [c.id or "" for c in cases]
    suffixes: dict[str, int] = {}
    for index, original in enumerate(list(resolved)):
        if counts[original] > 1:
            suffix = "_" if original[-1:].isdigit() else ""
            number = suffixes.get(original, 0)
            new_id = f"{original}{suffix}{number}"
            while new_id in set(resolved):
                number += 1
                new_id = f"{original}{suffix}{number}"
            resolved[index] = new_id
            suffixes[original] = number + 1
            cases[index].id = new_id
    return cases


def elements(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(value, cst.List | cst.Tuple):
        for element in value.elements:
            if isinstance(element, cst.Element):
                yield element.value
    else:
        yield value

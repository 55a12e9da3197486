"""The libcst walker: one module's statements in, FileFacts out.

The walk is a plain recursion over statements that can hold tests (module, class bodies,
module-level if/try/with blocks) and never descends into expressions except the few that
matter (decorators, pytestmark values, parametrize arguments, statement-level calls in a test
body). Positions are computed only for snippets where a mute was found.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..config import Settings
from ..model import MutedTest
from .facts import FileFacts, ImportRef, Pending
from .lines import pair_statements
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

EMPTY_MODULE = cst.Module(body=[])
MAX_PARAM_CASES = 5000


def source_of(node: cst.CSTNode) -> str:
    return EMPTY_MODULE.code_for_node(node).strip()


def literal(node: cst.BaseExpression) -> tuple[bool, Any]:
    """(True, value) for a literal string/number/bool/None, else (False, None)."""
    try:
        if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
            value = node.evaluated_value
            if isinstance(value, str):
                return True, value
            return False, None
        if isinstance(node, cst.Integer | cst.Float):
            return True, node.evaluated_value
        if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
            return True, {"True": True, "False": False, "None": None}[node.value]
        if (
            isinstance(node, cst.UnaryOperation)
            and isinstance(node.operator, cst.Minus)
            and isinstance(node.expression, cst.Integer | cst.Float)
        ):
            return True, -node.expression.evaluated_value
    except (SyntaxError, ValueError, MemoryError):
        pass
    return False, None


def to_args(args: Sequence[cst.Arg]) -> tuple[Arg, ...]:
    result = []
    for arg in args:
        if arg.star:
            result.append(Arg(name=f"{arg.star}{source_of(arg.value)}", text=source_of(arg.value)))
            continue
        ok, value = literal(arg.value)
        name = arg.keyword.value if arg.keyword else None
        result.append(Arg(name=name, text=source_of(arg.value), value=value, literal=ok))
    return tuple(result)


def dotted(node: cst.BaseExpression) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return parts[::-1]
    return None


@dataclass
class Found:
    """A mark found on a node, before positions are known."""

    node: cst.CSTNode  # the expression (for mark_line)
    spec: MarkSpec | None = None
    pending: tuple[ImportRef, tuple[str, ...], tuple[Arg, ...] | None] | None = None
    condition: str | None = None
    snippet: Snippet | None = None


class Snippet:
    """A parsed run of top-level statements, with the ast statements it was cut from."""

    def __init__(self, module: cst.Module, statements: Sequence[ast.stmt]) -> None:
        self.module = module
        self.statements = statements
        self._lines: dict[int, int] | None = None

    def line(self, node: cst.CSTNode) -> int:
        if self._lines is None:
            self._lines = {}
            pair_statements(self.module.body, self.statements, self._lines)
        return self._lines.get(id(node), 0)


@dataclass
class Function:
    node: cst.FunctionDef
    snippet: Snippet
    marks: list[Found] = field(default_factory=list)


@dataclass
class Klass:
    name: str
    node: cst.ClassDef
    snippet: Snippet
    bases: list[str]  # local base class names
    testcase: bool
    marks: list[Found] = field(default_factory=list)
    methods: dict[str, Function] = field(default_factory=dict)
    nested: list[Klass] = field(default_factory=list)
    excluded: bool = False  # __test__ = False, or an __init__


class Walker:
    def __init__(self, path: str, settings: Settings, is_test: bool) -> None:
        self.path = path
        self.settings = settings
        self.discovery = settings.discovery
        self.is_test = is_test
        # name -> ("ext", qualname) | ("import", ImportRef) | ("alias", MarkSpec) | ("local",)
        self.bindings: dict[str, tuple[Any, ...]] = {}
        self.aliases: dict[str, MarkSpec] = {}
        self.imports: dict[str, ImportRef] = {}
        self.module_marks: list[Found] = []
        self.functions: list[Function] = []
        self.classes: dict[str, Klass] = {}
        self.class_order: list[Klass] = []
        self.current: Snippet | None = None

    # -- names -----------------------------------------------------------------------------

    def bind_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                parts = dotted(alias.name) or []
                if not parts:
                    continue
                module = ".".join(parts)
                if alias.asname and isinstance(alias.asname.name, cst.Name):
                    local, target = alias.asname.name.value, module
                else:
                    local, target = parts[0], parts[0]
                self._bind(local, ImportRef(target, 0, None))
            return
        if isinstance(node.names, cst.ImportStar):
            return
        module = ".".join(dotted(node.module) or []) if node.module else ""
        level = len(node.relative)
        for alias in node.names:
            if not isinstance(alias.name, cst.Name):
                continue
            name = alias.name.value
            local = name
            if alias.asname and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind(local, ImportRef(module, level, name))

    def _bind(self, local: str, ref: ImportRef) -> None:
        self.imports[local] = ref
        root = ref.module.split(".")[0]
        if ref.level == 0 and root in KNOWN_MODULES:
            qual = ref.module + (f".{ref.name}" if ref.name else "")
            self.bindings[local] = ("ext", normalize(qual))
        else:
            self.bindings[local] = ("import", ref)

    def resolve(self, expr: cst.BaseExpression) -> Found | None:
        """A decorator-like expression as a mark (or a pending cross-file use), else None."""
        found = self._resolve(expr)
        if found is not None:
            found.snippet = self.current
        return found

    def _resolve(self, expr: cst.BaseExpression) -> Found | None:
        call: tuple[Arg, ...] | None = None
        func = expr
        if isinstance(expr, cst.Call):
            call = to_args(expr.args)
            func = expr.func
        parts = dotted(func)
        if not parts:
            return None
        binding = self.bindings.get(parts[0])
        if binding is None:
            return None
        rest = parts[1:]
        if binding[0] == "ext":
            qualname = normalize(".".join([binding[1], *rest]))
            spec = known_spec(qualname, parts[-1], call)
            return Found(expr, spec=spec) if spec else None
        if binding[0] == "alias":
            if rest:
                return None
            spec = binding[1]
            spec = MarkSpec(spec.qualname, parts[0], spec.args)
            return Found(expr, spec=spec.called_with(call) if call is not None else spec)
        if binding[0] == "import" and self.is_test:
            return Found(expr, pending=(binding[1], tuple(rest), call))
        return None

    def marks_of(self, exprs: Iterator[cst.BaseExpression]) -> list[Found]:
        found = []
        for expr in exprs:
            binding = self.bindings.get(expr.value) if isinstance(expr, cst.Name) else None
            if binding is not None and binding[0] == "aliases":
                found += [Found(expr, spec=spec, snippet=self.current) for spec in binding[1]]
                continue
            mark = self.resolve(expr)
            if mark is not None and (mark.pending is not None or self.counts(mark.spec)):
                found.append(mark)
        return found

    def counts(self, spec: MarkSpec | None) -> bool:
        return spec is not None and kind_of(spec, self.settings.mark_names) is not None

    # -- statements ------------------------------------------------------------------------

    def walk_module(self, snippet: Snippet) -> None:
        self.current = snippet
        self._module_statements(snippet.module.body, snippet, None)

    def _module_statements(
        self, body: Sequence[cst.BaseStatement], snippet: Snippet, condition: str | None
    ) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._module_small(small, snippet, condition)
            elif isinstance(stmt, cst.FunctionDef):
                self.bindings[stmt.name.value] = ("local",)
                if self.is_test and self._collectable_function(stmt):
                    self.functions.append(Function(stmt, snippet, self._decorator_marks(stmt)))
            elif isinstance(stmt, cst.ClassDef):
                self.bindings[stmt.name.value] = ("local",)
                if self.is_test:
                    klass = self._class(stmt, snippet)
                    self.classes[klass.name] = klass
                    self.class_order.append(klass)
            elif isinstance(stmt, cst.If):
                self._module_statements(block(stmt.body), snippet, source_of(stmt.test))
                orelse = stmt.orelse
                while orelse is not None:
                    if isinstance(orelse, cst.If):
                        self._module_statements(block(orelse.body), snippet, source_of(orelse.test))
                        orelse = orelse.orelse
                    else:
                        self._module_statements(block(orelse.body), snippet, condition)
                        orelse = None
            elif isinstance(stmt, cst.Try | cst.With):
                self._module_statements(block(stmt.body), snippet, condition)
                if isinstance(stmt, cst.Try):
                    for handler in stmt.handlers:
                        self._module_statements(block(handler.body), snippet, condition)
                    if stmt.orelse is not None:
                        self._module_statements(block(stmt.orelse.body), snippet, condition)

    def _module_small(
        self, small: cst.BaseSmallStatement, snippet: Snippet, condition: str | None
    ) -> None:
        if isinstance(small, cst.Import | cst.ImportFrom):
            self.bind_import(small)
        elif isinstance(small, cst.Assign | cst.AnnAssign):
            targets = (
                [t.target for t in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
            )
            names = [t.value for t in targets if isinstance(t, cst.Name)]
            if small.value is None or not names:
                return
            if "pytestmark" in names:
                if self.is_test:
                    self.module_marks.extend(self.marks_of(elements(small.value)))
                return
            found = self.resolve(small.value)
            several = (
                self.marks_of(elements(small.value))
                if isinstance(small.value, cst.List | cst.Tuple)
                else []
            )
            for name in names:
                self.aliases.pop(name, None)
                if found is not None and found.spec is not None and self.counts(found.spec):
                    self.aliases[name] = found.spec
                    self.bindings[name] = ("alias", found.spec)
                elif several and all(m.spec is not None for m in several):
                    # `both = [pytest.mark.xfail, pytest.mark.skip]`, used as `marks=both`
                    self.bindings[name] = ("aliases", tuple(m.spec for m in several))
                else:
                    self.bindings[name] = ("local",)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and self.is_test:
            found = self.resolve(small.value)
            if found and found.spec and found.spec.qualname == "pytest.skip":
                found.condition = condition
                found.node = small
                self.module_marks.append(found)

    def _decorator_marks(self, node: cst.FunctionDef | cst.ClassDef) -> list[Found]:
        return self.marks_of(d.decorator for d in node.decorators)

    def _collectable_function(self, node: cst.FunctionDef) -> bool:
        if not self.discovery.is_test_function(node.name.value):
            return False
        for decorator in node.decorators:
            parts = dotted(
                decorator.decorator.func
                if isinstance(decorator.decorator, cst.Call)
                else decorator.decorator
            )
            if parts and parts[-1] == "fixture":
                return False
        return True

    def _class(self, node: cst.ClassDef, snippet: Snippet) -> Klass:
        bases: list[str] = []
        testcase = False
        for base in node.bases:
            parts = dotted(base.value)
            if not parts or base.keyword is not None:
                continue
            binding = self.bindings.get(parts[0])
            if len(parts) == 1 and parts[0] in self.classes:
                bases.append(parts[0])
                testcase = testcase or self.classes[parts[0]].testcase
            elif parts[-1].endswith("TestCase") or (
                binding is not None and binding[0] == "ext" and str(binding[1]).endswith("TestCase")
            ):
                testcase = True
        klass = Klass(
            node.name.value, node, snippet, bases, testcase, marks=self._decorator_marks(node)
        )
        for stmt in block(node.body):
            if isinstance(stmt, cst.FunctionDef):
                if stmt.name.value == "__init__":
                    klass.excluded = True
                klass.methods[stmt.name.value] = Function(
                    stmt, snippet, self._decorator_marks(stmt)
                )
            elif isinstance(stmt, cst.ClassDef):
                klass.nested.append(self._class(stmt, snippet))
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        names = [
                            t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                        ]
                        if "pytestmark" in names:
                            klass.marks.extend(self.marks_of(elements(small.value)))
                        if "__test__" in names and literal(small.value) == (True, False):
                            klass.excluded = True
        return klass

    # -- tests and records -----------------------------------------------------------------

    def tests(self) -> Iterator[tuple[str, Function, list[Found]]]:
        """(test name relative to module, function, inherited class marks) for every test."""
        for function in self.functions:
            yield function.node.name.value, function, []
        for klass in self.class_order:
            yield from self._class_tests(klass, "")

    def _class_tests(
        self, klass: Klass, prefix: str
    ) -> Iterator[tuple[str, Function, list[Found]]]:
        collected = klass.testcase or self.discovery.is_test_class(klass.name)
        mro = self._mro(klass)
        if any(k.excluded for k in mro):
            collected = False
        if not collected:
            return
        marks = [m for k in mro for m in k.marks]
        methods: dict[str, Function] = {}
        for k in reversed(mro):
            methods.update(k.methods)
        for name, function in methods.items():
            if klass.testcase:
                wanted = name.startswith("test")
            else:
                wanted = self._collectable_function(function.node)
            if wanted:
                yield f"{prefix}{klass.name}::{name}", function, marks
        if not klass.testcase:
            for nested in klass.nested:
                yield from self._class_tests(nested, f"{prefix}{klass.name}::")

    def _mro(self, klass: Klass, seen: frozenset[str] = frozenset()) -> list[Klass]:
        result = [klass]
        for base in klass.bases:
            if base in self.classes and base not in seen and base != klass.name:
                for k in self._mro(self.classes[base], seen | {klass.name}):
                    if k not in result:
                        result.append(k)
        return result

    def facts(self, parser: str = "libcst") -> FileFacts:
        records: list[MutedTest] = []
        pending: list[Pending] = []
        for name, function, class_marks in self.tests():
            self.current = function.snippet
            found = [
                *(("function", name, m) for m in function.marks),
                *(("class", name, m) for m in class_marks),
                *(("module", name, m) for m in self.module_marks),
                *(("param", f"{name}[{i}]", m) for i, m in self._param_marks(function)),
                *(("body", name, m) for m in self._body_marks(function)),
            ]
            if not found:
                continue
            line = function.snippet.line(function.node.name)
            for scope, test, mark in found:
                self._emit(mark, Target(self.path, test, line, scope), records, pending)
        return FileFacts(
            path=self.path,
            records=tuple(records),
            aliases=dict(self.aliases),
            imports=dict(self.imports),
            pending=tuple(pending),
            parser=parser,
        )

    def _emit(
        self, mark: Found, target: Target, records: list[MutedTest], pending: list[Pending]
    ) -> None:
        mark_line = self._line_of(mark)
        if mark.pending is not None:
            ref, tail, call = mark.pending
            pending.append(Pending(ref, tail, call, target, mark_line))
            return
        assert mark.spec is not None
        classified = kind_of(mark.spec, self.settings.mark_names)
        if classified is None or not self.settings.wants(classified[0]):
            return
        kind, category = classified
        records.append(
            make_record(
                mark.spec,
                target,
                mark_line,
                kind,
                category,
                parser="libcst",
                condition=mark.condition,
            )
        )

    @staticmethod
    def _line_of(mark: Found) -> int:
        return mark.snippet.line(mark.node) if mark.snippet is not None else 0

    # -- parametrize -----------------------------------------------------------------------

    def _param_marks(self, function: Function) -> list[tuple[str, Found]]:
        sets = []
        for decorator in reversed(function.node.decorators):  # closest to the def first
            expr = decorator.decorator
            if not isinstance(expr, cst.Call):
                continue
            parts = dotted(expr.func)
            binding = self.bindings.get(parts[0]) if parts else None
            if not parts or binding is None or binding[0] != "ext":
                continue
            if normalize(".".join([binding[1], *parts[1:]])) != "pytest.mark.parametrize":
                continue
            cases = parametrize_cases(expr, self)
            if cases is None:
                return []
            sets.append(cases)
        if not any(marks for cases in sets for _, marks in cases):
            return []
        result: list[tuple[str, Found]] = []
        combos = itertools.islice(itertools.product(*sets), MAX_PARAM_CASES)
        ids = unique_ids(["-".join(case_id for case_id, _ in combo) for combo in combos])
        for test_id, combo in zip(ids, itertools.product(*sets), strict=False):
            for _, marks in combo:
                result.extend((test_id, mark) for mark in marks)
        return result

    # -- imperative calls in a test body ---------------------------------------------------

    def _body_marks(self, function: Function) -> list[Found]:
        found: list[Found] = []
        self._body(block(function.node.body), None, found)
        return found

    def _body(
        self, body: Sequence[cst.BaseStatement], condition: str | None, found: list[Found]
    ) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    mark = self._imperative(small)
                    if mark is not None:
                        mark.condition = condition
                        found.append(mark)
            elif isinstance(stmt, cst.If):
                self._body(block(stmt.body), source_of(stmt.test), found)
                orelse = stmt.orelse
                negated = f"not ({source_of(stmt.test)})"
                while orelse is not None:
                    if isinstance(orelse, cst.If):
                        self._body(block(orelse.body), source_of(orelse.test), found)
                        orelse = orelse.orelse
                    else:
                        self._body(block(orelse.body), negated, found)
                        orelse = None
            elif isinstance(stmt, cst.For | cst.While | cst.With | cst.Try):
                self._body(block(stmt.body), condition, found)
                if isinstance(stmt, cst.Try):
                    for handler in stmt.handlers:
                        self._body(block(handler.body), condition, found)

    def _imperative(self, small: cst.BaseSmallStatement) -> Found | None:
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            parts = dotted(call.func)
            if parts == ["self", "skipTest"]:
                spec = MarkSpec("skipTest", "skipTest", to_args(call.args))
                return Found(small, spec=spec, snippet=self.current)
            mark = self.resolve(call)
            if mark and mark.spec and mark.spec.qualname in ("pytest.skip", "pytest.xfail"):
                mark.node = small
                return mark
        if isinstance(small, cst.Raise) and small.exc is not None:
            exc = small.exc
            mark = self.resolve(exc)
            if mark and mark.spec and mark.spec.qualname == "unittest.SkipTest":
                spec = MarkSpec("SkipTest", "SkipTest", mark.spec.args)
                return Found(small, spec=spec, snippet=self.current)
        return None


def block(body: cst.BaseSuite) -> Sequence[cst.BaseStatement]:
    if isinstance(body, cst.IndentedBlock):
        return body.body
    return (
        [cst.SimpleStatementLine(body=body.body)]
        if isinstance(body, cst.SimpleStatementSuite)
        else []
    )


def elements(value: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(value, cst.List | cst.Tuple):
        for element in value.elements:
            if isinstance(element, cst.Element):
                yield element.value
    else:
        yield value


def idval(value: cst.BaseExpression, argname: str, index: int) -> str:
    """pytest's automatic id for one parameter value."""
    ok, result = literal(value)
    if ok:
        if isinstance(result, str):
            return result.encode("unicode_escape").decode("ascii")
        return str(result)
    if isinstance(value, cst.SimpleString) and "b" in value.prefix.lower():
        try:
            data = ast.literal_eval(value.value)
        except (ValueError, SyntaxError):
            return f"{argname}{index}"
        if isinstance(data, bytes):
            return data.decode("ascii", "backslashreplace")
    return f"{argname}{index}"


def parametrize_cases(call: cst.Call, walker: Walker) -> list[tuple[str, list[Found]]] | None:
    """[(case id, [marks of that case])] for one @pytest.mark.parametrize call."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    names_node = positional[0].value if positional else keywords.get("argnames")
    values_node = positional[1].value if len(positional) > 1 else keywords.get("argvalues")
    if names_node is None or values_node is None:
        return None
    ok, names_value = literal(names_node)
    if ok and isinstance(names_value, str):
        argnames = [n.strip() for n in names_value.split(",") if n.strip()]
    elif isinstance(names_node, cst.List | cst.Tuple):
        argnames = [str(literal(v)[1]) for v in elements(names_node)]
    else:
        return None
    if not isinstance(values_node, cst.List | cst.Tuple):
        return None
    explicit: list[str | None] = []
    ids_node = keywords.get("ids")
    if isinstance(ids_node, cst.List | cst.Tuple):
        for element in elements(ids_node):
            ok, value = literal(element)
            explicit.append(value if ok and isinstance(value, str) else None)
    cases: list[tuple[str, list[Found]]] = []
    for index, value in enumerate(elements(values_node)):
        marks: list[Found] = []
        case_id: str | None = explicit[index] if index < len(explicit) else None
        values: list[cst.BaseExpression] = [value]
        if isinstance(value, cst.Call) and (dotted(value.func) or [""])[-1] == "param":
            values = [a.value for a in value.args if a.keyword is None and not a.star]
            for arg in value.args:
                if arg.keyword is None:
                    continue
                if arg.keyword.value == "marks":
                    marks = walker.marks_of(elements(arg.value))
                elif arg.keyword.value == "id" and case_id is None:
                    ok, id_value = literal(arg.value)
                    if ok and isinstance(id_value, str):
                        case_id = id_value
        elif len(argnames) > 1 and isinstance(value, cst.List | cst.Tuple):
            values = list(elements(value))
        if case_id is None:
            case_id = "-".join(
                idval(v, argnames[i] if i < len(argnames) else "arg", index)
                for i, v in enumerate(values)
            )
        cases.append((case_id, marks))
    return cases


def unique_ids(ids: list[str]) -> list[str]:
    """pytest makes duplicate ids unique by numbering them."""
    counts: dict[str, int] = {}
    for test_id in ids:
        counts[test_id] = counts.get(test_id, 0) + 1
    seen: dict[str, int] = {}
    result = []
    for test_id in ids:
        if counts[test_id] > 1:
            number = seen.get(test_id, 0)
            seen[test_id] = number + 1
            suffix = "_" if test_id[-1:].isdigit() else ""
            result.append(f"{test_id}{suffix}{number}")
        else:
            result.append(test_id)
    return result

"""The libcst walker: one module's statements in, FileFacts out.

The walk is a plain recursion over statements that can hold tests (module, class bodies,
module-level if/try/with blocks) and never descends into expressions except the few that
matter (decorators, pytestmark values, parametrize arguments, statement-level calls in a test
body). Positions are computed only for snippets where a mute was found.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst

from ..config import Settings
from ..model import DynamicSite, MutedTest
from .classes import TRIAL_ATTRS, Hit, class_hits, collected, function_hits, is_testcase
from .facts import (
    BaseRef,
    ClassInfo,
    FileFacts,
    Helper,
    ImportRef,
    MarkUse,
    MethodInfo,
    ModuleInfo,
    ParamMark,
    ParamVia,
    Pending,
)
from .flow import body_of, branches
from .helpers import build_helper
from .lines import pair_defs, pair_statements
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
from .params import (
    Case,
    Names,
    arguments,
    comprehension_marks,
    elements,
    module_names,
    parametrize_cases,
)
from .template import instantiate
from .tickets import comment_ticket

EMPTY_MODULE = cst.Module(body=[])
LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
    index: int | None = None  # element of a helper's returned tuple
    written: str | None = None  # the local name of a helper's result
    stack: cst.CSTNode | None = None  # the first decorator of the stack it sits in
    via: ParamVia | None = None  # on a value of an imported `pytest.param` alias

    def use(self) -> MarkUse:
        line = self.snippet.line(self.node) if self.snippet is not None else 0
        if self.pending is not None:
            ref, tail, call = self.pending
            return MarkUse(
                line, None, ref, tail, call, self.condition, self.index, self.written, via=self.via
            )
        return MarkUse(line, self.spec, condition=self.condition, via=self.via)


class Snippet:
    """A parsed run of top-level statements, with the ast statements it was cut from."""

    def __init__(self, module: cst.Module, statements: Sequence[ast.stmt]) -> None:
        self.module = module
        self.statements = statements
        self._lines: dict[int, int] | None = None
        self._def_lines: dict[int, int] | None = None

    def line(self, node: cst.CSTNode) -> int:
        if self._lines is None:
            self._lines = {}
            pair_statements(self.module.body, self.statements, self._lines)
        return self._lines.get(id(node), 0)

    def def_line(self, name: cst.Name) -> int:
        """The line of a `def` or `class` name (cheap: mutes need `line`, a test only this)."""
        if self._lines is not None:
            return self._lines.get(id(name), 0)
        if self._def_lines is None:
            self._def_lines = {}
            pair_defs(self.module.body, self.statements, self._def_lines)
        return self._def_lines.get(id(name), 0)


@dataclass
class Function:
    node: cst.FunctionDef
    snippet: Snippet
    marks: list[Found] = field(default_factory=list)
    trial: list[Found] = field(default_factory=list)  # `test_x.skip = "..."`


@dataclass
class Klass:
    name: str
    node: cst.ClassDef
    snippet: Snippet
    bases: list[BaseRef]
    testcase: bool
    trial: bool
    marks: list[Found] = field(default_factory=list)
    trial_attrs: list[Found] = field(default_factory=list)
    methods: dict[str, Function] = field(default_factory=dict)
    nested: list[Klass] = field(default_factory=list)
    excluded: bool = False  # __test__ = False, or an __init__
    explicit_test: bool = False


TRIAL_BASES = ("twisted.trial.unittest.TestCase", "twisted.trial.unittest.SynchronousTestCase")
SKIP_EXCEPTIONS = (
    "unittest.SkipTest",
    "twisted.trial.unittest.SkipTest",
    "pytest.skip.Exception",
    "_pytest.outcomes.Skipped",
)
MODULE_SETUP = ("setup_module", "setUpModule")
HOOK_CALLS = ("add_marker", "applymarker")
PARAM = "pytest.param"
PARAMETRIZE = "pytest.mark.parametrize"
IMPERATIVE_NAMES = frozenset({"skip", "xfail", "skipTest", "importorskip", *HOOK_CALLS})


class Walker:
    def __init__(self, path: str, settings: Settings, is_test: bool) -> None:
        self.path = path
        self.settings = settings
        self.discovery = settings.discovery
        self.is_test = is_test
        # name -> ("ext", qualname) | ("import", ImportRef) | ("alias", MarkSpec) | ("local",)
        #       | ("aliases", specs) | ("helper", Helper) | ("palias", MarkUse)
        self.bindings: dict[str, tuple[Any, ...]] = {}
        self.aliases: dict[str, MarkSpec] = {}
        self.imports: dict[str, ImportRef] = {}
        self.helpers: dict[str, Helper] = {}
        self.pending_aliases: dict[str, Found] = {}
        self.module_marks: list[Found] = []
        self.module_setup: list[Found] = []
        self.setup_function: list[Found] = []
        self.module_trial: list[Found] = []
        self.functions: list[Function] = []
        self.classes: dict[str, Klass] = {}
        self.class_order: list[Klass] = []
        self.dynamic: list[tuple[Found, str]] = []  # (add_marker call, hook or fixture name)
        self.current: Snippet | None = None
        self.source = ""  # the whole file: comments next to a mark may name its ticket
        self.tree: ast.Module | None = None  # the whole file, for what parametrize ids name
        self._source_lines: list[str] | None = None
        self._names: Names | None = None
        self.named_values: dict[str, tuple[cst.BaseExpression, Snippet]] = {}

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

    def qualified(self, expr: cst.BaseExpression) -> str | None:
        """The dotted name an expression stands for through imports (`unittest.SkipTest`)."""
        parts = dotted(expr)
        if not parts:
            return None
        binding = self.bindings.get(parts[0])
        if binding is None:
            return None
        if binding[0] == "ext":
            return normalize(".".join([binding[1], *parts[1:]]))
        if binding[0] == "import" and binding[1].level == 0:
            ref = binding[1]
            return ".".join([ref.module, *([ref.name] if ref.name else []), *parts[1:]])
        return None

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
        if binding[0] == "helper":
            if rest or call is None:
                return None
            made = instantiate(binding[1], call, None)
            if made is None:
                return None
            return Found(expr, spec=MarkSpec(made.qualname, parts[0], made.args))
        if binding[0] == "palias" and not rest:
            use: Found = binding[1]
            return Found(expr, pending=use.pending, index=use.index, written=parts[0])
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

    def param_marks(self, call: cst.Call) -> list[Found] | None:
        """The marks of a parametrize value made by `pytest.param` under any name
        (`pytest.param`, `pt.param`, `from pytest import param as p`, `P = pytest.param`),
        None when the call is anything else (a function of ours that is named `param`). A
        name imported from the repository may be an alias of it: its marks wait for the
        linker to say (`via`)."""
        parts = dotted(call.func)
        binding = self.bindings.get(parts[0]) if parts else None
        if parts is None or binding is None:
            return None
        via: ParamVia | None = None
        if binding[0] == "import" and self.is_test:
            via = (binding[1], tuple(parts[1:]))
        elif binding[0] != "ext" or self.qualified(call.func) != PARAM:
            return None
        marks = []
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "marks":
                marks += self.marks_of(elements(arg.value))
        for mark in marks:
            mark.via = via
        return marks

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
                self._module_function(stmt, snippet)
            elif isinstance(stmt, cst.ClassDef):
                self.bindings[stmt.name.value] = ("local",)
                klass = self._class(stmt, snippet)
                self.classes[klass.name] = klass
                self.class_order.append(klass)
            else:
                for inner, inner_condition in branches(stmt, condition):
                    self._module_statements(inner, snippet, inner_condition)

    def _module_function(self, stmt: cst.FunctionDef, snippet: Snippet) -> None:
        name = stmt.name.value
        self.bindings[name] = ("local",)
        if name in MODULE_SETUP or name == "setup_function":
            target = self.module_setup if name in MODULE_SETUP else self.setup_function
            target += self._body_marks(stmt)
            return
        if self.is_test and self._collectable_function(stmt):
            self.functions.append(Function(stmt, snippet, self._decorator_marks(stmt)))
            return
        helper = build_helper(stmt, self)
        if helper is not None:
            self.helpers[name] = helper
            self.bindings[name] = ("helper", helper)
            return
        self._dynamic_sites(stmt, name)

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
            if small.value is None:
                return
            if self._helper_call(targets, small.value):
                return
            if self._trial_attribute(targets, small.value, condition, self.module_trial):
                return
            names = [t.value for t in targets if isinstance(t, cst.Name)]
            if not names:
                return
            if "pytestmark" in names:
                self._pytestmark(small.value, condition)
                return
            if self._importorskip(small.value, condition):
                return
            self._alias(names, small.value)
        elif isinstance(small, cst.AugAssign):
            target = small.target
            if isinstance(target, cst.Name) and target.value == "pytestmark":
                self._pytestmark(small.value, condition)
        elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
            call = small.value
            func = call.func
            if (
                isinstance(func, cst.Attribute)
                and func.attr.value in ("append", "extend")
                and isinstance(func.value, cst.Name)
                and func.value.value == "pytestmark"
                and call.args
            ):
                self._pytestmark(call.args[0].value, condition)
                return
            if self._importorskip(call, condition):
                return
            found = self.resolve(call)
            if found and found.spec and found.spec.qualname == "pytest.skip":
                found.condition = condition
                found.node = small
                self.module_marks.append(found)
        elif isinstance(small, cst.Raise) and small.exc is not None:
            found = self._raised_skip(small)
            if found is not None:
                found.condition = condition
                self.module_marks.append(found)

    def _pytestmark(self, value: cst.BaseExpression, condition: str | None) -> None:
        for found in self.marks_of(elements(value)):
            found.condition = condition
            self.module_marks.append(found)

    def _importorskip(self, value: cst.BaseExpression, condition: str | None) -> bool:
        """`pytest.importorskip("x")` at module level: every test of the module."""
        found = self.importorskip(value)
        if found is None:
            return False
        found.condition = condition
        self.module_marks.append(found)
        return True

    def importorskip(self, value: cst.BaseExpression) -> Found | None:
        if not isinstance(value, cst.Call) or self.qualified(value.func) != "pytest.importorskip":
            return None
        spec = MarkSpec("pytest.importorskip", "importorskip", to_args(value.args))
        return Found(value, spec=spec, snippet=self.current)

    def _alias(self, names: list[str], value: cst.BaseExpression) -> None:
        ref = self._import_alias(value)
        if ref is not None:
            for name in names:
                self.aliases.pop(name, None)
                self.pending_aliases.pop(name, None)
                self.named_values.pop(name, None)
                self._bind(name, ref)
            return
        found = self.resolve(value)
        several = self.marks_of(elements(value)) if isinstance(value, cst.List | cst.Tuple) else []
        for name in names:
            self.aliases.pop(name, None)
            self.pending_aliases.pop(name, None)
            self.named_values.pop(name, None)
            if isinstance(value, cst.List | cst.Tuple) and self.current is not None:
                self.named_values[name] = (value, self.current)  # parametrize values, maybe
            if found is not None and found.spec is not None and self.counts(found.spec):
                self.aliases[name] = found.spec
                self.bindings[name] = ("alias", found.spec)
            elif several and all(m.spec is not None for m in several):
                # `both = [pytest.mark.xfail, pytest.mark.skip]`, used as `marks=both`
                self.bindings[name] = ("aliases", tuple(m.spec for m in several))
            else:
                self.bindings[name] = ("local",)

    def _import_alias(self, value: cst.BaseExpression) -> ImportRef | None:
        """`P = pytest.param`, `parametrize = pytest.mark.parametrize` or `flaky =
        helpers.flaky`: the name is bound as if imported (`from pytest import param as P`),
        so other files follow it as a re-export. Marks (`xf = pytest.mark.xfail`) are
        aliases of their own (with arguments): not these."""
        parts = dotted(value)
        binding = self.bindings.get(parts[0]) if parts else None
        if parts is None or binding is None:
            return None
        if binding[0] == "ext":
            qualname = self.qualified(value)
            if qualname not in (PARAM, PARAMETRIZE):
                return None
            module, name = str(qualname).rsplit(".", 1)
            return ImportRef(module, 0, name)
        if binding[0] != "import":
            return None
        ref: ImportRef = binding[1]
        rest = parts[1:]
        if ref.name is None and len(rest) == 1:  # `import helpers`; `X = helpers.X`
            return ImportRef(ref.module, ref.level, rest[0])
        if len(rest) == 1:  # `from tests import helpers`: a module, as the linker takes it
            return ImportRef(f"{ref.module}.{ref.name}".lstrip("."), ref.level, rest[0])
        return ref if not rest else None

    def _helper_call(self, targets: list[cst.BaseAssignTargetExpression], value: Any) -> bool:
        """`has_x, requires_x = _importorskip("x")` or `requires_x = skip_if_no("x")`."""
        if not isinstance(value, cst.Call) or len(targets) != 1:
            return False
        parts = dotted(value.func)
        binding = self.bindings.get(parts[0]) if parts and len(parts) == 1 else None
        if binding is None or binding[0] not in ("helper", "import"):
            return False
        target = targets[0]
        slots: list[tuple[int | None, str]] = []
        if isinstance(target, cst.Name):
            slots.append((None, target.value))
        elif isinstance(target, cst.Tuple | cst.List):
            for index, element in enumerate(target.elements):
                if isinstance(element.value, cst.Name):
                    slots.append((index, element.value.value))
        call = to_args(value.args)
        bound = False
        for slot, name in slots:
            self.aliases.pop(name, None)
            self.pending_aliases.pop(name, None)
            if binding[0] == "helper":
                spec = instantiate(binding[1], call, slot)
                if spec is not None and self.counts(spec):
                    self.aliases[name] = MarkSpec(spec.qualname, spec.marker, spec.args)
                    self.bindings[name] = ("alias", spec)
                    bound = True
                    continue
            else:
                use = Found(value, pending=(binding[1], (), call), index=slot)
                self.pending_aliases[name] = use
                self.bindings[name] = ("palias", use)
                bound = True
                continue
            self.bindings[name] = ("local",)
        return bound

    def _trial_attribute(
        self,
        targets: list[cst.BaseAssignTargetExpression],
        value: cst.BaseExpression,
        condition: str | None,
        into: list[Found],
        methods: dict[str, Function] | None = None,
    ) -> bool:
        """`skip = "why"` / `todo = "why"` (class or module), `test_x.skip = "why"` (method)."""
        if self.resolve(value) is not None:
            return False  # `skip = pytest.mark.skip(...)`: a mark alias, not trial's attribute
        handled = False
        for target in targets:
            attr: str | None = None
            owner: str | None = None
            if isinstance(target, cst.Name) and target.value in TRIAL_ATTRS:
                attr = target.value
            elif (
                isinstance(target, cst.Attribute)
                and target.attr.value in TRIAL_ATTRS
                and isinstance(target.value, cst.Name)
            ):
                attr, owner = target.attr.value, target.value.value
            if attr is None:
                continue
            found = self._trial_found(attr, value, condition)
            handled = True
            if found is None:
                continue
            if owner is None:
                into.append(found)
            elif methods is not None and owner in methods:
                methods[owner].trial.append(found)
            elif methods is None and owner in self.classes:
                self.classes[owner].trial_attrs.append(found)
        return handled

    def _trial_found(
        self, attr: str, value: cst.BaseExpression, condition: str | None
    ) -> Found | None:
        ok, result = literal(value)
        if ok and not result:
            return None  # `skip = None`: not skipped
        if ok and isinstance(result, str):
            arg = Arg(None, source_of(value), result, literal=True)
        else:
            arg = Arg(None, source_of(value))
            condition = " and ".join(c for c in (condition, source_of(value)) if c)
        spec = MarkSpec(f"twisted.trial.{attr}", attr, (arg,))
        return Found(value, spec=spec, condition=condition, snippet=self.current)

    def _decorator_marks(self, node: cst.FunctionDef | cst.ClassDef) -> list[Found]:
        found = self.marks_of(d.decorator for d in node.decorators)
        for mark in found:
            mark.stack = node.decorators[0].decorator
        return found

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
        bases: list[BaseRef] = []
        testcase = trial = False
        for base in node.bases:
            parts = dotted(base.value)
            if not parts or base.keyword is not None:
                continue
            binding = self.bindings.get(parts[0])
            qualname = self.qualified(base.value) or ""
            if len(parts) == 1 and parts[0] in self.classes:
                bases.append(("local", parts[0]))
            elif qualname in TRIAL_BASES:
                trial = True
            elif binding is not None and binding[0] == "import":
                bases.append(("import", binding[1], tuple(parts[1:])))
            elif parts[-1].endswith("TestCase") or qualname.endswith("TestCase"):
                testcase = True
        klass = Klass(
            node.name.value, node, snippet, bases, testcase, trial, self._decorator_marks(node)
        )
        self._class_body(klass, block(node.body), snippet, None)
        return klass

    def _class_body(
        self,
        klass: Klass,
        body: Sequence[cst.BaseStatement],
        snippet: Snippet,
        condition: str | None,
    ) -> None:
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                if stmt.name.value == "__init__":
                    klass.excluded = True
                klass.methods[stmt.name.value] = Function(
                    stmt, snippet, self._decorator_marks(stmt)
                )
                self._dynamic_sites(stmt, stmt.name.value)
            elif isinstance(stmt, cst.ClassDef):
                klass.nested.append(self._class(stmt, snippet))
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if not isinstance(small, cst.Assign):
                        continue
                    targets = [t.target for t in small.targets]
                    if self._trial_attribute(
                        targets, small.value, condition, klass.trial_attrs, klass.methods
                    ):
                        continue
                    names = [t.value for t in targets if isinstance(t, cst.Name)]
                    if "pytestmark" in names:
                        klass.marks.extend(self.marks_of(elements(small.value)))
                    if "__test__" in names:
                        ok, value = literal(small.value)
                        klass.excluded = klass.excluded or (ok and value is False)
                        klass.explicit_test = ok and value is True
            else:
                for inner, inner_condition in branches(stmt, condition):
                    self._class_body(klass, inner, snippet, inner_condition)

    # -- summaries, tests and records ------------------------------------------------------

    def _method_info(self, function: Function, collectable: bool) -> MethodInfo:
        self.current = function.snippet
        line = function.snippet.def_line(function.node.name)
        params, cases = self._params(function.node, function.snippet, line)
        return MethodInfo(
            name=function.node.name.value,
            line=line,
            collectable=collectable,
            marks=tuple(self._use(m, line) for m in function.marks),
            params=params,
            body=tuple(self._use(m, line) for m in self._body_marks(function.node)),
            trial=tuple(self._use(m) for m in function.trial),
            cases=cases,
        )

    def _class_info(self, klass: Klass) -> ClassInfo:
        params, cases = self._params(klass.node, klass.snippet, 0)
        return ClassInfo(
            name=klass.name,
            bases=tuple(klass.bases),
            testcase=klass.testcase,
            trial=klass.trial,
            excluded=klass.excluded,
            marks=tuple(self._use(m) for m in klass.marks),
            trial_attrs=tuple(self._use(m) for m in klass.trial_attrs),
            methods=tuple(
                self._method_info(f, self._collectable_function(f.node))
                for f in klass.methods.values()
            ),
            nested=tuple(self._class_info(k) for k in klass.nested),
            explicit_test=klass.explicit_test,
            params=params,
            cases=cases,
        )

    def _use(self, found: Found, def_line: int = 0) -> MarkUse:
        """The mark's summary, with a ticket named in the comments next to it: on the mark's
        line, on the `def` line, or in the comment lines above its decorators."""
        use = found.use()
        if not self.source or use.mark_line <= 0:
            return use
        if self._source_lines is None:
            self._source_lines = LINE_BREAK.split(self.source)
        top = use.mark_line
        if found.stack is not None and found.snippet is not None:
            top = found.snippet.line(found.stack) or top
        near = [use.mark_line, def_line] if def_line else [use.mark_line]
        hint = comment_ticket(self._source_lines, near, top)
        return replace(use, ticket_hint=hint) if hint else use

    def facts(self, parser: str = "libcst") -> FileFacts:
        records: list[MutedTest] = []
        pending: list[Pending] = []
        module = ModuleInfo(
            marks=tuple(m.use() for m in self.module_marks),
            setup=tuple(m.use() for m in self.module_setup),
            setup_function=tuple(m.use() for m in self.setup_function),
            trial=tuple(m.use() for m in self.module_trial),
        )
        hits: list[Hit] = []
        for function in self.functions:
            method = self._method_info(function, True)
            hits += function_hits(
                method.name, method, self.path, self.path, module, setup_function=True
            )
        infos = {k.name: self._class_info(k) for k in self.class_order}
        open_classes = []
        if self.is_test:
            for klass in self.class_order:
                info = infos[klass.name]
                if is_open(info):
                    open_classes.append(info)
                    continue
                hits += local_class_hits(info, infos, module, self.path, self.discovery)
        for hit in hits:
            emit(hit, self.path, self.settings, records, pending)
        return FileFacts(
            path=self.path,
            records=tuple(records),
            aliases=dict(self.aliases),
            imports=dict(self.imports),
            pending=tuple(pending),
            parser=parser,
            helpers=dict(self.helpers),
            pending_aliases={n: f.use() for n, f in self.pending_aliases.items()},
            classes=infos,
            open_classes=tuple(open_classes),
            module=module,
            dynamic=tuple(
                DynamicSite(self.path, found.use().mark_line, marker_text(found), hook)
                for found, hook in self.dynamic
            ),
        )

    # -- parametrize -----------------------------------------------------------------------

    def _params(
        self, node: cst.FunctionDef | cst.ClassDef, snippet: Snippet, def_line: int
    ) -> tuple[tuple[ParamMark, ...], int | None]:
        """The marked `pytest.param` values of the node's parametrize decorators (closest to
        the def first, as pytest applies them), and how many cases they make together."""
        calls = []
        for decorator in reversed(node.decorators):
            expr = decorator.decorator
            if not isinstance(expr, cst.Call):
                continue
            if self.qualified(expr.func) == PARAMETRIZE:
                calls.append(expr)
        if not calls:
            return (), 1
        if self._names is None:
            self._names = module_names(self.tree)
        sets: list[list[Case[Found]] | None] = []
        made: list[list[Found]] = []  # marks of values a comprehension makes
        for call in calls:
            values, self.current = self._named_values(call, snippet)
            sets.append(parametrize_cases(call, self._names, self.param_marks, values))
            made.append(comprehension_marks(call, self.param_marks))
        params = []
        for own, cases in enumerate(sets):
            others = _count(sets[:own] + sets[own + 1 :])
            for case in cases or ():
                for mark in case.marks:
                    use = self._use(mark, def_line)
                    params.append(ParamMark(case.index, case.id, others, use))
            for mark in made[own]:
                params.append(ParamMark(-1, None, others, self._use(mark, def_line)))
        self.current = snippet
        return tuple(params), _count(sets)

    def _named_values(
        self, call: cst.Call, snippet: Snippet
    ) -> tuple[cst.BaseExpression | None, Snippet]:
        """`@parametrize("m", MODES)` with `MODES = [...]` at module level: the list, and the
        snippet it was written in (for the lines of its marks)."""
        values = arguments(call)[1]
        if isinstance(values, cst.Name) and values.value in self.named_values:
            return self.named_values[values.value]
        return None, snippet

    # -- imperative calls in a body --------------------------------------------------------

    def _body_marks(self, node: cst.FunctionDef) -> list[Found]:
        found: list[Found] = []
        self._body(block(node.body), None, found)
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
            elif isinstance(stmt, cst.With) and self._catches_skip_with(stmt):
                continue  # `with pytest.raises(pytest.skip.Exception): pytest.skip()`
            elif isinstance(stmt, cst.Try) and self._catches_skip_try(stmt):
                # The try block's skips are caught by the test itself: not mutes.
                for number, (inner, inner_condition) in enumerate(branches(stmt, condition)):
                    if number:
                        self._body(inner, inner_condition, found)
            elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
                for inner, inner_condition in branches(stmt, condition):
                    self._body(inner, inner_condition, found)

    def _catches_skip_with(self, stmt: cst.With) -> bool:
        for item in stmt.items:
            call = item.item
            if (
                isinstance(call, cst.Call)
                and self.qualified(call.func) == "pytest.raises"
                and any(self._is_skip_exception(a.value) for a in call.args if a.keyword is None)
            ):
                return True
        return False

    def _catches_skip_try(self, stmt: cst.Try) -> bool:
        for handler in stmt.handlers:
            if handler.type is None:
                return True
            types = elements(handler.type)
            if any(self._is_skip_exception(t) or source_of(t) == "BaseException" for t in types):
                return True
        return False

    def _is_skip_exception(self, expr: cst.BaseExpression) -> bool:
        name = self.qualified(expr) or source_of(expr)
        return normalize(name) in SKIP_EXCEPTIONS or name.rsplit(".", 1)[-1] in (
            "Skipped",
            "SkipTest",
        )

    def _raised_skip(self, small: cst.Raise) -> Found | None:
        exc = small.exc
        if exc is None:
            return None
        func = exc.func if isinstance(exc, cst.Call) else exc
        if normalize(self.qualified(func) or "") not in SKIP_EXCEPTIONS:
            return None
        args = to_args(exc.args) if isinstance(exc, cst.Call) else ()
        return Found(small, spec=MarkSpec("SkipTest", "SkipTest", args), snippet=self.current)

    def _imperative(self, small: cst.BaseSmallStatement) -> Found | None:
        value: cst.BaseExpression | None = None
        if isinstance(small, cst.Expr | cst.Return | cst.Assign | cst.AnnAssign):
            value = small.value
        if isinstance(value, cst.Call):
            call = value
            parts = dotted(call.func)
            if not parts or parts[-1] not in IMPERATIVE_NAMES:
                return None  # most calls in a body: nothing to resolve
            if parts == ["self", "skipTest"]:
                spec = MarkSpec("skipTest", "skipTest", to_args(call.args))
                return Found(small, spec=spec, snippet=self.current)
            found = self.importorskip(call)
            if found is not None:
                found.node = small
                return found
            if parts and parts[-1] in HOOK_CALLS and call.args:
                marks = self.marks_of(elements(call.args[0].value))
                if marks:
                    marks[0].node = small
                    return marks[0]
                return None
            mark = self.resolve(call)
            if mark and mark.spec and mark.spec.qualname in ("pytest.skip", "pytest.xfail"):
                mark.node = small
                return mark
        if isinstance(small, cst.Raise):
            return self._raised_skip(small)
        return None

    # -- dynamic sites ---------------------------------------------------------------------

    def _dynamic_sites(self, node: cst.FunctionDef, name: str) -> None:
        """`item.add_marker(...)` in a hook or fixture: its tests are known only at run time."""
        if self.is_test and self.discovery.is_test_function(name):
            return
        for stmt in walk_statements(block(node.body)):
            for small in stmt.body:
                value = small.value if isinstance(small, cst.Expr) else None
                if not isinstance(value, cst.Call):
                    continue
                parts = dotted(value.func)
                if parts and len(parts) > 1 and parts[-1] in HOOK_CALLS:
                    found = Found(small, spec=self._first_mark(value), snippet=self.current)
                    self.dynamic.append((found, name))

    def _first_mark(self, call: cst.Call) -> MarkSpec | None:
        if not call.args:
            return None
        found = self.resolve(call.args[0].value)
        return found.spec if found is not None else None


def marker_text(found: Found) -> str:
    if found.spec is not None:
        return found.spec.marker
    node = found.node
    if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call) and node.value.args:
        return source_of(node.value.args[0].value)[:200]
    return "?"


def is_open(info: ClassInfo) -> bool:
    return any(base[0] == "import" for base in info.bases)


def local_class_hits(
    info: ClassInfo,
    infos: dict[str, ClassInfo],
    module: ModuleInfo,
    path: str,
    discovery: Any,
    prefix: str = "",
) -> list[Hit]:
    mro = local_mro(info, infos)
    hits = list(class_hits([(path, k) for k in mro], module, path, discovery, prefix))
    if collected([(path, k) for k in mro], discovery) and not is_testcase([(path, k) for k in mro]):
        for nested in info.nested:
            hits += local_class_hits(
                nested, infos, module, path, discovery, f"{prefix}{info.name}::"
            )
    return hits


def local_mro(
    info: ClassInfo, infos: dict[str, ClassInfo], seen: frozenset[str] = frozenset()
) -> list[ClassInfo]:
    result = [info]
    for base in info.bases:
        if base[0] != "local":
            continue
        name = str(base[1])
        if name in infos and name not in seen and name != info.name:
            for k in local_mro(infos[name], infos, seen | {info.name}):
                if k not in result:
                    result.append(k)
    return result


def emit(
    hit: Hit, path: str, settings: Settings, records: list[MutedTest], pending: list[Pending]
) -> None:
    use = hit.use
    target = Target(path, hit.test, hit.line, hit.scope, hit.param_index, hit.param_id, hit.cases)
    if use.spec is None or use.via is not None:
        if use.ref is not None or use.via is not None:
            pending.append(use.pending(target))
        return
    classified = kind_of(use.spec, settings.mark_names, settings.retry_flaky)
    if classified is None or not settings.wants(classified[0]):
        return
    kind, category = classified
    records.append(
        make_record(
            use.spec,
            target,
            use.mark_line,
            kind,
            category,
            parser="libcst",
            condition=use.condition,
            ticket_hint=use.ticket_hint,
        )
    )


def walk_statements(body: Sequence[cst.BaseStatement]) -> Iterator[cst.SimpleStatementLine]:
    """Every simple statement line of a body, in nested blocks too (not nested functions)."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield stmt
        elif not isinstance(stmt, cst.FunctionDef | cst.ClassDef):
            for inner, _ in branches(stmt, None):
                yield from walk_statements(inner)


block = body_of


def _count(sets: list[list[Case[Found]] | None]) -> int | None:
    """Collected items of parametrizes applied together (an empty one is one skipped item)."""
    if any(cases is None for cases in sets):
        return None
    return math.prod(max(len(cases or ()), 1) for cases in sets)

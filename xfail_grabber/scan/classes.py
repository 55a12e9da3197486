"""Which tests a class holds and what mutes each, from `ClassInfo` summaries alone.

Used for classes whose bases are all in their own file (walker) and for classes whose bases
come from other files (linker): both hand in the class's MRO as (path, ClassInfo) pairs, so a
base's marks that name imports are resolved against the base's own file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from ..config import Discovery
from .facts import ClassInfo, MarkUse, MethodInfo, ModuleInfo

# pytest calls these around each test of a class (xunit-style setup, unittest's own).
PYTEST_SETUP = ("setup_class", "setup_method")
UNITTEST_SETUP = ("setUpClass", "setUp", "setup_method")
TRIAL_ATTRS = ("skip", "todo")


@dataclass(frozen=True)
class Hit:
    """One mute on one test: the test, its line, the scope, the mark and the mark's file."""

    test: str
    line: int
    scope: str
    use: MarkUse
    origin: str  # the file whose imports `use` names
    cases: int | None = 1  # collected items the hit covers (None: unknown)
    param_index: int | None = None  # a marked pytest.param value: its index and id
    param_id: str | None = None
    # The file that defines the test function, which holds `line` (None: the class's own
    # file): a method inherited from a base class in another file.
    def_origin: str | None = None


Mro = Sequence[tuple[str, ClassInfo]]


def is_testcase(mro: Mro) -> bool:
    return any(info.testcase or info.trial for _, info in mro)


def collected(mro: Mro, discovery: Discovery) -> bool:
    klass = mro[0][1]
    if any(info.excluded for _, info in mro):
        return False
    return is_testcase(mro) or discovery.is_test_class(klass.name) or klass.explicit_test


def class_hits(
    mro: Mro,
    module: ModuleInfo,
    path: str,
    discovery: Discovery,
    prefix: str = "",
) -> Iterator[Hit]:
    """Every mute of every test the class (first of `mro`) holds, inherited ones included."""
    if not collected(mro, discovery):
        return
    klass = mro[0][1]
    testcase = is_testcase(mro)
    trial = any(info.trial for _, info in mro)
    methods: dict[str, tuple[str, MethodInfo]] = {}
    for origin, info in reversed(mro):
        for method in info.methods:
            methods[method.name] = (origin, method)
    class_marks = [(origin, use) for origin, info in mro for use in info.marks]
    setup_names = UNITTEST_SETUP if testcase else PYTEST_SETUP
    setup = [
        (origin, use)
        for name in setup_names
        if name in methods
        for origin, use in [(methods[name][0], u) for u in methods[name][1].body]
    ]
    class_trial = _trial_of_classes(mro) if trial else {}
    class_cases = product(info.cases for _, info in mro)
    for name, (origin, method) in methods.items():
        wanted = name.startswith("test") if testcase else method.collectable
        if not wanted:
            continue
        test = f"{prefix}{klass.name}::{name}"
        line = method.line
        cases = product([method.cases, class_cases])
        found = list(
            function_hits(
                test, method, origin, path, module, setup_function=False, class_cases=class_cases
            )
        )
        for mark_origin, use in class_marks:
            found.append(Hit(test, line, "class", use, mark_origin, cases))
        for setup_origin, use in setup:
            found.append(Hit(test, line, "setup", use, setup_origin, cases))
        for mine, (param_origin, info) in enumerate(mro):
            rest = [i.cases for n, (_, i) in enumerate(mro) if n != mine]
            for param in info.params:
                found.append(
                    Hit(
                        f"{test}{param.suffix}",
                        line,
                        "param",
                        param.use,
                        param_origin,
                        product([method.cases, param.others, *rest]),
                        param.index if param.index >= 0 else None,
                        param.id,
                    )
                )
        if trial:
            for attr in TRIAL_ATTRS:
                own = [u for u in method.trial if u.spec and u.spec.marker == attr]
                if own:
                    found += (Hit(test, line, "function", u, origin, cases) for u in own)
                elif attr in class_trial:
                    found += (Hit(test, line, "class", u, o, cases) for o, u in class_trial[attr])
                else:
                    for use in module.trial:
                        if use.spec and use.spec.marker == attr:
                            found.append(Hit(test, line, "module", use, path, cases))
        if origin == path:
            yield from found
        else:
            # An inherited method: `line` is its def in the base class's file.
            yield from (replace(hit, def_origin=origin) for hit in found)


def function_hits(
    test: str,
    method: MethodInfo,
    origin: str,
    path: str,
    module: ModuleInfo,
    *,
    setup_function: bool,
    class_cases: int | None = 1,
) -> Iterator[Hit]:
    """The function's own mutes and the module's (pytestmark, setup_module)."""
    line = method.line
    cases = product([method.cases, class_cases])
    for use in method.marks:
        yield Hit(test, line, "function", use, origin, cases)
    for use in module.marks:
        yield Hit(test, line, "module", use, path, cases)
    for param in method.params:
        others = product([param.others, class_cases])
        index = param.index if param.index >= 0 else None
        yield Hit(
            f"{test}{param.suffix}", line, "param", param.use, origin, others, index, param.id
        )
    for use in method.body:
        yield Hit(test, line, "body", use, origin, cases)
    for use in module.setup:
        yield Hit(test, line, "setup", use, path, cases)
    if setup_function:
        for use in module.setup_function:
            yield Hit(test, line, "setup", use, path, cases)


def product(counts: Iterable[int | None]) -> int | None:
    """Collected items of parametrizes applied together (None when one is unknown)."""
    result = 1
    for count in counts:
        if count is None:
            return None
        result *= count
    return result


def _trial_of_classes(mro: Mro) -> dict[str, list[tuple[str, MarkUse]]]:
    """`skip` / `todo` class attributes as trial reads them: the first class in the MRO."""
    found: dict[str, list[tuple[str, MarkUse]]] = {}
    for origin, info in mro:
        for attr in TRIAL_ATTRS:
            if attr in found:
                continue
            uses = [u for u in info.trial_attrs if u.spec and u.spec.marker == attr]
            if uses:
                found[attr] = [(origin, u) for u in uses]
    return found

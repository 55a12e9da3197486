"""A deterministic synthetic Python repository for the scanner benchmark (issue 2).

`build(path)` writes a project that looks like a real one to a scanner: package code under
`src/`, a `tests/` tree of packages with conftest.py and helpers.py modules, test files whose
sizes follow a log-normal spread (many small files, a long tail up to a few hundred KB), test
functions, classes, unittest cases, fixtures, parametrize lists, docstrings, and, in about one
test file in ten, mutes in every form the scanner knows. Other files use words like `skip` in
ordinary code (`skip_rows`, comments, conftest hooks) so a text prefilter is tested honestly.
The tree becomes a git repository with one commit whose id depends only on the arguments.

The returned stats say how many records a correct scanner must report (`expected_records`,
`expected_by_kind`), following DESIGN.md: one record per test and muting mark; class marks and
`pytestmark` count once per test they apply to; `pytest.param` marks once per case.

    python3 benchmarks/synth.py OUT_DIR [--files 2500] [--seed 1] [--target-mb 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

GENERATOR_VERSION = 4
MIB = 1024 * 1024
TEST_SHARE = 0.88  # of the target bytes in test files; the rest is package code and helpers
MUTED_SHARE = 0.10
# Files without mutes that still say skip/xfail/flaky in ordinary code (skip_rows, a comment,
# a fixture that calls pytest.skip): they pass a text prefilter and must yield no record.
DECOY_SHARE = 0.12
MIN_FILE, MAX_FILE = 350, 360_000
SIGMA = 1.25  # log-normal spread of test-file sizes
BASE_EPOCH = 1_559_390_400  # 2019-06-01T12:00:00Z: the first commit's date

NOUNS = (
    "user",
    "order",
    "invoice",
    "cluster",
    "node",
    "task",
    "job",
    "agent",
    "service",
    "token",
    "session",
    "package",
    "volume",
    "secret",
    "config",
    "schema",
    "record",
    "event",
    "metric",
    "query",
    "cache",
    "route",
    "endpoint",
    "payload",
    "account",
    "policy",
    "quota",
    "bucket",
    "stream",
    "frame",
    "tenant",
    "backup",
    "network",
    "marathon",
    "mesos",
    "pod",
)
VERBS = (
    "create",
    "delete",
    "update",
    "list",
    "fetch",
    "parse",
    "render",
    "retry",
    "scale",
    "restart",
    "validate",
    "serialize",
    "migrate",
    "sync",
    "resolve",
    "rotate",
    "install",
    "upgrade",
    "launch",
    "drain",
    "encode",
    "decode",
    "schedule",
    "reconcile",
    "export",
)
ADJS = (
    "empty",
    "invalid",
    "large",
    "concurrent",
    "missing",
    "duplicate",
    "expired",
    "unicode",
    "nested",
    "partial",
    "default",
    "legacy",
    "remote",
    "stale",
    "secure",
    "unknown",
)
REASONS = (
    "flaky on slow CI agents",
    "times out under load",
    "race in the scheduler",
    "depends on an external service",
    "known bug, fix pending",
    "not supported on this platform",
    "order-dependent, fails when run in parallel",
    "broken since the upgrade to the new API",
    "leaks a port between runs",
    "intermittent DNS failures",
    "see DCOS-{n}",
    "upstream issue https://github.com/acme/platform/issues/{n}",
    "waiting for COPS-{n}",
    "doesn't work with the mock backend",
    "needs a real cluster",
    "slow and unstable",
)
PROJECTS = ("DCOS", "COPS", "MARATHON", "INFRA", "QA")
CONDITIONS = (
    'sys.platform == "win32"',
    "sys.version_info < (3, 10)",
    "not HAS_DOCKER",
    'os.environ.get("CI") == "true"',
    'sys.platform.startswith("darwin")',
    'not shutil.which("kubectl")',
)
MUTE_KINDS = ("xfailflake", "xfail", "skip", "skipif", "flaky", "flaky-pkg", "quarantined")
MUTE_WEIGHTS = (30, 18, 12, 14, 8, 8, 4)
# Where the mutes of a muted file go (form, weight).
SITES = (
    ("func", 30),
    ("method", 14),
    ("class_deco", 8),
    ("class_pytestmark", 5),
    ("param", 10),
    ("unittest_method", 8),
    ("unittest_class", 3),
    ("body", 9),
    ("alias_local", 5),
    ("alias_imported", 6),
    ("inherited", 2),
    # Issue 10's forms: marks made by helpers, setup skips, trial attributes, bases in other
    # files (and module-level control flow, see render_test_file).
    ("helper_mark", 6),
    ("setup_skip", 3),
    ("trial", 3),
    ("cross_base", 3),
)
NO_PYTESTMARK = {
    "param",
    "unittest_method",
    "unittest_class",
    "inherited",
    "setup_skip",
    "trial",
    "cross_base",
}
# Aliases each tests/<area>/helpers.py defines: name -> (expression, kind).
ALIASES = {
    "requires_network": (
        'pytest.mark.skipif(not os.environ.get("NETWORK"), reason="needs network access")',
        "skipif",
    ),
    "slow_flaky": (
        'pytest.mark.xfailflake(jira="DCOS-4411", reason="flaky on slow agents", '
        'since="2019-03-02")',
        "xfailflake",
    ),
    "retry_on_ci": ("pytest.mark.flaky(reruns=2)", "flaky"),
    "windows_only": (
        'pytest.mark.skipif(sys.platform != "win32", reason="windows only")',
        "skipif",
    ),
}


def _q(rng: random.Random, text: str) -> str:
    if "'" in text or rng.random() < 0.7:
        return '"' + text.replace('"', "'") + '"'
    return "'" + text + "'"


def _block(lines: list[str], indent: str) -> str:
    return "".join(indent + line + "\n" if line else "\n" for line in lines)


class ModuleWriter:
    """One test file being written; counts tests and the records it must yield."""

    def __init__(self, rng: random.Random, area: str, depth: int, muted: bool) -> None:
        self.rng = rng
        self.area = area
        self.depth = depth
        self.muted = muted
        style = rng.choice(("pytest", "pytest", "pytest", "pt", "mark", "m")) if muted else "pytest"
        self.P = "pt" if style == "pt" else "pytest"  # the name pytest is bound to
        self.M = {"pytest": "pytest.mark", "pt": "pt.mark", "mark": "mark", "m": "m"}[style]
        self.style = style
        self.imports: set[str] = {"os", "json"}
        self.froms: set[str] = set()
        self.constants: list[str] = []
        self.units: list[str] = []
        self.size = 330  # the header: docstring, imports, constants
        self.tests = 0
        self.records: Counter[str] = Counter()
        self.names: set[str] = set()
        self.module_marks = 0
        self.decoys = rng.choice((1, 2, 3)) if rng.random() < DECOY_SHARE else 0

    def decoy(self) -> bool:
        """Whether this file may say one more marker word in ordinary code."""
        if self.decoys <= 0:
            return False
        self.decoys -= 1
        return True

    # -- words -------------------------------------------------------------------------------
    def name(self, prefix: str) -> str:
        rng = self.rng
        parts = [prefix, rng.choice(VERBS)]
        if rng.random() < 0.4:
            parts.append(rng.choice(ADJS))
        parts.append(rng.choice(NOUNS))
        base = "_".join(p for p in parts if p)
        candidate, n = base, 2
        while candidate in self.names:
            candidate, n = f"{base}_{n}", n + 1
        self.names.add(candidate)
        return candidate

    def class_name(self) -> str:
        rng = self.rng
        base = "Test" + rng.choice(NOUNS).title() + rng.choice(VERBS).title()
        candidate, n = base, 2
        while candidate in self.names:
            candidate, n = f"{base}{n}", n + 1
        self.names.add(candidate)
        return candidate

    def reason(self) -> str:
        return self.rng.choice(REASONS).replace("{n}", str(self.rng.randint(100, 9999)))

    def ticket(self) -> str:
        return f"{self.rng.choice(PROJECTS)}-{self.rng.randint(10, 9999)}"

    def since(self) -> str:
        rng = self.rng
        return f"{rng.randint(2017, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    # -- mutes -------------------------------------------------------------------------------
    def mute(
        self, kinds: tuple[str, ...] = MUTE_KINDS, *, one_line: bool = False
    ) -> tuple[str, str]:
        """A muting mark expression and the record kind it yields."""
        rng, M, q = self.rng, self.M, self.rng
        kind = rng.choices(kinds, weights=[MUTE_WEIGHTS[MUTE_KINDS.index(k)] for k in kinds])[0]
        args: list[str] = []
        name = kind
        if kind == "xfailflake":
            args = [
                f"jira={_q(q, self.ticket())}",
                f"reason={_q(q, self.reason())}",
                f"since={_q(q, self.since())}",
            ]
            rng.shuffle(args)
        elif kind == "quarantined":
            args = [f"reason={_q(q, self.reason())}", f"ticket={_q(q, self.ticket())}"]
            rng.shuffle(args)
        elif kind == "xfail":
            variant = rng.randrange(5)
            if variant == 1:
                args = [f"reason={_q(q, self.reason())}"]
            elif variant == 2:
                args = ["strict=True", f"reason={_q(q, self.reason())}"]
                rng.shuffle(args)
            elif variant == 3:
                args = [rng.choice(CONDITIONS), f"reason={_q(q, self.reason())}"]
                self.imports.update(("sys", "shutil"))
            elif variant == 4:
                args = [
                    f"raises={rng.choice(('TimeoutError', 'KeyError', 'AssertionError'))}",
                    f"reason={_q(q, self.reason())}",
                ]
        elif kind == "skip":
            variant = rng.randrange(3)
            if variant:
                args = [("reason=" if variant == 1 else "") + _q(q, self.reason())]
        elif kind == "skipif":
            args = [rng.choice(CONDITIONS), f"reason={_q(q, self.reason())}"]
            self.imports.update(("sys", "shutil"))
        elif kind == "flaky":
            args = [f"reruns={rng.randint(1, 3)}"] + (
                ["reruns_delay=1"] if rng.random() < 0.3 else []
            )
        if kind == "flaky-pkg":
            self.froms.add("from flaky import flaky")
            runs = [f"max_runs={rng.randint(2, 5)}"] + (
                ["min_passes=2"] if rng.random() < 0.3 else []
            )
            return f"flaky({', '.join(runs)})", "flaky"
        if not args:
            return f"{M}.{name}", kind
        if not one_line and len(args) > 1 and rng.random() < 0.3:
            inner = "".join(f"    {a},\n" for a in args)
            return f"{M}.{name}(\n{inner})", kind
        return f"{M}.{name}({', '.join(args)})", kind

    def decorators(self, low: int, high: int) -> tuple[list[str], list[str]]:
        """Stacked decorator lines (multi-line marks included) and their record kinds."""
        marks: list[str] = []
        kinds: list[str] = []
        for _ in range(self.rng.randint(low, high)):
            expr, kind = self.mute()
            marks.append("@" + expr)
            kinds.append(kind)
        if self.rng.random() < 0.3:
            extra = self.rng.choice(
                (f"@{self.M}.slow", f'@{self.M}.usefixtures("db")', f"@{self.M}.integration")
            )
            marks.insert(self.rng.randint(0, len(marks)), extra)
        return "\n".join(marks).split("\n"), kinds

    # -- bodies ------------------------------------------------------------------------------
    def body(self, *, unittest_case: bool = False) -> list[str]:
        rng, P = self.rng, self.P
        noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
        lines: list[str] = []
        if rng.random() < 0.35:
            lines.append(f'"""{verb.title()} a {rng.choice(ADJS)} {noun} and check the result."""')
        for _ in range(rng.randint(1, 4)):
            kind = rng.randrange(8)
            if kind in (4, 5) and not self.decoy():
                kind = 6
            value = rng.randint(1, 500)
            if unittest_case and kind % 2:
                lines += [
                    f'{noun} = make_{noun}(name="{noun}-{value}")',
                    f"result = self.client.{verb}({noun})",
                    f"self.assertEqual(result.status, {rng.choice((200, 201, 204, 404))})",
                    f'self.assertIn("{noun}", result.json())',
                ]
            elif unittest_case:
                lines += [
                    "with self.assertRaises(KeyError):",
                    f'    self.client.{verb}_{noun}("{rng.choice(ADJS)}-{value}")',
                    f"self.assertFalse(self.client.pending_{noun}s())",
                ]
            elif kind == 0:
                lines += [
                    f'{noun} = make_{noun}(name="{noun}-{value}", size={value})',
                    f"result = client.{verb}({noun})",
                    f"assert result.status_code == {rng.choice((200, 201, 204, 409))}",
                    f'assert result.json()["id"] == {noun}.id',
                ]
            elif kind == 1:
                lines += [
                    f"for index in range({value % 20 + 2}):",
                    f"    item = {noun}_factory(index, kind={rng.choice(ADJS)!r})",
                    "    assert item.index == index",
                    f'    assert f"{noun}-{{index}}" in item.label',
                ]
            elif kind == 2:
                lines += [
                    f'with {P}.raises(ValueError, match="{rng.choice(ADJS)} {noun}"):',
                    f"    {verb}_{noun}({{'{noun}': None, 'size': -{value}}})",
                ]
            elif kind == 3:
                tags = ", ".join(f'"{rng.choice(ADJS)}"' for _ in range(rng.randint(1, 4)))
                lines += [
                    f'expected = {{"name": "{noun}", "count": {value}, "tags": [{tags}]}}',
                    f"observed = {verb}_{noun}(expected)",
                    "assert {k: v for k, v in observed.items() if k in expected} == expected",
                ]
            elif kind == 4:
                # Real code says "skip" without muting anything.
                lines += [
                    f"skip_rows = {value % 5}",
                    f'rows = read_csv(data_dir / "{noun}.csv", skip_rows=skip_rows)',
                    f"assert len(rows) == {value}",
                ]
            elif kind == 5:
                lines += [
                    f"# Do not xfail this: the {noun} path must stay green.",
                    f"payload = json.loads(fixture_text({noun!r}))",
                    f'assert payload["{noun}"]["state"] in ("running", "stopped")',
                ]
            elif kind == 6:
                lines += [
                    f"{noun}s = [{noun}_factory(i) for i in range({value % 9 + 1})]",
                    f"merged = {verb}_all({noun}s, timeout={value / 10:.1f})",
                    f"assert sorted(merged) == sorted({noun}s)",
                    "assert not merged.errors, merged.errors",
                ]
            else:
                lines += [
                    f'monkeypatch.setenv("{noun.upper()}_URL", "http://127.0.0.1:{value}")',
                    f"client = Client.from_env(retries={value % 4})",
                    f"assert client.{verb}().ok",
                ]
        return lines

    def args(self) -> str:
        options = ("client", "tmp_path", "monkeypatch", "data_dir", "caplog", "cluster")
        picked = sorted(set(self.rng.choices(options, k=self.rng.randint(0, 3))))
        return ", ".join(picked)

    # -- units -------------------------------------------------------------------------------
    def function(
        self,
        decorators: tuple[str, ...] | list[str] = (),
        extra: tuple[str, ...] | list[str] = (),
        *,
        prefix: str = "test",
        params: str = "",
    ) -> str:
        name = self.name(prefix)
        if prefix == "test":
            self.tests += 1
        args = params or self.args()
        lines = [
            *decorators,
            f"def {name}({args}):",
            *("    " + x for x in self.body()),
            *("    " + x for x in extra),
        ]
        return _block(lines, "")

    def test_class(
        self,
        methods: list[tuple[list[str], list[str]]],
        *,
        decorators: tuple[str, ...] | list[str] = (),
        pytestmark: str = "",
        unittest_case: bool = False,
        base: str = "",
    ) -> str:
        rng = self.rng
        cname = self.class_name()
        bases = "unittest.TestCase" if unittest_case else base
        head = [*decorators, f"class {cname}({bases}):" if bases else f"class {cname}:"]
        body = [f'"""{rng.choice(VERBS).title()} {rng.choice(NOUNS)}s."""']
        if pytestmark:
            body += ["", f"pytestmark = {pytestmark}"]
        if unittest_case:
            body += ["", "def setUp(self):", "    self.client = make_client()"]
        elif rng.random() < 0.3:
            body += [
                "",
                "def _make(self, **kwargs):",
                f"    return {rng.choice(NOUNS)}_factory(**kwargs)",
            ]
        used: set[str] = set()
        for decos, extra in methods:
            name = "test_" + rng.choice(VERBS) + "_" + rng.choice(NOUNS)
            while name in used:
                name += "_again"
            used.add(name)
            self.tests += 1
            lines = self.body(unittest_case=unittest_case) + extra
            args = "self" if unittest_case else ", ".join(filter(None, ("self", self.args())))
            body += ["", *decos, f"def {name}({args}):", *("    " + x for x in lines)]
        return _block(head, "") + _block(body, "    ")

    def parametrized(self, rows: int, marked: bool) -> str:
        rng, P = self.rng, self.P
        lines = [f"@{self.M}.parametrize(", '    ("raw", "expected"),', "    ["]
        for i in range(rows):
            raw = f'"{rng.choice(ADJS)}-{rng.choice(NOUNS)}-{i}"'
            expected = rng.choice((str(rng.randint(0, 999)), "None", "True", f'{{"id": {i}}}'))
            lines.append(f"        ({raw}, {expected}),")
        if marked:
            for _ in range(rng.randint(1, 3)):
                marks = [self.mute(one_line=True) for _ in range(rng.choice((1, 1, 2)))]
                self.records.update(kind for _, kind in marks)
                text = (
                    marks[0][0]
                    if len(marks) == 1 and rng.random() < 0.7
                    else "[" + ", ".join(expr for expr, _ in marks) + "]"
                )
                case_id = self.name("case")
                lines.append(f'        {P}.param("{case_id}", None, marks={text}, id="{case_id}"),')
        lines += ["    ],", ")"]
        return _block(lines, "") + self.function(params="raw, expected")

    def fixture(self) -> str:
        rng, P = self.rng, self.P
        noun = rng.choice(NOUNS)
        lines = [
            f"@{P}.fixture"
            + (f'(scope="{rng.choice(("module", "session"))}")' if rng.random() < 0.3 else ""),
            f"def {self.name(noun)}(tmp_path):",
            f'    """A {noun} backed by a throwaway directory."""',
        ]
        if rng.random() < 0.25 and self.decoy():
            # Skipping from a fixture is no mute of a collected test function by itself.
            self.imports.add("shutil")
            lines += [
                '    if shutil.which("docker") is None:',
                f'        {P}.skip("docker is not installed")',
            ]
        lines += [
            f"    {noun} = {noun.title()}Store(tmp_path / {noun!r})",
            f"    yield {noun}",
            f"    {noun}.close()",
        ]
        return _block(lines, "")

    def data_block(self, rows: int) -> str:
        rng = self.rng
        name = self.name("EXPECTED").upper()
        lines = [f"{name} = ["]
        for i in range(rows):
            noun = rng.choice(NOUNS)
            lines.append(
                f'    {{"id": {i}, "kind": "{noun}", "state": "{rng.choice(ADJS)}", '
                f'"size": {rng.randint(0, 10**6)}, "labels": ["{rng.choice(VERBS)}"]}},'
            )
        lines.append("]")
        return _block(lines, "")

    # -- mute sites --------------------------------------------------------------------------
    def site(self, form: str) -> str:
        """A unit holding mutes in one of the scanner's forms; counts its records."""
        rng, P = self.rng, self.P
        self.imports.update(("sys", "shutil"))
        if form == "func":
            stacked, kinds = self.decorators(1, 3)
            self.records.update(kinds)
            return self.function(stacked)
        if form in ("method", "class_deco", "class_pytestmark"):
            methods: list[tuple[list[str], list[str]]] = []
            count = rng.randint(2, 5)
            muted_methods = rng.sample(range(count), rng.randint(1, min(2, count)))
            for i in range(count):
                decos: list[str] = []
                if form == "method" and i in muted_methods:
                    decos, kinds = self.decorators(1, 2)
                    self.records.update(kinds)
                methods.append((decos, []))
            if form == "method":
                return self.test_class(methods)
            marks = [
                self.mute(one_line=form == "class_pytestmark") for _ in range(rng.choice((1, 1, 2)))
            ]
            for _, kind in marks:
                self.records[kind] += count
            if form == "class_deco":
                lines = [line for expr, _ in marks for line in ("@" + expr).split("\n")]
                return self.test_class(methods, decorators=lines)
            value = marks[0][0] if len(marks) == 1 else "[" + ", ".join(e for e, _ in marks) + "]"
            return self.test_class(methods, pytestmark=value)
        if form == "param":
            return self.parametrized(rng.randint(2, 6), marked=True)
        if form in ("unittest_method", "unittest_class"):
            self.imports.add("unittest")
            count = rng.randint(2, 5)
            methods = [([], []) for _ in range(count)]
            if form == "unittest_class":
                self.records["unittest-skip"] += count
                deco = rng.choice(
                    (
                        f"@unittest.skip({_q(rng, self.reason())})",
                        f'@unittest.skipIf(sys.platform == "win32", {_q(rng, self.reason())})',
                        f"@unittest.skipUnless(HAS_DOCKER, {_q(rng, self.reason())})",
                    )
                )
                return self.test_class(methods, decorators=[deco], unittest_case=True)
            for i in rng.sample(range(count), rng.randint(1, count)):
                variant = rng.randrange(6)
                if variant == 5:
                    methods[i][1].extend(
                        ['if os.environ.get("CI"):', f"    self.skipTest({_q(rng, self.reason())})"]
                    )
                    self.records["imperative-skip"] += 1
                    continue
                if variant == 4:
                    methods[i][0].append("@unittest.expectedFailure")
                    self.records["expectedFailure"] += 1
                    continue
                reason = _q(rng, self.reason())
                name, args = [
                    ("skip", reason),
                    ("skipIf", f"{rng.choice(CONDITIONS)}, {reason}"),
                    ("skipUnless", f"HAS_DOCKER, {reason}"),
                    ("skip", reason),
                ][variant]
                if rng.random() < 0.3:
                    self.froms.add(f"from unittest import {name}")
                    methods[i][0].append(f"@{name}({args})")
                else:
                    methods[i][0].append(f"@unittest.{name}({args})")
                self.records["unittest-skip"] += 1
            return self.test_class(methods, unittest_case=True)
        if form == "body":
            imperative = rng.choice(("skip", "skip", "xfail"))
            self.records[f"imperative-{imperative}"] += 1
            extra = [
                "if not HAS_DOCKER:" if imperative == "skip" else 'if sys.platform == "darwin":',
                f"    {P}.{imperative}({_q(rng, self.reason())})",
            ]
            if rng.random() < 0.3:
                return self.test_class([([], extra)])
            text = self.function()
            head, _, rest = text.partition("\n")
            return head + "\n" + "".join(f"    {x}\n" for x in extra) + rest
        if form == "alias_local":
            used = {line.split(" = ")[0] for line in self.constants}
            name = next(
                n
                for n in (
                    "known_flaky",
                    "broken_upstream",
                    "slow_unstable",
                    "needs_cluster",
                    "nightly_only",
                    "quarantine_me",
                )
                if n not in used
            )
            expr, kind = self.mute(one_line=True)
            self.constants.append(f"{name} = {expr}")
            uses = rng.randint(1, 3)
            self.records[kind] += uses
            return "\n\n".join(self.function([f"@{name}"]) for _ in range(uses))
        if form == "alias_imported":
            name = rng.choice(sorted(ALIASES))
            if self.depth == 0:
                source = rng.choice((".helpers", f"tests.{self.area}.helpers"))
            else:
                source = rng.choice(("..helpers", f"tests.{self.area}.helpers"))
            self.froms.add(f"from {source} import {name}")
            uses = rng.randint(1, 2)
            self.records[ALIASES[name][1]] += uses
            return "\n\n".join(self.function([f"@{name}"]) for _ in range(uses))
        if form == "helper_mark":
            helpers = f"tests.{self.area}.helpers"
            variant = rng.randrange(3)
            uses = rng.randint(1, 2)
            self.records["skipif"] += uses
            if variant == 0:  # a helper's tuple unpacked in this module
                self.froms.add(f"from {helpers} import _importorskip")
                lib = rng.choice(("numpy", "scipy", "pandas", "lxml"))
                line = f'has_{lib}, requires_{lib} = _importorskip("{lib}")'
                if line not in self.constants:
                    self.constants.append(line)
                deco = f"@requires_{lib}"
            elif variant == 1:  # a helper called as the decorator
                self.froms.add(f"from {helpers} import skip_if_no")
                deco = f'@skip_if_no("{rng.choice(("boto3", "docker", "kubernetes"))}")'
            else:  # an alias the helpers module made with its own helper
                self.froms.add(f"from {helpers} import requires_yaml")
                deco = "@requires_yaml"
            return "\n\n".join(self.function([deco]) for _ in range(uses))
        if form == "setup_skip":
            count = rng.randint(2, 4)
            self.records["imperative-skip"] += count
            methods: list[tuple[list[str], list[str]]] = [([], []) for _ in range(count)]
            text = self.test_class(methods)
            head, _, rest = text.partition("\n")
            setup = [
                "    def setup_method(self, method):",
                "        if not HAS_DOCKER:",
                f"            {P}.skip({_q(rng, self.reason())})",
                "",
            ]
            return head + "\n" + _block(setup, "") + rest
        if form == "trial":
            self.froms.add("from twisted.trial import unittest as trial")
            count = rng.randint(2, 4)
            cname = self.class_name()
            lines = [f"class {cname}(trial.TestCase):"]
            if rng.random() < 0.5:
                lines.append(f"    skip = {_q(rng, self.reason())}")
                self.records["trial-skip"] += count
                marked: set[int] = set()
            else:
                marked = set(rng.sample(range(count), 1))
                self.records["trial-todo"] += 1
            for i in range(count):
                self.tests += 1
                name = f"test_{rng.choice(VERBS)}_{i}"
                lines += ["", f"    def {name}(self):", "        self.assertTrue(make_client())"]
                if i in marked:
                    lines += ["", f"    {name}.todo = {_q(rng, self.reason())}"]
            return _block(lines, "")
        if form == "cross_base":
            self.froms.add(f"from tests.{self.area}.bases import BaseChecks")
            expr, kind = self.mute()
            self.records[kind] += 3  # two inherited methods and one of its own
            return self.test_class(
                [([], [])], decorators=("@" + expr).split("\n"), base="BaseChecks"
            )
        if form == "inherited":
            noun = rng.choice(NOUNS).title()
            base = f"_Base{noun}Checks{len(self.units)}"
            lines = [f"class {base}:", f'    """Checks every {noun} API version must pass."""']
            for verb in rng.sample(VERBS, 2):
                lines += [
                    "",
                    f"    def test_{verb}(self, client):",
                    f"        assert client.{verb}().ok",
                ]
            expr, kind = self.mute()
            self.records[kind] += 3  # two inherited methods and one of its own
            return (
                _block(lines, "")
                + "\n\n"
                + self.test_class([([], [])], decorators=("@" + expr).split("\n"), base=base)
            )
        raise ValueError(form)

    def helper(self) -> str:
        rng, P = self.rng, self.P
        if rng.random() < 0.3 and self.decoy():
            # A helper that skips: pytest reaches it only through a test; not a record.
            self.imports.add("shutil")
            tool = rng.choice(("docker", "kubectl", "terraform"))
            return _block(
                [
                    f"def require_{tool}():",
                    f'    """Skip unless {tool} is installed."""',
                    f'    if shutil.which("{tool}") is None:',
                    f'        {P}.skip("{tool} is not installed")',
                ],
                "",
            )
        return self.function(prefix="check")

    def render(self, sites: list[str]) -> str:
        rng = self.rng
        units = list(self.units)
        for text in sites:
            units.insert(rng.randint(0, len(units)), text)
        lines = [f'"""Tests for {self.area}: {rng.choice(VERBS)} and {rng.choice(VERBS)}."""', ""]
        lines += [f"import {name}" for name in sorted(self.imports)]
        lines += [
            "",
            {"pytest": "import pytest", "pt": "import pytest as pt"}.get(
                self.style, "import pytest"
            ),
        ]
        froms = sorted(self.froms)
        if self.style == "mark":
            froms.insert(0, "from pytest import mark")
        elif self.style == "m":
            froms.insert(0, "from pytest import mark as m")
        lines += froms
        lines += [f"from acme.{self.area} import Client, make_client", ""]
        if "shutil" in self.imports:
            lines += ['HAS_DOCKER = shutil.which("docker") is not None']
        lines += self.constants
        return _block(lines, "") + "\n\n" + "\n\n".join(u.rstrip("\n") + "\n" for u in units)

    def fill(self, target: int, *, allow_params: bool) -> None:
        rng = self.rng
        big = target > 30_000
        forms = ["function", "class", "params", "fixture", "helper", "data"]
        weights = [45, 18, 10 if allow_params else 0, 8, 6, 4 if big else 0]
        while self.size + 400 < target or not self.tests:
            form = rng.choices(forms, weights=weights)[0]
            if form == "function":
                text = self.function()
            elif form == "class":
                text = self.test_class([([], []) for _ in range(rng.randint(2, 6))])
            elif form == "params":
                rows = rng.randint(20, 250) if big and rng.random() < 0.3 else rng.randint(2, 8)
                text = self.parametrized(
                    max(2, min(rows, (target - self.size) // 40)), marked=False
                )
            elif form == "fixture":
                text = self.fixture()
            elif form == "helper":
                text = self.helper()
            else:
                text = self.data_block(
                    max(5, min(rng.randint(20, 400), (target - self.size) // 110))
                )
            self.units.append(text)
            self.size += len(text) + 2


def render_test_file(
    rng: random.Random, area: str, depth: int, muted: bool, target: int
) -> tuple[str, Counter[str]]:
    """The text of one test file and the records a scanner must find in it."""
    mod = ModuleWriter(rng, area, depth, muted)
    module_marks: list[tuple[str, str]] = []
    sites: list[str] = []
    if muted:
        if rng.random() < 0.12:
            module_marks = [mod.mute(one_line=True) for _ in range(rng.choice((1, 1, 2)))]
        forms = [f for f, _ in SITES if not (module_marks and f in NO_PYTESTMARK)]
        weights = [w for f, w in SITES if f in forms]
        for _ in range(rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]):
            sites.append(mod.site(rng.choices(forms, weights=weights)[0]))
        mod.size += sum(len(s) for s in sites)
    mod.fill(target, allow_params=not module_marks)
    if module_marks:
        exprs = [e for e, _ in module_marks]
        value = exprs[0] if len(exprs) == 1 else "[" + ", ".join(exprs) + "]"
        flow = rng.randrange(3)
        if flow == 1:  # module-level control flow: the mark in a branch
            mod.imports.add("sys")
            mod.constants.append(
                f'if sys.platform == "win32":\n    pytestmark = {value}\nelse:\n    pytestmark = []'
            )
        elif flow == 2:
            mod.constants.append(
                f"try:\n    import lxml\nexcept ImportError:\n    pytestmark = {value}"
            )
        else:
            mod.constants.append(f"pytestmark = {value}")
        for _, kind in module_marks:
            mod.records[kind] += mod.tests
    return mod.render(sites), mod.records


def source_module(rng: random.Random, area: str, target: int) -> str:
    """Package code: classes and functions that a test scanner must not report."""
    lines = [
        f'"""The {area} client: {rng.choice(VERBS)}, {rng.choice(VERBS)} and retries."""',
        "",
        "from __future__ import annotations",
        "",
        "import logging",
        "from dataclasses import dataclass, field",
        "",
        "log = logging.getLogger(__name__)",
        "",
    ]
    size = sum(len(x) + 1 for x in lines)
    word = "skip" if rng.random() < DECOY_SHARE else "allow"  # skip_missing / allow_missing
    while size < target:
        noun, verb = rng.choice(NOUNS), rng.choice(VERBS)
        if rng.random() < 0.3:
            block = [
                "",
                "",
                "@dataclass",
                f"class {noun.title()}{verb.title()}Options:",
                f'    """Options for {verb} of a {noun}."""',
                "",
                f"    timeout: float = {rng.randint(1, 120)}.0",
                f"    retries: int = {rng.randint(0, 5)}",
                f"    {word}_partial: bool = False",
                "    labels: dict[str, str] = field(default_factory=dict)",
            ]
        else:
            block = [
                "",
                "",
                f"def {verb}_{noun}(client: Client, {noun}_id: str, *, "
                f"{word}_missing: bool = False) -> dict[str, object]:",
                f'    """{verb.title()} one {noun}; a missing one raises unless {word}_missing."""',
                f'    response = client.request("{rng.choice(("GET", "POST", "PUT"))}", '
                f'f"/v{rng.randint(1, 3)}/{noun}s/{{{noun}_id}}")',
                f"    if response.status == 404 and {word}_missing:",
                f'        log.debug("no %s: not found", {noun}_id)',
                "        return {}",
                "    response.raise_for_status()",
                f"    return dict(response.json(), source={area!r})",
            ]
        size += sum(len(x) + 1 for x in block)
        lines += block
    return _block(lines, "")


def conftest(rng: random.Random, area: str | None) -> str:
    lines = [
        f'"""Fixtures for the {area or "whole"} test suite."""',
        "",
        "import os",
        "",
        "import pytest",
        "",
    ]
    if area is None:
        # Hooks say "skip" and build skip marks at run time: not a static mute of any test.
        lines += [
            "",
            "def pytest_addoption(parser):",
            '    parser.addoption("--run-slow", action="store_true", help="run slow tests")',
            "",
            "",
            "def pytest_collection_modifyitems(config, items):",
            '    if config.getoption("--run-slow"):',
            "        return",
            '    skip_slow = pytest.mark.skip(reason="needs --run-slow")',
            "    for item in items:",
            '        if "slow" in item.keywords:',
            "            item.add_marker(skip_slow)",
        ]
    for noun in rng.sample(NOUNS, 3):
        scope = '(scope="session")' if rng.random() < 0.3 else ""
        lines += [
            "",
            "",
            f"@pytest.fixture{scope}",
            f"def {noun}_store(tmp_path_factory):",
            f'    if os.environ.get("NO_{noun.upper()}"):',
            f'        pytest.skip("{noun} store disabled")',
            f'    return tmp_path_factory.mktemp("{noun}")',
        ]
    return _block(lines, "")


def helpers_module(area: str) -> str:
    lines = [
        f'"""Shared marks and helpers for the {area} tests."""',
        "",
        "import os",
        "import sys",
        "",
        "import pytest",
        "",
    ]
    lines += [f"{name} = {expr}" for name, (expr, _) in ALIASES.items()]
    lines += [
        "",
        "",
        "def _importorskip(modname, minversion=None):",
        "    try:",
        "        __import__(modname)",
        "        has = True",
        "    except ImportError:",
        "        has = False",
        '    reason = f"requires {modname}"',
        "    func = pytest.mark.skipif(not has, reason=reason)",
        "    return has, func",
        "",
        "",
        "def skip_if_no(package):",
        "    return pytest.mark.skipif(",
        '        not _importable(package), reason=f"Could not import {package!r}"',
        "    )",
        "",
        "",
        "def _importable(name):",
        "    try:",
        "        __import__(name)",
        "    except ImportError:",
        "        return False",
        "    return True",
        "",
        "",
        'has_yaml, requires_yaml = _importorskip("yaml")',
        "slow = pytest.mark.slow",
        "",
        "",
        "def fixture_text(name):",
        '    """The text of a JSON fixture file."""',
        '    with open(os.path.join(os.path.dirname(__file__), "data", name + ".json")) as f:',
        "        return f.read()",
    ]
    return _block(lines, "")


def bases_module(area: str) -> str:
    """Base classes test modules import (no marker word: found through the linker only)."""
    lines = [
        f'"""Checks every {area} client must pass."""',
        "",
        "",
        "class BaseChecks:",
        "    def test_roundtrip(self, client):",
        "        assert client.roundtrip().ok",
        "",
        "    def test_listing(self, client):",
        "        assert client.listing() == []",
    ]
    return _block(lines, "")


def _sizes(rng: random.Random, count: int, total: int) -> list[int]:
    sizes: list[float] = [rng.lognormvariate(0.0, SIGMA) for _ in range(count)]
    result: list[int] = []
    for _ in range(4):  # rescale, clamp, repeat: the clamps move the total a little
        scale = total / sum(sizes)
        result = [min(MAX_FILE, max(MIN_FILE, int(s * scale))) for s in sizes]
        sizes = [float(n) for n in result]
    return result


def _layout(rng: random.Random, files: int) -> list[tuple[str, str, int]]:
    """(area, directory, depth) for each test file, directories with a realistic spread."""
    areas = list(NOUNS[: max(3, min(len(NOUNS), files // 110))])
    dirs: list[tuple[str, str, int]] = []
    for area in areas:
        dirs.append((area, f"tests/{area}", 0))
        for sub in rng.sample(VERBS, rng.randint(0, 4)):
            dirs.append((area, f"tests/{area}/{sub}", 1))
    weights = [rng.paretovariate(1.3) for _ in dirs]
    return [rng.choices(dirs, weights=weights)[0] for _ in range(files)]


def build(
    path: Path, *, files: int = 2500, seed: int = 1, target_mb: float = 15.0
) -> dict[str, object]:
    """Write the synthetic repository at `path` (created; must be empty) and commit it.

    Returns stats: file counts and bytes, the size spread, the commit id, and the records a
    correct scanner reports (`expected_records`, `expected_by_kind`).
    """
    path = Path(path)
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"not empty: {path}")
    rng = random.Random(seed)
    target = int(target_mb * MIB)
    sizes = _sizes(rng, files, int(target * TEST_SHARE))
    places = _layout(rng, files)
    muted = set(rng.sample(range(files), round(files * MUTED_SHARE)))
    tree: dict[str, str] = {
        "pytest.ini": "[pytest]\ntestpaths = tests\nmarkers =\n"
        "    xfailflake(jira, reason, since): a known flaky test tracked in Jira\n"
        "    quarantined: kept out of the gate until fixed\n    slow: takes long\n"
        "    integration: needs the services\n",
        "README.md": "# acme platform\n\nA synthetic repository for the xfail-grabber benchmark.\n",
        "tests/__init__.py": "",
        "tests/conftest.py": conftest(rng, None),
        "src/acme/__init__.py": '"""The acme platform."""\n',
    }
    expected: Counter[str] = Counter()
    by_file: dict[str, int] = {}
    test_bytes = 0
    for index, ((area, directory, depth), size) in enumerate(zip(places, sizes, strict=True)):
        if f"{directory}/__init__.py" not in tree:
            tree[f"{directory}/__init__.py"] = ""
            if depth == 0:
                tree[f"{directory}/conftest.py"] = conftest(rng, area)
                tree[f"{directory}/helpers.py"] = helpers_module(area)
                tree[f"{directory}/bases.py"] = bases_module(area)
                tree[f"src/acme/{area}/__init__.py"] = (
                    f'"""The {area} API."""\n\nfrom .client import Client, make_client\n'
                )
        verb, noun = rng.choice(VERBS), rng.choice(NOUNS + ADJS)
        name = f"{verb}_{noun}_test.py" if rng.random() < 0.04 else f"test_{verb}_{noun}.py"
        stem, n = name[:-3], 2
        while f"{directory}/{name}" in tree:
            name, n = f"{stem}_{n}.py", n + 1
        text, records = render_test_file(rng, area, depth, index in muted, size)
        tree[f"{directory}/{name}"] = text
        expected.update(records)
        if records:
            by_file[f"{directory}/{name}"] = sum(records.values())
        test_bytes += len(text.encode())
    # Package code fills the rest of the target.
    rest = target - sum(len(t.encode()) for t in tree.values())
    areas = sorted({a for a, _, _ in places})
    count = max(len(areas), files // 8)
    for area, size in zip(
        (areas * count)[:count], _sizes(rng, count, max(rest, count * 400)), strict=True
    ):
        module = f"src/acme/{area}/client.py"
        if module in tree:
            module = f"src/acme/{area}/{rng.choice(VERBS)}_{rng.choice(NOUNS)}.py"
            while module in tree:
                module = module[:-3] + "_x.py"
        tree[module] = source_module(rng, area, size)
    for rel, text in tree.items():
        target_path = path / rel
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.write_bytes(text.encode())
    commit = _commit_all(path, f"Synthetic repository (seed {seed})", BASE_EPOCH, init=True)
    test_sizes = sorted(len(tree[r].encode()) for r in tree if _is_test(r))
    py = [r for r in tree if r.endswith(".py")]
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "path": str(path),
        "branch": "main",
        "commit": commit,
        "test_files": len(test_sizes),
        "muted_files": len(muted),
        "py_files": len(py),
        "bytes": sum(len(tree[r].encode()) for r in py),
        "test_bytes": test_bytes,
        "median_test_file_bytes": test_sizes[len(test_sizes) // 2],
        "p90_test_file_bytes": test_sizes[int(len(test_sizes) * 0.9)],
        "largest_file_bytes": test_sizes[-1],
        "expected_records": sum(expected.values()),
        "expected_by_kind": dict(sorted(expected.items())),
        "expected_by_file": dict(sorted(by_file.items())),
    }


def _is_test(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _git(path: Path, *args: str, epoch: int | None = None) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Synth Bench",
        "GIT_AUTHOR_EMAIL": "synth@example.invalid",
        "GIT_COMMITTER_NAME": "Synth Bench",
        "GIT_COMMITTER_EMAIL": "synth@example.invalid",
    }
    if epoch is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{epoch} +0000"
    done = subprocess.run(
        ["git", "-C", str(path), *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _commit_all(path: Path, message: str, epoch: int, *, init: bool = False) -> str:
    if init:
        _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "--no-verify", "-m", message, epoch=epoch)
    return _git(path, "rev-parse", "HEAD")


_MUTE_LINE = re.compile(r"^[ \t]*@[\w.]*\b(xfailflake|xfail|skipif|skip|quarantined|flaky)\b.*$")
_TICKET = re.compile(r"""(jira=|ticket=)(["'])([A-Z]+)-(\d+)\2""")
_TOP_TEST = re.compile(r"^def (test\w*)\(", re.MULTILINE)


def churn(path: Path, fraction: float, seed: int) -> list[str]:
    """Change `fraction` of the test files (add, remove or edit a mute; add or remove a test)
    and commit, one day after the current head. Returns the changed paths, sorted."""
    path = Path(path)
    rng = random.Random(seed * 7919 + 17)
    tests = sorted(p for p in _git(path, "ls-files", "*.py").splitlines() if _is_test(p))
    chosen = sorted(rng.sample(tests, max(1, round(len(tests) * fraction))))
    for rel in chosen:
        file = path / rel
        text = file.read_text(encoding="utf-8")
        op = rng.choice(("add_mute", "remove_mute", "edit_mute", "add_test", "remove_test"))
        changed = _apply(rng, op, text)
        if changed is None or changed == text:
            changed = _apply(rng, "add_test", text)
        assert changed is not None
        file.write_bytes(changed.encode())
    head = int(_git(path, "log", "-1", "--format=%ct"))
    _commit_all(path, f"Churn {len(chosen)} test files (seed {seed})", head + 86_400)
    return chosen


def _with_pytest(text: str) -> str:
    if re.search(r"^import pytest$", text, re.MULTILINE):
        return text
    first = re.search(r"^import ", text, re.MULTILINE)
    at = first.start() if first else 0
    return text[:at] + "import pytest\n" + text[at:]


def _apply(rng: random.Random, op: str, text: str) -> str | None:
    lines = text.split("\n")
    if op == "add_mute":
        starts = [m.start() for m in _TOP_TEST.finditer(text)]
        if not starts:
            return None
        at = rng.choice(starts)
        mark = (
            f'@pytest.mark.xfailflake(jira="DCOS-{rng.randint(10, 9999)}", '
            f'reason="flaky since the churn", '
            f'since="2020-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}")\n'
        )
        return _with_pytest(text[:at] + mark + text[at:])
    if op == "remove_mute":
        hits = [
            i
            for i, line in enumerate(lines)
            if _MUTE_LINE.match(line) and line.count("(") == line.count(")")
        ]
        if not hits:
            return None
        del lines[rng.choice(hits)]
        return "\n".join(lines)
    if op == "edit_mute":
        matches = list(_TICKET.finditer(text))
        if not matches:
            return None
        hit = rng.choice(matches)
        new = (
            f"{hit.group(1)}{hit.group(2)}{hit.group(3)}-{rng.randint(10000, 99999)}{hit.group(2)}"
        )
        return text[: hit.start()] + new + text[hit.end() :]
    if op == "remove_test":
        starts = [
            i
            for i, line in enumerate(lines)
            if _TOP_TEST.match(line) and i > 0 and not lines[i - 1].strip()
        ]
        if len(starts) < 2:
            return None
        first = rng.choice(starts)
        last = first + 1
        while last < len(lines) and (not lines[last] or lines[last][0] in " \t#"):
            last += 1
        del lines[first:last]
        return "\n".join(lines)
    name = f"test_churn_{rng.randint(0, 10**9)}"
    mark = '@pytest.mark.skip(reason="disabled by churn")\n' if rng.random() < 0.5 else ""
    return _with_pytest(text.rstrip("\n") + f"\n\n\n{mark}def {name}():\n    assert True\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--files", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target-mb", type=float, default=15.0)
    args = parser.parse_args(argv)
    try:
        stats = build(args.out_dir, files=args.files, seed=args.seed, target_mb=args.target_mb)
    except (FileExistsError, subprocess.CalledProcessError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

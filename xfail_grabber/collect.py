"""A pytest plugin: the marks pytest really applied to each test, as a snapshot file.

    pytest -p xfail_grabber.collect --grabber-json=FILE --collect-only
    grabber crosscheck STATIC.json FILE

Collection records, for every collected item, each muting mark `item.iter_markers()` gives
(class, module and `pytest.param` marks included, and marks hooks added while collecting),
in the snapshot's record format. Without `--collect-only` the tests run, and every skip or
xfail that no mark explains (`pytest.skip()` in a body or setup method, unittest and trial
skips, a hook's `add_marker` at run time) is recorded too, with `marker: "outcome"`.
The plugin does nothing unless `--grabber-json` is given.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from .config import BUILTIN_KINDS, DEFAULT_CUSTOM_MARKERS
from .model import MutedTest, Snapshot, utc_now
from .scan.marks import Arg, MarkSpec, Target, kind_of, make_record

MODULE_TEST = "(module)"  # the `test` of a record for a module skipped while importing


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xfail-grabber")
    group.addoption(
        "--grabber-json",
        metavar="FILE",
        default=None,
        help="write the muting marks pytest applied to each test to FILE (snapshot format)",
    )
    group.addoption(
        "--grabber-marker",
        action="append",
        default=[],
        metavar="NAME",
        help="a custom muting marker to record besides xfailflake and quarantined (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--grabber-json")
    if path:
        markers = tuple(config.getoption("--grabber-marker"))
        config.pluginmanager.register(Recorder(Path(path), markers), "xfail-grabber-recorder")


def _arg(name: str | None, value: Any) -> Arg:
    scalar = value is None or isinstance(value, str | int | float | bool)
    text = repr(value) if scalar else getattr(value, "__name__", None) or repr(value)
    return Arg(name, text, value if scalar else None, scalar)


class Recorder:
    def __init__(self, path: Path, markers: tuple[str, ...]) -> None:
        self.path = path
        self.mark_names = tuple(dict.fromkeys(BUILTIN_KINDS + DEFAULT_CUSTOM_MARKERS + markers))
        self.records: dict[str, list[MutedTest]] = {}
        self.items: dict[str, pytest.Item] = {}
        self.root = Path.cwd()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        self.root = Path(str(config.rootpath))
        for item in items:
            self.items[item.nodeid] = item
            self.records[item.nodeid] = [
                r for mark in item.iter_markers() if (r := self._record(item, mark)) is not None
            ]

    def _target(self, item: pytest.Item, scope: str) -> Target:
        # The node id's file, not item.location's: an inherited test is defined elsewhere.
        path = item.nodeid.split("::", 1)[0]
        located, lineno = item.location[0].replace(os.sep, "/"), item.location[1]
        test = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
        # ... but the line is in item.location's file: def_path (a file outside the rootdir,
        # which the scanner cannot see either, is left out).
        def_path = located if located and not located.startswith("../") else None
        return Target(path, test, (lineno or 0) + 1, scope, def_path=def_path)

    def _record(self, item: pytest.Item, mark: pytest.Mark) -> MutedTest | None:
        args = tuple(_arg(None, v) for v in mark.args)
        args += tuple(_arg(k, v) for k, v in mark.kwargs.items())
        spec = MarkSpec(f"pytest.mark.{mark.name}", mark.name, args)
        classified = kind_of(spec, self.mark_names)
        if classified is None:
            return None
        own = any(m is mark for m in getattr(item, "own_markers", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None and any(m is mark for m in getattr(callspec, "marks", ())):
            scope = "param"
        elif own:
            scope = "function"
        elif (cls := getattr(item, "cls", None)) is not None and _on(mark, cls):
            scope = "class"
        else:
            scope = "module"
        return make_record(spec, self._target(item, scope), 0, *classified, parser="pytest")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown" or report.nodeid not in self.records:
            return
        known = {r.kind for r in self.records[report.nodeid]}
        xfailed = hasattr(report, "wasxfail")
        if xfailed and "xfail" not in known:
            kind, reason = "imperative-xfail", str(report.wasxfail) or None
        elif report.skipped and not xfailed and not known & {"skip", "skipif"}:
            longrepr = report.longrepr
            reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
            kind = "imperative-skip"
            reason = reason.removeprefix("Skipped: ")
        else:
            return
        item = self.items[report.nodeid]
        scope = "setup" if report.when == "setup" else "body"
        spec = MarkSpec("pytest.skip", "outcome", (Arg("reason", repr(reason), reason, True),))
        self.records[report.nodeid].append(
            make_record(spec, self._target(item, scope), 0, kind, "muted", parser="pytest")
        )

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module skipped while importing (`raise SkipTest`, `pytest.skip(...,
        allow_module_level=True)`, `importorskip`): one record for the module's node id."""
        if not report.skipped or "::" in report.nodeid or not report.nodeid.endswith(".py"):
            return
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        spec = MarkSpec("pytest.skip", "outcome", (Arg("reason", repr(reason), reason, True),))
        target = Target(report.nodeid, MODULE_TEST, 0, "module")
        record = make_record(spec, target, 0, "imperative-skip", "muted", parser="pytest")
        self.records[report.nodeid] = [replace(record, nodeid=report.nodeid)]

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        muted = sorted(
            (r for records in self.records.values() for r in records), key=MutedTest.sort_key
        )
        snapshot = Snapshot(
            repo=str(self.root),
            branch=None,
            commit=None,
            committed_at=None,
            scanned_at=utc_now(),
            markers=self.mark_names,
            muted=tuple(muted),
            files_scanned=len({item.location[0] for item in self.items.values()}),
        )
        self.path.write_text(json.dumps(snapshot.to_dict(), indent=2) + "\n", encoding="utf-8")


def _on(mark: pytest.Mark, cls: type) -> bool:
    for klass in cls.__mro__:
        marks = klass.__dict__.get("pytestmark", [])
        listed = marks if isinstance(marks, list | tuple) else [marks]
        if any(getattr(m, "mark", m) == mark for m in listed):
            return True
    return False

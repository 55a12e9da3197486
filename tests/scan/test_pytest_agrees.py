"""The scanner against pytest itself: every fixture form is checked by running real pytest.

tests/fixtures/pytest_forms is a project pytest can collect and run (helper-made marks and
the reasons and conditions they build in steps, `pytest.param` under other names, classes
inherited across files, setup skips, twisted trial attributes, module and body control flow,
importorskip, hooks). pytest runs it twice through the shipped
plugin (`-p xfail_grabber.collect`): `--collect-only` gives the marks pytest applied to each
item, a run with `-rsxX` gives which items were skipped or xfailed; `crosscheck.compare`
then says what the static scan missed or added. Both lists must be empty.

Static-only, and why (tests/fixtures/static_forms, checked by the unit tests instead):
- trial `todo`: pytest 9's unittest adapter cannot take trial's expected failures (its
  `addExpectedFailure` has no `todo` argument: the test errors instead of xfailing);
- conditional mutes (skipif, a skip under `if`) are compared as marks, but whether they fire
  depends on the machine, so a run does not confirm or refute them;
- `add_marker` in hooks: pytest applies it, the scanner lists the site in `dynamic` instead
  (which tests it hits is known only at run time), so those items are expected as `missed`;
- a helper's reason that a branch decides on the machine (`if sys.platform...: reason = ...`)
  is kept as source text (`reason`), and a condition that names a local the helper changes in
  a loop keeps the name: pytest's value for them is not compared (SOURCE_REASONS, KEPT_LOCALS).
"""

from __future__ import annotations

import json
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from tests.pytest_run import run_pytest
from xfail_grabber.cli import main
from xfail_grabber.crosscheck import compare, load

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pytest_forms"
# Items a conftest hook marks at run time: pytest sees them, a static scan cannot.
DYNAMIC_ITEMS = {
    "tests/test_dynamic.py::test_hook_target",
    "tests/test_dynamic.py::test_fixture_marked",
}
# A mark in a module-level `else:` branch this machine does not take.
UNTAKEN_BRANCHES = {("tests/test_module_append.py::test_c", "skip")}
# Files whose records must match pytest's in reason and condition too, not only in kind.
EXACT_FILES = (
    "tests/test_helper_templates.py",
    "tests/test_param_aliases.py",
    "tests/test_param_local.py",
)
# A helper's reason a branch decides where the helper runs: the scan keeps the source text.
SOURCE_REASONS = {"tests/test_helper_templates.py::test_platform": "reason"}
# A condition naming a local the helper changes in a loop: the scan keeps the name.
KEPT_LOCALS = {"tests/test_helper_templates.py::test_each": "len(missing) > 0"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("agree") / "project"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture(scope="module")
def static(project: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = project.parent / "static.json"
    cache = tmp_path_factory.mktemp("cache")
    assert main(["dump", str(project), "--cache-dir", str(cache), "-o", str(out)]) == 0
    return load(out)


@pytest.fixture(scope="module")
def collected(project: Path) -> list[dict]:
    out = project.parent / "collected.json"
    proc = run_pytest(project, "--collect-only", "-q", grabber_json=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return load(out)


def test_collected_marks_agree_with_the_scan(static: list[dict], collected: list[dict]) -> None:
    comparison = compare(static, collected)
    assert not comparison.added, comparison.added
    assert {d.nodeid for d in comparison.missed} <= DYNAMIC_ITEMS, comparison.missed
    assert {(d.nodeid, d.kind) for d in comparison.unconfirmed} == UNTAKEN_BRANCHES
    assert comparison.compared >= 20  # the forms really produced marks to compare


def test_reasons_and_conditions_agree_with_pytest(
    static: list[dict], collected: list[dict]
) -> None:
    """Helper-made marks and marks on aliased `pytest.param` values, record for record: the
    reason pytest got, and each condition the scan wrote (a helper's locals substituted),
    evaluated here, gives the value pytest got."""
    mine = {(r["nodeid"], r["kind"]): r for r in static if r["path"] in EXACT_FILES}
    theirs = {(r["nodeid"], r["kind"]): r for r in collected if r["path"] in EXACT_FILES}
    assert mine.keys() == theirs.keys()
    assert len(mine) == 19
    for key, record in mine.items():
        nodeid = key[0]
        if nodeid in SOURCE_REASONS:
            assert (record["reason"], record["reason_is_source"]) == (SOURCE_REASONS[nodeid], True)
        else:
            assert (record["reason"], record["reason_is_source"]) == (theirs[key]["reason"], False)
        condition = record["condition"]
        if nodeid in KEPT_LOCALS:
            assert condition == KEPT_LOCALS[nodeid]
        elif condition is not None:
            # The fixture's helpers name only these; a kept local would raise NameError here.
            value = eval(condition, {"find_spec": find_spec, "sys": sys})  # noqa: S307
            assert str(bool(value)) == theirs[key]["condition"], (key, condition)


def test_run_outcomes_agree_with_the_scan(project: Path, static: list[dict]) -> None:
    out = project.parent / "run.json"
    proc = run_pytest(project, "-rsxX", "-q", grabber_json=out)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "SKIPPED" in proc.stdout
    comparison = compare(static, load(out))
    assert comparison.outcomes
    assert not comparison.added, comparison.added
    assert {d.nodeid for d in comparison.missed} == DYNAMIC_ITEMS, comparison.missed
    assert comparison.compared >= 40


def test_every_form_of_the_fixture_is_found(static: list[dict]) -> None:
    seen = {(r["path"].rsplit("/", 1)[-1], r["kind"], r["scope"]) for r in static}
    for expected in [
        ("test_helper_marks.py", "skipif", "function"),  # form 5
        ("test_cross_class.py", "xfail", "function"),  # form 4: inherited method mark
        ("test_cross_class.py", "imperative-skip", "setup"),  # forms 3 + 4
        ("test_setup_skips.py", "imperative-skip", "setup"),  # form 3
        ("test_setup_module.py", "imperative-skip", "setup"),
        ("test_trial.py", "trial-skip", "class"),  # form 7
        ("test_trial.py", "trial-skip", "function"),
        ("test_trial_module.py", "trial-skip", "module"),
        ("test_module_flow.py", "skip", "module"),  # form 1
        ("test_module_append.py", "xfail", "module"),
        ("test_module_raise.py", "imperative-skip", "module"),
        ("test_module_allow.py", "imperative-skip", "module"),
        ("test_body_flow.py", "imperative-skip", "body"),  # form 2
        ("test_body_flow.py", "xfail", "body"),  # request.applymarker
        ("test_importorskip_module.py", "imperative-skip", "module"),  # form 6
    ]:
        assert expected in seen, expected
    caught = [r for r in static if r["test"] in ("test_caught", "test_caught_by_handler")]
    assert caught == []


def test_hook_sites_are_listed_not_guessed(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "static.json"
    assert main(["dump", str(project), "--cache-dir", str(tmp_path / "c"), "-o", str(out)]) == 0
    dynamic = json.loads(out.read_text())["dynamic"]
    assert dynamic == [
        {
            "path": "conftest.py",
            "line": 8,
            "marker": "xfail",
            "hook": "pytest_collection_modifyitems",
        },
        {"path": "conftest.py", "line": 13, "marker": "xfail", "hook": "mark_me"},
    ]


def test_the_plugin_is_inert_without_its_option(project: Path) -> None:
    proc = run_pytest(project, "-p", "xfail_grabber.collect", "--collect-only", "-q")
    assert proc.returncode == 0, proc.stderr
    assert not list(project.glob("*.json"))

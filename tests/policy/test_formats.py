"""Each output format of `grabber check`, in the shape its consumer documents.

- github: workflow commands as GitHub documents them ("Workflow commands for GitHub Actions":
  `::error file=F,line=L,title=T::MESSAGE`, `%`, CR and LF escaped, and `:` `,` in properties);
- sarif: validated by Microsoft's SARIF multitool (`validate`), which also checks the SARIF
  2.1.0 JSON schema; installed by scripts/test.sh;
- gitlab: GitLab's Code Quality report format, checked against a JSON Schema written from
  GitLab's documentation (GitLab itself cannot run here);
- markdown and text: golden files, shown in the README.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest

from xfail_grabber.__about__ import __version__
from xfail_grabber.cli import main
from xfail_grabber.policy.rules import RULES

from ..source.gitutil import commit
from .conftest import API, LEGACY, POLICY, PYTEST_INI

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
EXTENSIONS = {
    "text": "txt",
    "github": "txt",
    "markdown": "md",
    "gitlab": "json",
    "json": "json",
    "sarif": "sarif",
}
SHOWN = "/src/example"  # the example repository's path, as the golden files say it


def check(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, str]:
    code = main(["check", str(root), *argv])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out.replace(str(root), SHOWN)


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_golden(fmt: str, example: Path, capsys) -> None:
    code, out = check(capsys, example, "--format", fmt)
    assert code == 3
    golden = GOLDEN / f"policy.{fmt}.{EXTENSIONS[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_readme_shows_each_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (API, LEGACY, PYTEST_INI, POLICY):  # the repository the outputs are for
        assert text in readme
    for fmt in ("text", "github", "markdown", "gitlab"):
        shown = (GOLDEN / f"policy.{fmt}.{EXTENSIONS[fmt]}").read_text(encoding="utf-8")
        body = shown if fmt != "gitlab" else shown[: shown.index("  },") + 4]
        assert body in readme, fmt
    for fmt in ("json", "sarif"):
        shown = (GOLDEN / f"policy.{fmt}.{EXTENSIONS[fmt]}").read_text(encoding="utf-8")
        assert shown.splitlines()[1] in readme, fmt


# GitHub workflow commands ------------------------------------------------------------------

COMMAND = re.compile(r"::(error|warning) file=([^,:]+),line=(\d+),title=([^,:]+)::(.*)")


def test_github_commands_parse_and_escape(example: Path, tmp_path: Path, capsys) -> None:
    code, out = check(capsys, example, "--format", "github")
    assert code == 3
    lines = out.splitlines()
    assert lines[-1] == "8 errors, 1 warning in 2 files; 5 of 5 mutes checked"
    parsed = [COMMAND.fullmatch(line) for line in lines[:-1]]
    assert all(parsed), lines
    assert [m.group(1) for m in parsed if m].count("warning") == 1
    # Hostile text cannot break out of a command or start a new one.
    weird = example / "tests" / "odd,dir:x"
    weird.mkdir()
    (weird / "test_w.py").write_text(
        'import pytest\n\n\n@pytest.mark.skip(reason="100%\\n::error::fake")\ndef test_w():\n'
        "    pass\n"
    )
    (tmp_path / "p.toml").write_text('[policy]\nticket-required = "warning"\n')
    _, out = check(capsys, example, "--format", "github", "--config", str(tmp_path / "p.toml"))
    line = next(x for x in out.splitlines() if "test_w" in x)
    assert line == (
        "::warning file=tests/odd%2Cdir%3Ax/test_w.py,line=4,title=grabber ticket-required::"
        "skip mute of test_w has no ticket"
    )


def test_github_escapes_messages() -> None:
    from xfail_grabber.sinks.findings import _escape_data, _escape_property

    assert _escape_data("50%\r\n::x") == "50%25%0D%0A::x"
    assert _escape_property("a,b:c%") == "a%2Cb%3Ac%25"


# SARIF -------------------------------------------------------------------------------------


def multitool() -> list[str]:
    tool = os.environ.get("GRABBER_SARIF_MULTITOOL") or str(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "xfail-grabber-test/sarif-multitool-5.7.0/node_modules/@microsoft/sarif-multitool/bin.js"
    )
    if not Path(tool).is_file():
        pytest.fail("the SARIF multitool is missing: run the tests through scripts/test.sh")
    return ["node", tool]


def validate(sarif: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(level, rule id, message arguments) of every problem the SARIF validator reports."""
    out = tmp_path / "validation.sarif"
    proc = subprocess.run(
        [*multitool(), "validate", str(sarif), "-o", str(out), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    return [
        (r.get("level", "warning"), r["ruleId"], " ".join(r["message"].get("arguments", [])))
        for r in log["runs"][0].get("results", [])
    ]


def test_sarif_passes_microsofts_validator(example: Path, tmp_path: Path, capsys) -> None:
    _, out = check(capsys, example, "--format", "sarif")
    sarif = tmp_path / "out.sarif"
    sarif.write_text(out.replace(SHOWN, str(example)), encoding="utf-8")
    problems = validate(sarif, tmp_path)
    # The one warning: SARIF2005 asks for driver.informationUri, a web page about the tool;
    # xfail-grabber has no public home page to point to, and an invented URL would be worse.
    assert problems == [("warning", "SARIF2005", "runs[0].tool.driver xfail-grabber")]


def test_sarif_rules_results_and_fingerprints(example: Path, capsys) -> None:
    _, out = check(capsys, example, "--format", "sarif")
    run = json.loads(out)["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("xfail-grabber", __version__)
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES.values()]
    assert all(r["help"]["text"] and r["name"].isalnum() for r in driver["rules"])
    results = run["results"]
    assert len(results) == 9
    first = next(r for r in results if r["ruleId"] == "XG005")
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "tests/test_api.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 14},
    }
    assert driver["rules"][first["ruleIndex"]]["id"] == "XG005"
    # Moving the mute down the file keeps its fingerprint (the alert is the same one).
    api = example / "tests" / "test_api.py"
    api.write_text("\n\n\n" + api.read_text())
    _, moved = check(capsys, example, "--format", "sarif")
    again = next(r for r in json.loads(moved)["runs"][0]["results"] if r["ruleId"] == "XG005")
    assert again["locations"][0]["physicalLocation"]["region"] == {"startLine": 17}
    assert again["partialFingerprints"] == first["partialFingerprints"]


# GitLab Code Quality -----------------------------------------------------------------------

# From GitLab's documentation, "Code Quality report format": an array of objects with these
# fields (GitLab reads only these; Code Climate's other fields are optional).
GITLAB_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def test_gitlab_code_quality(example: Path, capsys) -> None:
    _, out = check(capsys, example, "--format", "gitlab")
    issues = json.loads(out)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    # GitLab keeps one issue per fingerprint: they must differ.
    assert len({i["fingerprint"] for i in issues}) == len(issues) == 9
    assert {i["severity"] for i in issues} == {"major", "minor"}


def test_clean_outputs(example: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "p.toml").write_text('[policy]\nforbid-kinds = ["flaky"]\n')
    config = ("--config", str(tmp_path / "p.toml"))
    assert check(capsys, example, "--format", "gitlab", *config) == (0, "[]\n")
    assert check(capsys, example, "--format", "github", *config) == (
        0,
        "no policy violations; 5 of 5 mutes checked\n",
    )
    assert check(capsys, example, "--format", "markdown", *config) == (
        0,
        "### Mute policy\n\nNo policy violations; 5 of 5 mutes checked.\n",
    )
    _, out = check(capsys, example, "--format", "sarif", *config)
    assert json.loads(out)["runs"][0]["results"] == []


def test_markdown_escapes_cells(example: Path, tmp_path: Path, capsys) -> None:
    module = "import pytest\n\n\n@pytest.mark.skip\ndef test_a():\n    pass\n"
    commit(example, {"tests/test_p|q.py": module})
    (tmp_path / "p.toml").write_text('[policy]\nforbid-kinds = ["skip"]\n')
    _, out = check(capsys, example, "--format", "markdown", "--config", str(tmp_path / "p.toml"))
    rows = [line for line in out.splitlines() if line.startswith("| error")]
    assert rows[-1] == (
        "| error | `tests/test_p\\|q.py:4` | forbid-kinds | skip is not allowed here "
        "(skip on test_a) |"
    )
    assert len(rows) == 3  # test_download, the legacy test_old, test_a

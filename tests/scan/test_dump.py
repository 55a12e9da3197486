"""`grabber dump` end to end: golden outputs, the schema, clean stdout, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import jsonschema
import pytest

from xfail_grabber.cli import grabber, main
from xfail_grabber.model import snapshot_schema

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = FIXTURES / "golden"
EXTENSIONS = {"json": "json", "jsonl": "jsonl", "csv": "csv", "markdown": "md", "redash": "json"}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def dump(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["dump", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_golden_output(fmt, capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, out, err = dump(capsys, "forms", "--format", fmt)
    assert code == 0, err
    # A local repository is labelled with its absolute path; the golden files say "forms".
    out = out.replace(str(FIXTURES / "forms"), "forms")
    golden = GOLDEN / f"forms.{fmt}.{EXTENSIONS[fmt]}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_json_validates_against_the_shipped_schema(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code, out, _ = dump(capsys, "forms")
    assert code == 0
    snapshot = json.loads(out)
    jsonschema.validate(snapshot, snapshot_schema())
    assert snapshot["errors"] == [
        {"path": "tests/test_nul.py", "error": "contains NUL bytes; not a Python source file"}
    ]


def test_same_input_same_bytes_whatever_the_worker_count(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    outputs = {dump(capsys, "forms", "--workers", n)[1] for n in ("1", "2", "1")}
    assert len(outputs) == 1


def test_stdout_holds_only_json_even_when_verbose(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code = main(["-vv", "dump", "forms"])
    out, err = capsys.readouterr()
    assert code == 0
    json.loads(out)
    assert "regex fallback" in err  # the diagnostics went to stderr


def test_only_restricts_and_marker_extends(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    _, out, _ = dump(capsys, "forms", "--only", "xfailflake")
    kinds = {r["kind"] for r in json.loads(out)["muted"]}
    assert kinds == {"xfailflake"}


def test_output_file_is_written_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    target = tmp_path / "out.json"
    code, out, _ = dump(capsys, "forms", "-o", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["counts"]["total"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/dir"], "no such file or directory: /no/such/dir"),
        (["{fixtures}/forms", "--ref", "HEAD"], "not a git repository"),
        (["{fixtures}/forms", "main"], "not a git repository"),
    ],
)
def test_bad_repository_is_one_line_and_exit_1(args, message, capsys):
    code, out, err = dump(capsys, *(a.format(fixtures=FIXTURES) for a in args))
    assert code == 1
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2(capsys):
    code, out, err = dump(capsys, ".", "--format", "xml")
    assert code == 2 and out == "" and "xml" in err


def test_bad_config_file_is_a_usage_error(tmp_path, capsys):
    config = tmp_path / "grabber.toml"
    config.write_text("markers = 'not a list'\n")
    code, _, err = dump(capsys, ".", "--config", str(config))
    assert code == 2 and "must be a list" in err


def test_config_file_sets_the_markers(tmp_path, capsys):
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_a.py").write_text(
        "import pytest\n@pytest.mark.muted_by_team\ndef test_a(): pass\n"
    )
    config = tmp_path / "grabber.toml"
    config.write_text('markers = ["muted_by_team"]\n')
    code, out, _ = dump(capsys, str(repo), "--config", str(config))
    assert code == 0
    assert [r["kind"] for r in json.loads(out)["muted"]] == ["muted_by_team"]


def test_pytest_config_of_the_scanned_repository_is_followed(tmp_path, capsys):
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\npython_files = check_*.py\npython_classes = Suite\npython_functions = check\n"
    )
    source = "import pytest\nclass SuiteA:\n    @pytest.mark.skip\n    def check_a(self): pass\n"
    (tmp_path / "check_things.py").write_text(source)
    (tmp_path / "test_things.py").write_text(source)
    code, out, _ = dump(capsys, str(tmp_path))
    assert code == 0
    assert [r["nodeid"] for r in json.loads(out)["muted"]] == ["check_things.py::SuiteA::check_a"]


def test_hostile_files_are_reported_not_fatal(tmp_path, capsys):
    muted = "import pytest\n@pytest.mark.skip\ndef test_a(): pass\n"
    (tmp_path / "outside.py").write_text(muted)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "test_link.py").symlink_to(tmp_path / "outside.py")
    (repo / "test_ok.py").write_text(muted)
    # A 20 MB generated file with a mark in it: read by the regex fallback, not parsed (over
    # 32 MB it would be listed under errors unread: tests/security/test_parse_limits.py).
    with open(repo / "test_generated.py", "w") as handle:
        handle.write(muted)
        line = "x = " + "1 + " * 30 + "1\n"
        handle.write(line * (20 * 1024 * 1024 // len(line)))
    code, out, err = dump(capsys, str(repo), "--workers", "1")
    assert code == 0, err
    snapshot = json.loads(out)
    assert [(r["path"], r["parser"]) for r in snapshot["muted"]] == [
        ("test_generated.py", "regex"),
        ("test_ok.py", "libcst"),
    ]
    assert snapshot["errors"] == [
        {"path": "test_link.py", "error": "symlink points outside the repository; not followed"}
    ]


def test_local_paths_are_labelled_absolute(tmp_path, capsys, monkeypatch):
    (tmp_path / "test_a.py").write_text("import pytest\n@pytest.mark.skip\ndef test_a(): pass\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = dump(capsys, ".")
    assert code == 0 and json.loads(out)["repo"] == str(tmp_path.resolve())


def test_cross_file_alias_resolved(tmp_path, capsys):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "marks.py").write_text(
        "import pytest\nquarantine = pytest.mark.quarantined(reason='q')\n"
    )
    (tmp_path / "tests" / "reexport.py").write_text("from tests.marks import quarantine as q\n")
    (tmp_path / "tests" / "test_a.py").write_text(
        "from tests.marks import quarantine\n\n@quarantine\ndef test_a(): pass\n"
    )
    (tmp_path / "tests" / "test_b.py").write_text(
        "from .reexport import q\n\n"
        "class TestB:\n    @q(since='2024')\n    def test_b(self): pass\n"
    )
    code, out, _ = dump(capsys, str(tmp_path))
    assert code == 0
    assert [
        (r["nodeid"], r["kind"], r["reason"], r["since"]) for r in json.loads(out)["muted"]
    ] == [
        ("tests/test_a.py::test_a", "quarantined", "q", None),
        ("tests/test_b.py::TestB::test_b", "quarantined", "q", "2024"),
    ]


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def forms_repo(tmp_path) -> Path:
    repo = tmp_path / "forms"
    subprocess.run(["cp", "-r", str(FIXTURES / "forms"), str(repo)], check=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "forms")
    return repo


def test_work_tree_bare_and_file_url_give_the_same_records(forms_repo, tmp_path, capsys):
    bare = tmp_path / "forms.git"
    git(tmp_path, "clone", "-q", "--bare", str(forms_repo), str(bare))
    results = []
    for args in (
        [str(forms_repo)],
        [str(forms_repo), "main"],
        [str(bare), "main"],
        [f"file://{bare}", "main"],
        [f"file://{bare}"],
    ):
        code, out, err = dump(capsys, *args, "--cache-dir", str(tmp_path / "cache"))
        assert code == 0, (args, err)
        snapshot = json.loads(out)
        assert snapshot["commit"] == git(forms_repo, "rev-parse", "HEAD")
        assert snapshot["branch"] == "main"
        results.append(snapshot["muted"])
    assert all(r == results[0] for r in results)
    assert len(results[0]) > 50


def test_ref_scans_an_older_commit(forms_repo, capsys, tmp_path):
    first = git(forms_repo, "rev-parse", "HEAD")
    (forms_repo / "tests" / "test_new.py").write_text(
        "import pytest\n@pytest.mark.skip\ndef test_new(): pass\n"
    )
    git(forms_repo, "add", "-A")
    git(forms_repo, "commit", "-q", "-m", "more")
    cache = ["--cache-dir", str(tmp_path / "cache")]
    _, head, _ = dump(capsys, str(forms_repo), "main", *cache)
    _, old, _ = dump(capsys, str(forms_repo), "main", "--ref", first, *cache)
    assert json.loads(old)["commit"] == first
    assert json.loads(head)["counts"]["total"] == json.loads(old)["counts"]["total"] + 1
    code, _, err = dump(capsys, str(forms_repo), "no-such-branch", *cache)
    assert code == 1 and "no-such-branch" in err


def test_original_command_form(forms_repo, tmp_path):
    env = {**os.environ, "GRABBER_CACHE_DIR": str(tmp_path / "cache")}
    shim = [sys.executable, str(ROOT / "xfailflake_grabber.py")]
    helped = subprocess.run([*shim, "help"], capture_output=True, text=True, env=env)
    assert helped.returncode == 0 and "dump <repository> <branch>" in helped.stdout
    dumped = subprocess.run(
        [*shim, "dump", str(forms_repo), "main"], capture_output=True, text=True, env=env
    )
    assert dumped.returncode == 0, dumped.stderr
    snapshot = json.loads(dumped.stdout)
    assert {r["kind"] for r in snapshot["muted"]} == {"xfailflake"}
    wrong = subprocess.run(
        [*shim, "dump", str(forms_repo)], capture_output=True, text=True, env=env
    )
    assert wrong.returncode == 2 and wrong.stdout == ""


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text()
    context = click.Context(grabber)
    names = grabber.list_commands(context)
    assert "dump" in names and "serve" in names
    for name in names:
        command = grabber.get_command(context, name)
        assert re.search(rf"grabber {name}\b", readme), name
        if hasattr(command, "commands"):
            for sub in command.commands:
                assert re.search(rf"grabber {name} {sub}\b", readme), f"{name} {sub}"


def test_verbose_after_the_command_and_unknown_only_kind(capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    code = main(["dump", "forms", "-v"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out) and "regex fallback" in err
    code, out, err = dump(capsys, "forms", "--only", "xfialflake")
    assert (code, out) == (2, "") and "unknown kind 'xfialflake'" in err
    assert err.startswith("Error: ") and err.count("\n") == 1  # one line, as for bad files
    code, out, _ = dump(capsys, "forms", "--marker", "team_mute", "--only", "team_mute")
    assert code == 0 and json.loads(out)["muted"] == []


def test_a_bad_config_file_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    for text, message in [
        ("markers = [1\n", "cannot read config file"),
        ('markerz = ["a"]\n', "unknown setting(s): markerz"),
        ('markers = "a"\n', "'markers' must be a list of strings"),
    ]:
        config = tmp_path / "grabber.toml"
        config.write_text(text)
        code, out, err = dump(capsys, "forms", "--config", str(config))
        assert (code, out) == (2, "")
        assert err.startswith("Error: ") and message in err and err.count("\n") == 1, err
    code, out, err = dump(capsys, "forms", "--config", str(tmp_path / "missing.toml"))
    assert (code, out, err) == (2, "", f"Error: config file not found: {tmp_path}/missing.toml\n")


def test_output_file_gets_the_usual_mode(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(FIXTURES)
    old = os.umask(0o022)
    try:
        assert dump(capsys, "forms", "-o", str(tmp_path / "new.json"))[0] == 0
        existing = tmp_path / "existing.json"
        existing.write_text("{}")
        existing.chmod(0o640)
        assert dump(capsys, "forms", "-o", str(existing))[0] == 0
    finally:
        os.umask(old)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644
    assert existing.stat().st_mode & 0o777 == 0o640


def test_output_to_a_fifo_writes_into_it_and_leaves_it_a_fifo(tmp_path, capsys, monkeypatch):
    # -o /dev/null must never turn /dev/null into a regular file; a FIFO stands in for it.
    import stat
    import threading

    monkeypatch.chdir(FIXTURES)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    code, out, _ = dump(capsys, "forms", "-o", str(fifo))
    reader.join(timeout=30)
    assert code == 0 and out == ""
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(received[0])["counts"]["total"] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_redash_boolean_columns_never_hold_null(capsys, monkeypatch):
    # Redash's JSON data source types a column from its first value: one null turns a
    # boolean column into text. strict_set tells "strict=False written" from "not written".
    monkeypatch.chdir(FIXTURES)
    code, out, _ = dump(capsys, "forms", "--format", "redash")
    assert code == 0
    result = json.loads(out)
    booleans = [c["name"] for c in result["columns"] if c["type"] == "boolean"]
    assert booleans == ["strict", "strict_set", "reason_is_source", "stale"]
    assert all(isinstance(row[name], bool) for row in result["rows"] for name in booleans)
    given = {(row["strict"], row["strict_set"]) for row in result["rows"]}
    assert {(False, False), (True, True)} <= given

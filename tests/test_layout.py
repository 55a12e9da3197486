"""The package's layout: the click layer lives in commands/ (and cli.py) only."""

from __future__ import annotations

import ast
from pathlib import Path

import click

import xfail_grabber
from xfail_grabber.cli import VERBS, grabber

PACKAGE = Path(xfail_grabber.__file__).parent


def _imports_click(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "click" or name.startswith("click.") for name in names):
            return True
    return False


def test_only_commands_and_cli_import_click() -> None:
    click_layer = {PACKAGE / "cli.py"} | set((PACKAGE / "commands").rglob("*.py"))
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in click_layer and _imports_click(path)
    ]
    assert offenders == []


def _package_imports(path: Path) -> set[str]:
    """The xfail_grabber modules a file imports, as dotted names (relative imports resolved)."""
    module = ".".join(("xfail_grabber", *path.relative_to(PACKAGE).with_suffix("").parts))
    package = module.split(".")[:-1]  # for __init__.py: the package itself
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("xfail_grabber")}


def test_the_library_does_not_reach_back_into_the_command_line() -> None:
    """The flow is one way: commands/ call the library, never the reverse. Only the entry
    points (the original argv form, `python -m`) may start the command line."""
    entry_points = {PACKAGE / "compat.py", PACKAGE / "__main__.py", PACKAGE / "cli.py"}
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in entry_points
        and not path.is_relative_to(PACKAGE / "commands")
        and any(
            name == "xfail_grabber.cli" or name.startswith("xfail_grabber.commands")
            for name in _package_imports(path)
        )
    ]
    assert offenders == []
    assert "xfail_grabber.cli" in _package_imports(PACKAGE / "compat.py")  # the check sees it


def test_the_check_sees_a_click_import(tmp_path: Path) -> None:
    for text in (
        "import click\n",
        "from click import echo\n",
        "def f():\n    import click.testing\n",
    ):
        (tmp_path / "m.py").write_text(text)
        assert _imports_click(tmp_path / "m.py"), text
    (tmp_path / "m.py").write_text("from .click import x\nimport clicks\n")
    assert not _imports_click(tmp_path / "m.py")


def test_every_verb_is_a_module_of_commands() -> None:
    modules = {p.stem for p in (PACKAGE / "commands").glob("*.py")}
    helpers = {"__init__", "common", "fleet", "process"}  # shared by the verbs, not verbs
    assert set(VERBS) == modules - helpers
    context = click.Context(grabber)
    assert grabber.list_commands(context) == list(VERBS)
    for name in VERBS:
        command = grabber.get_command(context, name)
        assert isinstance(command, click.Command)
        assert command.name == name
        assert command.callback is not None
        module = command.callback.__module__
        assert module == f"xfail_grabber.commands.{command.name}", (command.name, module)


def test_a_dump_loads_only_what_it_uses(tmp_path: Path) -> None:
    """Verbs load lazily: `grabber dump` does not import the server, the policy checks, the
    fleet, the database or the ticket trackers' HTTP client (a third of a second at every
    start)."""
    import subprocess
    import sys

    (tmp_path / "test_a.py").write_text("import pytest\n\n@pytest.mark.skip\ndef test_a(): pass\n")
    out = tmp_path / "out.json"
    code = (
        "import sys\n"
        "from xfail_grabber.cli import main\n"
        f"argv = ['dump', {str(tmp_path)!r}, '-o', {str(out)!r}, '--cache-dir', "
        f"{str(tmp_path / 'cache')!r}]\n"
        "assert main(argv) == 0\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    unwanted = (
        "starlette",
        "uvicorn",
        "psycopg2",
        "urllib.request",
        "xfail_grabber.commands.serve",
        "xfail_grabber.commands.check",
        "xfail_grabber.sinks.serve",
        "xfail_grabber.sinks.db",
        "xfail_grabber.policy",
        "xfail_grabber.fleet",
        "xfail_grabber.enrich.tickets.lookup",
    )
    assert [m for m in loaded if m.startswith(unwanted)] == []
    assert "xfail_grabber.commands.dump" in loaded  # the check sees what was loaded
    assert '"test_a.py::test_a"' in out.read_text()

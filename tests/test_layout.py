"""The package's layout: the click layer lives in commands/ (and cli.py) only."""

from __future__ import annotations

import ast
from pathlib import Path

import click

import xfail_grabber
from xfail_grabber.cli import COMMANDS, grabber

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
    assert set(grabber.commands.values()) == set(COMMANDS)
    for command in COMMANDS:
        assert isinstance(command, click.Command)
        assert command.callback is not None
        module = command.callback.__module__
        assert module == f"xfail_grabber.commands.{command.name}", (command.name, module)

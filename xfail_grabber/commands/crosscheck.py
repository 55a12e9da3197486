"""`grabber crosscheck STATIC.json COLLECTED.json`: what the static scan missed or added."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..crosscheck import CrosscheckError, compare, load, render


@click.command()
@click.argument("static", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("collected", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.option(
    "--fail", is_flag=True, help="Exit 3 when anything was missed or added (for CI gates)."
)
def crosscheck(static: Path, collected: Path, as_json: bool, fail: bool) -> int:
    """Compare a `grabber dump` snapshot with what pytest applied.

    COLLECTED comes from `pytest -p xfail_grabber.collect --grabber-json=FILE --collect-only`
    (marks) or the same without --collect-only (marks and the outcomes of the run). Keep the
    `=`: a separate FILE that exists is taken for a test path and moves pytest's rootdir.
    """
    try:
        comparison = compare(load(static), load(collected))
    except CrosscheckError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), indent=2))
    else:
        click.echo(render(comparison), nl=False)
    return 3 if fail and (comparison.missed or comparison.added) else 0

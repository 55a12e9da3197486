"""`grabber diff`: mutes added, removed and changed between two refs."""

from __future__ import annotations

from pathlib import Path

import click

from ..diff import diff_refs, render_markdown
from ..timings import TIMINGS
from .common import ScanArgs, output_option, scan_options, user_errors, write_output


@click.command("diff")
@click.argument("repository")
@click.argument("base")
@click.argument("head")
@scan_options(with_ref=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@click.option("--fail-on-added", is_flag=True, help="Exit with code 3 when HEAD adds muted tests.")
@output_option
@user_errors
def diff(
    repository: str,
    base: str,
    head: str,
    scan: ScanArgs,
    fmt: str,
    fail_on_added: bool,
    output: Path | None,
) -> None:
    """Mutes added, removed and changed between the commits BASE and HEAD.

    \b
    Examples:
      grabber diff . origin/main HEAD --format markdown >> "$GITHUB_STEP_SUMMARY"
      grabber diff . main feature --fail-on-added   # exit 3 when mutes were added
    """
    from ..sinks.formats import to_json_text

    result = diff_refs(
        repository, base, head, scan.settings(), workers=scan.workers, cache_dir=scan.cache_dir
    )
    with TIMINGS.phase("render"):
        text = render_markdown(result) if fmt == "markdown" else to_json_text(result.to_dict())
        write_output(text, output)
    if fail_on_added and result.added:
        click.get_current_context().exit(3)

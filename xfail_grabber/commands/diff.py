"""`grabber diff`: mutes added, removed and changed between two refs."""

from __future__ import annotations

from pathlib import Path

import click

from ..diff import diff_refs, render_markdown
from ..timings import TIMINGS
from .check import local_root, policy_and_settings
from .common import (
    ScanArgs,
    not_empty,
    output_option,
    ref_name,
    scan_options,
    user_errors,
    write_output,
)


@click.command("diff")
@click.argument("repository", callback=not_empty)
@click.argument("base", callback=ref_name)
@click.argument("head", callback=ref_name)
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

    The mute policy (as for `grabber check`: --config, the repository's grabber.toml, or
    the default) judges what HEAD adds or changes; its summary reads like
    "+2 mutes, 1 without a ticket".

    \b
    Examples:
      grabber diff . origin/main HEAD --format markdown >> "$GITHUB_STEP_SUMMARY"
      grabber diff . main feature --fail-on-added   # exit 3 when mutes were added
    """
    from ..policy.check import context_at, diff_summary, judge_diff
    from ..sinks.findings import finding_rows
    from ..sinks.formats import to_json_text

    local = local_root(repository)
    policy, settings = policy_and_settings(scan, local)
    result = diff_refs(
        repository, base, head, settings, workers=scan.workers, cache_dir=scan.cache_dir
    )
    head_context = context_at(repository, head, settings, cache_dir=scan.cache_dir)
    findings = judge_diff(result, policy, head_context)
    summary = diff_summary(result, findings)
    with TIMINGS.phase("render"):
        if fmt == "markdown":
            appendix = ["#### Policy", "", *finding_rows(findings)] if findings else []
            text = render_markdown(result, note=f"**Policy:** {summary}.", appendix=appendix)
        else:
            verdict = {
                "summary": summary,
                "source": policy.source,
                "errors": sum(f.severity == "error" for f in findings),
                "warnings": sum(f.severity == "warning" for f in findings),
                "findings": [f.to_dict() for f in findings],
            }
            text = to_json_text(result.to_dict() | {"policy": verdict})
        write_output(text, output)
    if fail_on_added and result.added:
        click.get_current_context().exit(3)

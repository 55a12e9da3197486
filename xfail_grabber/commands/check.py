"""`grabber check`: apply the mute policy; exit 3 when a rule at severity error is broken."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from ..config import OTHER_KINDS, Settings
from ..policy.load import DEFAULT_POLICY, Policy, PolicyError, load_policy
from ..sinks.findings import RENDERERS
from .common import (
    ScanArgs,
    check_ref,
    output_option,
    ref_name,
    scan_options,
    usage_error,
    user_errors,
    write_output,
)

POLICY_FILE = "grabber.toml"


def policy_for(config_file: Path | None, root: Path | None) -> Policy:
    """The [policy] of --config (or of the repository's grabber.toml); else the default.

    A file inside the local repository `root` is named relative to it, so that findings
    about it (budget) point at it in annotations and reports.
    """
    if config_file is None:
        return DEFAULT_POLICY
    try:
        policy = load_policy(config_file)
    except PolicyError as exc:
        raise usage_error(str(exc)) from None
    if root is not None and config_file.resolve().is_relative_to(root.resolve()):
        shown = config_file.resolve().relative_to(root.resolve()).as_posix()
        policy = dataclasses.replace(policy, source=shown, _memo={})
    return policy


def local_policy_file(directory: Path) -> Path | None:
    candidate = directory / POLICY_FILE
    return candidate if candidate.is_file() else None


def local_root(repository: str) -> Path | None:
    """Where a local REPOSITORY's grabber.toml lives: the top of its git work tree (for a
    directory inside one, `grabber check ./repo/tests`), else the directory itself."""
    from ..policy.check import repository_root

    path = Path(repository)
    return repository_root(path) if path.is_dir() else None


def policy_and_settings(scan: ScanArgs, root: Path | None) -> tuple[Policy, Settings]:
    """The policy and the scan settings, from --config, else from grabber.toml at the local
    repository's `root`, else the defaults (check and diff find them the same way)."""
    if scan.config_file is None and root is not None:
        scan = dataclasses.replace(scan, config_file=local_policy_file(root))
    policy = policy_for(scan.config_file, root)
    settings = scan.settings()
    try:
        policy.check_kinds(settings.mark_names + OTHER_KINDS)
    except PolicyError as exc:
        raise usage_error(str(exc)) from None
    return policy, settings


@click.command("check")
@click.argument("args", nargs=-1, metavar="REPOSITORY [BRANCH] | --files PATH...")
@scan_options
@click.option(
    "--files",
    "files_mode",
    is_flag=True,
    help="Check only these files of the repository in the current directory "
    "(pre-commit passes the staged ones).",
)
@click.option(
    "--baseline",
    metavar="REF",
    callback=ref_name,
    help="Judge only mutes added or changed since REF; budget rules compare with REF.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(RENDERERS)),
    default="text",
    show_default=True,
    help="Output format.",
)
@output_option
@user_errors
def check(
    args: tuple[str, ...],
    scan: ScanArgs,
    files_mode: bool,
    baseline: str | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Apply the mute policy ([policy] in grabber.toml) to REPOSITORY at BRANCH.

    The policy comes from --config, else from grabber.toml at the root of a local
    REPOSITORY (or of the current repository with --files), else the default policy
    (ticket-required: error, reason-required and known-markers: warning).

    Exit codes: 0 no errors (warnings allowed), 3 a rule at severity error is broken,
    2 a usage error (a bad policy file included), 1 a failure (clone failed...).

    \b
    Examples:
      grabber check .                                  # this work tree
      grabber check . --baseline origin/main --format github
      grabber check --files tests/test_a.py tests/test_b.py   # pre-commit
    """
    from ..policy.check import check_files, check_repository, repository_root

    if files_mode:
        if baseline is not None or scan.ref is not None:
            raise usage_error("--files takes neither --baseline nor --ref")
        policy, settings = policy_and_settings(scan, repository_root(Path.cwd()))
        try:
            report = check_files(args, settings, policy, cache_dir=scan.cache_dir)
        except PolicyError as exc:
            raise usage_error(str(exc)) from None
    else:
        if not 1 <= len(args) <= 2:
            raise usage_error("expected REPOSITORY [BRANCH] (or --files PATH...)")
        repository, branch = args[0], (args[1] if len(args) == 2 else None)
        if not repository.strip():
            raise usage_error("Invalid value for '[REPOSITORY]': must not be empty")
        if branch is not None:
            check_ref(branch, "'[BRANCH]'", "branch")
        local = local_root(repository)
        policy, settings = policy_and_settings(scan, local)
        try:
            report = check_repository(
                repository,
                branch,
                settings,
                policy,
                ref=scan.ref,
                baseline=baseline,
                workers=scan.workers,
                cache_dir=scan.cache_dir,
                enrichment=scan.enrichment(),
            )
        except PolicyError as exc:
            raise usage_error(str(exc)) from None
    write_output(RENDERERS[fmt](report), output)
    if report.exit_code:
        click.get_current_context().exit(report.exit_code)

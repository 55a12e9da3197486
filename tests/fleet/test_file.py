"""The fleet file: defaults, per-repository settings, and one-line errors with file and line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from xfail_grabber.config import Settings, build_settings
from xfail_grabber.fleet import FleetFileError, load_fleet
from xfail_grabber.fleet.file import key_of, repo_identity
from xfail_grabber.keylines import find_line, key_lines

from .conftest import write_fleet

GOOD = """\
# the organisation's repositories
markers = ["xfailflake", "quarantined", "muted_by_team"]
shards = 4

[defaults]
branches = ["main", "master", "release/*"]
active_within = "30d"

[[repos]]
url = "https://github.com/org/service"

[[repos]]
url = "https://github.com/org/service-ee"
branches = ["master", "1.*"]
only = ["xfailflake"]
active_within = "2w"
"""


def test_defaults_apply_and_entries_override(tmp_path: Path) -> None:
    fleet = load_fleet(write_fleet(tmp_path / "fleet.toml", GOOD))
    first, second = fleet.repos
    assert fleet.shards == 4
    assert first.url == "https://github.com/org/service"
    assert first.branches == ("main", "master", "release/*")
    assert first.active_within == timedelta(days=30)
    assert first.only is None and first.line == 9
    assert second.branches == ("master", "1.*")
    assert second.active_within == timedelta(days=14)
    assert second.only == ("xfailflake",) and second.line == 12


def test_settings_per_repository(tmp_path: Path) -> None:
    fleet = load_fleet(write_fleet(tmp_path / "fleet.toml", GOOD))
    base = build_settings((), (), fleet.path)
    first, second = fleet.repos
    s1 = fleet.settings_for(first, base, ("extra",), ())
    assert s1.custom_markers == ("xfailflake", "quarantined", "muted_by_team", "extra")
    assert s1.only == ()
    s2 = fleet.settings_for(second, base, (), ())
    assert s2.only == ("xfailflake",)
    # --only on the command line wins over the file.
    assert fleet.settings_for(second, base, (), ("skip",)).only == ("skip",)
    assert isinstance(s2, Settings)


def test_a_plain_grabber_toml_still_reads_a_fleet_file(tmp_path: Path) -> None:
    # `grabber dump REPO --config fleet.toml` uses the file's markers, not its repositories.
    settings = build_settings((), (), write_fleet(tmp_path / "fleet.toml", GOOD))
    assert settings.custom_markers == ("xfailflake", "quarantined", "muted_by_team")


def error(tmp_path: Path, text: str) -> str:
    path = write_fleet(tmp_path / "fleet.toml", text)
    with pytest.raises(FleetFileError) as info:
        load_fleet(path)
    message = str(info.value)
    assert "\n" not in message
    return message.replace(str(path), "FILE")


def test_unknown_key_in_an_entry(tmp_path: Path) -> None:
    text = GOOD + '\n[[repos]]\nurl = "https://github.com/org/third"\nbranch = ["main"]\n'
    assert error(tmp_path, text) == (
        "FILE:20: key 'branch' in [[repos]] #3: unknown key "
        "(known: url, branches, active_within, markers, only, blame, tickets)"
    )


def test_unknown_key_in_defaults_and_at_the_top(tmp_path: Path) -> None:
    assert error(tmp_path, '[defaults]\nbranches = ["main"]\nactive = "3d"\n').startswith(
        "FILE:3: key 'active' in [defaults]: unknown key"
    )
    assert error(tmp_path, 'shards = 2\nrepo = "x"\n').startswith("FILE:2: key 'repo': unknown key")


def test_wrong_types(tmp_path: Path) -> None:
    entry = '[[repos]]\nurl = "https://h/o/r"\n'
    assert error(tmp_path, entry + 'branches = "main"\n') == (
        "FILE:3: key 'branches' in [[repos]] #1: must be a list of non-empty strings"
    )
    assert error(tmp_path, entry + "active_within = 30\n") == (
        "FILE:3: key 'active_within' in [[repos]] #1: must be a string such as \"30d\""
    )
    assert error(tmp_path, entry + 'active_within = "a month"\n') == (
        "FILE:3: key 'active_within' in [[repos]] #1: must be a duration such as 30d, 4w or 12h"
    )
    assert error(tmp_path, "[[repos]]\nurl = 7\n") == (
        "FILE:2: key 'url' in [[repos]] #1: must be a non-empty string"
    )
    assert error(tmp_path, "shards = true\n" + entry).startswith("FILE:1: key 'shards':")
    assert error(tmp_path, "shards = 0\n" + entry).startswith("FILE:1: key 'shards':")
    assert error(tmp_path, 'repos = "x"\n') == (
        "FILE:1: key 'repos': must be an array of tables: [[repos]]"
    )
    assert error(tmp_path, '[[repos]]\nbranches = ["main"]\n') == "FILE:1: [[repos]] #1: no 'url'"


def test_an_unknown_kind_in_only(tmp_path: Path) -> None:
    assert error(tmp_path, '[[repos]]\nurl = "https://h/o/r"\nonly = ["xfailflak"]\n') == (
        "FILE:3: key 'only' in [[repos]] #1: unknown kind 'xfailflak' (add it to 'markers' first)"
    )


def test_a_repository_listed_twice(tmp_path: Path) -> None:
    text = (
        '[[repos]]\nurl = "https://github.com/Org/service"\n\n'
        '[[repos]]\nurl = "https://GitHub.com/Org/service.git/"\n'
    )
    assert error(tmp_path, text) == (
        "FILE:5: key 'url' in [[repos]] #2: repository listed twice (also [[repos]] #1)"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://ghp_SECRET123@github.com/org/repo",
        "https://x-access-token:ghp_SECRET123@github.com/org/repo",
        "ssh://git:ghp_SECRET123@github.com/org/repo",
    ],
)
def test_a_token_in_a_url_is_refused_and_never_echoed(tmp_path: Path, url: str) -> None:
    message = error(tmp_path, f'[defaults]\nbranches = ["main"]\n\n[[repos]]\nurl = "{url}"\n')
    assert message.startswith("FILE:5: key 'url' in [[repos]] #1: a token or password in the URL")
    assert "SECRET" not in message


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    assert error(tmp_path, '[[repos]]\nurl = "https://h/o/r\n').startswith("FILE:2: ")


def test_ssh_and_scp_like_urls_and_paths_are_accepted(tmp_path: Path) -> None:
    text = (
        '[[repos]]\nurl = "git@github.com:org/a.git"\n'
        '[[repos]]\nurl = "ssh://git@github.com/org/b"\n'
        f'[[repos]]\nurl = "{tmp_path / "c"}"\n'
        '[[repos]]\nurl = "file:///srv/git/d.git"\n'
    )
    fleet = load_fleet(write_fleet(tmp_path / "fleet.toml", text))
    assert [r.identity for r in fleet.repos] == [
        "ssh://git@github.com/org/a",
        "ssh://git@github.com/org/b",
        str(tmp_path / "c"),
        "file:///srv/git/d",
    ]


def test_identity_spellings() -> None:
    assert repo_identity("git@github.com:org/a.git") == repo_identity("ssh://git@GitHub.com/org/a")
    assert repo_identity("https://h/o/r/") == repo_identity("https://H/o/r.git")
    assert repo_identity("https://h/o/r") != repo_identity("https://h/o/R")


def test_key_lines_skip_other_tables_and_look_alike_keys() -> None:
    text = "\n".join(
        [
            "url = 1",  # 1: top level
            "[[repos]]",  # 2
            'urls = "x"',  # 3: not `url`
            '"url" = "a"',  # 4
            "[[repos]]",  # 5
            "[defaults]",  # 6
            "url = 2",  # 7
            "[[ repos ]]  # third",  # 8
            "  url = 'c'",  # 9
        ]
    )
    lines = key_lines(text)

    def locate(table: tuple[str, int] | None, key: str | None) -> int:
        return find_line(lines, key_of(table, key))

    assert locate(("repos", 0), "url") == 4
    assert locate(("repos", 1), "url") == 5  # not there: the table's header
    assert locate(("repos", 2), "url") == 9
    assert locate(("repos", 2), None) == 8
    assert locate(("defaults", 0), "url") == 7
    assert locate(None, "url") == 1

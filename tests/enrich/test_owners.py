"""CODEOWNERS: the examples of GitHub's documentation, and GitLab's sections."""

from __future__ import annotations

import pytest

from xfail_grabber.enrich.owners import load, parse

# The example file of GitHub's "About code owners" page (comments shortened).
GITHUB_EXAMPLE = """\
# default owners for everything in the repo
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
"""


@pytest.mark.parametrize(
    ("path", "owners"),
    [
        ("README.md", ["@global-owner1", "@global-owner2"]),
        ("src/app.js", ["@js-owner"]),  # the last matching pattern wins
        ("main.go", ["docs@example.com"]),
        ("notes/todo.txt", ["@octo-org/octocats"]),
        ("build/logs/run.log", ["@octocat"]),  # **/logs comes later than /build/logs/
        ("docs/getting-started.md", ["@doctocat"]),
        ("docs/build-app/troubleshooting.md", ["@doctocat"]),
        ("scripts/deploy.sh", ["@doctocat", "@octocat"]),
        ("deeply/nested/logs/x.txt", ["@octocat"]),
        ("apps/web/test_app.py", ["@octocat"]),
        ("apps/github/test_app.py", []),  # a pattern without owners un-owns
        ("lib/apps/test_x.py", ["@octocat"]),  # apps/ anywhere
    ],
)
def test_githubs_documented_examples(path: str, owners: list[str]) -> None:
    assert parse(GITHUB_EXAMPLE).of(path) == owners


def test_gitlab_sections_combine_and_take_default_owners() -> None:
    text = """\
* @everyone
[Docs] @docs-team
docs/
*.md @writer
^[Backend][2] @backend-leads
*.py
tests/legacy/ @legacy
"""
    owners = parse(text)
    assert owners.of("docs/test_a.py") == ["@everyone", "@docs-team", "@backend-leads"]
    assert owners.of("docs/readme.md") == ["@everyone", "@writer"]
    assert owners.of("tests/legacy/test_old.py") == ["@everyone", "@legacy"]
    assert owners.of("setup.cfg") == ["@everyone"]


def test_the_first_location_found_wins_and_none_is_empty() -> None:
    files = {"CODEOWNERS": b"* @root", ".github/CODEOWNERS": b"* @github", "docs/CODEOWNERS": b"x"}
    owners = load(files.get)
    assert (owners.source, owners.of("a.py")) == (".github/CODEOWNERS", ["@github"])
    assert load({}.get).of("a.py") == [] and load({}.get).source is None
    huge = load({"CODEOWNERS": b"* @a\n" * 700_000}.get)  # over GitHub's 3 MB: ignored
    assert huge.of("a.py") == []

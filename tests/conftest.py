"""Settings for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _fixture_projects_stand_alone() -> Iterator[None]:
    """Each directory of tests/fixtures is a project of its own, scanned as one: git must not
    find this repository's work tree around it (that would make `grabber dump
    tests/fixtures/forms` a directory of this repository, named from its top). Session-wide,
    so module fixtures that scan a fixture project see it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CEILING_DIRECTORIES", str(FIXTURES))
        yield

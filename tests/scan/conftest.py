from __future__ import annotations

import textwrap
from typing import Any

import pytest

from xfail_grabber.config import Settings, build_settings
from xfail_grabber.scan.file import scan_bytes


def scan(
    source: str, path: str = "tests/test_x.py", settings: Settings | None = None, **options: Any
) -> list[dict[str, Any]]:
    """Records of one test file given as an inline snippet, as dicts, sorted."""
    settings = settings or build_settings(**options)
    facts = scan_bytes(path, textwrap.dedent(source).encode(), settings, True)
    assert facts.error is None, facts.error
    records = sorted(facts.records, key=lambda r: r.sort_key())
    return [r.to_dict() for r in records]


@pytest.fixture
def scan_source():
    return scan

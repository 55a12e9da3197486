"""Real databases for the db tests: a throwaway PostgreSQL database per run, SQLite temp files.

PostgreSQL must be reachable (127.0.0.1:5432, or GRABBER_TEST_POSTGRES_URL): the tests fail,
never skip, when it is not, so CI cannot pass without the real server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import ADMIN_URL, DIALECTS, admin_connection, url_for


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The name of a database created for this test run and dropped after it."""
    name = "xg_test_" + uuid.uuid4().hex[:12]
    conn = admin_connection()
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(scope="session")
def pg_base(pg_database: str) -> str:
    """postgresql://... of the throwaway database (no schema chosen)."""
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_database


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, pg_base: str, tmp_path: Path) -> str:
    """A fresh, empty place for tables: a SQLite file, or a new schema in the test database."""
    return url_for(request.param, pg_base, tmp_path, "s_" + uuid.uuid4().hex[:10])

"""Shared test fixtures: a throwaway archive on SQLite (a file under tmp_path) and on the machine's PostgreSQL.

PostgreSQL comes from CQNEWS_TEST_PG_URL (default: the local server, user postgres, database test); each test
gets its own freshly created database, dropped afterwards. The archive tests are parametrised over both
backends. Set CQNEWS_TEST_SKIP_PG=1 only to run without a PostgreSQL server (CI never does).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("CQNEWS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_database() -> Iterator[str]:
    if os.environ.get("CQNEWS_TEST_SKIP_PG") == "1":
        pytest.skip("CQNEWS_TEST_SKIP_PG=1: PostgreSQL tests skipped")
    name = f"cqnews_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def archive_url(database_url: str) -> str:
    """A database migrated to the schema head (through Alembic, never create_all)."""
    from cqnews.db.migrate import upgrade
    from cqnews.db.session import make_engine

    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def archive_engine(archive_url: str) -> Iterator[object]:
    from cqnews.db.session import make_engine

    engine = make_engine(archive_url)
    yield engine
    engine.dispose()

"""Shared test fixtures: a throwaway archive on SQLite (a file under tmp_path) and on the machine's PostgreSQL.

PostgreSQL comes from CQNEWS_TEST_PG_URL (default: the local server, user postgres, database test); each test
gets its own freshly created database, dropped afterwards. The archive tests are parametrised over both
backends. Set CQNEWS_TEST_SKIP_PG=1 only to run without a PostgreSQL server (CI never does).
"""
from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import BACKENDS, adopt_orphans, postgres_database, stray_processes


@pytest.fixture(scope="session", autouse=True)
def no_stray_processes() -> Iterator[None]:
    """The test run leaves no process behind: whatever a test started (and whatever that started, orphans
    included) has ended once every test is done. Strays are killed, then reported as an error."""
    adopt_orphans()
    yield
    strays = stray_processes(grace=30)  # a process killed at the very end may take a moment to go
    for pid in strays:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if strays:
        pytest.fail("the tests left processes running: " + "; ".join(f"{pid}: {cmd[:200]}"
                                                                      for pid, cmd in strays.items()))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'archive.db'}"
    else:
        yield from postgres_database()


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

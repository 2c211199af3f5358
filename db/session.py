"""Engines and sessions for the archive. The database URL comes from Scrapy settings (CQNEWS_DATABASE_URL).

SQLite gets WAL, foreign keys and a busy timeout on every connection, so a crawl and a reader (or two
crawls) can share one file; PostgreSQL needs nothing special.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker


class ArchiveConfigError(Exception):
    """The archive cannot be opened as configured (bad URL, missing driver...)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; creates the folder of a SQLite file if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveConfigError(f"not a database URL: {url!r} (expected e.g. sqlite:///data/archive.db)") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (ImportError, ArgumentError) as exc:
        raise ArchiveConfigError(f"cannot open {parsed.render_as_string(hide_password=True)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)

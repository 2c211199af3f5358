"""Engines and sessions for the archive. The database URL comes from Scrapy settings (CQNEWS_DATABASE_URL).

SQLite gets WAL, foreign keys and a busy timeout on every connection, so a crawl and a reader (or two
crawls) can share one file; PostgreSQL needs nothing special.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


class ArchiveConfigError(Exception):
    """The archive cannot be opened as configured (bad URL, missing driver...)."""


class ArchiveMissing(ArchiveConfigError):
    """A command that only reads found no SQLite file where the archive should be (and created none)."""


# A server that accepts connections and never answers would otherwise hold a command for minutes (the TCP
# timeouts); the CLI passes CQNEWS_DB_CONNECT_TIMEOUT. psycopg rounds down, to at least 2 s.
DEFAULT_CONNECT_TIMEOUT = 10.0
# How long a SQLite statement waits for a lock another process holds (a crawl writing) before "database is
# locked"; the CLI passes CQNEWS_DB_BUSY_TIMEOUT.
DEFAULT_BUSY_TIMEOUT = 30.0
# PostgreSQL: how long one statement may run, waiting on a lock another session holds included, before the server
# cancels it (a server that answers the connection and then hangs); 0: no limit. The CLI and the crawl pass
# CQNEWS_DB_STATEMENT_TIMEOUT.
DEFAULT_STATEMENT_TIMEOUT = 0.0
# SQLSTATE of a statement the server cancelled (statement_timeout), as psycopg reports it.
QUERY_CANCELED = "57014"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite archive URL; None for another backend, an in-memory database or a bad URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str, *, create: bool = True, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                busy_timeout: float = DEFAULT_BUSY_TIMEOUT, statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
                **kwargs: Any) -> Engine:
    """An engine for ``url``. ``create``: make the folder of a SQLite file if needed (writers); without it a
    missing file raises ArchiveMissing, so a read-only command leaves no empty archive behind."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveConfigError(f"not a database URL: {url!r} (expected e.g. sqlite:///data/archive.db)") from exc
    path = sqlite_file(url)
    if path is not None and create:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif path is not None and not path.is_file():
        raise ArchiveMissing(f"no archive at {path}: create it with `cqnews db upgrade` (then `cqnews crawl SITE`), "
                             "or try `cqnews demo`")
    if parsed.get_backend_name() == "postgresql":
        server: dict[str, Any] = {"connect_timeout": max(1, int(connect_timeout))}
        if statement_timeout > 0:  # libpq sends it with the connection: every statement of every session is bounded
            server["options"] = f"-c statement_timeout={max(1, round(statement_timeout * 1000))}"
        kwargs["connect_args"] = server | kwargs.get("connect_args", {})
    try:
        engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (ImportError, ArgumentError) as exc:
        raise ArchiveConfigError(f"cannot open {parsed.render_as_string(hide_password=True)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout * 1000)))
    return engine


def settings_engine(settings: Any, *, create: bool = True) -> Engine:
    """The engine of the archive the (checked) settings name, with their timeouts: the one reader of those
    settings, for the CLI's commands and the crawl's ArchiveEngine alike."""
    def seconds(key: str, default: float) -> float:
        value = settings.get(key)
        return default if value is None else float(value)

    return make_engine(settings["CQNEWS_DATABASE_URL"], create=create,
                       connect_timeout=seconds("CQNEWS_DB_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT),
                       busy_timeout=seconds("CQNEWS_DB_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT),
                       statement_timeout=seconds("CQNEWS_DB_STATEMENT_TIMEOUT", DEFAULT_STATEMENT_TIMEOUT))


def _sqlite_pragmas(busy_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: switching to WAL may itself wait for a lock
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def checkpoint(engine: Engine) -> None:
    """Move a SQLite archive's write-ahead log into the file itself and empty the log, so that the file alone is
    the whole archive (a `cp` of it is a backup). SQLite does this when its last connection closes, which a crawl
    process never does cleanly (it exits with gc.freeze()); a no-op on PostgreSQL, and when a reader still holds
    the log (the next command's close does it then)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker  # (not at import: a search reads through Core alone, db.tables)

    return sessionmaker(engine, expire_on_commit=False)


def display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def upsert(bind: Engine | Connection, model: Any) -> Any:
    """An ``INSERT`` of ``model`` (a mapped class or a table) that takes ``ON CONFLICT`` clauses, for the backend
    of ``bind`` (an engine, or a session's ``get_bind()``): SQLite or PostgreSQL, the two the archive runs on."""
    return upsert_for(bind.dialect.name, model)


def upsert_for(dialect: str, model: Any) -> Any:
    """:func:`upsert` for a backend named by its dialect (``sqlite``, ``postgresql``): for statements built once."""
    if dialect == "postgresql":  # each dialect imported only where it is used (PostgreSQL's: ~0.04 s)
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model)
    raise NotImplementedError(f"the archive needs SQLite or PostgreSQL, not {dialect}")

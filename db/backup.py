"""A consistent copy of a live SQLite archive, through SQLite's online backup API.

The API copies the database page by page under SQLite's own locking, so a crawl may keep writing meanwhile
and the copy is still one consistent state (with the write-ahead log folded in); ``cp`` of the file is not
safe while a crawl runs. PostgreSQL archives are backed up with ``pg_dump``.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine


class BackupError(Exception):
    """The backup could not be made as asked; the message is one line for the user."""


def backup_sqlite(engine: Engine, target: Path) -> str:
    """Copy the SQLite archive of ``engine`` into the new file ``target``; returns ``PRAGMA integrity_check``
    of the copy ("ok"). Refuses another backend, an existing target and a missing folder."""
    if engine.dialect.name != "sqlite":
        raise BackupError("db backup copies SQLite archives; for PostgreSQL use pg_dump "
                          "(e.g. pg_dump -Fc -f archive.dump DBNAME)")
    if target.exists():
        raise BackupError(f"{target} exists: give the name of a new file")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    copy = sqlite3.connect(target)
    try:
        with engine.connect() as connection:
            source = connection.connection.dbapi_connection
            assert isinstance(source, sqlite3.Connection)
            source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
    except BaseException:
        copy.close()
        target.unlink(missing_ok=True)
        raise
    copy.close()
    return str(verdict)

"""The archive's schema revision and the code's, read without Alembic: for commands that must start
fast (``cqnews search``, every crawl's start: ``migrate.require_head``), where loading Alembic and its migration
scripts would cost more than the query.

``db.migrate`` stays the owner of migrations; ``tests/test_search_cli.py`` checks both agree on the head.
"""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cqnews import migrations

_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*['\"]([^'\"]*)['\"]", re.MULTILINE)


def code_head() -> str | None:
    """The revision no other migration builds on, read from the scripts' ``revision = '...'`` lines."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text("utf-8")):
            (revisions if name == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def archive_revision(engine: Engine) -> str | None:
    """The revision the archive is at (None: an empty database)."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None

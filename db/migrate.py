"""Alembic, driven from code: the CLI, the crawl and the tests all migrate and check the schema here.

The Alembic config is built in code (script location = the installed ``migrations`` package), so it works
from any working directory and from an installed package; ``alembic.ini`` at the repo root is for people
who run the ``alembic`` command by hand.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from cqnews import migrations

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Alembic is imported by the functions that use it: the CLI's error boundary imports this module for
# ``DatabaseNotAtHead`` on every command, and a search must not pay for loading Alembic (~0.1-0.4 s).


class DatabaseNotAtHead(Exception):
    """The archive's schema is not the one this code writes; run ``cqnews db upgrade``."""


class DatabaseFromTheFuture(DatabaseNotAtHead):
    """The archive is at a revision this code has no migration for: a newer cqnews made it."""

    def __init__(self, revision: str, head: str | None) -> None:
        super().__init__(f"the archive is at revision {revision}, which this cqnews (schema {head}) does not know: "
                         "it was made by a newer cqnews; install that version to use or downgrade it")


def _config() -> Config:
    """Alembic's config for the migrations this code ships (the installed ``migrations`` package)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def scripts() -> ScriptDirectory:
    """The migrations this code ships, without a database."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def require_revision(revision: str) -> None:
    """Raise Alembic's CommandError for a target no migration names (before any database is touched); relative
    targets (+1, 0003-1) need the database's revision, and are left to Alembic."""
    if "+" not in revision and "-" not in revision:
        scripts().get_revisions(revision)


def alembic_config(engine: Engine) -> Config:
    config = _config()
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    require_known(engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    require_known(engine)
    command.downgrade(alembic_config(engine), revision)


def is_known(revision: str | None) -> bool:
    """Whether this code has the migration ``revision`` (None, an empty database, is known)."""
    if revision is None:
        return True
    return revision in {script.revision for script in scripts().walk_revisions()}


def require_known(engine: Engine) -> None:
    """Refuse to migrate from a revision this code cannot read (Alembic would fail with "Can't locate")."""
    current = current_revision(engine)
    if not is_known(current):
        raise DatabaseFromTheFuture(str(current), head_revision())


def head_revision() -> str | None:
    """The newest revision this code ships."""
    return scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_head(engine: Engine) -> None:
    """Refuse to write to an archive whose schema is older or newer than this code's.

    An archive at the head passes on one plain query and the scripts' text (``db.revision``): every crawl and
    command starts here, and loading Alembic and its migration scripts cost ~0.09 s of each start. Any other
    revision, or a head the text does not tell, gets Alembic's own check and message."""
    from cqnews.db.revision import archive_revision, code_head

    head = code_head()
    if head is not None and archive_revision(engine) == head:
        return
    current, head = current_revision(engine), head_revision()
    if not is_known(current):
        raise DatabaseFromTheFuture(str(current), head)
    if current != head:
        where = "an empty database" if current is None else f"revision {current}"
        raise DatabaseNotAtHead(
            f"the archive is at {where}, this cqnews needs {head}: run `cqnews db upgrade` first"
        )

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

# Alembic is imported by the functions that use it: the CLI's error boundary imports this module for
# ``DatabaseNotAtHead`` on every command, and a search must not pay for loading Alembic (~0.1-0.4 s).


class DatabaseNotAtHead(Exception):
    """The archive's schema is not the one this code writes; run ``cqnews db upgrade``."""


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_head(engine: Engine) -> None:
    """Refuse to write to an archive whose schema is older or newer than this code's."""
    current, head = current_revision(engine), head_revision(engine)
    if current != head:
        where = "an empty database" if current is None else f"revision {current}"
        raise DatabaseNotAtHead(
            f"the archive is at {where}, this cqnews needs {head}: run `cqnews db upgrade` first"
        )

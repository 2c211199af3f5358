"""url keys of any length Scrapy fetches: articles.url_key and url_aliases.url_key become TEXT

Scrapy fetches URLs up to URLLENGTH_LIMIT (2,083 characters); ``String(2048)`` refused the longer ones on
PostgreSQL, on every crawl. The keys stay unique (lookups by key use that index): a scheme-less, percent-encoded
key of a 2,083-character URL is ASCII and well under PostgreSQL's B-tree entry limit (about 2,700 bytes).
On PostgreSQL varchar to text needs no table rewrite; SQLite rebuilds both tables (batch mode), so the view
over ``articles`` is dropped and created again around it.

Downgrading refuses, in one line, an archive holding a longer key (it would not fit): nothing is cut.

Revision ID: 0008_url_length
Revises: 0007_daemon_liveness
Create Date: 2026-12-03

"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from cqnews.migrations.views import DROP_LATEST_ARTICLES, LATEST_ARTICLES_V1


# revision identifiers, used by Alembic.
revision: str = '0008_url_length'
down_revision: Union[str, Sequence[str], None] = '0007_daemon_liveness'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ('articles', 'url_aliases')
OLD_LENGTH = 2048


def _alter(type_from: sa.types.TypeEngine, type_to: sa.types.TypeEngine) -> None:
    op.execute(DROP_LATEST_ARTICLES)
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('url_key', existing_type=type_from, type_=type_to, existing_nullable=False)
    op.execute(LATEST_ARTICLES_V1)


def upgrade() -> None:
    """Upgrade schema."""
    _alter(sa.String(length=OLD_LENGTH), sa.Text())


def downgrade() -> None:
    """Downgrade schema."""
    connection = op.get_bind()
    for table in TABLES:
        longest = connection.execute(sa.text(f"SELECT max(length(url_key)) FROM {table}")).scalar() or 0
        if longest > OLD_LENGTH:
            raise CommandError(f"{table} holds a URL key of {longest} characters, longer than the {OLD_LENGTH} "
                               "revision 0007_daemon_liveness can hold: not downgraded")
    _alter(sa.Text(), sa.String(length=OLD_LENGTH))

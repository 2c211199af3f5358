"""search index facets: site and month words in the index, title words again on PostgreSQL

The index gains words for what searches narrow by (``db.fulltext.facet_words``): on SQLite a third FTS5
column ``facets``, on PostgreSQL ``f:``/``t:`` words in ``search_docs.terms``, whose ``t:`` title words
replace the column ``title_terms``. The index cannot be
rewritten in SQL (the FTS5 table is contentless: its words cannot be read back), so both backends start
from an empty index and ``cqnews reindex`` fills it again; ``cqnews db upgrade`` says so. Downgrading
empties it the same way.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

"""
from collections.abc import Sequence
from typing import Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FTS_OPTIONS = "content='', detail='column', tokenize='ascii'"


def _empty_index(columns: str) -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute(f"CREATE VIRTUAL TABLE search_fts USING fts5({columns}, {_FTS_OPTIONS})")
    op.execute("DELETE FROM search_docs")


def upgrade() -> None:
    """Upgrade schema."""
    _empty_index("title, body, facets")
    if op.get_context().dialect.name == 'postgresql':
        op.execute("ALTER TABLE search_docs DROP COLUMN title_terms")


def downgrade() -> None:
    """Downgrade schema."""
    _empty_index("title, body")
    if op.get_context().dialect.name == 'postgresql':
        op.execute("ALTER TABLE search_docs ADD COLUMN title_terms tsvector NOT NULL DEFAULT ''::tsvector")

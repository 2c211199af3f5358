"""search by substring: character n-grams in the index, the folded text kept to verify longer pieces

The index's tokens become every character and every pair of adjacent characters of the folded title and
body (``db.fulltext.ngrams``) instead of jieba's words, so that any piece of text can be found exactly; the
new table ``search_text`` keeps each indexed article's folded title and body, which pieces longer than two
characters are checked against, and whether its PostgreSQL tsvector had to be cut to its title
(``partial``). The old tokens cannot be turned into n-grams in SQL, so the index starts empty and
``cqnews reindex`` fills it (``cqnews db upgrade`` says so); downgrading empties it the same way.

Revision ID: 0006_search_ngrams
Revises: 0005
Create Date: 2026-12-02

"""
from collections.abc import Sequence
from typing import Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006_search_ngrams'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FTS = "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, facets, content='', detail='column', tokenize='ascii')"


def _empty_index() -> None:
    if op.get_context().dialect.name == 'sqlite':
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.execute(_FTS)
    op.execute("DELETE FROM search_docs")


def upgrade() -> None:
    """Upgrade schema."""
    _empty_index()
    # written by hand (``db.fulltext.HAND_WRITTEN_TABLES``): the index's own table, not a model
    op.create_table(
        'search_text',
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('partial', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(['article_id'], ['search_docs.article_id'],
                                name=op.f('fk_search_text_article_id_search_docs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('article_id', name=op.f('pk_search_text')),
    )
    op.create_index('ix_search_text_partial', 'search_text', ['article_id'],
                    sqlite_where=sa.text('partial'), postgresql_where=sa.text('partial'))
    if op.get_context().dialect.name == 'postgresql':
        # the folded body is read only to verify a candidate: kept compressed, out of the row
        op.execute("ALTER TABLE search_text SET (toast_tuple_target = 256)")


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_search_text_partial', table_name='search_text')
    op.drop_table('search_text')
    _empty_index()

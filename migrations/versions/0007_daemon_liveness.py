"""daemon liveness: when a lock's holder last renewed it, and what the holder said of itself

``crawl_locks.renewed_at`` is the holder's last heartbeat (``acquired_at`` stays when it took the lock, so a
daemon's "since" is its start); ``crawl_locks.info`` is what the holder records for others to read (the
daemon: its config file and the schedules as it loaded them), so ``cqnews status`` judges against what the
daemon runs, from any folder.

Revision ID: 0007_daemon_liveness
Revises: 0006_search_ngrams
Create Date: 2026-12-02

"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007_daemon_liveness'
down_revision: Union[str, Sequence[str], None] = '0006_search_ngrams'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('crawl_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('info', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('crawl_locks', schema=None) as batch_op:
        batch_op.drop_column('info')
        batch_op.drop_column('renewed_at')

"""daemon control: pause and run-now requests per site, cancel requests per run, notices already sent

``site_controls`` holds what an operator asked of the daemon through the archive (``cqnews pause/resume/run``),
so the request works from any host that reaches the archive and survives a restart of the daemon;
``crawl_runs.progress_at`` is when a running crawl last wrote its counters (live progress);
``crawl_runs.cancel_requested_at`` is ``cqnews cancel RUN``, obeyed by the crawl itself at its next progress
update; ``site_notices`` is the last state notified per subject (a site's health), so one transition is one
message even across restarts.

Revision ID: 0009_daemon_control
Revises: 0008_url_length
Create Date: 2026-12-03

"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0009_daemon_control'
down_revision: Union[str, Sequence[str], None] = '0008_url_length'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'site_controls',
        sa.Column('site', sa.String(length=64), nullable=False),
        sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('run_requested_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('site', name=op.f('pk_site_controls')),
    )
    op.create_table(
        'site_notices',
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('subject', name=op.f('pk_site_notices')),
    )
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('crawl_runs', schema=None) as batch_op:
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('progress_at')
    op.drop_table('site_notices')
    op.drop_table('site_controls')

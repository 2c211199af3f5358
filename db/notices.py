"""The last state notified per subject: the one module that reads and writes ``site_notices``.

A notification goes out on a transition (a site turning unhealthy, recovering), never on a state repeated: the
daemon asks :func:`transition` before sending, which records the new state in the same statement that tells it
the state changed. Stored in the archive, so a restarted daemon does not send again what it already sent.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from cqnews.db.models import SiteNotice
from cqnews.db.session import upsert


def last_state(engine: Engine, subject: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(SiteNotice.state).where(SiteNotice.subject == subject)).scalar_one_or_none()


def transition(engine: Engine, subject: str, state: str) -> tuple[bool, str | None]:
    """Record ``state`` for ``subject``: (whether it changed, the previous state, None for a first one). Unchanged:
    nothing to send. Of two callers recording the same change, one alone gets ``True``."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        previous = conn.execute(select(SiteNotice.state).where(SiteNotice.subject == subject)).scalar_one_or_none()
        if previous == state:
            return False, previous
        if previous is None:
            created = conn.execute(upsert(engine, SiteNotice).values(subject=subject, state=state, changed_at=now)
                                   .on_conflict_do_nothing(index_elements=[SiteNotice.subject])
                                   .returning(SiteNotice.subject)).first() is not None
            return created, None
        changed = conn.execute(update(SiteNotice).where(SiteNotice.subject == subject, SiteNotice.state == previous)
                               .values(state=state, changed_at=now)).rowcount == 1
        return changed, previous

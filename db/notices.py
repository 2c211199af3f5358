"""The last state notified per subject: the one module that reads and writes ``site_notices``.

A notification goes out on a transition (a site turning unhealthy, recovering), never on a state repeated: the
daemon asks :func:`transition` before sending, which records the new state in the same statement that tells it
the state changed. Stored in the archive, so a restarted daemon does not send again what it already sent.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from cqnews.db.session import upsert
from cqnews.db.tables import SITE_NOTICES as NOTICES


def last_state(engine: Engine, subject: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(NOTICES.c.state).where(NOTICES.c.subject == subject)).scalar_one_or_none()


def transition(engine: Engine, subject: str, state: str) -> tuple[bool, str | None]:
    """Record ``state`` for ``subject``: (whether it changed, the previous state, None for a first one). Unchanged:
    nothing to send. Of two callers recording the same change, one alone gets ``True``."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        previous = conn.execute(select(NOTICES.c.state).where(NOTICES.c.subject == subject)).scalar_one_or_none()
        if previous == state:
            return False, previous
        if previous is None:
            created = conn.execute(upsert(engine, NOTICES).values(subject=subject, state=state, changed_at=now)
                                   .on_conflict_do_nothing(index_elements=[NOTICES.c.subject])
                                   .returning(NOTICES.c.subject)).first() is not None
            return created, None
        changed = conn.execute(update(NOTICES).where(NOTICES.c.subject == subject, NOTICES.c.state == previous)
                               .values(state=state, changed_at=now)).rowcount == 1
        return changed, previous

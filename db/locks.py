"""One crawl per site at a time: a lease in ``crawl_locks`` that its holder renews, on SQLite and PostgreSQL.

Acquiring is one atomic statement (``INSERT ... ON CONFLICT (site) DO UPDATE ... WHERE expires_at < now``
with ``RETURNING holder``): of two crawls racing for a site, exactly one gets its holder back. A holder that
dies stops renewing, so its lease runs out and the next crawl takes the lock over; runs left ``running`` by
such a holder are then marked ``failed`` (:func:`fail_stale_runs`). A holder on the same host whose process
is gone (SIGKILL, OOM) is taken over at once, without waiting for its lease. Times come from this machine's
clock.
"""
from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cqnews.db.models import CrawlLock, CrawlRun

DAEMON = "__daemon__"  # the lock a running `cqnews daemon` holds, so that two daemons never share an archive


def new_holder() -> str:
    """A holder name unique to this attempt, that still says which machine and process held the lock."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LockInfo:
    site: str
    holder: str
    run_id: int | None
    acquired_at: datetime
    expires_at: datetime

    def alive(self, now: datetime | None = None) -> bool:
        return self.expires_at >= (now or datetime.now(UTC))


def _insert(engine: Engine) -> Any:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(CrawlLock)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(CrawlLock)
    raise NotImplementedError(f"crawl locks need SQLite or PostgreSQL, not {engine.dialect.name}")


def acquire(engine: Engine, site: str, holder: str, lease_seconds: float, run_id: int | None = None) -> bool:
    """Take the site's lock, or take over an expired one (or extend our own); False if someone else holds it."""
    now = datetime.now(UTC)
    values = {"site": site, "holder": holder, "run_id": run_id, "acquired_at": now,
              "expires_at": now + timedelta(seconds=lease_seconds)}
    stmt = _insert(engine).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CrawlLock.site],
        set_={k: v for k, v in values.items() if k != "site"},
        where=(CrawlLock.expires_at < now) | (CrawlLock.holder == holder),
    ).returning(CrawlLock.holder)
    with engine.begin() as conn:
        got = conn.execute(stmt).scalar_one_or_none()
    if got == holder:
        return True
    other = current(engine, site)
    if other is None or not holder_is_dead(other.holder):
        return False
    # Its holder was a process on this machine that no longer exists (killed): no need to wait for the lease.
    # Compare-and-swap on the holder, so that of two crawls noticing this at once only one takes over.
    with engine.begin() as conn:
        taken = conn.execute(update(CrawlLock).where(CrawlLock.site == site, CrawlLock.holder == other.holder)
                             .values(**{k: v for k, v in values.items() if k != "site"})).rowcount == 1
        if taken and other.run_id is not None:
            conn.execute(update(CrawlRun).where(CrawlRun.id == other.run_id, CrawlRun.status == "running")
                         .values(status="failed", finish_reason="holder_died", finished_at=now))
    return taken


def holder_is_dead(holder: str) -> bool:
    """True only when the holder was a process on this host that no longer runs (a pid may be reused: then the
    lease decides). Holders on other hosts are never judged here."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def renew(engine: Engine, site: str, holder: str, lease_seconds: float) -> bool:
    """Extend our lease; False if the lock is no longer ours (it expired and another crawl took it)."""
    now = datetime.now(UTC)
    stmt = (update(CrawlLock).where(CrawlLock.site == site, CrawlLock.holder == holder)
            .values(expires_at=now + timedelta(seconds=lease_seconds)))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release(engine: Engine, site: str, holder: str) -> bool:
    """Give the lock back; a no-op (False) if it is no longer ours."""
    with engine.begin() as conn:
        return conn.execute(delete(CrawlLock).where(CrawlLock.site == site, CrawlLock.holder == holder)).rowcount == 1


def current(engine: Engine, site: str) -> LockInfo | None:
    """The site's lock row, expired or not."""
    with engine.connect() as conn:
        row = conn.execute(select(CrawlLock).where(CrawlLock.site == site)).first()
    if row is None:
        return None
    return LockInfo(row.site, row.holder, row.run_id, row.acquired_at, row.expires_at)


def fail_stale_runs(engine: Engine, lease_seconds: float, site: str | None = None) -> list[int]:
    """Mark ``failed`` the runs still ``running`` whose holder died: no live lock names them any more.

    Only runs older than one lease are judged, so a crawl that has just inserted its row and is about to take
    its lock is never mistaken for a dead one. Returns the ids marked.
    """
    now = datetime.now(UTC)
    live_lock = exists().where(CrawlLock.site == CrawlRun.site, CrawlLock.run_id == CrawlRun.id,
                               CrawlLock.expires_at >= now)
    where = and_(CrawlRun.status == "running", CrawlRun.started_at < now - timedelta(seconds=lease_seconds),
                 ~live_lock)
    if site is not None:
        where = and_(where, CrawlRun.site == site)
    with engine.begin() as conn:
        ids = list(conn.execute(select(CrawlRun.id).where(where)).scalars())
        if ids:
            conn.execute(update(CrawlRun).where(CrawlRun.id.in_(ids), CrawlRun.status == "running")
                         .values(status="failed", finish_reason="lock_expired", finished_at=now))
    return ids

"""Crawl runs and crawl locks: the one module that reads and writes ``crawl_runs`` and ``crawl_locks``.

A crawl's row is inserted ``running`` when it starts (:func:`start_run`) and completed when it ends
(:func:`finish_run`); runs that never happened (missed, skipped by the scheduler) get a row too
(:func:`record_run`). Everything else marks rows whose crawl died (:func:`fail_stale_runs`,
:func:`fail_if_running`, the takeover in :func:`acquire`) or reads them back as plain :class:`RunRecord` values
for the summaries and the health verdicts. Callers pass plain values (site, pid, counters, a stats dict): this
module knows nothing of Scrapy, of what the stats mean, or of how a run is put into words.

One crawl per site at a time: a lease in ``crawl_locks`` that its holder renews, on SQLite and PostgreSQL.
Acquiring is one atomic statement (``INSERT ... ON CONFLICT (site) DO UPDATE ... WHERE expires_at < now``
with ``RETURNING holder``): of two crawls racing for a site, exactly one gets its holder back. A holder that
dies stops renewing, so its lease runs out and the next crawl takes the lock over; runs left ``running`` by
such a holder are then marked ``failed`` (:func:`fail_stale_runs`). A holder on the same host whose process
is gone (SIGKILL, OOM) is taken over at once, without waiting for its lease. Times come from this machine's
clock.

The status and trigger values are stored strings (the schema has no enum type): :class:`RunStatus` and
:class:`RunTrigger` name exactly the strings the archive has always held.
"""
from __future__ import annotations

import enum
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, delete, exists, func, insert, select, update

from cqnews.db.session import upsert
from cqnews.db.tables import CRAWL_LOCKS as LOCKS
from cqnews.db.tables import CRAWL_RUNS as RUNS


class RunStatus(enum.StrEnum):
    """``crawl_runs.status``."""

    RUNNING = "running"  # started and not (yet) ended; a crawl that died stays so until marked failed
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"  # did not crawl: the site's lock was held, or the scheduler found the last crawl running
    MISSED = "missed"  # the scheduler could not start it in time


CRAWLED = frozenset({RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.FAILED})  # runs that crawled


class RunTrigger(enum.StrEnum):
    """``crawl_runs.trigger``: who started the run."""

    MANUAL = "manual"
    SCHEDULED = "scheduled"


class FinishReason(enum.StrEnum):
    """The ``crawl_runs.finish_reason`` values cqnews itself gives (besides Scrapy's own, e.g. ``finished``,
    ``shutdown``, ``closespider_timeout``)."""

    FINISHED = "finished"  # Scrapy's: the crawl ran out of requests
    SHUTDOWN = "shutdown"  # Scrapy's (SIGTERM), also the daemon's when it stops a crawl as it stops itself
    LOCKED = "locked"  # another crawl held the site's lock
    LOCK_LOST = "lock_lost"  # the lease ran out and another crawl took the lock over
    HOLDER_DIED = "holder_died"  # the lock's holder process was gone from this host
    LOCK_EXPIRED = "lock_expired"  # the holder stopped renewing its lease
    NO_WORK_LEFT = "no_work_left"  # a worker joined a distributed crawl the others had drained
    TIMEOUT = "timeout"  # the daemon stopped a crawl that ran past its timeout
    KILLED = "killed"  # the crawl process ended without closing the spider
    MISFIRE = "misfire"  # the scheduler woke too late for a run
    DAEMON_NOT_RUNNING = "daemon_not_running"  # a run fell due while no daemon was running
    STILL_RUNNING = "still_running"  # the previous scheduled crawl of the site had not ended
    CANCELLED = "cancelled"  # `cqnews cancel RUN`: the crawl stopped at an operator's request
    PAUSED = "paused"  # `cqnews pause SITE`: the daemon did not start the scheduled crawl


COUNTERS = ("pages_fetched", "articles_new", "articles_updated", "articles_unchanged", "articles_duplicate",
            "articles_rejected", "errors")


@dataclass(frozen=True)
class RunRecord:
    """A ``crawl_runs`` row as plain data, detached from any session."""

    site: str
    started_at: datetime
    status: RunStatus
    id: int | None = None
    finished_at: datetime | None = None
    finish_reason: str | None = None
    trigger: RunTrigger = RunTrigger.MANUAL
    pid: int | None = None
    log_path: str | None = None
    pages_fetched: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_duplicate: int = 0
    articles_rejected: int = 0
    errors: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    cancel_requested_at: datetime | None = None
    updated_at: datetime | None = None  # a running crawl's last progress update (None: none yet)

    def pages_per_minute(self, now: datetime) -> float | None:
        """Pages fetched per minute of the run so far (running) or in all (ended); None before a minute's tenth."""
        end = self.finished_at or self.updated_at or now
        seconds = (end - self.started_at).total_seconds()
        return self.pages_fetched * 60 / seconds if seconds >= 6 else None


def _record(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id, site=row.site, started_at=row.started_at, finished_at=row.finished_at,
        status=RunStatus(row.status), finish_reason=row.finish_reason, trigger=RunTrigger(row.trigger), pid=row.pid,
        log_path=row.log_path, stats=dict(row.stats or {}), cancel_requested_at=row.cancel_requested_at,
        updated_at=row.progress_at, **{name: getattr(row, name) or 0 for name in COUNTERS})


# -- writing runs ------------------------------------------------------------------------------------------

def start_run(engine: Engine, site: str, trigger: RunTrigger, pid: int, log_path: str | None = None) -> int:
    """Insert the ``running`` row of a crawl that starts now; its id."""
    with engine.begin() as conn:
        return int(conn.execute(insert(RUNS).values(
            site=site, started_at=datetime.now(UTC), status=RunStatus.RUNNING, trigger=trigger, pid=pid,
            log_path=log_path, stats={}, **dict.fromkeys(COUNTERS, 0),
        ).returning(RUNS.c.id)).scalar_one())


def finish_run(engine: Engine, run_id: int, status: RunStatus, reason: str, counters: Mapping[str, int],
               stats: Mapping[str, Any]) -> bool:
    """Complete a crawl's row: how it ended, its counters (:data:`COUNTERS`) and its full stats (JSON-ready).
    False if the row is gone."""
    unknown = set(counters) - set(COUNTERS)
    if unknown:
        raise ValueError(f"not crawl_runs counters: {', '.join(sorted(unknown))}")
    with engine.begin() as conn:
        return conn.execute(update(RUNS).where(RUNS.c.id == run_id).values(
            finished_at=datetime.now(UTC), finish_reason=reason, status=status, stats=dict(stats), **counters,
        )).rowcount == 1


def update_progress(engine: Engine, run_id: int, counters: Mapping[str, int]) -> bool:
    """A running crawl's counters so far (live progress for ``runs`` and ``status``); True if an operator asked
    to cancel the run (:func:`request_cancel`), so the crawl stops."""
    unknown = set(counters) - set(COUNTERS)
    if unknown:
        raise ValueError(f"not crawl_runs counters: {', '.join(sorted(unknown))}")
    with engine.begin() as conn:
        row = conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.RUNNING)
                           .values(progress_at=datetime.now(UTC), **counters)
                           .returning(RUNS.c.cancel_requested_at)).first()
    return row is not None and row.cancel_requested_at is not None


def request_cancel(engine: Engine, run_id: int) -> RunRecord | None:
    """Ask the crawl of run ``run_id`` to stop (it does at its next progress update); the run as it was found
    (None: no such run). Only a ``running`` run is marked."""
    with engine.begin() as conn:
        conn.execute(update(RUNS).where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.RUNNING,
                                            RUNS.c.cancel_requested_at.is_(None))
                     .values(cancel_requested_at=datetime.now(UTC)))
        row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
    return None if row is None else _record(row)


def mark_cancelled(engine: Engine, run_id: int) -> bool:
    """A run the daemon stopped by signal after ``cqnews cancel``: it closed as any SIGTERMed crawl does
    (``shutdown``); say why. False if the row is not such a run."""
    with engine.begin() as conn:
        return conn.execute(update(RUNS).where(
            RUNS.c.id == run_id, RUNS.c.finish_reason == FinishReason.SHUTDOWN,
        ).values(finish_reason=FinishReason.CANCELLED)).rowcount == 1


def record_run(engine: Engine, site: str, status: RunStatus, reason: str, started_at: datetime,
               stats: Mapping[str, Any] | None = None, trigger: RunTrigger = RunTrigger.SCHEDULED) -> None:
    """A row for a run that did not happen (``missed``, ``skipped``), ended as soon as recorded."""
    with engine.begin() as conn:
        conn.execute(insert(RUNS).values(
            site=site, started_at=started_at, finished_at=datetime.now(UTC), status=status, finish_reason=reason,
            trigger=trigger, stats=dict(stats or {}), **dict.fromkeys(COUNTERS, 0),
        ))


def mark_no_work(engine: Engine, run_id: int) -> bool:
    """A finished run that fetched nothing becomes ``skipped`` (``no_work_left``): it did not crawl. False if
    the row is not (or no longer) such a run."""
    with engine.begin() as conn:
        return conn.execute(update(RUNS).where(
            RUNS.c.id == run_id, RUNS.c.status == RunStatus.FINISHED, RUNS.c.pages_fetched == 0,
        ).values(status=RunStatus.SKIPPED, finish_reason=FinishReason.NO_WORK_LEFT)).rowcount == 1


def fail_if_running(engine: Engine, site: str, pid: int, since: datetime, reason: str) -> RunRecord | None:
    """The run that crawl process ``pid`` recorded since ``since``, as it was found (None: it recorded none).

    If it was still ``running`` (the process ended without closing the spider: killed, timed out), it is marked
    ``failed`` with ``reason`` and its lock is given back, so the next crawl need not wait for the lease.
    """
    with engine.begin() as conn:
        row = conn.execute(select(RUNS).where(
            RUNS.c.site == site, RUNS.c.pid == pid, RUNS.c.started_at >= since - timedelta(seconds=5),
        ).order_by(RUNS.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        if row.status == RunStatus.RUNNING:
            conn.execute(update(RUNS).where(RUNS.c.id == row.id, RUNS.c.status == RunStatus.RUNNING)
                         .values(status=RunStatus.FAILED, finish_reason=reason, finished_at=datetime.now(UTC)))
            conn.execute(delete(LOCKS).where(LOCKS.c.site == site, LOCKS.c.run_id == row.id))
        return _record(row)


def fail_stale_runs(engine: Engine, lease_seconds: float, site: str | None = None) -> list[int]:
    """Mark ``failed`` the runs still ``running`` whose holder died: no live lock names them any more.

    Only runs older than one lease are judged, so a crawl that has just inserted its row and is about to take
    its lock is never mistaken for a dead one. Returns the ids marked.
    """
    now = datetime.now(UTC)
    live_lock = exists().where(LOCKS.c.site == RUNS.c.site, LOCKS.c.run_id == RUNS.c.id,
                               LOCKS.c.expires_at >= now)
    where = and_(RUNS.c.status == RunStatus.RUNNING,
                 RUNS.c.started_at < now - timedelta(seconds=lease_seconds), ~live_lock)
    if site is not None:
        where = and_(where, RUNS.c.site == site)
    with engine.begin() as conn:
        ids = list(conn.execute(select(RUNS.c.id).where(where)).scalars())
        if ids:
            _fail_running(conn, ids, FinishReason.LOCK_EXPIRED, now)
    return ids


def fail_running_run(engine: Engine, run_id: int, reason: FinishReason) -> bool:
    """Mark run ``run_id`` failed with ``reason`` if it is still ``running`` (its process is known dead)."""
    with engine.begin() as conn:
        return _fail_running(conn, [run_id], reason, datetime.now(UTC)) > 0


def _fail_running(conn: Connection, run_ids: list[int], reason: FinishReason, now: datetime) -> int:
    return conn.execute(update(RUNS).where(RUNS.c.id.in_(run_ids), RUNS.c.status == RunStatus.RUNNING)
                        .values(status=RunStatus.FAILED, finish_reason=reason, finished_at=now)).rowcount


# -- reading runs ------------------------------------------------------------------------------------------

def get_run(engine: Engine, run_id: int) -> RunRecord | None:
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.id == run_id)).first()
    return None if row is None else _record(row)


def recent_runs(engine: Engine, site: str | None = None, limit: int = 20) -> list[RunRecord]:
    """The latest runs (of ``site``, or of every site), newest first."""
    query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc()).limit(limit)
    if site:
        query = query.where(RUNS.c.site == site)
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query)]


def running_runs(engine: Engine) -> list[RunRecord]:
    """The runs still ``running`` (of every site), oldest first."""
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(
            select(RUNS).where(RUNS.c.status == RunStatus.RUNNING).order_by(RUNS.c.started_at, RUNS.c.id))]


def sites_with_runs(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(RUNS.c.site).distinct().order_by(RUNS.c.site)).scalars())


def scheduled_ever(engine: Engine) -> bool:
    """Whether a daemon ever ran a slot on this archive (a scheduled run, or a missed one it recorded)."""
    with engine.connect() as conn:
        return conn.execute(select(RUNS.c.id).where(RUNS.c.trigger == RunTrigger.SCHEDULED).limit(1)).first() \
            is not None


def last_started(engine: Engine, site: str) -> datetime | None:
    """When the latest crawl of ``site`` that actually ran (not skipped, not missed) started."""
    with engine.connect() as conn:
        return conn.execute(select(RUNS.c.started_at).where(
            RUNS.c.site == site, RUNS.c.status.in_(sorted(CRAWLED)),
        ).order_by(RUNS.c.started_at.desc()).limit(1)).scalar_one_or_none()


# -- locks -------------------------------------------------------------------------------------------------

DAEMON = "__daemon__"  # the lock a running `cqnews daemon` holds, so that two daemons never share an archive


def new_holder() -> str:
    """A holder name unique to this attempt, that still says which machine and process held the lock."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LockInfo:
    site: str
    holder: str
    run_id: int | None
    acquired_at: datetime  # when this holder took the lock (a daemon's start)
    expires_at: datetime
    renewed_at: datetime | None = None  # its last heartbeat (None: taken, never renewed)
    info: dict[str, Any] = field(default_factory=dict)  # what the holder recorded of itself

    def alive(self, now: datetime | None = None) -> bool:
        return self.expires_at >= (now or datetime.now(UTC))

    @property
    def host(self) -> str:
        return self.holder.partition(":")[0]

    @property
    def pid(self) -> int | None:
        text = self.holder.partition(":")[2].partition(":")[0]
        return int(text) if text.isdigit() else None

    @property
    def last_seen(self) -> datetime:
        return self.renewed_at or self.acquired_at


def acquire(engine: Engine, site: str, holder: str, lease_seconds: float, run_id: int | None = None,
            info: Mapping[str, Any] | None = None) -> bool:
    """Take the site's lock, or take over an expired one (or extend our own, keeping when we took it); False if
    someone else holds it. ``info``: what the holder says of itself, for others to read (:attr:`LockInfo.info`)."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"site": site, "holder": holder, "run_id": run_id, "acquired_at": now,
                              "expires_at": now + timedelta(seconds=lease_seconds), "renewed_at": now,
                              "info": dict(info) if info is not None else None}
    stmt = upsert(engine, LOCKS).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[LOCKS.c.site],
        set_={k: v for k, v in values.items() if k != "site"} | {
            "acquired_at": case((LOCKS.c.holder == holder, LOCKS.c.acquired_at), else_=now)},
        where=(LOCKS.c.expires_at < now) | (LOCKS.c.holder == holder),
    ).returning(LOCKS.c.holder)
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
        taken = conn.execute(update(LOCKS).where(LOCKS.c.site == site, LOCKS.c.holder == other.holder)
                             .values(**{k: v for k, v in values.items() if k != "site"})).rowcount == 1
        if taken and other.run_id is not None:
            _fail_running(conn, [other.run_id], FinishReason.HOLDER_DIED, now)
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
    return _zombie(int(pid_text))


def _zombie(pid: int) -> bool:
    """A process that has ended but is not reaped yet (its adopter is slow, or never reaps): as dead as gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):  # no /proc here: trust the signal
        return False


def renew(engine: Engine, site: str, holder: str, lease_seconds: float) -> bool:
    """Extend our lease; False if the lock is no longer ours (it expired and another crawl took it)."""
    now = datetime.now(UTC)
    stmt = (update(LOCKS).where(LOCKS.c.site == site, LOCKS.c.holder == holder)
            .values(expires_at=now + timedelta(seconds=lease_seconds), renewed_at=now))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def release(engine: Engine, site: str, holder: str) -> bool:
    """Give the lock back; a no-op (False) if it is no longer ours."""
    with engine.begin() as conn:
        return conn.execute(delete(LOCKS).where(LOCKS.c.site == site, LOCKS.c.holder == holder)).rowcount == 1


def current(engine: Engine, site: str) -> LockInfo | None:
    """The site's lock row, expired or not."""
    with engine.connect() as conn:
        row = conn.execute(select(LOCKS).where(LOCKS.c.site == site)).first()
    if row is None:
        return None
    return LockInfo(row.site, row.holder, row.run_id, row.acquired_at, row.expires_at, row.renewed_at,
                    dict(row.info or {}))


def release_dead_holders(engine: Engine) -> list[int]:
    """Give back the crawl locks whose holder was a process of this host that is gone (SIGKILL, OOM, a reboot),
    and mark their runs ``failed`` (``holder_died``), without waiting for their leases; the ids of those runs.
    The daemon's own lock stays: it tells ``status`` when the dead daemon was last seen."""
    with engine.connect() as conn:
        locks = conn.execute(select(LOCKS.c.site, LOCKS.c.holder, LOCKS.c.run_id)
                             .where(LOCKS.c.site != DAEMON)).all()
    failed: list[int] = []
    for site, holder, run_id in locks:
        if not holder_is_dead(holder):
            continue
        with engine.begin() as conn:  # compare-and-swap on the holder: a crawl taking the lock over wins
            gone = conn.execute(delete(LOCKS).where(LOCKS.c.site == site, LOCKS.c.holder == holder)).rowcount
            if gone and run_id is not None:
                _fail_running(conn, [run_id], FinishReason.HOLDER_DIED, datetime.now(UTC))
                failed.append(run_id)
    return failed


def missed_recorded(engine: Engine, site: str, due: datetime) -> bool:
    """True if a ``missed`` row already stands for the slot due at ``due`` (recorded as a misfire, say)."""
    with engine.connect() as conn:
        return conn.execute(select(RUNS.c.id).where(
            RUNS.c.site == site, RUNS.c.status == RunStatus.MISSED,
            RUNS.c.started_at >= due - timedelta(seconds=1), RUNS.c.started_at <= due + timedelta(seconds=1),
        ).limit(1)).first() is not None


def runs_by_status(engine: Engine) -> dict[str, int]:
    """How many runs there are of each status (for /metrics)."""
    with engine.connect() as conn:
        return {str(status): int(n) for status, n in conn.execute(
            select(RUNS.c.status, func.count()).group_by(RUNS.c.status))}


def last_finished(engine: Engine) -> dict[str, datetime]:
    """Per site, when its last crawl that finished normally ended (for /metrics)."""
    with engine.connect() as conn:
        return {site: when for site, when in conn.execute(
            select(RUNS.c.site, func.max(RUNS.c.finished_at)).where(RUNS.c.status == RunStatus.FINISHED)
            .group_by(RUNS.c.site)) if when is not None}

"""Operator requests to the daemon through the archive: the one module that reads and writes ``site_controls``.

``cqnews pause SITE`` / ``resume SITE`` / ``run SITE`` write here from any host that reaches the archive; the
daemon reads it at every control tick (scheduler.Daemon.obey). A pause lasts until resumed, across daemon
restarts; a run request is taken once (:func:`take_run_requests` clears what it returns, atomically per site),
so two daemons' ticks or a tick and a restart never crawl twice for one request.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Engine, select, update

from cqnews.db.session import upsert
from cqnews.db.tables import SITE_CONTROLS as CONTROLS


def _upsert(engine: Engine, site: str, **values: datetime | None) -> None:
    stmt = upsert(engine, CONTROLS).values(site=site, **values)
    with engine.begin() as conn:
        conn.execute(stmt.on_conflict_do_update(index_elements=[CONTROLS.c.site], set_=values))


def pause(engine: Engine, site: str) -> None:
    """The daemon starts no scheduled crawl of ``site`` until :func:`resume` (a running one goes on)."""
    _upsert(engine, site, paused_at=datetime.now(UTC))


def resume(engine: Engine, site: str) -> bool:
    """Undo :func:`pause`; False if the site was not paused."""
    with engine.begin() as conn:
        return conn.execute(update(CONTROLS).where(CONTROLS.c.site == site, CONTROLS.c.paused_at.is_not(None))
                            .values(paused_at=None)).rowcount == 1


def request_run(engine: Engine, site: str) -> None:
    """Ask the daemon to crawl ``site`` now, with its schedule's settings (even while paused: asked for)."""
    _upsert(engine, site, run_requested_at=datetime.now(UTC))


def paused(engine: Engine) -> dict[str, datetime]:
    """The paused sites, with when they were paused."""
    with engine.connect() as conn:
        rows = conn.execute(select(CONTROLS.c.site, CONTROLS.c.paused_at).where(CONTROLS.c.paused_at.is_not(None)))
        return {site: at for site, at in rows if at is not None}


class Pending(NamedTuple):
    paused: dict[str, datetime]  # site -> since when
    asked: list[tuple[str, datetime]]  # (site, when its run was asked for), not taken yet


def pending(engine: Engine) -> Pending:
    """The pauses and the run requests, in one query: the daemon reads them every few seconds, idle or not, and
    on PostgreSQL each query is a round trip (and a rollback) of CPU that an idle daemon should not spend."""
    with engine.connect() as conn:
        rows = conn.execute(select(CONTROLS.c.site, CONTROLS.c.paused_at, CONTROLS.c.run_requested_at)
                            .where(CONTROLS.c.paused_at.is_not(None) | CONTROLS.c.run_requested_at.is_not(None)))
        found = rows.all()
    return Pending({site: at for site, at, _ in found if at is not None},
                   [(site, at) for site, _, at in found if at is not None])


def take_run_requests(engine: Engine, asked: list[tuple[str, datetime]] | None = None) -> list[str]:
    """The sites asked to run now (``asked``: as :func:`pending` read them), each request cleared as it is taken
    (compare-and-swap on its time)."""
    if asked is None:
        asked = pending(engine).asked
    taken = []
    for site, at in asked:
        with engine.begin() as conn:
            if conn.execute(update(CONTROLS).where(CONTROLS.c.site == site, CONTROLS.c.run_requested_at == at)
                            .values(run_requested_at=None)).rowcount == 1:
                taken.append(site)
    return taken

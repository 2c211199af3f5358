"""Per-site crawl locks: atomic on SQLite and PostgreSQL, renewed by their holder, taken over once expired."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from cqnews.commands import cqnews_command
from cqnews.db import runs as db_runs
from cqnews.db.models import CrawlLock, CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo.server import FixtureSite

from helpers import copy_site, cqnews, kill_with_its_children, runs


def test_acquire_renew_release(archive_engine: Engine) -> None:
    assert db_runs.acquire(archive_engine, "cbg", "a", 30, run_id=1)
    assert db_runs.acquire(archive_engine, "cbg", "a", 30, run_id=1)  # our own lock: extended
    assert not db_runs.acquire(archive_engine, "cbg", "b", 30)
    assert db_runs.acquire(archive_engine, "cq_people", "b", 30)  # locks are per site
    info = db_runs.current(archive_engine, "cbg")
    assert info is not None and (info.holder, info.run_id) == ("a", 1) and info.alive()
    assert db_runs.renew(archive_engine, "cbg", "a", 30)
    assert not db_runs.renew(archive_engine, "cbg", "b", 30)
    assert not db_runs.release(archive_engine, "cbg", "b")
    assert db_runs.release(archive_engine, "cbg", "a")
    assert db_runs.current(archive_engine, "cbg") is None
    assert db_runs.acquire(archive_engine, "cbg", "b", 30)


def test_an_expired_lock_is_taken_over_and_its_holder_cannot_renew(archive_engine: Engine) -> None:
    assert db_runs.acquire(archive_engine, "cbg", "dead", 0.2)
    assert not db_runs.acquire(archive_engine, "cbg", "next", 30)
    time.sleep(0.4)
    assert db_runs.acquire(archive_engine, "cbg", "next", 30)
    assert not db_runs.renew(archive_engine, "cbg", "dead", 30)
    assert db_runs.current(archive_engine, "cbg").holder == "next"  # type: ignore[union-attr]


def test_racing_acquirers_exactly_one_wins(archive_url: str) -> None:
    engine = make_engine(archive_url)
    start = threading.Barrier(8)
    won: list[str] = []

    def attempt(name: str) -> None:
        start.wait()
        if db_runs.acquire(engine, "cbg", name, 30):
            won.append(name)

    threads = [threading.Thread(target=attempt, args=(f"holder-{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(won) == 1
        assert db_runs.current(engine, "cbg").holder == won[0]  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_stale_running_rows_are_failed_only_without_a_live_lock(archive_engine: Engine) -> None:
    old = datetime.now(UTC) - timedelta(minutes=10)
    with make_sessionmaker(archive_engine).begin() as session:
        dead = CrawlRun(site="cbg", started_at=old, status="running")
        alive = CrawlRun(site="cq_people", started_at=old, status="running")
        young = CrawlRun(site="cbg", started_at=datetime.now(UTC), status="running")  # about to take its lock
        session.add_all([dead, alive, young])
        session.flush()
        ids = dead.id, alive.id, young.id
    assert db_runs.acquire(archive_engine, "cq_people", "h", 60, run_id=ids[1])
    assert db_runs.fail_stale_runs(archive_engine, 60) == [ids[0]]
    with make_sessionmaker(archive_engine)() as session:
        status = {r.id: (r.status, r.finish_reason) for r in session.scalars(select(CrawlRun))}
    assert status == {ids[0]: ("failed", "lock_expired"), ids[1]: ("running", None), ids[2]: ("running", None)}


def _crawl_process(args: list[str], database_url: str, cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, CQNEWS_DATABASE_URL=database_url, CQNEWS_AUTOTHROTTLE="0", CQNEWS_RETRY_TIMES="0")
    return subprocess.Popen(cqnews_command("crawl", *args), cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


LEASE = ["-s", "CQNEWS_LOCK_LEASE_SECONDS=8", "-s", "CQNEWS_LOCK_RENEW_SECONDS=1"]


def _slow_crawl_holding_the_lock(archive_url: str, tmp_path: Path, base_url: str,
                                 engine: Engine) -> tuple[subprocess.Popen[str], int]:
    slow = _crawl_process(["cbg", "--base-url", base_url, "-s", "DOWNLOAD_DELAY=1", *LEASE], archive_url, tmp_path)
    _wait_for(lambda: (lock := db_runs.current(engine, "cbg")) is not None and lock.run_id is not None)
    return slow, db_runs.current(engine, "cbg").run_id  # type: ignore[union-attr]


def _no_locks_left(archive_url: str) -> None:
    engine = make_engine(archive_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(CrawlLock)).all() == []  # released at close
    engine.dispose()


def test_a_killed_crawls_lock_is_taken_over_and_its_run_marked_failed(archive_url: str, tmp_path: Path) -> None:
    engine = make_engine(archive_url)
    with FixtureSite(copy_site("cbg", tmp_path)) as server:
        try:
            slow, killed_run = _slow_crawl_holding_the_lock(archive_url, tmp_path, server.base_url, engine)
            kill_with_its_children(slow)
            assert db_runs.current(engine, "cbg").alive()  # type: ignore[union-attr]  # the lease still runs, but
            # its holder was a process on this machine that is gone: the next crawl need not wait.
            after = cqnews(["crawl", "cbg", "--base-url", server.base_url, *LEASE], archive_url, tmp_path)
            assert after.returncode == 0, after.stderr[-3000:]
        finally:
            engine.dispose()
    by_id = {r.id: r for r in runs(archive_url)}
    assert (by_id[killed_run].status, by_id[killed_run].finish_reason) == ("failed", "holder_died")
    last = runs(archive_url)[-1]
    assert (last.status, last.trigger) == ("finished", "manual") and last.pages_fetched > 0
    _no_locks_left(archive_url)


def test_a_hung_crawls_lock_expires_and_its_run_is_marked_failed(archive_url: str, tmp_path: Path) -> None:
    """A holder that stops renewing without dying (hung, or on another machine) keeps the site until its lease ends."""
    engine = make_engine(archive_url)
    with FixtureSite(copy_site("cbg", tmp_path)) as server:
        slow, hung_run = _slow_crawl_holding_the_lock(archive_url, tmp_path, server.base_url, engine)
        slow.send_signal(signal.SIGSTOP)
        try:
            refused = cqnews(["crawl", "cbg", "--base-url", server.base_url, *LEASE], archive_url, tmp_path)
            assert refused.returncode == 1
            assert "crawl refused: another crawl of this site is running" in refused.stderr
            assert (runs(archive_url)[-1].status, runs(archive_url)[-1].finish_reason) == ("skipped", "locked")

            _wait_for(lambda: not db_runs.current(engine, "cbg").alive())  # type: ignore[union-attr]
            after = cqnews(["crawl", "cbg", "--base-url", server.base_url, *LEASE], archive_url, tmp_path)
            assert after.returncode == 0, after.stderr[-3000:]
        finally:
            slow.kill()
            slow.wait(10)
            engine.dispose()
    by_id = {r.id: r for r in runs(archive_url)}
    assert (by_id[hung_run].status, by_id[hung_run].finish_reason) == ("failed", "lock_expired")
    assert by_id[hung_run].finished_at is not None
    last = runs(archive_url)[-1]
    assert (last.status, last.trigger) == ("finished", "manual") and last.pages_fetched > 0
    assert last.pid and last.pid != slow.pid
    _no_locks_left(archive_url)


def test_holders_on_other_hosts_wait_for_their_lease(archive_engine: Engine) -> None:
    assert db_runs.acquire(archive_engine, "cbg", "elsewhere:1:abc", 30)
    assert not db_runs.acquire(archive_engine, "cbg", db_runs.new_holder(), 30)
    assert not db_runs.holder_is_dead("elsewhere:1:abc")
    assert not db_runs.holder_is_dead(db_runs.new_holder())  # this very process

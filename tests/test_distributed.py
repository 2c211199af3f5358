"""Distributed mode (distributed.py): crawler processes share a site's queue in Redis and an archive in PostgreSQL.

Redis comes from CQNEWS_TEST_REDIS_URL (default: the local server); every test uses its own key prefix and
deletes its keys afterwards.
"""
from __future__ import annotations

import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
import scrapy
from sqlalchemy import select

from cqnews.commands import cqnews_command
from cqnews.db import runs as db_runs
from cqnews.db.models import Article, ArticleVersion, CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo.server import FixtureSite
from cqnews.distributed import CrawlInProgress, Keys, ReliableQueue, begin, reap, reserve_turn, work_left
from cqnews.health import Thresholds, judge

from helpers import copy_site, cqnews, expected, expected_articles, kill_with_its_children, runs

REDIS_URL = os.environ.get("CQNEWS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SITE = "cq_people"  # two start pages, pagination, a duplicate, bad inputs: the most varied fixture site
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.ping()
    yield connection
    connection.close()


@pytest.fixture
def prefix(client: redis.Redis) -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    name = f"cqnews-test-{uuid.uuid4().hex[:12]}"
    yield name
    leftover = list(client.scan_iter(f"{name}:*"))
    if leftover:
        client.delete(*leftover)


# -- the reliable queue, without a crawl ---------------------------------------------------------------


def _queue(client: redis.Redis, keys: Keys, worker: str) -> ReliableQueue:
    return ReliableQueue(client, scrapy.Spider(name=keys.site), keys.queue, keys.inflight(worker))


def _register(client: redis.Redis, keys: Keys, worker: str, lease_ms: int = 60_000) -> None:
    client.set(keys.alive(worker), "1", px=lease_ms)
    client.sadd(keys.workers, worker)


def test_a_pop_is_held_in_flight_until_acked_and_a_dead_workers_requests_are_queued_again(
        client: redis.Redis, prefix: str) -> None:
    keys = Keys(prefix, "t")
    dead, survivor = "elsewhere:101:aaaa", "elsewhere:102:bbbb"  # another host: only the lease can tell
    _register(client, keys, dead)
    _register(client, keys, survivor)
    queue = _queue(client, keys, dead)
    for n, priority in ((1, 0), (2, 5), (3, 0)):
        queue.push(scrapy.Request(f"http://127.0.0.1/{n}.html", priority=priority))

    popped = queue.pop_reliably()
    assert popped is not None and popped[0].url == "http://127.0.0.1/2.html"  # the highest priority first
    assert client.zcard(keys.queue) == 2 and client.zcard(keys.inflight(dead)) == 1
    assert work_left(client, keys)

    assert reap(client, keys, survivor) == {}  # its lease runs: it is working, not dead
    client.pexpire(keys.alive(dead), 1)
    time.sleep(0.05)
    assert reap(client, keys, survivor) == {dead: 1}
    assert reap(client, keys, survivor) == {}  # a second survivor finds nothing left to move
    assert client.zcard(keys.inflight(dead)) == 0 and dead.encode() not in client.smembers(keys.workers)

    again = _queue(client, keys, survivor).pop_reliably()
    assert again is not None and again[0].url == "http://127.0.0.1/2.html"  # back, with its priority
    client.zrem(keys.inflight(survivor), again[1])  # the ack


def test_a_killed_worker_on_this_host_is_reaped_without_waiting_for_its_lease(client: redis.Redis, prefix: str) -> None:
    keys = Keys(prefix, "t")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    worker = f"{socket.gethostname()}:{gone.pid}:cccc"
    _register(client, keys, worker)  # its lease would run for another minute
    _queue(client, keys, worker).push(scrapy.Request("http://127.0.0.1/a.html"))
    assert _queue(client, keys, worker).pop_reliably() is not None
    assert reap(client, keys, "elsewhere:1:dddd") == {worker: 1}
    assert client.zcard(keys.queue) == 1


def test_a_new_distributed_crawl_waits_for_live_workers_and_replaces_a_dead_one(client: redis.Redis,
                                                                              prefix: str) -> None:
    keys = Keys(prefix, "t")
    first = begin(client, keys)
    worker = "elsewhere:7:eeee"
    _register(client, keys, worker)
    _queue(client, keys, worker).push(scrapy.Request("http://127.0.0.1/a.html"))
    with pytest.raises(CrawlInProgress, match="cqnews worker t"):
        begin(client, keys)
    client.delete(keys.alive(worker))  # every worker of the first crawl died
    second = begin(client, keys)
    assert second != first and client.get(keys.crawl) == second.encode()
    assert client.zcard(keys.queue) == 0 and not client.exists(keys.workers)


# -- the CLI's one-line errors ------------------------------------------------------------------------------


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unreachable_redis_and_no_crawl_to_join_are_one_clear_line(archive_url: str, tmp_path: Path,
                                                                   prefix: str) -> None:
    closed = _closed_port()
    down = cqnews(["crawl", "cbg", "--distributed"], archive_url, tmp_path,
                  env={"CQNEWS_REDIS_URL": f"redis://:secret@127.0.0.1:{closed}/0"})
    assert down.returncode == 1 and "Redis cannot be reached at redis://:***@127.0.0.1" in down.stderr, down.stderr
    assert "Traceback" not in down.stderr and "secret" not in down.stderr

    alone = cqnews(["worker", "cbg", "--idle-timeout", "0.5"], archive_url, tmp_path,
                   env={"CQNEWS_REDIS_URL": REDIS_URL, "CQNEWS_REDIS_PREFIX": prefix})
    assert alone.returncode == 1 and "no distributed crawl of cbg began" in alone.stderr, alone.stderr
    assert "Traceback" not in alone.stderr

    several = cqnews(["crawl", "cbg", "cq_gov", "--distributed"], archive_url, tmp_path)
    assert several.returncode == 2 and "one site" in several.stderr


# -- real crawls: two processes, one fixture site, one PostgreSQL archive ---------------------------------


def _env(archive_url: str, prefix: str, delay: float) -> dict[str, str]:
    return dict(os.environ) | {
        "CQNEWS_DATABASE_URL": archive_url,
        "CQNEWS_REDIS_URL": REDIS_URL,
        "CQNEWS_REDIS_PREFIX": prefix,
        "CQNEWS_DOWNLOAD_DELAY": str(delay),  # slow enough that the queue is shared, and a kill lands mid-crawl
        "CQNEWS_AUTOTHROTTLE": "0",
        "CQNEWS_RETRY_TIMES": "0",
        "CQNEWS_CONCURRENT_REQUESTS": "2",  # a worker holds at most two requests: the rest wait in Redis
        "CQNEWS_CONCURRENCY_PER_DOMAIN": "1",
        # A lease far longer than a renewal takes on a loaded machine: a live worker must never look dead here.
        # (A killed worker on this host is reaped by its pid at once; only other hosts wait for the lease.)
        "CQNEWS_WORKER_LEASE_SECONDS": "30",
        "CQNEWS_WORKER_IDLE_SECONDS": "3",
        "CQNEWS_LOG_LEVEL": "INFO",
    }


def _start(args: list[str], env: dict[str, str], tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    with open(tmp_path / f"{name}.out", "wb") as out, open(tmp_path / f"{name}.err", "wb") as err:
        return subprocess.Popen(cqnews_command(*args), cwd=tmp_path, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)


def _finish(proc: subprocess.Popen[bytes], tmp_path: Path, name: str) -> tuple[int, str]:
    """The process's exit code and its whole log (a tail could lose an early line on a slow machine)."""
    try:
        code = proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    return code, (tmp_path / f"{name}.err").read_text("utf-8", "replace")


def _articles(archive_url: str) -> list[tuple[str, list[int]]]:
    """Every archived article's URL path with its version numbers."""
    engine = make_engine(archive_url)
    try:
        with make_sessionmaker(engine)() as session:
            rows = session.execute(select(Article.url, ArticleVersion.version_no)
                                   .join(ArticleVersion, ArticleVersion.article_id == Article.id)).all()
    finally:
        engine.dispose()
    versions: dict[str, list[int]] = {}
    for url, version_no in rows:
        versions.setdefault(urlsplit(url).path, []).append(version_no)
    return sorted(versions.items())


def _assert_archived_once(archive_url: str) -> None:
    archived = _articles(archive_url)
    articles = expected_articles(SITE)
    assert len(archived) == len(articles), archived  # an article, not one per fetch
    assert all(versions == [1] for _, versions in archived), archived
    paths = {path for path, _ in archived}
    for pair in expected(SITE)["duplicates"]:  # which URL of a duplicate pair is the article depends on timing
        paths |= {pair["original"]} if pair["copy"] in paths else set()
    assert {a["path"] for a in articles} <= paths, sorted(paths)


def _assert_crawl_cleaned_up(client: redis.Redis, prefix: str, archive_url: str) -> None:
    assert list(client.scan_iter(f"{prefix}:*")) == []  # the last worker deleted the finished crawl's keys
    engine = make_engine(archive_url)
    try:
        assert db_runs.current(engine, SITE) is None  # and gave the shared crawl lock back
    finally:
        engine.dispose()


@postgresql_only
def test_two_workers_fetch_and_archive_every_article_once(archive_url: str, tmp_path: Path, client: redis.Redis,
                                                          prefix: str) -> None:
    env = _env(archive_url, prefix, delay=0.3)
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        started = time.monotonic()
        seeder = _start(["crawl", SITE, "--distributed", "--base-url", server.base_url], env, tmp_path, "seeder")
        worker = _start(["worker", SITE, "--base-url", server.base_url, "--idle-timeout", "3"], env, tmp_path,
                        "worker")
        (seeder_code, seeder_log), (worker_code, worker_log) = (_finish(seeder, tmp_path, "seeder"),
                                                                _finish(worker, tmp_path, "worker"))
        elapsed = time.monotonic() - started
        hits = Counter(path for _, path, _ in server.hits if path != "/robots.txt")
    assert seeder_code == 0, seeder_log
    assert worker_code == 0, worker_log
    assert elapsed < 60

    fetched_twice = {path: n for path, n in hits.items() if n > 1}
    assert not fetched_twice, fetched_twice  # every page, articles included, fetched by one worker once
    assert {a["path"] for a in expected_articles(SITE)} <= set(hits)
    _assert_archived_once(archive_url)

    both = runs(archive_url)
    assert [(r.status, r.finish_reason) for r in both] == [("finished", "finished")] * 2
    assert all(r.stats["cqnews/distributed/dequeued"] >= 1 for r in both), [r.stats for r in both]  # shared
    assert len({r.stats["cqnews/distributed/worker"] for r in both}) == 2
    assert len({r.stats["cqnews/distributed/crawl"] for r in both}) == 1
    assert sum(r.articles_new for r in both) == len(expected_articles(SITE))
    assert sum(r.stats["cqnews/distributed/dequeued"] for r in both) == sum(hits.values())
    _assert_crawl_cleaned_up(client, prefix, archive_url)


def test_request_turns_are_one_delay_apart_whichever_worker_takes_them(client: redis.Redis, prefix: str) -> None:
    keys, delay = Keys(prefix, "t"), 0.25
    other = redis.Redis.from_url(REDIS_URL)  # a second worker's connection
    started = time.monotonic()
    waits = []
    for n in range(6):
        waits.append(reserve_turn(client if n % 2 else other, keys, delay))
        elapsed = time.monotonic() - started
        assert waits[-1] >= n * delay - elapsed - 0.002, (n, waits, elapsed)  # turn n: n delays after the first
    other.close()
    assert waits[0] == 0 and waits == sorted(waits)
    assert 0 < client.pttl(keys.next_turn) <= 60_000 + 1000 * delay  # forgotten a minute after the last turn


@postgresql_only
def test_the_workers_of_a_distributed_crawl_share_one_politeness_budget(archive_url: str, tmp_path: Path,
                                                                      client: redis.Redis, prefix: str) -> None:
    env = _env(archive_url, prefix, delay=0.4)
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        seeder = _start(["crawl", SITE, "--distributed", "--base-url", server.base_url], env, tmp_path, "seeder")
        worker = _start(["worker", SITE, "--base-url", server.base_url, "--idle-timeout", "30"], env, tmp_path,
                        "worker")
        (seeder_code, seeder_log), (worker_code, worker_log) = (_finish(seeder, tmp_path, "seeder"),
                                                                _finish(worker, tmp_path, "worker"))
    assert (seeder_code, worker_code) == (0, 0), seeder_log + worker_log
    both = runs(archive_url)
    assert all(r.stats.get("cqnews/distributed/dequeued", 0) >= 1 for r in both), [r.stats for r in both]
    assert any(r.stats.get("cqnews/distributed/polite_wait_ms", 0) > 0 for r in both)  # turns were waited for
    _assert_archived_once(archive_url)
    _assert_crawl_cleaned_up(client, prefix, archive_url)  # the site's turn key too


def _held_by(client: redis.Redis, prefix: str, pid: int) -> tuple[str, list[bytes]] | None:
    """The in-flight key of the worker running as process ``pid``, and what it holds, if it holds anything."""
    for key in client.scan_iter(f"{prefix}:{SITE}:inflight:{socket.gethostname()}:{pid}:*"):
        held = client.zrange(key, 0, -1)
        if held:
            return key.decode(), held
    return None


@postgresql_only
def test_a_worker_killed_mid_crawl_loses_nothing(archive_url: str, tmp_path: Path, client: redis.Redis,
                                                 prefix: str) -> None:
    env = _env(archive_url, prefix, delay=0.5)
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        seeder = _start(["crawl", SITE, "--distributed", "--base-url", server.base_url], env, tmp_path, "seeder")
        victim = _start(["worker", SITE, "--base-url", server.base_url], env, tmp_path, "victim")
        deadline = time.monotonic() + 60
        held: tuple[str, list[bytes]] | None = None
        while held is None and time.monotonic() < deadline and victim.poll() is None:
            held = _held_by(client, prefix, victim.pid)
            time.sleep(0.02)
        kill_with_its_children(victim)  # SIGKILL: no close, no ack, no goodbye
        hits_at_kill = len(server.hits)
        assert held is not None, "the worker never held a request: " + _finish(victim, tmp_path, "victim")[1]
        lost_with_it = {urlsplit(pickle.loads(data)["url"]).path for data in held[1]}

        seeder_code, seeder_log = _finish(seeder, tmp_path, "seeder")
        after_kill = {path for _, path, _ in server.hits[hits_at_kill:]}
    assert seeder_code == 0, seeder_log
    assert lost_with_it <= after_kill, (lost_with_it, after_kill)  # the survivor fetched what the dead one held
    _assert_archived_once(archive_url)

    killed = next(r for r in runs(archive_url) if r.pid == victim.pid)
    survivor = next(r for r in runs(archive_url) if r.pid == seeder.pid)
    assert (survivor.status, survivor.finish_reason) == ("finished", "finished")
    assert survivor.stats["cqnews/distributed/requeued"] >= len(held[1])
    # the survivor closed the dead worker's run (no daemon watches this host here): not `running` for ever
    assert (killed.status, killed.finish_reason) == ("failed", "killed"), (killed.status, killed.finish_reason)
    _assert_crawl_cleaned_up(client, prefix, archive_url)


# -- a worker with nothing left to do, a crawl that can fetch nothing -------------------------------------------


def _wait_until(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _only_articles_left(client: redis.Redis, keys: Keys, server: FixtureSite, pid: int) -> bool:
    """The crawl is seeded, its queue empty, and the worker ``pid`` holds the last article pages: every article
    was fetched or is in its hands, so no request is left for another worker to take."""
    held = _held_by(client, keys.prefix, pid)
    if not (client.get(keys.seeded) and client.zcard(keys.queue) == 0 and held):
        return False
    in_hand = {urlsplit(pickle.loads(data)["url"]).path for data in held[1]}
    articles = {a["path"] for a in expected_articles(SITE)}
    return in_hand <= articles and articles <= in_hand | {path for _, path, _ in server.hits}


@postgresql_only
def test_a_worker_that_finds_the_queue_drained_exits_0_with_a_note(archive_url: str, tmp_path: Path,
                                                                    client: redis.Redis, prefix: str) -> None:
    env = _env(archive_url, prefix, delay=0.5)
    keys = Keys(prefix, SITE)
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        seeder = _start(["crawl", SITE, "--distributed", "--base-url", server.base_url], env, tmp_path, "seeder")
        try:
            # Frozen while it holds the last articles: the crawl is under way, with nothing left in its queue.
            deadline = time.monotonic() + 90
            while True:
                assert time.monotonic() < deadline and seeder.poll() is None, "the seeder never held the last pages"
                seeder.send_signal(signal.SIGSTOP)
                if _only_articles_left(client, keys, server, seeder.pid):
                    break
                seeder.send_signal(signal.SIGCONT)
                time.sleep(0.02)
            late = _start(["worker", SITE, "--base-url", server.base_url, "--idle-timeout", "60"], env, tmp_path,
                          "late")
            _wait_until(lambda: client.scard(keys.workers) == 2 or late.poll() is not None, 60, "the late worker")
            seeder.send_signal(signal.SIGCONT)
            started = time.monotonic()
            late_code, late_log = _finish(late, tmp_path, "late")
            late_took = time.monotonic() - started
        finally:
            seeder.send_signal(signal.SIGCONT)
            seeder_code, seeder_log = _finish(seeder, tmp_path, "seeder")
    assert late_code == 0, late_log
    assert f"cqnews: worker: the distributed crawl of {SITE} had no work left for this worker" in late_log
    assert "no page could be fetched" not in late_log and "Traceback" not in late_log
    assert seeder_code == 0, seeder_log
    assert late_took < 30  # it left once the seeder's last pages were done, not after its 60 s idle timeout

    rows = runs(archive_url)
    idle = next(r for r in rows if r.pid == late.pid)
    first = next(r for r in rows if r.pid == seeder.pid)
    assert (first.status, first.finish_reason) == ("finished", "finished") and first.articles_new > 0
    # Recorded as a run that did not crawl, so that health checks do not take it for a dead site.
    assert (idle.status, idle.finish_reason, idle.pages_fetched) == ("skipped", "no_work_left", 0)
    assert idle.stats["cqnews/distributed/crawl"] == first.stats["cqnews/distributed/crawl"]
    assert "cqnews/distributed/dequeued" not in idle.stats
    engine = make_engine(archive_url)
    newest_first = db_runs.recent_runs(engine, SITE, len(rows))
    engine.dispose()
    assert judge(newest_first, None, datetime.now(UTC), Thresholds()) == []
    _assert_crawl_cleaned_up(client, prefix, archive_url)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_distributed_crawl_that_can_fetch_nothing_still_fails(archive_url: str, tmp_path: Path,
                                                                prefix: str) -> None:
    closed = _closed_port()
    env = {"CQNEWS_REDIS_URL": REDIS_URL, "CQNEWS_REDIS_PREFIX": prefix, "CQNEWS_WORKER_IDLE_SECONDS": "0.5"}
    dead = cqnews(["crawl", "cbg", "--distributed", "--base-url", f"http://127.0.0.1:{closed}"], archive_url,
                  tmp_path, env=env)
    assert dead.returncode == 1, dead.stderr[-3000:]
    assert "cbg: no page could be fetched" in dead.stderr and "no work left for this worker" not in dead.stderr

    # A worker of --forever started for a crawl that has ended by the time it looks: nothing to do, not an error.
    ended = cqnews(["worker", "cbg", "--crawl-id", "0123456789ab"], archive_url, tmp_path, env=env)
    assert ended.returncode == 0, ended.stderr
    assert ended.stderr.strip() == ("cqnews: worker: the distributed crawl of cbg had no work left for this worker "
                                    "(crawl 0123456789ab has ended)")


# -- a worker service and the daemon's distributed crawls ----------------------------------------------------


@postgresql_only
def test_a_forever_worker_joins_two_scheduled_distributed_crawls_and_stops_on_sigterm(
        archive_url: str, tmp_path: Path, client: redis.Redis, prefix: str) -> None:
    # Every crawl fetches every page (no revisit ladder), slowly enough that the worker gets a share of each.
    env = _env(archive_url, prefix, delay=1.0) | {"CQNEWS_INCREMENTAL": "0"}
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        config = tmp_path / "cqnews.toml"
        config.write_text(f'default = "off"\n[sites.{SITE}]\nevery = "3s"\ndistributed = true\n'
                          f'base_url = "{server.base_url}"\n', "utf-8")
        worker = _start(["worker", SITE, "--forever", "--base-url", server.base_url, "--idle-timeout", "2"], env,
                        tmp_path, "worker")
        daemon_env = env | {"CQNEWS_SCHEDULE_FILE": str(config), "CQNEWS_LOG_DIR": str(tmp_path / "logs")}
        daemon = _start(["daemon"], daemon_env, tmp_path, "daemon")
        try:
            def coordinators() -> list[CrawlRun]:
                return [r for r in runs(archive_url) if r.trigger == "scheduled" and r.status == "finished"]

            _wait_until(lambda: len(coordinators()) >= 2, 180, "two scheduled distributed crawls")
            daemon.send_signal(signal.SIGTERM)
            daemon_code, daemon_log = _finish(daemon, tmp_path, "daemon")
            crawls = [r.stats["cqnews/distributed/crawl"] for r in coordinators()[:2]]

            def worked() -> dict[str, CrawlRun]:
                return {r.stats.get("cqnews/distributed/crawl"): r for r in runs(archive_url)
                        if r.trigger == "manual" and r.status != "running"}

            _wait_until(lambda: set(crawls) <= set(worked()), 60, "the worker's part of both crawls to end")
            worker.send_signal(signal.SIGTERM)
            worker_code, worker_log = _finish(worker, tmp_path, "worker")
        finally:
            for proc in (daemon, worker):
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    assert daemon_code == 0, daemon_log
    assert "distributed crawl started" in daemon_log and "Traceback" not in daemon_log
    assert worker_code == 0, worker_log
    assert "received SIGTERM" in worker_log and f"worker for {SITE} stopped" in worker_log
    assert "Traceback" not in worker_log
    assert crawls[0] != crawls[1]
    parts = worked()
    for crawl in crawls:  # the worker took part in both crawls, in a process of its own each time
        part = parts[crawl]
        assert (part.status, part.finish_reason) == ("finished", "finished"), part.stats
        assert part.pid != worker.pid and part.stats["cqnews/distributed/dequeued"] >= 1
        assert part.pages_fetched >= 1
    assert parts[crawls[0]].pid != parts[crawls[1]].pid
    joins = (tmp_path / "worker.err").read_text("utf-8", "replace")
    assert all(f"joining distributed crawl {crawl} of {SITE}" in joins for crawl in crawls)
    assert list(client.scan_iter(f"{prefix}:*:alive:*")) == []  # no worker left registered


@postgresql_only
def test_a_forever_worker_stopped_mid_crawl_gives_its_requests_back_and_exits_0(
        archive_url: str, tmp_path: Path, client: redis.Redis, prefix: str) -> None:
    env = _env(archive_url, prefix, delay=1.0)
    with FixtureSite(copy_site(SITE, tmp_path)) as server:
        worker = _start(["worker", SITE, "--forever", "--base-url", server.base_url], env, tmp_path, "worker")
        try:
            time.sleep(1)  # waiting: the crawl below is new to it
            seeder = _start(["crawl", SITE, "--distributed", "--base-url", server.base_url], env, tmp_path, "seeder")

            def child_holds_work() -> bool:
                keys = client.keys(f"{prefix}:{SITE}:inflight:*")
                return any(f":{seeder.pid}:".encode() not in key and client.zcard(key) for key in keys)

            _wait_until(child_holds_work, 90, "the worker's crawl to hold a request")
            worker.send_signal(signal.SIGTERM)
            worker_code, worker_log = _finish(worker, tmp_path, "worker")
            seeder_code, seeder_log = _finish(seeder, tmp_path, "seeder")
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert worker_code == 0, worker_log
    assert "stopping the crawl" in worker_log and f"worker for {SITE} stopped" in worker_log
    assert "Traceback" not in worker_log
    assert seeder_code == 0, seeder_log
    stopped = next(r for r in runs(archive_url) if r.pid != seeder.pid)
    assert (stopped.status, stopped.finish_reason) == ("failed", "shutdown")  # as any crawl stopped by a signal
    _assert_archived_once(archive_url)  # the seeder did what the stopped worker left
    _assert_crawl_cleaned_up(client, prefix, archive_url)

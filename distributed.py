"""Distributed crawling: several crawler processes (on several machines) work one site's queue in Redis.

``cqnews crawl SITE --distributed`` starts a *distributed crawl*: a fresh request queue and set of seen-request
fingerprints for SITE in Redis (keys ``PREFIX:SITE:...``), seeded with the spider's start requests, and works
it as one worker. ``cqnews worker SITE`` joins the running one. Articles go to the archive database as in any
crawl, so the workers of several machines share one PostgreSQL archive.

From scrapy-redis (0.9.1) we use its Redis dupefilter (``RFPDupeFilter``: one ``SADD`` per request, atomic
across workers) and its priority queue's request encoding (``PriorityQueue``: a sorted set of pickled
request dicts). Its ``Scheduler`` we do not use: it pops destructively (a killed worker loses what it held),
and on Scrapy >= 2.19 it passes the deprecated ``spider`` argument to ``StatsCollector.inc_value`` on every
request. :class:`RedisScheduler` here is a reliable queue instead:

- a pop atomically *moves* a request from the queue into the worker's in-flight set (a Lua script);
- once Scrapy is done with it (downloaded, parsed, its items through the pipelines, its links enqueued),
  the worker removes it (an *ack*);
- every worker keeps an ``alive`` key with a TTL (CQNEWS_WORKER_LEASE_SECONDS) that it renews; when a
  worker's key has expired, or its process is gone from this host, any survivor moves that worker's
  in-flight requests back into the queue. So a SIGKILLed worker loses nothing; a request is fetched twice
  only when its worker died (or stalled past its lease) before the ack, and the archive's unique
  constraints make a second pass harmless.

A worker exits (finish reason ``finished``) as soon as no work is left anywhere — the queue is empty and no
worker holds a request in flight — once the crawl is *seeded* (the seeding crawl has queued every start request
and marked it so in Redis); before that, a worker that joined early waits up to CQNEWS_WORKER_IDLE_SECONDS for
the seed. Nothing else can add work: requests are only added by a worker handling one it holds in flight, and
the in-flight set of a worker that died counts until its lease runs out and a survivor requeues it.
The last worker to leave deletes the
crawl's keys (when nothing is left to do) and releases the site's crawl lock, which the workers of one
distributed crawl hold together under one holder name (``distributed/<crawl id>``, see extensions.py).
A ``cqnews worker`` that took no request at all (it joined a queue the others had drained) records its run
``skipped`` with reason ``no_work_left``: it did not crawl, so health checks must not read it as a dead site.

:class:`StandingWorker` is ``cqnews worker SITE --forever``: a service that joins every distributed crawl of
the site, each in a child process, until SIGTERM/SIGINT.

Politeness is the site's, not each worker's: :class:`SharedPoliteness` reserves every request's turn in Redis
(one ``next turn`` time per site, on the Redis server's clock), DOWNLOAD_DELAY apart, so N workers together send
no more requests than one worker would, on average over the crawl (each still keeps its own Scrapy delay too).

Requests are pickled (as scrapy-redis does): the Redis server must be reachable only by the crawlers.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import RedisError, WatchError
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import Settings
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from twisted.internet.task import LoopingCall, deferLater

from cqnews.archive_engine import ArchiveEngine, archive_enabled
from cqnews.db import runs
from cqnews.health import found_no_work
from cqnews.stats import (
    CRAWL_RUN_ID,
    DISTRIBUTED_CRAWL,
    DISTRIBUTED_POLITE_WAIT_MS,
    DISTRIBUTED_WORKER,
    distributed_event,
)

log = logging.getLogger(__name__)

__all__ = ["RedisError", "CrawlInProgress", "Keys", "MarkSeeded", "RedisScheduler", "SharedPoliteness",
           "StandingWorker", "WorkersDoNotSeed", "begin", "configure", "connect", "current_crawl", "wait_for_crawl"]

# Move the best request (lowest score: scrapy-redis scores by -priority) into this worker's in-flight set.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('ZADD', KEYS[2], r[2], r[1])
return r[1]
"""

# Put a (dead) worker's in-flight requests back into the queue, with their priority, and forget the worker.
_REQUEUE = """
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #items, 2 do redis.call('ZADD', KEYS[2], items[i + 1], items[i]) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
return #items / 2
"""


# Reserve the site's next request turn: the later of now and the reserved turn; the turn after is DOWNLOAD_DELAY
# (ARGV[1], ms) later. Returns how many ms to wait. The Redis server's clock: the same for workers on any host.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local turn = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%d', turn + tonumber(ARGV[1])), 'PX', tonumber(ARGV[1]) + 60000)
return turn - now
"""


class CrawlInProgress(Exception):
    """A distributed crawl of the site still has live workers: join it instead of starting another."""


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one site's distributed crawl."""

    prefix: str
    site: str

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{self.site}:{name}"

    @property
    def crawl(self) -> str:  # the crawl id; exists while a distributed crawl of the site is under way
        return self._key("crawl")

    @property
    def queue(self) -> str:  # sorted set of pickled requests
        return self._key("requests")

    @property
    def seen(self) -> str:  # set of request fingerprints (scrapy-redis RFPDupeFilter)
        return self._key("seen")

    @property
    def seeded(self) -> str:  # the crawl id, once the seeding crawl has queued all its start requests
        return self._key("seeded")

    @property
    def next_turn(self) -> str:  # ms (Redis clock) before which no worker sends the site another request
        return self._key("next_turn")

    @property
    def workers(self) -> str:  # set of worker ids (host:pid:nonce)
        return self._key("workers")

    @property
    def runs(self) -> str:  # hash: worker id -> its crawl_runs row, so whoever reaps a dead worker closes its run
        return self._key("runs")

    def alive(self, worker: str) -> str:  # exists while the worker renews its lease
        return self._key(f"alive:{worker}")

    def inflight(self, worker: str) -> str:  # sorted set: requests the worker popped and has not finished
        return self._key(f"inflight:{worker}")


def connect(url: str) -> redis.Redis:
    """A client on CQNEWS_REDIS_URL that has answered a PING (raises RedisError otherwise)."""
    client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30)
    client.ping()
    return client


def safe_url(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def lock_holder(crawl_id: str) -> str:
    """The crawl_locks holder shared by the workers of one distributed crawl (no host:pid: only the lease
    tells whether it is alive, as it may span machines)."""
    return f"distributed/{crawl_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def live_workers(client: Any, keys: Keys) -> list[str]:
    """Registered workers whose lease runs and whose process, when on this host, exists."""
    return [w for w in map(_text, client.smembers(keys.workers))
            if client.exists(keys.alive(w)) and not runs.holder_is_dead(w)]


def begin(client: redis.Redis, keys: Keys) -> str:
    """Start a new distributed crawl of the site: empty queue, no fingerprints; return its id.

    Refuses (CrawlInProgress) while workers of the current one are alive. A crawl whose workers all died is
    discarded: the new one rediscovers its pages from the start pages.
    """
    for _ in range(5):
        with client.pipeline() as pipe:
            try:
                pipe.watch(keys.crawl, keys.workers)
                old = pipe.get(keys.crawl)
                live = live_workers(pipe, keys)
                if old is not None and live:
                    raise CrawlInProgress(
                        f"a distributed crawl of {keys.site} is running (crawl {_text(old)}, {len(live)} live "
                        f"worker(s)): join it with `cqnews worker {keys.site}`")
                stale = [_text(w) for w in pipe.smembers(keys.workers)]
                crawl_id = uuid.uuid4().hex[:12]
                pipe.multi()
                pipe.delete(keys.queue, keys.seen, keys.workers, keys.seeded,
                            *[keys.inflight(w) for w in stale], *[keys.alive(w) for w in stale])
                pipe.set(keys.crawl, crawl_id)
                pipe.execute()
                return crawl_id
            except WatchError:  # a worker joined or another crawl began meanwhile: look again
                continue
    raise CrawlInProgress(f"the distributed crawl state of {keys.site} keeps changing; try again")


def requeue(client: redis.Redis, keys: Keys, worker: str) -> int:
    """Move what ``worker`` has in flight back into the queue and forget the worker (its lease too, which would
    otherwise outlive it by up to CQNEWS_WORKER_LEASE_SECONDS); return how many requests."""
    script = client.register_script(_REQUEUE)
    return int(script(keys=[keys.inflight(worker), keys.queue, keys.workers, keys.alive(worker)], args=[worker]))


def reap(client: redis.Redis, keys: Keys, me: str) -> dict[str, int]:
    """Requeue the requests of every other worker that is dead: lease expired, or process gone from this host.

    Returns {worker: requests requeued} for every worker reaped. Safe when several survivors reap at once:
    the move is one script, and the second finds nothing left.
    """
    done: dict[str, int] = {}
    for worker in map(_text, client.smembers(keys.workers)):
        if worker == me or (client.exists(keys.alive(worker)) and not runs.holder_is_dead(worker)):
            continue
        done[worker] = requeue(client, keys, worker)
    return done


def work_left(client: redis.Redis, keys: Keys) -> bool:
    """Anything queued, or in flight at a worker (which may still add requests, or die and give them back)."""
    if client.zcard(keys.queue):
        return True
    return any(client.zcard(keys.inflight(w)) for w in map(_text, client.smembers(keys.workers)))


def current_crawl(client: redis.Redis, keys: Keys) -> str | None:
    """The id of the site's distributed crawl under way (or left unfinished), if any."""
    crawl_id = client.get(keys.crawl)
    return None if crawl_id is None else _text(crawl_id)


def wait_for_crawl(client: redis.Redis, keys: Keys, timeout: float | None, *, after: str | None = None,
                   stop: threading.Event | None = None, poll: float = 0.2) -> str | None:
    """The id of the site's distributed crawl, waiting up to ``timeout`` seconds (None: until ``stop`` is set)
    for one to begin; a crawl whose id is ``after`` (one this worker has already worked) does not count."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        crawl_id = current_crawl(client, keys)
        if crawl_id is not None and crawl_id != after:
            return crawl_id
        if deadline is not None and time.monotonic() >= deadline:
            return None
        if stop is None:
            time.sleep(poll)
        elif stop.wait(poll):
            return None


def configure(settings: Settings, crawl_id: str, *, worker: bool) -> None:
    """Make a crawl one worker of distributed crawl ``crawl_id``; a worker does not seed start requests."""
    settings.set("SCHEDULER", "cqnews.distributed.RedisScheduler", priority="cmdline")
    settings.set("CQNEWS_DISTRIBUTED_CRAWL", crawl_id, priority="cmdline")
    settings.set("CQNEWS_LOCK_HOLDER", lock_holder(crawl_id), priority="cmdline")
    settings.set("CQNEWS_DISTRIBUTED_WORKER", worker, priority="cmdline")
    downloader = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    downloader["cqnews.distributed.SharedPoliteness"] = 990  # the last before the download: no wasted turns
    settings.set("DOWNLOADER_MIDDLEWARES", downloader, priority="cmdline")
    middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    if worker:
        middlewares["cqnews.distributed.WorkersDoNotSeed"] = 10
    else:  # the lowest order: the last to see the start requests before the engine queues them
        middlewares["cqnews.distributed.MarkSeeded"] = 1
    settings.set("SPIDER_MIDDLEWARES", middlewares, priority="cmdline")


def is_seeded(client: redis.Redis, keys: Keys, crawl_id: str) -> bool:
    """Has the seeding crawl of ``crawl_id`` queued all its start requests?"""
    seeded = client.get(keys.seeded)
    return seeded is not None and _text(seeded) == crawl_id


class WorkersDoNotSeed:
    """Spider middleware of ``cqnews worker``: the start requests were seeded by ``crawl --distributed``."""

    async def process_start(self, start: Any) -> Any:
        await start.aclose()
        return
        yield  # an async generator that yields nothing


class MarkSeeded:
    """Spider middleware of ``crawl --distributed``: once the engine has queued every start request, say so in
    Redis, so that workers with nothing to do leave at once instead of waiting for a seed that has come."""

    def __init__(self, url: str, keys: Keys, crawl_id: str) -> None:
        self.url, self.keys, self.crawl_id = url, keys, crawl_id

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MarkSeeded:
        settings = crawler.settings
        assert crawler.spidercls is not None
        return cls(settings["CQNEWS_REDIS_URL"], Keys(settings.get("CQNEWS_REDIS_PREFIX") or "cqnews",
                                                      crawler.spidercls.name), settings["CQNEWS_DISTRIBUTED_CRAWL"])

    async def process_start(self, start: Any) -> Any:
        async for item_or_request in start:
            yield item_or_request  # the engine queues it before it asks for the next one
        try:
            client = connect(self.url)
            try:
                client.set(self.keys.seeded, self.crawl_id)
            finally:
                client.close()
        except RedisError as exc:  # then idle workers wait CQNEWS_WORKER_IDLE_SECONDS, as for a seed not yet come
            log.warning("cannot mark distributed crawl %s seeded: %s", self.crawl_id, exc)


def reserve_turn(client: redis.Redis, keys: Keys, delay: float) -> float:
    """Reserve the site's next request turn (``delay`` seconds after the turn reserved before it, by any worker);
    how many seconds to wait for it."""
    return int(client.register_script(_RESERVE)(keys=[keys.next_turn], args=[int(delay * 1000)])) / 1000


class SharedPoliteness:
    """Downloader middleware of every worker of a distributed crawl: the site's DOWNLOAD_DELAY shared by all of
    them through Redis (see the module doc). Off without a delay; if Redis cannot be reached, the worker goes on
    with its own delay alone."""

    def __init__(self, crawler: Crawler, client: redis.Redis, keys: Keys, delay: float) -> None:
        self.crawler, self.client, self.keys, self.delay = crawler, client, keys, delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPoliteness:
        settings = crawler.settings
        delay = settings.getfloat("DOWNLOAD_DELAY")
        if delay <= 0:
            raise NotConfigured
        assert crawler.spidercls is not None
        keys = Keys(settings.get("CQNEWS_REDIS_PREFIX") or "cqnews", crawler.spidercls.name)
        return cls(crawler, connect(settings["CQNEWS_REDIS_URL"]), keys, delay)

    async def process_request(self, request: Request) -> None:
        try:
            wait = reserve_turn(self.client, self.keys, self.delay)
        except RedisError as exc:
            log.warning("cannot reserve a request turn in Redis (this worker's own delay only): %s", exc)
            return
        if wait > 0:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value(DISTRIBUTED_POLITE_WAIT_MS, round(wait * 1000))
            from twisted.internet import reactor  # the one Scrapy installed (importing it first would install another)

            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue, popped into this worker's in-flight set instead of away."""

    def __init__(self, server: redis.Redis, spider: Spider, key: str, inflight_key: str) -> None:
        super().__init__(server, spider, key.replace("%", "%%"))
        self.inflight_key = inflight_key
        self._pop = server.register_script(_POP)

    def pop_reliably(self) -> tuple[Request, bytes] | None:
        data = self._pop(keys=[self.key, self.inflight_key])
        if not data:
            return None
        try:
            return self._decode_request(data), data
        except Exception:  # a request this code cannot rebuild (spider changed): drop it, loudly
            log.exception("cannot decode a queued request; dropped")
            self.server.zrem(self.inflight_key, data)
            return self.pop_reliably()


class RedisScheduler:
    """Scrapy scheduler on the site's shared Redis queue, with in-flight bookkeeping (see the module doc)."""

    def __init__(self, crawler: Crawler, client: redis.Redis, keys: Keys) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.client = client
        self.keys = keys
        self.crawl_id: str = settings.get("CQNEWS_DISTRIBUTED_CRAWL") or ""
        self.lease = settings.getfloat("CQNEWS_WORKER_LEASE_SECONDS", 30)
        self.idle_timeout = settings.getfloat("CQNEWS_WORKER_IDLE_SECONDS", 30)
        self.joined = settings.getbool("CQNEWS_DISTRIBUTED_WORKER")  # `cqnews worker`, not the seeding crawl
        self.worker = runs.new_holder()
        self.inflight: dict[Request, bytes] = {}
        self.idle_since: float | None = None
        self.heartbeat: LoopingCall | None = None
        self.run_noted = False  # this worker's run id is in Redis (keys.runs)
        self.queue: ReliableQueue | None = None
        self.df: RFPDupeFilter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        settings = crawler.settings
        assert crawler.spidercls is not None
        keys = Keys(settings.get("CQNEWS_REDIS_PREFIX") or "cqnews", crawler.spidercls.name)
        scheduler = cls(crawler, connect(settings["CQNEWS_REDIS_URL"]), keys)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        # Connected after CrawlRunRecorder's handler (extensions are built first): runs after the run row is written.
        crawler.signals.connect(scheduler.spider_closed, signal=signals.spider_closed)
        return scheduler

    def _count(self, key: str, n: int = 1) -> None:
        if self.crawler.stats is not None and n:
            self.crawler.stats.inc_value(distributed_event(key), n)

    # -- the Scrapy scheduler interface ---------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.queue = ReliableQueue(self.client, spider, self.keys.queue, self.keys.inflight(self.worker))
        self.df = RFPDupeFilter(self.client, key=self.keys.seen, debug=spider.settings.getbool("DUPEFILTER_DEBUG"))
        self._renew()
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(DISTRIBUTED_WORKER, self.worker)
        self.crawler.stats.set_value(DISTRIBUTED_CRAWL, self.crawl_id)
        log.info("worker %s joined distributed crawl %s of %s (%d requests queued)", self.worker, self.crawl_id,
                 spider.name, len(self.queue))
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(min(self.lease / 3, 1.0), now=False).addErrback(
            lambda failure: log.error("worker heartbeat stopped: %s", failure.value))

    def close(self, reason: str) -> None:
        """Scrapy has finished every request it took (the engine waits for them): ack them, leave the crawl."""
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        self._ack(list(self.inflight))
        # Anything still in our in-flight set (an ack that failed) goes back to the queue, not away.
        requeue(self.client, self.keys, self.worker)
        self.client.delete(self.keys.alive(self.worker))

    def has_pending_requests(self) -> bool:
        return self.queue is not None and len(self.queue) > 0

    def enqueue_request(self, request: Request) -> bool:
        assert self.queue is not None and self.df is not None
        if not request.dont_filter and self.df.request_seen(request):
            self._count("filtered")
            return False
        self.queue.push(request)
        self._count("enqueued")
        return True

    def next_request(self) -> Request | None:
        assert self.queue is not None
        self._note_run()  # before it holds anything: a worker killed from then on has its run closed by the reaper
        self._ack_finished()
        popped = self.queue.pop_reliably()
        if popped is None:
            return None
        request, data = popped
        self.inflight[request] = data  # the engine adds it to its in-progress set before anything else runs
        self._count("dequeued")
        return request

    # -- acks, leases, dead workers ------------------------------------------------------------------

    def _in_progress(self) -> set[Request] | None:
        """The requests Scrapy's engine is still working on (downloading, or scraping: callback, pipelines).

        Scrapy has no public "request finished" signal; the engine's slot keeps this set and drops a request
        only after its output is fully processed. None if a future Scrapy moves it: then acks wait for idle or
        close, and a killed worker's whole share is fetched again (more duplicates, still nothing lost).
        """
        slot = getattr(self.crawler.engine, "_slot", None)
        inprogress = getattr(slot, "inprogress", None)
        return inprogress if isinstance(inprogress, set) else None

    def _ack(self, requests: list[Request]) -> None:
        if not requests:
            return
        data = {self.inflight.pop(r) for r in requests}
        self.client.zrem(self.keys.inflight(self.worker), *data)
        self._count("acked", len(requests))

    def _ack_finished(self) -> None:
        inprogress = self._in_progress()
        if inprogress is not None and self.inflight:
            self._ack([r for r in self.inflight if r not in inprogress])

    def _renew(self) -> None:
        with self.client.pipeline() as pipe:
            pipe.set(self.keys.alive(self.worker), self.crawl_id or "1", px=int(self.lease * 1000))
            pipe.sadd(self.keys.workers, self.worker)
            pipe.execute()

    def _beat(self) -> None:
        try:
            if not self.client.exists(self.keys.alive(self.worker)):
                log.warning("worker %s: its lease lapsed (stalled longer than %ss); requests it holds may be fetched "
                            "twice", self.worker, self.lease)
            self._renew()
            self._note_run()
            self._ack_finished()
            self.reap()
        except RedisError as exc:  # the lease outlives a short outage; try again next beat
            log.warning("worker %s cannot reach Redis: %s", self.worker, exc)
        self._wake_engine()

    def _wake_engine(self) -> None:
        """Have the engine look at the queue now: on its own an idle engine looks every 5 s, while the other
        workers take everything another worker queues (same private slot as :meth:`_in_progress`)."""
        nextcall = getattr(getattr(self.crawler.engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def reap(self) -> int:
        """Put back in the queue what dead workers held, and close their runs; return how many requests."""
        total = 0
        for worker, n in reap(self.client, self.keys, self.worker).items():
            if n:
                log.warning("worker %s is gone: its %d unfinished request(s) are queued again", worker, n)
            total += n
            self._close_run_of(worker)
        self._count("requeued", total)
        return total

    def _note_run(self) -> None:
        """Say which crawl_runs row is this worker's (known once the run is recorded, after the scheduler opens)."""
        if self.run_noted:
            return
        assert self.crawler.stats is not None
        run_id = self.crawler.stats.get_value(CRAWL_RUN_ID)
        if run_id is not None:
            self.client.hset(self.keys.runs, self.worker, int(run_id))
            self.run_noted = True

    def _close_run_of(self, worker: str) -> None:
        """A dead worker's run would read ``running`` for ever where no daemon watches its host: fail it now."""
        run_id = self.client.hget(self.keys.runs, worker)
        if run_id is None or not archive_enabled(self.crawler.settings):
            return
        if runs.fail_running_run(ArchiveEngine.of(self.crawler), int(run_id), runs.FinishReason.KILLED):
            log.warning("worker %s died: its run %s is closed as failed (killed)", worker, _text(run_id))
        self.client.hdel(self.keys.runs, worker)

    # -- signals ------------------------------------------------------------------------------------------

    def spider_idle(self, spider: Spider) -> None:
        """Stay while there is work anywhere; leave once there is none and the crawl is seeded (else wait up to
        CQNEWS_WORKER_IDLE_SECONDS for the seed); then let Scrapy close."""
        self._ack(list(self.inflight))  # idle: the engine holds nothing, so everything we took is finished
        self.reap()
        now = time.monotonic()
        if work_left(self.client, self.keys):
            self.idle_since = None
            raise DontCloseSpider
        if is_seeded(self.client, self.keys, self.crawl_id):
            log.info("no work left in distributed crawl %s: worker %s leaves", self.crawl_id, self.worker)
            return
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_timeout:
            raise DontCloseSpider
        log.info("distributed crawl %s not seeded after %ss of no work: worker %s leaves", self.crawl_id,
                 self.idle_timeout, self.worker)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """The last worker out cleans up: the crawl's keys (if it is done) and the shared crawl lock."""
        try:
            last = self._leave(spider.name)
        except RedisError as exc:
            log.error("cannot clean up distributed crawl %s: %s", self.crawl_id, exc)
            last = True  # cannot tell: give the lock back rather than block the site for a lease
        if not archive_enabled(self.crawler.settings):
            return
        engine = ArchiveEngine.of(self.crawler)  # the crawl's (disposed later by its owner)
        self._record_no_work(engine, reason)
        if last:
            self._release_lock(engine, spider.name)

    def _leave(self, site: str) -> bool:
        """Delete the crawl's keys if we are the last worker and nothing is left; False if others still work."""
        if live_workers(self.client, self.keys):
            return False
        self.reap()
        if not work_left(self.client, self.keys):
            if current_crawl(self.client, self.keys) == self.crawl_id:
                self.client.delete(self.keys.crawl, self.keys.queue, self.keys.seen, self.keys.workers,
                                   self.keys.seeded, self.keys.next_turn, self.keys.runs)
                log.info("distributed crawl %s of %s is complete", self.crawl_id, site)
        else:
            log.warning("distributed crawl %s of %s left unfinished (%d queued): `cqnews worker %s` resumes it",
                        self.crawl_id, site, self.client.zcard(self.keys.queue), site)
        return True

    def _record_no_work(self, engine: Any, reason: str) -> None:
        """A joining worker that took no request did not crawl: its run becomes ``skipped`` (``no_work_left``),
        which health checks ignore, instead of a finished crawl that fetched nothing (a dead site's signature).
        Runs after CrawlRunRecorder has written the row (see from_crawler)."""
        run_id = self.crawler.stats.get_value(CRAWL_RUN_ID) if self.crawler.stats else None
        if not (self.joined and run_id):
            return
        from sqlalchemy.exc import SQLAlchemyError

        try:
            run = runs.get_run(engine, run_id)
            if run is not None and run.status == runs.RunStatus.FINISHED and found_no_work(run):
                runs.mark_no_work(engine, run_id)
        except SQLAlchemyError as exc:  # the row stays "finished": only health checks read it differently
            log.error("cannot mark run %s as having had no work: %s", run_id, exc)

    def _release_lock(self, engine: Any, site: str) -> None:
        holder = self.crawler.settings.get("CQNEWS_LOCK_HOLDER")
        if not holder:
            return
        try:
            runs.release(engine, site, holder)
        except Exception as exc:  # it expires by itself
            log.error("cannot release the crawl lock of %s: %s", site, exc)


class StandingWorker:
    """``cqnews worker SITE --forever``: join each distributed crawl of SITE as it begins, until SIGTERM/SIGINT.

    Every crawl runs in a child process (Twisted's reactor cannot restart); between crawls this process only
    polls Redis for the next crawl id. The id of a crawl it has worked is remembered: the crawl's key outlives
    this worker until the last worker leaves, and joining it again would only find it drained. A signal stops the
    wait at once, or is passed on to the running crawl (SIGTERM once: Scrapy closes the spider, the scheduler
    gives back what it held), which is killed after ``stop_timeout`` seconds; either way the exit code is 0.
    """

    def __init__(self, client: redis.Redis, keys: Keys, command: Callable[[str], list[str]], *,
                 stop_timeout: float = 60, poll: float = 1.0, retry: float = 10.0) -> None:
        self.client = client
        self.keys = keys
        self.command = command  # crawl id -> the command line of one worker joining that crawl
        self.stop_timeout = stop_timeout
        self.poll = poll
        self.retry = retry  # seconds between attempts while Redis cannot be reached
        self.stopping = threading.Event()

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            worked: str | None = None
            while (crawl_id := self._next_crawl(worked)) is not None:
                self._work(crawl_id)
                worked = crawl_id
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("worker for %s stopped", self.keys.site)
        return 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.stopping.set()

    def _next_crawl(self, worked: str | None) -> str | None:
        """The next crawl to join (not ``worked``); None once asked to stop. Outlives Redis outages."""
        if not self.stopping.is_set():
            log.info("waiting for a distributed crawl of %s", self.keys.site)
        while not self.stopping.is_set():
            try:
                return wait_for_crawl(self.client, self.keys, None, after=worked, stop=self.stopping, poll=self.poll)
            except RedisError as exc:
                log.warning("cannot reach Redis (%s): trying again in %ss", exc, self.retry)
                self.stopping.wait(self.retry)
        return None

    def _work(self, crawl_id: str) -> None:
        """Run one worker of crawl ``crawl_id`` in a child process, until it ends or we are asked to stop."""
        log.info("joining distributed crawl %s of %s", crawl_id, self.keys.site)
        # A session of its own: a terminal's Ctrl-C reaches only us, and we stop the crawl once, cleanly.
        child = subprocess.Popen(self.command(crawl_id), stdin=subprocess.DEVNULL, start_new_session=True)
        while True:
            try:
                code = child.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if self.stopping.is_set():
                    code = self._stop(child)
                    break
        log.info("distributed crawl %s of %s: this worker's part ended (exit %s)", crawl_id, self.keys.site, code)

    def _stop(self, child: subprocess.Popen[bytes]) -> int:
        log.info("stopping the crawl (pid %d), up to %ss", child.pid, self.stop_timeout)
        child.send_signal(signal.SIGTERM)
        try:
            return child.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            log.error("crawl pid %d did not stop in %ss: killing it", child.pid, self.stop_timeout)
            child.kill()
            return child.wait()

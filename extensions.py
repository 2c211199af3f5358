"""CrawlRunRecorder: one ``crawl_runs`` row per crawl, written from Scrapy's own stats.

A crawl's health is judged from this row, never from the exit code of ``scrapy crawl`` (which is 0 on a
dead site). The row is inserted as ``running`` when the spider opens, so a crawl that dies without
closing is visible as such.

It also holds the site's crawl lock (db/locks.py) for the crawl's lifetime: taken when the spider opens
(a crawl that cannot take it closes at once with finish reason ``locked`` and status ``skipped``), renewed
every CQNEWS_LOCK_RENEW_SECONDS, given back when the spider closes. A killed crawl stops renewing; its lock
expires after CQNEWS_LOCK_LEASE_SECONDS and the next crawl marks its ``running`` row ``failed``.

The workers of one distributed crawl (distributed.py) share the lock: CQNEWS_LOCK_HOLDER names a holder common
to them all, so each one's ``acquire`` extends it rather than being refused, each renews it, and none of them
releases it here: the last worker to leave does (distributed.RedisScheduler). They do not mark stale runs
``failed``: the lock row names only one of the sibling runs, so the others would look dead.
"""
from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from cqnews.db import locks
from cqnews.db.models import CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker

log = logging.getLogger(__name__)


def summarise(stats: dict[str, Any]) -> dict[str, int]:
    """The crawl_runs counters, from a Scrapy stats dict."""

    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    return {
        "pages_fetched": get("response_received_count"),
        "articles_new": get("cqnews/store/new"),
        "articles_updated": get("cqnews/store/new_version"),
        "articles_unchanged": get("cqnews/store/unchanged") + get("cqnews/store/not_modified"),
        "articles_duplicate": get("cqnews/store/duplicate"),
        "articles_rejected": get("cqnews/extract/rejected"),
        # Counted per crawl, not from log_count/ERROR: crawls sharing a process share the logging root.
        "errors": get("cqnews/fetch/errors") + get("cqnews/item_errors") + get("spider_exceptions/count"),
    }


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()}


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.database_url: str = settings["CQNEWS_DATABASE_URL"]
        self.trigger: str = settings.get("CQNEWS_RUN_TRIGGER") or "manual"
        self.log_path: str | None = settings.get("CQNEWS_RUN_LOG_PATH") or None
        self.lease = settings.getfloat("CQNEWS_LOCK_LEASE_SECONDS", 300)
        self.renew_every = settings.getfloat("CQNEWS_LOCK_RENEW_SECONDS", 60)
        shared_holder: str = settings.get("CQNEWS_LOCK_HOLDER") or ""
        self.holder = shared_holder or locks.new_holder()
        self.shared_lock = bool(shared_holder)  # held together by the workers of one distributed crawl
        self.site: str | None = None
        self.locked = False
        self.renewer: LoopingCall | None = None
        self.run_id: int | None = None
        self.engine = make_engine(self.database_url)
        self.sessions = make_sessionmaker(self.engine)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        """A pipeline raised something other than DropItem (a database error, a bug): count it."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("cqnews/item_errors")
        self.crawler.stats.inc_value(f"cqnews/item_errors/{failure.type.__name__}")

    def spider_opened(self, spider: Spider) -> None:
        """Record the run, then take the site's lock; without it, close at once (reason ``locked``)."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        self.site = spider.name
        try:
            with self.sessions.begin() as session:
                run = CrawlRun(site=spider.name, started_at=datetime.now(UTC), status="running",
                               trigger=self.trigger, pid=os.getpid(), log_path=self.log_path)
                session.add(run)
                session.flush()
                self.run_id = run.id
            stats.set_value("cqnews/crawl_run_id", self.run_id)
            self.locked = locks.acquire(self.engine, spider.name, self.holder, self.lease, self.run_id)
            if not self.locked:
                other = locks.current(self.engine, spider.name)
                if other is not None:
                    stats.set_value("cqnews/lock/held_by", other.holder)
                    stats.set_value("cqnews/lock/held_by_run", other.run_id)
                    stats.set_value("cqnews/lock/expires_at", other.expires_at.isoformat())
                log.warning("another crawl of %s holds its lock (%s, run %s): this crawl is skipped",
                            spider.name, other.holder if other else "?", other.run_id if other else "?")
                raise CloseSpider("locked")
            stats.set_value("cqnews/lock/holder", self.holder)
            for stale in [] if self.shared_lock else locks.fail_stale_runs(self.engine, self.lease, spider.name):
                log.warning("run %s of %s was left running by a crawl that died: marked failed", stale, spider.name)
        except SQLAlchemyError as exc:
            log.error("cannot record the crawl run in the archive: %s", exc)
            return
        self.renewer = LoopingCall(self._renew)
        self.renewer.start(self.renew_every, now=False).addErrback(
            lambda failure: log.error("lock renewal stopped: %s", failure.value))

    def _renew(self) -> None:
        assert self.site is not None
        try:
            still_ours = locks.renew(self.engine, self.site, self.holder, self.lease)
        except SQLAlchemyError as exc:  # the lease may outlive a short outage; try again next time
            log.warning("cannot renew the crawl lock of %s: %s", self.site, exc)
            return
        if not still_ours:
            log.error("the crawl lock of %s expired and was taken over: closing this crawl", self.site)
            self.locked = False
            if self.renewer is not None and self.renewer.running:
                self.renewer.stop()
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="lock_lost"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.renewer is not None and self.renewer.running:
            self.renewer.stop()
        if self.run_id is None:
            self.engine.dispose()
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        counters = summarise(stats)
        if reason == "locked":
            status = "skipped"
        elif reason in ("finished", "closespider_pagecount", "closespider_itemcount"):
            status = "finished"
        else:
            status = "failed"
        try:
            with self.sessions.begin() as session:
                run = session.get(CrawlRun, self.run_id)
                if run is None:
                    return
                run.finished_at = datetime.now(UTC)
                run.finish_reason = reason
                run.status = status
                run.stats = _jsonable(stats)
                for name, value in counters.items():
                    setattr(run, name, value)
        except SQLAlchemyError as exc:
            log.error("cannot record the end of crawl run %s: %s", self.run_id, exc)
        finally:
            try:
                if self.locked and not self.shared_lock:  # after the row is written: the next crawl sees it finished
                    locks.release(self.engine, spider.name, self.holder)
            except SQLAlchemyError as exc:
                log.error("cannot release the crawl lock of %s (it expires by itself): %s", spider.name, exc)
            self.engine.dispose()

"""CrawlRunRecorder: one ``crawl_runs`` row per crawl (through db/runs.py), written from Scrapy's own stats.

A crawl's health is judged from this row, never from the exit code of ``scrapy crawl`` (which is 0 on a
dead site). The row is inserted as ``running`` when the spider opens, so a crawl that dies without
closing is visible as such.

It also holds the site's crawl lock (db/runs.py) for the crawl's lifetime: taken when the spider opens
(a crawl that cannot take it closes at once with finish reason ``locked`` and status ``skipped``), renewed
every CQNEWS_LOCK_RENEW_SECONDS, given back when the spider closes. A killed crawl stops renewing; its lock
expires after CQNEWS_LOCK_LEASE_SECONDS and the next crawl marks its ``running`` row ``failed``.

The archive's engine is the crawl's one engine (archive_engine.ArchiveEngine); with ``CQNEWS_ARCHIVE`` off there
is no archive to record in, and the recorder is not there (NotConfigured).

The workers of one distributed crawl (distributed.py) share the lock: CQNEWS_LOCK_HOLDER names a holder common
to them all, so each one's ``acquire`` extends it rather than being refused, each renews it, and none of them
releases it here: the last worker to leave does (distributed.RedisScheduler). They do not mark stale runs
``failed``: the lock row names only one of the sibling runs, so the others would look dead.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from cqnews.archive_engine import ArchiveEngine, archive_enabled
from cqnews.db import runs
from cqnews.db.runs import FinishReason, RunStatus, RunTrigger
from cqnews.items import RawPage
from cqnews.stats import (
    CRAWL_RUN_ID,
    EXTRACT_DEPTH_LIMIT,
    FETCH_OFFSITE_REDIRECT,
    ITEM_ERRORS,
    LOCK_EXPIRES_AT,
    LOCK_HELD_BY,
    LOCK_HELD_BY_RUN,
    LOCK_HOLDER,
    item_error,
    run_counters,
)

log = logging.getLogger(__name__)

# Scrapy's finish reasons of a crawl that ended normally (ran out of requests, or reached its page/item limit).
FINISHED_REASONS = frozenset({FinishReason.FINISHED, "closespider_pagecount", "closespider_itemcount"})


def run_status(reason: str) -> RunStatus:
    """How a crawl that closed with Scrapy finish reason ``reason`` is recorded."""
    if reason == FinishReason.LOCKED:
        return RunStatus.SKIPPED
    return RunStatus.FINISHED if reason in FINISHED_REASONS else RunStatus.FAILED


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()}


class CrawlRunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.trigger = RunTrigger(settings.get("CQNEWS_RUN_TRIGGER") or RunTrigger.MANUAL)
        self.log_path: str | None = settings.get("CQNEWS_RUN_LOG_PATH") or None
        self.lease = settings.getfloat("CQNEWS_LOCK_LEASE_SECONDS", 300)
        self.renew_every = settings.getfloat("CQNEWS_LOCK_RENEW_SECONDS", 60)
        shared_holder: str = settings.get("CQNEWS_LOCK_HOLDER") or ""
        self.holder = shared_holder or runs.new_holder()
        self.shared_lock = bool(shared_holder)  # held together by the workers of one distributed crawl
        self.site: str | None = None
        self.locked = False
        self.renewer: LoopingCall | None = None
        self.run_id: int | None = None
        self.engine: Engine | None = None  # the crawl's, from ArchiveEngine when the spider opens

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        if not archive_enabled(crawler.settings):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def item_error(self, item: Any, response: Any, spider: Spider, failure: Any) -> None:
        """A pipeline raised something other than DropItem (a database error, a bug): count it."""
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(ITEM_ERRORS)
        self.crawler.stats.inc_value(item_error(failure.type.__name__))

    def spider_opened(self, spider: Spider) -> None:
        """Record the run, then take the site's lock; without it, close at once (reason ``locked``)."""
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        self.site = spider.name
        self.engine = ArchiveEngine.of(self.crawler)
        try:
            self.run_id = runs.start_run(self.engine, spider.name, self.trigger, os.getpid(), self.log_path)
            stats.set_value(CRAWL_RUN_ID, self.run_id)
            self.locked = runs.acquire(self.engine, spider.name, self.holder, self.lease, self.run_id)
            if not self.locked:
                other = runs.current(self.engine, spider.name)
                if other is not None:
                    stats.set_value(LOCK_HELD_BY, other.holder)
                    stats.set_value(LOCK_HELD_BY_RUN, other.run_id)
                    stats.set_value(LOCK_EXPIRES_AT, other.expires_at.isoformat())
                log.warning("another crawl of %s holds its lock (%s, run %s): this crawl is skipped",
                            spider.name, other.holder if other else "?", other.run_id if other else "?")
                raise CloseSpider(FinishReason.LOCKED.value)
            stats.set_value(LOCK_HOLDER, self.holder)
            for stale in [] if self.shared_lock else runs.fail_stale_runs(self.engine, self.lease, spider.name):
                log.warning("run %s of %s was left running by a crawl that died: marked failed", stale, spider.name)
        except SQLAlchemyError as exc:
            log.error("cannot record the crawl run in the archive: %s", exc)
            return
        self.renewer = LoopingCall(self._renew)
        self.renewer.start(self.renew_every, now=False).addErrback(
            lambda failure: log.error("lock renewal stopped: %s", failure.value))

    def _renew(self) -> None:
        assert self.site is not None and self.engine is not None
        try:
            still_ours = runs.renew(self.engine, self.site, self.holder, self.lease)
        except SQLAlchemyError as exc:  # the lease may outlive a short outage; try again next time
            log.warning("cannot renew the crawl lock of %s: %s", self.site, exc)
            return
        if not still_ours:
            log.error("the crawl lock of %s expired and was taken over: closing this crawl", self.site)
            self.locked = False
            if self.renewer is not None and self.renewer.running:
                self.renewer.stop()
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=FinishReason.LOCK_LOST.value))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.renewer is not None and self.renewer.running:
            self.renewer.stop()
        if self.run_id is None or self.engine is None:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        try:
            runs.finish_run(self.engine, self.run_id, run_status(reason), reason, run_counters(stats),
                            _jsonable(stats))
        except SQLAlchemyError as exc:
            log.error("cannot record the end of crawl run %s: %s", self.run_id, exc)
        finally:
            try:
                if self.locked and not self.shared_lock:  # after the row is written: the next crawl sees it finished
                    runs.release(self.engine, spider.name, self.holder)
            except SQLAlchemyError as exc:
                log.error("cannot release the crawl lock of %s (it expires by itself): %s", spider.name, exc)


class LossCounter:
    """Counts two losses under keys of their own, which Scrapy and the parser leave unsaid or mixed with others.

    - A redirect to another site: Scrapy's OffsiteMiddleware drops the redirected request as it is scheduled
      (an IgnoreRequest from its ``request_scheduled`` handler: no errback, no ``request_dropped``), counted only
      in ``offsite/filtered`` beside every offsite link.
    - A page rejected by extraction whose HTML nests deeper than libxml2 parses (256 levels: 85 nested tables):
      its text was cut at that depth, so it looked too short; counted beside its rejection reason.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LossCounter:
        ext = cls(crawler)
        crawler.signals.connect(ext.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.item_dropped, signal=signals.item_dropped)
        return ext

    def count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Beside OffsiteMiddleware's own handler of this signal, which drops the request without a trace."""
        chain = request.meta.get("redirect_urls")
        offsite = self.crawler.get_downloader_middleware(OffsiteMiddleware)
        if not chain or offsite is None or request.dont_filter or request.meta.get("allow_offsite") \
                or offsite.should_follow(request, spider):
            return  # not a redirect, or one Scrapy follows (its own tests, in the same order)
        self.count(FETCH_OFFSITE_REDIRECT)
        log.info("redirect to another site not followed: %s -> %s", chain[-1], request.url)

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        if isinstance(item, RawPage) and exceeds_parser_depth(item.body):  # a RawPage is dropped by extraction only
            self.count(EXTRACT_DEPTH_LIMIT)
            log.warning("text cut by the HTML parser's depth limit (256 nested elements): %s", item.url)


def exceeds_parser_depth(body: bytes) -> bool:
    """Whether libxml2's HTML parser stops at its nesting limit in ``body`` (it then drops what lies deeper)."""
    from lxml import etree

    parser = etree.HTMLParser()
    try:
        etree.fromstring(body, parser)
    except etree.LxmlError:  # nothing parseable: not a depth problem
        return False
    return any("Excessive depth" in error.message for error in parser.error_log)


# The run counters that count an article the store recorded, whatever became of it.
ARTICLE_OUTCOMES = ("articles_new", "articles_updated", "articles_unchanged", "articles_duplicate")


class ProgressLine:
    """One line on stderr, redrawn every second while the crawl runs: pages, articles, new ones, the page rate.

    For people at a terminal: on only with ``CQNEWS_PROGRESS`` (the CLI sets it when stderr is a terminal, or for
    ``--progress``); a scheduled crawl's log file never gets it. A log record written meanwhile first clears the
    line (a filter on the root handlers), so it is not glued to it; the line is cleared when the crawl closes,
    before the summary. Scrapy's own LogStats says the same every minute, in the log.
    """

    INTERVAL = 1.0

    def __init__(self, crawler: Crawler, stream: Any = None) -> None:
        self.crawler = crawler
        self.stream = stream if stream is not None else sys.stderr
        self.task: LoopingCall | None = None
        self.started = time.monotonic()
        self.shown = False
        self.site = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLine:
        if not crawler.settings.getbool("CQNEWS_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.site, self.started = spider.name, time.monotonic()
        for handler in logging.getLogger().handlers:
            handler.addFilter(self._before_a_record)
        self.task = LoopingCall(self.draw)
        self.task.start(self.INTERVAL, now=False)

    def text(self) -> str:
        """The counters of the run's row and of the summary table (stats.run_counters, which CrawlProgress writes
        to the row), so the line, ``cqnews runs --follow`` and the summary agree."""
        assert self.crawler.stats is not None
        counters = run_counters(self.crawler.stats.get_stats())
        pages, seconds = counters["pages_fetched"], max(time.monotonic() - self.started, 1e-9)
        articles = sum(counters[key] for key in ARTICLE_OUTCOMES)
        return (f"{self.site}: {pages} pages, {articles} articles ({counters['articles_new']} new, "
                f"{counters['articles_updated']} updated), {pages / seconds:.1f} pages/s")

    def draw(self) -> None:
        self.stream.write(f"\r{self.text()}\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    def _before_a_record(self, record: logging.LogRecord) -> bool:
        self.clear()
        return True

    def spider_closed(self, spider: Spider) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._before_a_record)
        self.clear()

"""CrawlProgress: a running crawl writes its counters to its ``crawl_runs`` row every few seconds.

Without it a crawl's counters appear only when it ends; with it ``cqnews runs``, ``runs --follow`` and ``status``
show a running crawl's pages so far and its rate. The row is the one CrawlRunRecorder inserted (its id is in
the stats, ``cqnews/crawl_run_id``); the writes go through db/runs.py. The same update tells the crawl whether an
operator asked to cancel it (``cqnews cancel RUN``, from any host): it then closes with reason ``cancelled``.

Every CQNEWS_PROGRESS_SECONDS (0: off, and the extension is not there); off too without an archive.
"""
from __future__ import annotations

import logging

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet.task import LoopingCall

from cqnews.archive_engine import ArchiveEngine, archive_enabled
from cqnews.db import runs
from cqnews.db.runs import FinishReason
from cqnews.stats import CRAWL_RUN_ID, run_counters

log = logging.getLogger(__name__)


class CrawlProgress:
    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.loop: LoopingCall | None = None
        self.cancelled = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        interval = crawler.settings.getfloat("CQNEWS_PROGRESS_SECONDS", 5)
        if interval <= 0 or not archive_enabled(crawler.settings):
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.loop = LoopingCall(self.update)
        self.loop.start(self.interval, now=False).addErrback(
            lambda failure: log.error("progress updates stopped: %s", failure.value))

    def update(self) -> None:
        """Write the counters so far; close the crawl if its run was cancelled."""
        assert self.crawler.stats is not None
        run_id = self.crawler.stats.get_value(CRAWL_RUN_ID)
        if run_id is None or self.cancelled:
            return
        try:
            cancel = runs.update_progress(ArchiveEngine.of(self.crawler), run_id,
                                          run_counters(self.crawler.stats.get_stats()))
        except SQLAlchemyError as exc:  # progress is a courtesy: the run's end is recorded anyway
            log.warning("cannot write the progress of run %s: %s", run_id, str(exc).splitlines()[0])
            return
        if cancel:
            log.warning("run %s was cancelled by an operator (cqnews cancel): closing the crawl", run_id)
            self.cancelled = True
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=FinishReason.CANCELLED.value))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

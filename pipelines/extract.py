"""ExtractPipeline: a RawPage becomes an Article, or is dropped with a counted reason.

Extraction is the crawl's CPU ceiling (~45 ms a page against ~4 ms to fetch one), so it runs in a pool of
worker processes, off the reactor thread (``CQNEWS_EXTRACT_PROCESSES``, default one per core; 0 or 1 runs it
in the crawl's own process). Memory stays flat because Scrapy's scraper only takes new responses while the
items in flight stay under ``SCRAPER_SLOT_MAX_ACTIVE_SIZE``: a busy pool slows the downloads down.

A page the archive already holds unchanged (``not_modified``) passes through unextracted: the store only
records the visit. The further pages of a multi-page article add their body text to the first page's.
With ``CQNEWS_EXTRACT`` off the pipeline is not there (NotConfigured): the crawl's items stay RawPages.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing import forkserver
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from cqnews.cputime import StageTimes
from cqnews.extraction.version import EXTRACTOR_VERSION
from cqnews.items import Article, RawPage
from cqnews.lifetime import POOL_PARENT_ENV
from cqnews.pipelines.extract_worker import Outcome, PageArgs, extract_page, extract_pickled, start_worker
from cqnews.stats import (
    CPU_TRANSFER,
    EXTRACT_ENCODING_OVERRIDDEN,
    EXTRACT_OK,
    EXTRACT_PAGES_WITH_REPLACEMENT_CHARS,
    EXTRACT_REJECTED,
    EXTRACT_REPLACEMENT_CHARS,
    EXTRACT_SKIPPED_NOT_MODIFIED,
    count_cpu,
    extract_part_rejected,
    extract_rejected,
)
from cqnews.urls import canonical_url

__all__ = ["ExtractPipeline", "Outcome", "extract_page"]  # the worker's side: pipelines/extract_worker.py

log = logging.getLogger(__name__)


class SharedPool:
    """One pool of extraction workers per process, however many crawls the process runs at once.

    Crawls acquire it with their first page to extract and release it when they close; the last one out
    shuts it down. Workers are forked from a forkserver that has already imported the extractor, so they
    start fast and do not inherit the reactor's threads and sockets, as a plain fork would make them.

    The forkserver and the workers die with the crawl whatever kills it (pipelines/forkserver.py). The kernel
    ties the forkserver to the *thread* that started it, so :meth:`acquire` starts it from the calling thread,
    the reactor's, which lives as long as the crawl.
    """

    _pool: ProcessPoolExecutor | None = None
    _users = 0

    @classmethod
    def acquire(cls, processes: int) -> ProcessPoolExecutor:
        if cls._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["cqnews.pipelines.forkserver"])  # it imports the extractor
            os.environ[POOL_PARENT_ENV] = str(os.getpid())  # for the forkserver only: gone before anything else starts
            try:
                forkserver.ensure_running()  # from this thread: the forkserver dies with it
            finally:
                del os.environ[POOL_PARENT_ENV]
            cls._pool = ProcessPoolExecutor(processes, mp_context=context, initializer=start_worker)
            log.info("extracting in %d worker processes", processes)
        cls._users += 1
        return cls._pool

    @classmethod
    def release(cls) -> None:
        cls._users -= 1
        if cls._users == 0 and cls._pool is not None:
            cls._pool.shutdown(wait=True, cancel_futures=True)
            cls._pool = None


class ExtractPipeline:
    def __init__(self, stats: StatsCollector, min_chars: int, processes: int) -> None:
        self.stats = stats
        self.min_chars = min_chars
        self.processes = processes
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        assert crawler.stats is not None
        settings = crawler.settings
        if not settings.getbool("CQNEWS_EXTRACT", True):
            raise NotConfigured
        processes = settings.getint("CQNEWS_EXTRACT_PROCESSES", os.cpu_count() or 1)
        return cls(crawler.stats, settings.getint("CQNEWS_MIN_TEXT_CHARS", 60), processes)

    async def _in_pool(self, pool: Executor, args: PageArgs) -> Outcome:
        times = StageTimes()
        payload = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        times.lap(CPU_TRANSFER)
        data, dumped_ms = await asyncio.wrap_future(pool.submit(extract_pickled, payload))
        times.restart()
        outcome: Outcome = pickle.loads(data)
        times.lap(CPU_TRANSFER)
        times.add(CPU_TRANSFER, dumped_ms)
        count_cpu(self.stats, times.take())
        return outcome

    def open_spider(self) -> None:
        """The worker pool starts with the first page to extract: a re-crawl that finds nothing new needs none."""

    def close_spider(self) -> None:
        if self.pool is not None:
            SharedPool.release()
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        if item.not_modified:
            self.stats.inc_value(EXTRACT_SKIPPED_NOT_MODIFIED)
            return item
        args: PageArgs = (item.body, item.url, item.content_type, item.body_selector, self.min_chars, item.parts)
        if self.pool is None and self.processes > 1:
            self.pool = SharedPool.acquire(self.processes)
        if self.pool is not None:
            outcome = await self._in_pool(self.pool, args)
        else:
            outcome = extract_page(*args)
        count_cpu(self.stats, outcome.cpu_ms)
        for reason in outcome.part_rejections:
            self.stats.inc_value(extract_part_rejected(reason))
        if outcome.extracted is None:
            self.stats.inc_value(extract_rejected(str(outcome.rejected)))
            self.stats.inc_value(EXTRACT_REJECTED)
            raise DropItem(f"not an article ({outcome.rejected}): {item.url}", log_level="INFO")
        extracted = outcome.extracted
        self.stats.inc_value(EXTRACT_OK)
        if extracted.encoding_overridden:
            self.stats.inc_value(EXTRACT_ENCODING_OVERRIDDEN)
        if extracted.replacement_chars:  # bytes that decoded to U+FFFD: a page worth a look
            self.stats.inc_value(EXTRACT_REPLACEMENT_CHARS, extracted.replacement_chars)
            self.stats.inc_value(EXTRACT_PAGES_WITH_REPLACEMENT_CHARS)
        article = Article(page=item, extracted=extracted, canonical_url=canonical_url(item.url),
                          extractor_version=EXTRACTOR_VERSION)
        if outcome.fingerprints is not None:  # made in the worker (the dedup makes them otherwise)
            made = outcome.fingerprints
            article.text_hash, article.content_hash, article.simhash = made.text_hash, made.content_hash, made.simhash
        return article

"""StorePipeline: writes articles to the versioned archive in batches, and counts what happened to each.

It also takes the pages the crawler found unchanged (``RawPage.not_modified``: an HTTP 304, or the same bytes
as the archived capture), which only record a visit. The archive takes plain records (``db.records``), not
the crawl's items: ``archive_record`` converts one, and is where a 304 and a same-bytes page are told apart.

Writes run in a thread, one batch (one transaction) at a time: while a batch is written the crawl goes on
fetching and extracting, and what arrives meanwhile becomes the next batch (at most
``CQNEWS_STORE_BATCH`` items). A batch that is not full waits up to ``CQNEWS_STORE_WAIT`` seconds for
more: a write is faster than the pool extracts, so without the wait a first crawl's batches held one or two
articles and paid a transaction and one statement per table for each (issue 19: 1,000 generated pages made
~600 batches); a batch of new articles is written with one statement per table (``Archive.record_batch``).
An item's ``process_item`` returns only when its batch has committed: Scrapy holds the response until then
(its scraper slot bounds the memory), and a distributed worker acknowledges the request only once the article
is in the archive, so a crash loses nothing that was reported stored.

The archive is the crawl's one engine (archive_engine.ArchiveEngine), taken when the spider opens. With
``CQNEWS_ARCHIVE`` off the pipeline is not there (NotConfigured): nothing is stored.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from cqnews.archive_engine import ArchiveEngine, archive_enabled
from cqnews.db.migrate import require_head
from cqnews.db.records import ArticleRecord, Capture, UnchangedVisit
from cqnews.db.revisit import RevisitPolicy, parse_ladder
from cqnews.items import Article, RawPage
from cqnews.stats import (
    CPU_STORE,
    STORE_BATCHES,
    STORE_FAILED,
    STORE_INDEXED_BY_TITLE_ONLY,
    STORE_LARGEST_BATCH,
    count_cpu,
    store_outcome,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cqnews.db.archive import Archive, Recorded

log = logging.getLogger(__name__)

Storable = ArticleRecord | UnchangedVisit


def archive_record(item: Article | RawPage) -> Storable:
    """What the archive is to write for an item: an article's record, or the visit of an unchanged page."""
    if isinstance(item, RawPage):  # not modified: HTTP 304 (no body to count) or the archived bytes again
        capture = None if item.status == 304 else _capture(item, item.url, item.status, item.body)
        return UnchangedVisit(site=item.site, url=item.url, seen_at=item.fetched_at, capture=capture)
    page, extracted = item.page, item.extracted
    return ArticleRecord(
        site=page.site,
        canonical_url=item.canonical_url,
        capture=_capture(page, page.url, page.status, page.body, extracted.encoding, extracted.encoding_overridden),
        # the further pages: responses that succeeded (Scrapy sends the others to the spider's errback), read
        # in the first page's encoding
        parts=tuple(_capture(page, url, 200, body, extracted.encoding, extracted.encoding_overridden)
                    for url, body in page.parts),
        text=extracted.text,
        title=extracted.title,
        author=extracted.author,
        source=extracted.source,
        editor=extracted.editor,
        published_at=extracted.published_at,
        language=extracted.language,
        content_hash=item.content_hash,
        text_hash=item.text_hash,
        extractor_version=item.extractor_version,
        simhash=item.simhash,
    )


def _capture(page: RawPage, url: str, status: int, body: bytes, encoding: str | None = None,
             encoding_overridden: bool = False) -> Capture:
    return Capture(url=url, status=status, headers=page.headers, body=body, fetched_at=page.fetched_at,
                   encoding=encoding, encoding_overridden=encoding_overridden)


class StorePipeline:
    def __init__(self, crawler: Crawler, stats: StatsCollector, revisit: RevisitPolicy, site_title: str = "",
                 batch_size: int = 100, wait: float = 0.0) -> None:
        self.crawler = crawler
        self.stats = stats
        self.revisit = revisit
        self.site_title = site_title
        self.batch_size = max(1, batch_size)
        self.wait = wait  # seconds a batch that is not full waits for more items
        self.engine: Engine | None = None
        self.archive: Archive | None = None  # made with the first batch (_write_waiting)
        self.waiting: list[tuple[Storable, asyncio.Future[Recorded | Exception]]] = []
        self.writer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        assert crawler.stats is not None
        settings = crawler.settings
        if not archive_enabled(settings):
            raise NotConfigured
        revisit = RevisitPolicy(
            ladder=parse_ladder(settings.get("CQNEWS_REVISIT_LADDER", "1h,6h,1d,3d")),
            max_age=timedelta(days=settings.getfloat("CQNEWS_REVISIT_MAX_AGE_DAYS", 30)),
        )
        site_title = getattr(crawler.spider, "site_title", "") or ""
        return cls(crawler, crawler.stats, revisit, site_title, settings.getint("CQNEWS_STORE_BATCH", 100),
                   settings.getfloat("CQNEWS_STORE_WAIT", 0.0))

    def open_spider(self) -> None:
        self.engine = ArchiveEngine.of(self.crawler)
        require_head(self.engine)

    async def process_item(self, item: Any) -> Any:
        if self.engine is None or not (isinstance(item, Article) or (isinstance(item, RawPage) and
                                                                       item.not_modified)):
            return item
        record = archive_record(item)
        stored: asyncio.Future[Recorded | Exception] = asyncio.get_running_loop().create_future()
        self.waiting.append((record, stored))
        if self.writer is None or self.writer.done():
            self.writer = asyncio.ensure_future(self._write_waiting())
        recorded = await stored
        url = record.canonical_url if isinstance(record, ArticleRecord) else record.url
        if isinstance(recorded, Exception):
            self.stats.inc_value(STORE_FAILED)
            raise recorded
        self.stats.inc_value(store_outcome(recorded.outcome.value))
        if recorded.title_only:
            self.stats.inc_value(STORE_INDEXED_BY_TITLE_ONLY)
        log.debug("%s %s (article %s v%s)", recorded.outcome, url, recorded.article_id, recorded.version_no)
        return item

    async def _write_waiting(self) -> None:
        """Write what is waiting, batch after batch, until nothing is left."""
        if self.archive is None:  # the writers and the ORM, imported once there is something to store: an
            from cqnews.db.archive import Archive  # unchanged re-crawl has nothing (~0.05 s of its ~0.6 s of CPU)

            assert self.engine is not None
            self.archive = Archive(self.engine, self.revisit)
        while self.waiting:
            await self._fill_batch()
            batch, self.waiting = self.waiting[: self.batch_size], self.waiting[self.batch_size :]
            records = [record for record, _ in batch]
            try:
                results, cpu = await asyncio.to_thread(self._timed_batch, records)
            except Exception as exc:  # the transaction failed: none of the batch is stored
                log.error("could not store a batch of %d items: %s", len(records), exc)
                results = [exc] * len(records)
            else:
                count_cpu(self.stats, cpu)
                self.stats.inc_value(STORE_BATCHES)
                self.stats.max_value(STORE_LARGEST_BATCH, len(records))
            for (_, stored), result in zip(batch, results, strict=True):
                stored.set_result(result)

    async def _fill_batch(self) -> None:
        """Wait up to ``wait`` seconds for a full batch, looking every 20 ms; no longer than the crawl can send more:
        not when nothing is being downloaded and every item of the crawl is waiting here (the crawl's end, a
        slow site). (Not when Scrapy's slot is over its size limit either, a first version: with the pool busy the
        slot is over it most of the time, and 1,000 pages made 434 batches again.)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while len(self.waiting) < self.batch_size and not self._nothing_else_coming():
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.02))

    def _nothing_else_coming(self) -> bool:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # not in a running crawl (Scrapy sets the engine when it starts): a test's pipeline
            return False
        if engine is None or engine.scraper.slot is None:
            return False
        slot = engine.scraper.slot
        return not engine.downloader.active and not slot.queue and slot.itemproc_size <= len(self.waiting)

    def _timed_batch(self, records: list[Storable]) -> tuple[list[Recorded | Exception], dict[str, float]]:
        """``record_batch`` in the writer thread, and its CPU ms by stage: the index and compression as the
        archive timed them, the rest as ``store`` (counted by the reactor thread, which owns the stats)."""
        assert self.archive is not None
        start = time.thread_time()
        try:
            results = self.archive.record_batch(records, self.site_title)
        finally:
            cpu = self.archive.cpu.take()
        cpu[CPU_STORE] = (time.thread_time() - start) * 1000 - sum(cpu.values())
        return results, cpu

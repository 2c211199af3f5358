"""DedupPipeline: fingerprints an article's content, and drops repeats of the same page within one crawl.

Three fingerprints: ``text_hash`` (the body alone, whitespace-normalised) finds the same text under another
URL; ``content_hash`` (title + body + publication date) decides whether a known URL changed; ``simhash`` lets
the archive link reposts of a story across outlets (all three defined in ``cqnews.fingerprints``). Dedup
across crawls happens in the archive, against stored fingerprints. With ``CQNEWS_ARCHIVE`` off (nothing is
stored) the pipeline is not there (NotConfigured).
"""
from __future__ import annotations

import hashlib
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.statscollectors import StatsCollector

from cqnews.archive_engine import archive_enabled
from cqnews.cputime import StageTimes
from cqnews.fingerprints import fingerprints
from cqnews.items import Article
from cqnews.stats import CPU_FINGERPRINTS, DEDUP_REPEAT_IN_CRAWL, count_cpu
from cqnews.urls import url_key


class DedupPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self._seen: set[bytes] = set()  # 16-byte digests: a crawl of 20,000 pages keeps 1 MB here, not 6

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        assert crawler.stats is not None
        if not archive_enabled(crawler.settings):
            raise NotConfigured
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        if not item.text_hash or not item.content_hash or item.simhash is None:  # ExtractPipeline's workers
            times = StageTimes()  # usually made them already
            made = fingerprints(item.extracted.title, item.extracted.text, item.extracted.published_at)
            item.text_hash, item.content_hash, item.simhash = made.text_hash, made.content_hash, made.simhash
            times.lap(CPU_FINGERPRINTS)
            count_cpu(self.stats, times.take())
        key = hashlib.blake2b(f"{url_key(item.canonical_url)}\x1f{item.content_hash}".encode(), digest_size=16).digest()
        if key in self._seen:
            self.stats.inc_value(DEDUP_REPEAT_IN_CRAWL)
            raise DropItem(f"already stored in this crawl: {item.canonical_url}", log_level="DEBUG")
        self._seen.add(key)
        return item

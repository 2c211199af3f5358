"""DedupPipeline: fingerprints an article's content, and drops repeats of the same page within one crawl.

Three fingerprints: ``text_hash`` (the body alone, whitespace-normalised) finds the same text under another
URL; ``content_hash`` (title + body + publication date) decides whether a known URL changed; ``simhash``
(``pipelines.neardup``) lets the archive link reposts of a story across outlets. Dedup across crawls happens
in the archive, against stored fingerprints.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from cqnews.items import Article, Extracted
from cqnews.pipelines.neardup import simhash
from cqnews.stats import DEDUP_REPEAT_IN_CRAWL
from cqnews.urls import url_key

_SPACE = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """NFKC and collapsed white space: what a reader would call "the same text"."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def content_fingerprint(extracted: Extracted) -> str:
    published = extracted.published_at.isoformat() if extracted.published_at else ""
    parts = (normalise(extracted.title), normalise(extracted.text), published)
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class DedupPipeline:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self._seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article):
            return item
        item.text_hash = text_fingerprint(item.extracted.text)
        item.content_hash = content_fingerprint(item.extracted)
        if item.simhash is None:  # ExtractPipeline's workers usually computed it already
            item.simhash = simhash(normalise(item.extracted.text))
        key = (url_key(item.canonical_url), item.content_hash)
        if key in self._seen:
            self.stats.inc_value(DEDUP_REPEAT_IN_CRAWL)
            raise DropItem(f"already stored in this crawl: {item.canonical_url}", log_level="DEBUG")
        self._seen.add(key)
        return item

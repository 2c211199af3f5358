"""StorePipeline: writes each article to the versioned archive and counts what happened to it."""
from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from db.archive import Archive
from db.migrate import require_head
from db.session import make_engine
from items import Article

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, stats: StatsCollector, database_url: str, site_title: str = "") -> None:
        self.stats = stats
        self.database_url = database_url
        self.site_title = site_title
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        assert crawler.stats is not None
        site_title = getattr(crawler.spider, "site_title", "") or ""
        return cls(crawler.stats, crawler.settings["CQNEWS_DATABASE_URL"], site_title)

    def open_spider(self) -> None:
        engine = make_engine(self.database_url)
        require_head(engine)
        self.archive = Archive(engine)

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.engine.dispose()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Article) or self.archive is None:
            return item
        recorded = self.archive.record(item, self.site_title)
        self.stats.inc_value(f"cqnews/store/{recorded.outcome.value}")
        log.debug("%s %s (article %s v%s)", recorded.outcome, item.canonical_url, recorded.article_id,
                  recorded.version_no)
        return item

"""StorePipeline: writes each article to the versioned archive and counts what happened to it.

It also takes the pages the crawler found unchanged (``RawPage.not_modified``), which only record a visit.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from db.archive import Archive, RevisitPolicy
from db.migrate import require_head
from db.revisit import parse_ladder
from db.session import make_engine
from items import Article, RawPage

log = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, stats: StatsCollector, database_url: str, revisit: RevisitPolicy, site_title: str = "") -> None:
        self.stats = stats
        self.database_url = database_url
        self.revisit = revisit
        self.site_title = site_title
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        assert crawler.stats is not None
        settings = crawler.settings
        revisit = RevisitPolicy(
            ladder=parse_ladder(settings.get("CQNEWS_REVISIT_LADDER", "1h,6h,1d,3d")),
            max_age=timedelta(days=settings.getfloat("CQNEWS_REVISIT_MAX_AGE_DAYS", 30)),
        )
        site_title = getattr(crawler.spider, "site_title", "") or ""
        return cls(crawler.stats, settings["CQNEWS_DATABASE_URL"], revisit, site_title)

    def open_spider(self) -> None:
        engine = make_engine(self.database_url)
        require_head(engine)
        self.archive = Archive(engine, self.revisit)

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.engine.dispose()

    def process_item(self, item: Any) -> Any:
        if self.archive is None:
            return item
        if isinstance(item, RawPage) and item.not_modified:
            recorded, url = self.archive.record_not_modified(item), item.url
        elif isinstance(item, Article):
            recorded, url = self.archive.record(item, self.site_title), item.canonical_url
        else:
            return item
        self.stats.inc_value(f"cqnews/store/{recorded.outcome.value}")
        log.debug("%s %s (article %s v%s)", recorded.outcome, url, recorded.article_id, recorded.version_no)
        return item

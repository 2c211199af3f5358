"""CrawlRunRecorder: one ``crawl_runs`` row per crawl, written from Scrapy's own stats.

A crawl's health is judged from this row, never from the exit code of ``scrapy crawl`` (which is 0 on a
dead site). The row is inserted as ``running`` when the spider opens, so a crawl that dies without
closing is visible as such.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError

from db.models import CrawlRun
from db.session import make_engine, make_sessionmaker

log = logging.getLogger(__name__)


def summarise(stats: dict[str, Any]) -> dict[str, int]:
    """The crawl_runs counters, from a Scrapy stats dict."""

    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    return {
        "pages_fetched": get("response_received_count"),
        "articles_new": get("cqnews/store/new"),
        "articles_updated": get("cqnews/store/new_version"),
        "articles_unchanged": get("cqnews/store/unchanged"),
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
        self.database_url: str = crawler.settings["CQNEWS_DATABASE_URL"]
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
        try:
            with self.sessions.begin() as session:
                run = CrawlRun(site=spider.name, started_at=datetime.now(UTC), status="running")
                session.add(run)
                session.flush()
                self.run_id = run.id
        except SQLAlchemyError as exc:
            log.error("cannot record the crawl run in the archive: %s", exc)
            return
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("cqnews/crawl_run_id", self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        counters = summarise(stats)
        failed = reason not in ("finished", "closespider_pagecount", "closespider_itemcount")
        try:
            with self.sessions.begin() as session:
                run = session.get(CrawlRun, self.run_id)
                if run is None:
                    return
                run.finished_at = datetime.now(UTC)
                run.finish_reason = reason
                run.status = "failed" if failed else "finished"
                run.stats = _jsonable(stats)
                for name, value in counters.items():
                    setattr(run, name, value)
        except SQLAlchemyError as exc:
            log.error("cannot record the end of crawl run %s: %s", self.run_id, exc)
        finally:
            self.engine.dispose()

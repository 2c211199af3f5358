"""ArchiveEngine: the one SQLAlchemy engine of a crawl, owned by this extension; the others ask it for it.

Every component that reads or writes the archive (the run recorder, the incremental middleware, the store
pipeline, the distributed scheduler) gets the engine from :meth:`ArchiveEngine.of`, so a crawl reads
``CQNEWS_DATABASE_URL`` (settings.py reads the environment) once, opens one pool of connections and sets the
SQLite pragmas once, instead of each component building and disposing an engine of its own.

The engine is built in ``from_crawler``: extensions are built before the downloader, the spider middlewares and
the pipelines, so it exists before any of them opens. It is disposed when the spider closes, by a
``spider_closed`` handler connected when the spider opens, so that it runs after the handlers every other
component connected when it was built (the run recorder writes the run's last row there). That covers a crawl
closed while it opens, too (a crawl skipped for its lock), which never starts Scrapy's engine, so never stops it.

A crawl the CLI starts uses the CLI's engine instead (:func:`lend`, through ``runner.run_crawls``): the CLI has
already opened the archive and checked its schema, so the crawl reuses that pool rather than connecting again,
and the CLI, which reads the crawl's row afterwards, disposes it. Either way the engine comes from
``db.session.settings_engine``, the one reader of the archive's settings.

With ``CQNEWS_ARCHIVE`` off (a crawl that only fetches) it raises ``NotConfigured``, as does every component that
uses it (with no message: Scrapy logs a NotConfigured message as a warning, and a setting switched off on purpose
is not one). A crawler holds one engine: several crawls in one process (``cqnews crawl --all``) have one each.
"""
from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from sqlalchemy import Engine

from cqnews.db.session import settings_engine


def archive_enabled(settings: BaseSettings) -> bool:
    """Whether this crawl writes to (and reads from) the archive: ``CQNEWS_ARCHIVE``, on unless switched off."""
    return settings.getbool("CQNEWS_ARCHIVE", True)


# The attribute of a Crawler holding the engine lent to its crawl (Scrapy's settings are deep-copied per crawler,
# so they cannot carry an engine).
_LENT = "_cqnews_lent_engine"


def lend(crawler: Crawler, engine: Engine) -> None:
    """Have ``crawler``'s crawl use ``engine`` (built by ``settings_engine`` from the same settings) instead of
    building its own; the lender keeps it and disposes it. Call before the crawl starts."""
    setattr(crawler, _LENT, engine)


class ArchiveEngine:
    def __init__(self, crawler: Crawler, engine: Engine, owned: bool = True) -> None:
        self.crawler = crawler
        self.engine = engine
        self.owned = owned  # built here, so disposed here; a lent engine is its lender's to dispose

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveEngine:
        if not archive_enabled(crawler.settings):
            raise NotConfigured
        lent: Any = getattr(crawler, _LENT, None)
        if lent is not None:
            ext = cls(crawler, lent, owned=False)
        else:
            ext = cls(crawler, settings_engine(crawler.settings))  # with the configured timeouts
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    @classmethod
    def of(cls, crawler: Crawler) -> Engine:
        """The archive engine of ``crawler``'s crawl; callable from the spider's opening on (not in from_crawler)."""
        ext = crawler.get_extension(cls)
        if ext is None:
            raise RuntimeError("the crawl has no archive engine: CQNEWS_ARCHIVE is off, or "
                               "cqnews.archive_engine.ArchiveEngine was removed from EXTENSIONS")
        return ext.engine

    def spider_opened(self, spider: Spider) -> None:
        if self.owned:
            self.crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def spider_closed(self, spider: Spider) -> None:
        self.engine.dispose()

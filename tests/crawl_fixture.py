"""Run one spider against a fixture server and print what it yielded as JSON, in a process of its own.

Twisted's reactor cannot restart, so tests call this script once per crawl instead of crawling in-process:
``python -P tests/crawl_fixture.py SPIDER BASE_URL [--archive DATABASE_URL]``, from any folder. The project
settings are used as they are, except that politeness delays are dropped for the loopback server and, without
``--archive``, the archive and extraction are switched off (``CQNEWS_ARCHIVE=0``, ``CQNEWS_EXTRACT=0``: the
crawl is about fetching, and touches no database). With ``--archive`` the crawl extracts and stores into
DATABASE_URL (migrated to the schema head) like any crawl.

Prints ``{"pages": [...], "stats": {...}, "components": [...], "engines_created": N}`` on stdout: the pages
yielded, the numeric stats, the class names of the extensions, middlewares and pipelines the crawl enabled,
and how many SQLAlchemy engines the crawl built from its database URL (counted by :class:`EngineCounter`,
a SQLAlchemy plugin named in that URL). Scrapy's log goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning
from sqlalchemy import Engine
from sqlalchemy.dialects import plugins
from sqlalchemy.engine import URL, CreateEnginePlugin, make_url

from cqnews.items import RawPage
from cqnews.runner import project_settings

ENGINE_COUNTER = "cqnews_test_engine_counter"
FETCH_ONLY: dict[str, Any] = {"CQNEWS_ARCHIVE": False, "CQNEWS_EXTRACT": False}
TEST_OVERRIDES: dict[str, Any] = {
    "CQNEWS_EXTRACT_PROCESSES": 0,  # with --archive: a few pages, extracted in this process, no pool to start
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CLOSESPIDER_TIMEOUT": 90,
    "LOG_LEVEL": "INFO",
}


class EngineCounter(CreateEnginePlugin):
    """A SQLAlchemy plugin that counts the engines created with it, i.e. from the crawl's database URL.

    SQLAlchemy loads the plugins a URL names in its ``plugin`` query parameter (and drops the parameter before
    connecting): :func:`counted` names this one in the URL the crawl is given, so every engine any component
    builds from ``CQNEWS_DATABASE_URL`` is counted, whoever builds it.
    """

    created = 0

    def update_url(self, url: URL) -> URL:
        return url  # SQLAlchemy has already taken the plugin parameter off

    def engine_created(self, engine: Engine) -> None:
        EngineCounter.created += 1


def counted(database_url: str) -> str:
    """``database_url`` naming :class:`EngineCounter` as a plugin."""
    plugins.register(ENGINE_COUNTER, __name__, "EngineCounter")
    return make_url(database_url).update_query_dict({"plugin": ENGINE_COUNTER}).render_as_string(hide_password=False)


def components(crawler: Crawler) -> list[str]:
    """Class names of the extensions, downloader and spider middlewares and item pipelines the crawl built."""
    assert crawler.engine is not None
    managers = [crawler.extensions, crawler.engine.downloader.middleware, crawler.engine.scraper.spidermw,
                crawler.engine.scraper.itemproc]
    return [type(component).__name__ for manager in managers for component in manager.middlewares]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="crawl_fixture.py")
    parser.add_argument("spider")
    parser.add_argument("base_url")
    parser.add_argument("--archive", metavar="DATABASE_URL", help="extract and store into this archive")
    args = parser.parse_args(argv[1:])
    warnings.filterwarnings("error", category=ScrapyDeprecationWarning)

    settings = project_settings()
    database = {"CQNEWS_DATABASE_URL": counted(args.archive or settings["CQNEWS_DATABASE_URL"])}
    settings.setdict(TEST_OVERRIDES | database | ({} if args.archive else FETCH_ONLY), priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(args.spider)
    pages: list[dict[str, Any]] = []
    enabled: list[str] = []

    def collect(item: Any) -> None:
        if isinstance(item, RawPage):
            pages.append({
                "site": item.site,
                "url": item.url,
                "status": item.status,
                "requested_url": item.requested_url,
                "content_type": item.content_type,
                "body_bytes": len(item.body),
                "body_selector": item.body_selector,
            })

    def note_components() -> None:
        enabled.extend(components(crawler))

    crawler.signals.connect(collect, signal=signals.item_scraped)
    crawler.signals.connect(note_components, signal=signals.engine_started)  # weakly held: a named local
    process.crawl(crawler, base_url=args.base_url)
    process.start()
    if not enabled:
        print("the crawl never started (see the log above)", file=sys.stderr)
        return 1
    stats = {k: v for k, v in (crawler.stats.get_stats() if crawler.stats else {}).items()
             if isinstance(v, int | float)}
    print(json.dumps({"pages": pages, "stats": stats, "components": enabled,
                      "engines_created": EngineCounter.created}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

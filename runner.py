"""Run crawls in this process with the project's settings, and report them from the archive.

One process runs one batch of crawls (Twisted's reactor cannot restart), so the CLI and the scheduler's
subprocesses call :func:`run_crawls` once and exit.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from cqnews.stats import CRAWL_RUN_ID

log = logging.getLogger(__name__)


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Scrapy settings from ``settings.py`` (which reads the CQNEWS_* environment), plus overrides."""
    settings = Settings()
    settings.setmodule("cqnews.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def spider_names(settings: Settings) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings).list())


def spider_class(settings: Settings, name: str) -> Any:
    return SpiderLoader.from_settings(settings).load(name)


@dataclass
class CrawlResult:
    site: str
    run_id: int | None
    stats: dict[str, Any]


def run_crawls(settings: Settings, sites: Iterable[str], spider_args: dict[str, dict[str, str]] | None = None,
               ) -> list[CrawlResult]:
    """Crawl each site once, together in one reactor; return each crawl's run id and stats."""
    process = CrawlerProcess(settings)
    crawlers = []
    for site in sites:
        crawler = process.create_crawler(site)
        crawlers.append((site, crawler))
        process.crawl(crawler, **(spider_args or {}).get(site, {}))
    process.start()
    results = []
    for site, crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        results.append(CrawlResult(site, stats.get(CRAWL_RUN_ID), dict(stats)))
    return results

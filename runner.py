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
from sqlalchemy import Engine

from cqnews import startup
from cqnews.stats import CRAWL_RUN_ID

log = logging.getLogger(__name__)


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Scrapy settings from ``settings.py`` (which reads the CQNEWS_* environment), plus overrides, every value
    converted and checked by :func:`cqnews.config.validate` (raises ``ConfigError``)."""
    from cqnews.config import setting_name, validate

    settings = Settings()
    settings.setmodule("cqnews.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(setting_name(key), value, priority="cmdline")
    return validate(settings)


def spider_names(settings: Settings) -> list[str]:
    return sorted(SpiderLoader.from_settings(settings).list())


def spider_class(settings: Settings, name: str) -> Any:
    return SpiderLoader.from_settings(settings).load(name)


@dataclass
class CrawlResult:
    site: str
    run_id: int | None
    stats: dict[str, Any]
    error: str | None = None  # why the crawl could not run (an exception in a component's from_crawler...)


def run_crawls(settings: Settings, sites: Iterable[str], spider_args: dict[str, dict[str, str]] | None = None,
               engine: Engine | None = None) -> list[CrawlResult]:
    """Crawl each site once, together in one reactor; return each crawl's run id and stats.

    ``engine``: the archive's engine the caller already opened on these settings (the CLI's), which every crawl
    then uses instead of connecting again (archive_engine.lend); the caller disposes it."""
    from cqnews.archive_engine import lend

    process = CrawlerProcess(settings)
    crawlers = []
    errors: dict[str, str] = {}
    for site in sites:
        crawler = process.create_crawler(site)
        if engine is not None:
            lend(crawler, engine)
        crawlers.append((site, crawler))
        done = process.crawl(crawler, **(spider_args or {}).get(site, {}))
        # Handled here: Twisted reports a failed Deferred only when it is garbage-collected, which the CLI's
        # gc.freeze() before exit prevents, so an error raised while the crawl starts was never shown.
        done.addErrback(_crawl_failed, site, errors)
    startup.resume(freeze=True)  # start-up is over: what it made lives as long as the process (startup.py)
    process.start()
    results = []
    for site, crawler in crawlers:
        stats = crawler.stats.get_stats() if crawler.stats else {}
        results.append(CrawlResult(site, stats.get(CRAWL_RUN_ID), dict(stats), errors.get(site)))
    return results


def _crawl_failed(failure: Any, site: str, errors: dict[str, str]) -> None:
    """Log a crawl that failed to start or run (one line at ERROR, the traceback at DEBUG) and keep its reason."""
    message = failure.getErrorMessage().strip().splitlines()
    errors[site] = f"{failure.type.__name__}: {message[0]}" if message else failure.type.__name__
    log.error("the crawl of %s failed: %s", site, errors[site])
    log.debug("the crawl of %s failed", site, exc_info=(failure.type, failure.value, failure.getTracebackObject()))

"""Run one spider against a fixture server and print what it yielded as JSON, in a process of its own.

Twisted's reactor cannot restart, so tests call this script once per crawl instead of crawling in-process:
``python -P tests/crawl_fixture.py SPIDER BASE_URL``, from any folder. The
project settings are used as they are, except that the pipelines and extensions are switched off (this
crawl is about fetching, not storing) and politeness delays are dropped for the loopback server.
Prints ``{"pages": [...], "stats": {...}}`` on stdout; Scrapy's log goes to stderr.
"""
from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning

from cqnews.items import RawPage
from cqnews.runner import project_settings

TEST_OVERRIDES: dict[str, Any] = {
    "ITEM_PIPELINES": {},
    "EXTENSIONS": {},
    "CQNEWS_INCREMENTAL": False,  # no archive here: every article is fetched
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CLOSESPIDER_TIMEOUT": 90,
    "LOG_LEVEL": "INFO",
}


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: crawl_fixture.py SPIDER BASE_URL", file=sys.stderr)
        return 2
    spider_name, base_url = argv[1], argv[2]
    warnings.filterwarnings("error", category=ScrapyDeprecationWarning)

    settings = project_settings()
    settings.setdict(TEST_OVERRIDES, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider_name)
    pages: list[dict[str, Any]] = []

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

    crawler.signals.connect(collect, signal=signals.item_scraped)
    process.crawl(crawler, base_url=base_url)
    process.start()
    stats = {k: v for k, v in (crawler.stats.get_stats() if crawler.stats else {}).items()
             if isinstance(v, int | float)}
    print(json.dumps({"pages": pages, "stats": stats}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

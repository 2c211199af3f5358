"""Bare Scrapy on a bench site: fetch the listing pages, follow their links, fetch every article, keep nothing.

What a crawl costs before any of cqnews's work (no extraction, no archive, no cqnews middleware): the fetch half
of the benchmark's ratio. Same listing and article URL patterns as the ``cq_people`` spider, same concurrency
and robots.txt rule as the benchmark's crawls. Usage: ``python bench/bare_scrapy.py BASE_URL [CONCURRENT_ITEMS]``
(Scrapy's default, 100, unless given: crawl_bench passes cqnews's own, so both run Scrapy alike).
"""
from __future__ import annotations

import sys
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

from cqnews.spiders.cq_people import CqPeopleSpider


def _anywhere(patterns: tuple[str, ...]) -> list[str]:
    """The spider's path patterns as LinkExtractor's, which match whole URLs."""
    return [r"^https?://[^/]+" + p.removeprefix("^") for p in patterns]


class BareSpider(CrawlSpider):
    name = "bare"
    rules = (
        Rule(LinkExtractor(allow=_anywhere(CqPeopleSpider.listing_patterns)), follow=True),
        Rule(LinkExtractor(allow=_anywhere(CqPeopleSpider.article_patterns)), callback="fetched", follow=False),
    )

    def fetched(self, response: Any) -> None:
        return None


def main(base_url: str, concurrent_items: int) -> int:
    process = CrawlerProcess({
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "TELNETCONSOLE_ENABLED": False,
        "CONCURRENT_ITEMS": concurrent_items,
    })
    process.crawl(BareSpider, start_urls=[f"{base_url}/GB/365401/index.html"])
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100))

"""NewsSpider: the discovery every site shares, so that a site file is only declarations.

A site declares ``name``, ``site_title``, ``allowed_domains``, ``start_urls`` (listing pages) and regexes
searched against the URL **path** (plus query): ``article_patterns`` for article pages, ``listing_patterns``
for 栏目/listing pages worth following, optionally ``deny_patterns`` and a ``body_selector`` hint for
extraction. Because the patterns never mention the host, the same spider crawls a recorded copy of the
site on 127.0.0.1: pass ``-a base_url=http://127.0.0.1:PORT`` and every link to the site's own domains is
rewritten to that server.

Listing pages are always fetched (``dont_filter``): they are how new articles are found. Article pages
are yielded as :class:`items.RawPage`, whatever their content type: deciding what is an article is
extraction's job, and it counts its reasons. Fetch failures are counted under ``cqnews/fetch/...``.
"""
from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from items import RawPage


class NewsSpider(scrapy.Spider):
    """Shared discovery for news sites: listing pages lead to article pages; nothing site-specific here."""

    site_title: ClassVar[str] = ""
    article_patterns: ClassVar[tuple[str, ...]] = ()
    listing_patterns: ClassVar[tuple[str, ...]] = ()
    deny_patterns: ClassVar[tuple[str, ...]] = ()
    body_selector: ClassVar[str | None] = None

    def __init__(self, *args: Any, base_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site_domains: tuple[str, ...] = tuple(getattr(self, "allowed_domains", ()))
        self.base_url = base_url.rstrip("/") if base_url else None
        if self.base_url:
            self.allowed_domains = [urlsplit(self.base_url).hostname or "127.0.0.1"]
        self._article_res = [re.compile(p) for p in self.article_patterns]
        self._listing_res = [re.compile(p) for p in self.listing_patterns]
        self._deny_res = [re.compile(p) for p in self.deny_patterns]
        self._links = LinkExtractor(tags=("a", "area"), attrs=("href",), unique=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.listing_request(self.localize(url), depth=0)

    # -- requests -------------------------------------------------------------------------------

    def listing_request(self, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.fetch_failed,
            dont_filter=depth == 0,  # start pages are re-read on every run
            meta={"cqnews_listing_depth": depth},
        )

    def article_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_article, errback=self.fetch_failed)

    # -- callbacks --------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        self.count("listing/fetched")
        if not isinstance(response, TextResponse):
            self.count("listing/not_html")
            return
        depth = int(response.meta.get("cqnews_listing_depth", 0))
        max_depth = self.settings.getint("CQNEWS_LISTING_DEPTH", 2)
        for link in self._links.extract_links(response):
            url = self.localize(link.url)
            kind = self.classify(url)
            if kind == "article":
                yield self.article_request(url)
            elif kind == "listing" and depth < max_depth:
                yield self.listing_request(url, depth + 1)

    def parse_article(self, response: Response) -> Iterator[RawPage]:
        self.count("article/fetched")
        redirects = response.meta.get("redirect_urls") or []
        yield RawPage(
            site=self.name,
            url=response.url,
            status=response.status,
            headers=_plain_headers(response),
            body=response.body,
            fetched_at=datetime.now(UTC),
            requested_url=redirects[0] if redirects else None,
            body_selector=self.body_selector,
        )

    def fetch_failed(self, failure: Failure) -> None:
        if failure.check(HttpError):
            status = failure.value.response.status
            self.count(f"fetch/http_error/{status}")
            self.logger.info("HTTP %s for %s", status, failure.value.response.url)
        else:
            self.count(f"fetch/failed/{failure.type.__name__}")
            self.logger.warning("fetch failed: %s (%s)", failure.request.url, failure.getErrorMessage())
        self.count("fetch/errors")

    # -- helpers ----------------------------------------------------------------------------------

    def classify(self, url: str) -> str | None:
        """'article', 'listing' or None for a URL, judged on its path and query only."""
        parts = urlsplit(url)
        if not self._is_own(parts.hostname or ""):
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(r.search(target) for r in self._deny_res):
            return None
        if any(r.search(target) for r in self._article_res):
            return "article"
        if any(r.search(target) for r in self._listing_res):
            return "listing"
        return None

    def localize(self, url: str) -> str:
        """Point a link at the fixture server when one is set; leave it alone otherwise."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        if not self._matches_site_domain(parts.hostname or ""):
            return url
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))

    def count(self, key: str, n: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"cqnews/{key}", n)

    def _is_own(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def _matches_site_domain(self, host: str) -> bool:
        return any(host == d or host.endswith("." + d) for d in self.site_domains)


def _plain_headers(response: Response) -> dict[str, str]:
    """Response headers as a JSON-friendly dict with lower-case names."""
    out: dict[str, str] = {}
    for name, values in response.headers.items():
        key = name.decode("latin-1").lower()
        out[key] = ", ".join(v.decode("latin-1") for v in values)
    return out

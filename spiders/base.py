"""NewsSpider: the discovery every site shares, so that a site file is only declarations.

A site declares ``name``, ``site_title``, ``allowed_domains`` (the exact hosts it crawls, never a parent domain
that would pull in every subdomain), where articles are announced —
``start_urls`` (listing pages), ``sitemap_urls`` (sitemaps, sitemap indexes, or a robots.txt whose
``Sitemap:`` lines name them) and ``feed_urls`` (RSS/Atom) — and regexes searched against the URL **path**
alone (share buttons and apps append ``?spm=…``, ``?from=…``, ``?<hex>``, fragments: they never make or unmake
an article): ``article_patterns`` for article pages, ``listing_patterns`` for 栏目/listing pages worth
following, optionally ``deny_patterns`` and a ``body_selector`` hint for extraction. Because the patterns
never mention the host, the same spider crawls a reconstructed copy of the site on 127.0.0.1: pass
``-a base_url=http://127.0.0.1:PORT`` and every link to the site's own domains is rewritten to that server.
``-a deliberate_errors='{"/gone.html": 404}'`` (path -> HTTP status, JSON: what ``cqnews demo`` passes for a demo
site's deliberately broken pages) makes those failures count under ``cqnews/fetch/deliberate`` as well (0 when
none happened), so that health and the demo's summary can tell them from faults.

Start pages, sitemaps and feeds are fetched on every run: they are how new articles are found. Whether an
archived article is fetched again is up to ``middlewares.IncrementalMiddleware`` (revisit ladder,
conditional requests). Article pages are yielded as :class:`items.RawPage`, whatever their content type:
deciding what is an article is extraction's job, and it counts its reasons. An article split over several
pages (``_2.html``, ``-2.html``, ``index_1.htm``) is fetched whole and yielded once. Fetch failures are
counted under ``cqnews/fetch/...``.

Sitemaps are read by Scrapy's own :class:`~scrapy.spiders.SitemapSpider` machinery (NewsSpider is one): its
``_get_sitemap_body`` tells a sitemap from another response and gunzips ``.xml.gz`` within DOWNLOAD_MAXSIZE
(warning past DOWNLOAD_WARNSIZE), and ``sitemap_urls_from_robots`` reads robots.txt. What NewsSpider adds is the
site's: entries are pointed at the fixture server, kept when they are articles of the site, and counted.
"""
from __future__ import annotations

import codecs
import functools
import json
import posixpath
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, AnyStr, ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.spiders import SitemapSpider
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from cqnews.cputime import timed_iter
from cqnews.items import RawPage
from cqnews.middlewares import ARTICLE_META, NOT_MODIFIED_META
from cqnews.spiders.discovery import article_like_links
from cqnews.stats import (
    ARTICLE_FETCHED,
    ARTICLE_MULTIPAGE,
    ARTICLE_PART_MISSING,
    CPU_LINKS,
    DISCOVER_MATCHED,
    DISCOVER_UNMATCHED,
    DISCOVER_UNMATCHED_EXAMPLES,
    FEED_ARTICLES,
    FEED_FETCHED,
    FEED_UNREADABLE,
    FETCH_DELIBERATE,
    FETCH_ERRORS,
    FETCH_IGNORED,
    LISTING_FETCHED,
    LISTING_NOT_HTML,
    SITEMAP_ARTICLES,
    SITEMAP_FETCHED,
    SITEMAP_UNREADABLE,
    count_cpu,
    fetch_failed,
    http_error,
)
from cqnews.urls import canonical_url, url_key

MAX_ARTICLE_PARTS = 20
MAX_UNMATCHED_EXAMPLES = 10


def _links_stage(parse: Callable[[Any, Response], Iterator[scrapy.Request]]
                 ) -> Callable[[Any, Response], Iterator[scrapy.Request]]:
    """A callback that reads links, its CPU time counted as the ``links`` stage (cqnews.cputime)."""
    @functools.wraps(parse)
    def timed(spider: Any, response: Response) -> Iterator[scrapy.Request]:
        stats = getattr(getattr(spider, "crawler", None), "stats", None)

        def spent(ms: float) -> None:
            if stats is not None:
                count_cpu(stats, {CPU_LINKS: ms})
        return timed_iter(parse(spider, response), spent)
    return timed


class NewsSpider(SitemapSpider):
    """Shared discovery for news sites: listing pages lead to article pages; nothing site-specific here.

    A SitemapSpider for its sitemap reading (see the module doc); its own ``start`` and ``parse_sitemap`` replace
    SitemapSpider's, which would fetch the sitemaps' URLs unchanged and send every entry to one callback.
    """

    site_title: ClassVar[str] = ""
    feed_urls: ClassVar[tuple[str, ...]] = ()
    article_patterns: ClassVar[tuple[str, ...]] = ()
    listing_patterns: ClassVar[tuple[str, ...]] = ()
    deny_patterns: ClassVar[tuple[str, ...]] = ()
    body_selector: ClassVar[str | None] = None
    # links of a listing page that no pattern matches but that have an article's shape: fetch them (extraction
    # then decides), or only count them
    fetch_article_like: ClassVar[bool] = True

    def __init__(self, *args: Any, base_url: str | None = None, deliberate_errors: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliberate_errors: dict[str, int] | None = (
            None if deliberate_errors is None else {str(p): int(s) for p, s in json.loads(deliberate_errors).items()})
        self.site_domains: tuple[str, ...] = tuple(getattr(self, "allowed_domains", ()))
        self.base_url = base_url.rstrip("/") if base_url else None
        if self.base_url:
            self.allowed_domains = [urlsplit(self.base_url).hostname or "127.0.0.1"]
        self._article_res = [re.compile(p) for p in self.article_patterns]
        self._listing_res = [re.compile(p) for p in self.listing_patterns]
        self._deny_res = [re.compile(p) for p in self.deny_patterns]
        self._links = LinkExtractor(tags=("a", "area"), attrs=("href",), unique=True)
        self._start_keys = {url_key(self.localize(u)) for u in self.start_urls}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.deliberate_errors is not None:
            self.count(FETCH_DELIBERATE, 0)  # the crawl knows which errors to expect: any other is a fault
        for url in self.start_urls:
            yield self.listing_request(self.localize(url), depth=0)
        for url in self.sitemap_urls:
            yield self.sitemap_request(self.localize(url))
        for url in self.feed_urls:
            yield scrapy.Request(self.localize(url), callback=self.parse_feed, errback=self.fetch_failed,
                                 dont_filter=True)

    # -- requests -------------------------------------------------------------------------------

    # Listing and article requests go out under their canonical URL (urls.canonical_url, the rule the archive stores
    # them by): a link with ?spm=… or a fragment is the same request as the bare link, and Scrapy's duplicate filter
    # drops the second instead of fetching the article twice.

    def listing_request(self, url: str, depth: int) -> scrapy.Request:
        return scrapy.Request(
            canonical_url(url),
            callback=self.parse_listing,
            errback=self.fetch_failed,
            dont_filter=depth == 0,  # start pages are re-read on every run
            meta={"cqnews_listing_depth": depth},
        )

    def article_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(canonical_url(url), callback=self.parse_article, errback=self.fetch_failed,
                              meta={ARTICLE_META: True})

    def sitemap_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self.fetch_failed, dont_filter=True)

    # -- callbacks --------------------------------------------------------------------------------

    @_links_stage
    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        self.count(LISTING_FETCHED)
        if not isinstance(response, TextResponse):
            self.count(LISTING_NOT_HTML)
            return
        depth = int(response.meta.get("cqnews_listing_depth", 0))
        max_depth = self.settings.getint("CQNEWS_LISTING_DEPTH", 2)
        matched = 0
        for link in self._links.extract_links(response):
            url = self.localize(link.url)
            kind = self.classify(url)
            if kind == "article":
                matched += 1
                yield self.article_request(url)
            elif kind == "listing" and depth < max_depth and url_key(url) not in self._start_keys:
                yield self.listing_request(url, depth + 1)  # start pages are fetched once, at depth 0
        self.count(DISCOVER_MATCHED, matched)
        yield from self.article_like_requests(response)

    def article_like_requests(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """Links of a listing page that have an article's shape but match no declared pattern: counted, with
        examples in the stats (the sign that a site changed its URL scheme), and fetched unless the site says not."""
        hosts = {*self.allowed_domains, *self.site_domains}
        for candidate in article_like_links(response.selector.root, response.url, hosts):
            url = self.localize(candidate.url)
            if self.classify(url) is not None or self._denied(urlsplit(url).path):
                continue
            self.count(DISCOVER_UNMATCHED)
            self.add_example(DISCOVER_UNMATCHED_EXAMPLES, url)
            if self.fetch_article_like:
                yield self.article_request(url)

    @_links_stage
    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """A robots.txt (its Sitemap: lines), a sitemap index (its sitemaps) or a urlset (its articles)."""
        self.count(SITEMAP_FETCHED)
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                yield self.sitemap_request(self.localize(url))
            return
        sitemap = self._sitemap(response)
        if sitemap is None:
            self.count(SITEMAP_UNREADABLE)
            self.logger.warning("not a sitemap: %s", response.url)
            return
        for entry in sitemap:
            url = self.localize(urljoin(response.url, entry["loc"]))
            if sitemap.type == "sitemapindex":
                if self._is_own(urlsplit(url).hostname or ""):
                    yield self.sitemap_request(url)
            elif self.classify(url) == "article":
                self.count(SITEMAP_ARTICLES)
                yield self.article_request(url)

    def _sitemap(self, response: Response) -> Sitemap | None:
        """The sitemap or sitemap index in ``response``, or None: not one, or too large once gunzipped.

        The body is Scrapy's (``_get_sitemap_body``); what it lets through as an exception (a broken gzip) or
        parses into something else (an HTML page, or no XML at all) is not a sitemap either.
        """
        try:
            body = self._get_sitemap_body(response)
            sitemap = Sitemap(body) if body else None
        except (OSError, EOFError, StopIteration):  # a broken gzip; no XML element at all
            return None
        return sitemap if sitemap is not None and sitemap.type in ("sitemapindex", "urlset") else None

    @_links_stage
    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS or Atom: every entry link that is an article of this site."""
        import feedparser  # here: most sites have no feed, and a crawl's start does not pay for its import

        self.count(FEED_FETCHED)
        feed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        if feed.bozo and not feed.entries:
            self.count(FEED_UNREADABLE)
            self.logger.warning("not a readable feed: %s (%s)", response.url, feed.get("bozo_exception"))
            return
        for entry in feed.entries:
            link = entry.get("link")
            if link and self.classify(self.localize(urljoin(response.url, link))) == "article":
                self.count(FEED_ARTICLES)
                yield self.article_request(self.localize(urljoin(response.url, link)))

    def parse_article(self, response: Response) -> Iterator[RawPage | scrapy.Request]:
        self.count(ARTICLE_FETCHED)
        redirects = response.meta.get("redirect_urls") or []
        page = RawPage(
            site=self.name,
            url=response.url,
            status=response.status,
            headers=_plain_headers(response),
            body=response.body,
            fetched_at=datetime.now(UTC),
            requested_url=redirects[0] if redirects else None,
            body_selector=self.body_selector,
            not_modified=response.status == 304 or bool(response.meta.get(NOT_MODIFIED_META)),
        )
        parts = [] if page.not_modified else self.continuation_urls(response)
        if parts:
            self.count(ARTICLE_MULTIPAGE)
            yield self._part_request(page, parts)
        else:
            yield page

    def continuation_urls(self, response: Response) -> list[str]:
        """The further pages of a paginated article, in order: links to this URL with a page number added."""
        if not isinstance(response, TextResponse):
            return []
        here = urlsplit(response.url)
        stem, ext = posixpath.splitext(here.path)
        name = posixpath.basename(stem)
        # Most articles have no parts: a regex over the text says so without building the page's tree in the
        # reactor thread (in a profile of a 300-page crawl that tree cost ~5 ms/page and the href scan ~7 more).
        # "&" keeps entity-escaped separators ("name&#95;2.html") as candidates. In an encoding where every ASCII
        # character of the text is its own byte the body's bytes say it as well, without decoding the page in the
        # reactor thread (~0.3 ms for a 150 KB GBK page; the worker decodes it again anyway): a match in the bytes
        # that is not one in the text (a GBK trail byte) only costs the href scan, which finds nothing.
        # A substring scan, not a regex: each article's name is new, and compiling a pattern for it (the re module's
        # cache holds 512) cost more than the scan.
        if name.isascii() and _ascii_bytes(response.encoding):  # (a request's URL is ASCII: Scrapy quotes it)
            if not _followed_by(response.body, name.encode("ascii"), b"-_&"):
                return []
        elif not _followed_by(response.text, name, "-_&"):
            return []
        pattern = re.compile(re.escape(stem) + r"[-_](\d{1,2})" + re.escape(ext) + "$")
        numbered: dict[int, str] = {}
        # Only hrefs that name this page are candidates: article pages carry hundreds of related-news links,
        # and running the full link extractor over them cost more CPU than fetching the page.
        for href in response.selector.root.xpath("//a/@href"):  # plain lxml: no Selector per link
            if name not in href:
                continue
            url = self.localize(response.urljoin(href.strip()))
            parts = urlsplit(url)
            match = pattern.match(parts.path)
            if match and parts.netloc == here.netloc and int(match[1]) > 0:
                numbered.setdefault(int(match[1]), url)
        return [numbered[n] for n in sorted(numbered)][:MAX_ARTICLE_PARTS]

    def _part_request(self, page: RawPage, remaining: list[str]) -> scrapy.Request:
        return scrapy.Request(remaining[0], callback=self.parse_article_part, errback=self.article_part_failed,
                              meta={"cqnews_page": page, "cqnews_remaining": remaining[1:]})

    def parse_article_part(self, response: Response) -> Iterator[RawPage | scrapy.Request]:
        page: RawPage = response.meta["cqnews_page"]
        page.parts.append((response.url, response.body))
        remaining: list[str] = response.meta["cqnews_remaining"]
        yield self._part_request(page, remaining) if remaining else page

    def article_part_failed(self, failure: Failure) -> Iterator[RawPage]:
        """A missing part does not lose the pages already fetched: the article is kept, and counted."""
        self.fetch_failed(failure)
        self.count(ARTICLE_PART_MISSING)
        yield failure.request.meta["cqnews_page"]  # type: ignore[attr-defined]  # set by Scrapy on errbacks

    def fetch_failed(self, failure: Failure) -> None:
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            self.count(FETCH_IGNORED)  # robots.txt, offsite, or an archived article not due for a revisit
            return
        if failure.check(HttpError):
            status = failure.value.response.status
            self.count(http_error(status))
            if status == (self.deliberate_errors or {}).get(urlsplit(failure.value.response.url).path):
                self.count(FETCH_DELIBERATE)
            self.logger.info("HTTP %s for %s", status, failure.value.response.url)
        else:
            self.count(fetch_failed(failure.type.__name__))
            url = failure.request.url  # type: ignore[attr-defined]  # Scrapy sets it on errback failures
            self.logger.warning("fetch failed: %s (%s)", url, failure.getErrorMessage())
        self.count(FETCH_ERRORS)

    # -- helpers ----------------------------------------------------------------------------------

    def classify(self, url: str) -> str | None:
        """'article', 'listing' or None for a URL of this site, judged on its path alone."""
        parts = urlsplit(url)
        if not self._is_own(parts.hostname or ""):
            return None
        target = parts.path
        if self._denied(target):
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
        """Count under a key of cqnews.stats."""
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, n)

    def add_example(self, key: str, url: str) -> None:
        """Keep a few distinct URLs under a key of cqnews.stats, for a user to see what was counted."""
        if self.crawler is None or self.crawler.stats is None:
            return
        examples = list(self.crawler.stats.get_value(key, []))
        if url not in examples and len(examples) < MAX_UNMATCHED_EXAMPLES:
            self.crawler.stats.set_value(key, [*examples, url])

    def _denied(self, path: str) -> bool:
        return any(r.search(path) for r in self._deny_res)

    def _is_own(self, host: str) -> bool:
        """Exact hosts: a site's department or app subdomains are other sites, not part of this one."""
        return host in self.allowed_domains

    def _matches_site_domain(self, host: str) -> bool:
        return host in self.site_domains


# Encodings (Python's codec names) in which each ASCII character of the decoded text comes from one byte of its
# own value: the ones the Chinese web uses, multi-byte or not. UTF-16/32 and the stateful ones are not among them.
_ASCII_BYTES_CODECS = frozenset({"ascii", "utf-8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "cp950",
                                 "iso8859-1", "cp1252"})


def _followed_by(haystack: AnyStr, name: AnyStr, separators: AnyStr) -> bool:
    """Whether ``name`` occurs in ``haystack`` right before one of ``separators`` (what the regex
    ``re.escape(name) + "[...]"`` finds, without compiling one per name)."""
    if not name:  # a URL ending in "/": any separator at all
        return any(haystack.find(separators[i:i + 1]) >= 0 for i in range(len(separators)))
    end = len(name)
    at = haystack.find(name)
    while at >= 0:
        following = haystack[at + end:at + end + 1]
        if following and following in separators:
            return True
        at = haystack.find(name, at + 1)
    return False


def _ascii_bytes(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in _ASCII_BYTES_CODECS
    except LookupError:
        return False


def _plain_headers(response: Response) -> dict[str, str]:
    """Response headers as a JSON-friendly dict with lower-case names."""
    out: dict[str, str] = {}
    for name, values in response.headers.items():
        key = name.decode("latin-1").lower()
        out[key] = ", ".join(v.decode("latin-1") for v in values)
    return out

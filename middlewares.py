"""IncrementalMiddleware: archived articles are fetched again only when their revisit is due, conditionally.

At spider open it loads, for the spider's site, every archived article URL (and alias) with its
``next_visit_at`` and the validators (ETag, Last-Modified) and body hash of the page its latest version came
from. Then, for article requests only (listing pages, sitemaps and feeds are always fetched):
- not due, or never again (NULL): the request is dropped (``cqnews/incremental/not_due``, once per URL) as the
  spider yields it, by the spider middleware :class:`NotDueFilter`, so that it never reaches the scheduler;
  the downloader middleware still drops one that arrives another way (a redirect to an archived article);
- due: it is sent with If-None-Match / If-Modified-Since; a 304, or a body identical to the stored one,
  marks the response ``cqnews_not_modified`` so that nothing is extracted and the archive only records the
  visit.

Both middlewares need the archive: with ``CQNEWS_INCREMENTAL`` or ``CQNEWS_ARCHIVE`` off they are not there
(NotConfigured) and every article is fetched. The archive is the crawl's one engine (archive_engine.ArchiveEngine).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from sqlalchemy import Engine, and_, select
from sqlalchemy.exc import SQLAlchemyError

from cqnews.archive_engine import ArchiveEngine, archive_enabled
from cqnews.db.tables import ARTICLE_VERSIONS, ARTICLES, PAGES, SITES, URL_ALIASES
from cqnews.stats import (
    FETCH_DECOMPRESSED_TOO_LARGE,
    FETCH_ERRORS,
    FETCH_REDIRECT_LOOP,
    FETCH_REDIRECT_TOO_LONG,
    INCREMENTAL_NOT_DUE,
    INCREMENTAL_NOT_MODIFIED,
    INCREMENTAL_REVISIT,
    INCREMENTAL_SAME_BODY,
)
from cqnews.urls import url_key

log = logging.getLogger(__name__)

ARTICLE_META = "cqnews_article"
NOT_MODIFIED_META = "cqnews_not_modified"


@dataclass(frozen=True)
class Known:
    next_visit_at: datetime | None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None


def incremental_enabled(settings: BaseSettings) -> bool:
    """Whether archived articles are skipped until due: ``CQNEWS_INCREMENTAL``, and an archive to know them from."""
    return settings.getbool("CQNEWS_INCREMENTAL", True) and archive_enabled(settings)


def load_known(engine: Engine, site: str) -> dict[str, Known]:
    """Every archived URL key of ``site`` with what a conditional revisit needs (Core: no ORM at a crawl's start)."""
    articles, versions, pages, sites, aliases = ARTICLES.c, ARTICLE_VERSIONS.c, PAGES.c, SITES.c, URL_ALIASES.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(articles.id, articles.url_key, articles.next_visit_at, pages.headers, pages.blob_sha256)
            .select_from(ARTICLES)
            .join(SITES, sites.id == articles.site_id)
            .join(ARTICLE_VERSIONS, and_(versions.article_id == articles.id,
                                         versions.version_no == articles.version_count))
            .outerjoin(PAGES, pages.id == versions.page_id)
            .where(sites.name == site)
        ).all()
        known: dict[str, Known] = {}
        by_id: dict[int, datetime | None] = {}
        for article_id, key, next_at, headers, sha in rows:
            headers = headers or {}
            known[key] = Known(next_at, headers.get("etag"), headers.get("last-modified"), sha)
            by_id[article_id] = next_at
        if by_id:
            for key, article_id in conn.execute(
                select(aliases.url_key, aliases.article_id).where(aliases.article_id.in_(by_id.keys()))
            ):
                known.setdefault(key, Known(by_id[article_id]))
        return known


class IncrementalMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.known: dict[str, Known] = {}
        self.not_due_keys: set[str] = set()  # counted once each, as the scheduler's duplicate filter would

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalMiddleware:
        if not incremental_enabled(crawler.settings):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        try:
            self.known = load_known(ArchiveEngine.of(self.crawler), spider.name)
        except SQLAlchemyError as exc:  # the store refuses such an archive too, and says why
            log.error("incremental crawling off: cannot read the archive (%s)", str(exc).splitlines()[0])
            return
        log.info("incremental: %d archived URLs known for %s", len(self.known), spider.name)

    def count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def not_due(self, key: str, known: Known) -> bool:
        """Whether the archived URL ``key`` is not due for a revisit (or never again); counted once per URL."""
        if known.next_visit_at is not None and known.next_visit_at <= datetime.now(UTC):
            return False
        if key not in self.not_due_keys:
            self.not_due_keys.add(key)
            self.count(INCREMENTAL_NOT_DUE)
        return True

    def archived(self, request: Request) -> tuple[str, Known] | None:
        """The URL key and what the archive knows of an article request's URL; None for any other request."""
        if not request.meta.get(ARTICLE_META) or not self.known:
            return None
        key = url_key(request.url)
        known = self.known.get(key)
        return None if known is None else (key, known)

    def process_request(self, request: Request) -> None:
        found = self.archived(request)
        if found is None:
            return None
        key, known = found
        if self.not_due(key, known):  # NotDueFilter drops most earlier; this one came another way (a redirect)
            raise IgnoreRequest(f"archived, revisit not due: {request.url}")
        self.count(INCREMENTAL_REVISIT)
        if known.etag:
            request.headers.setdefault("If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault("If-Modified-Since", known.last_modified)
        request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", []), 304]
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get(ARTICLE_META) or not self.known:
            return response
        known = self.known.get(url_key(request.url)) or self.known.get(url_key(response.url))
        if known is None:
            return response
        if response.status == 304:
            self.count(INCREMENTAL_NOT_MODIFIED)
            request.meta[NOT_MODIFIED_META] = True
        elif known.body_sha256 and hashlib.sha256(response.body).hexdigest() == known.body_sha256:
            self.count(INCREMENTAL_SAME_BODY)
            request.meta[NOT_MODIFIED_META] = True
        return response


class NotDueFilter(BaseSpiderMiddleware):
    """Spider middleware: an archived article not due for a revisit is dropped as the spider yields its request.

    Dropped in the downloader middleware instead, each such request would go through the scheduler, the
    downloader middlewares and back to the spider's errback as an IgnoreRequest failure: on an unchanged
    re-crawl that is nearly every article link, and most of the crawl's CPU. The archive, the decision and
    its count are :class:`IncrementalMiddleware`'s.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.incremental: IncrementalMiddleware | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NotDueFilter:
        if not incremental_enabled(crawler.settings):
            raise NotConfigured
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        self.incremental = self.crawler.get_downloader_middleware(IncrementalMiddleware)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if self.incremental is None:
            return request
        found = self.incremental.archived(request)
        if found is None or not self.incremental.not_due(*found):
            return request  # not archived, or due: IncrementalMiddleware makes the revisit conditional
        return None


class RedirectLoopMiddleware:
    """A redirect back to a URL already in the chain is a loop: stop it and count it as a failed fetch.

    Scrapy would otherwise end the loop silently, by filtering the repeated URL as a duplicate request.
    Placed just after RedirectMiddleware in the settings, so it sees each 3xx first.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoopMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400 and location):
            return response
        target = url_key(response.urljoin(location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in {url_key(u) for u in chain}:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(FETCH_REDIRECT_LOOP)
            self.crawler.stats.inc_value(FETCH_ERRORS)
            log.warning("redirect loop: %s -> %s", " -> ".join(chain), target)
            raise IgnoreRequest(f"redirect loop at {request.url}")
        return response


class LongRedirectFilter:
    """A redirect to a URL longer than URLLENGTH_LIMIT (2,083 characters) is not followed, and counted once.

    Scrapy's URLLengthMiddleware drops such a URL only as the spider yields it; a redirect is followed in the
    downloader, past that check, and the archive may not store its page (on PostgreSQL a URL of a few thousand
    characters outgrows a B-tree index entry: an error, on every crawl). Dropped as the redirected request is
    scheduled, the way Scrapy's OffsiteMiddleware drops a redirect to another site: an IgnoreRequest from a
    ``request_scheduled`` handler reaches no errback, so the page is counted lost here only, not also as an
    ignored or failed fetch.
    """

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LongRedirectFilter:
        limit = crawler.settings.getint("URLLENGTH_LIMIT")
        if limit <= 0:  # Scrapy's "no limit"
            raise NotConfigured
        mw = cls(crawler, limit)
        crawler.signals.connect(mw.request_scheduled, signal=signals.request_scheduled)
        return mw

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        chain = request.meta.get("redirect_urls")
        if not chain or len(request.url) <= self.limit:
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(FETCH_REDIRECT_TOO_LONG)
        log.warning("redirect to a URL of %d characters (URLLENGTH_LIMIT: %d) not followed: %s -> %s...",
                    len(request.url), self.limit, chain[-1], request.url[:100])
        raise IgnoreRequest(f"redirect to a URL longer than URLLENGTH_LIMIT from {chain[-1]}")


class DecompressionLimitMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, counting what it drops under a key of its own.

    The one IgnoreRequest it raises is a body that grew past DOWNLOAD_MAXSIZE while being decompressed (a gzip
    bomb); the spider's errback would count it only as ``cqnews/fetch/ignored``, beside robots.txt drops.
    """

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            assert self.stats is not None
            self.stats.inc_value(FETCH_DECOMPRESSED_TOO_LARGE)
            raise

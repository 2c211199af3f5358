"""`cqnews record SITE URL…`: fetch pages of a site politely and store them as a fixture folder.

The folder has the layout :class:`cqnews.demo.server.FixtureSite` serves (files at their URL paths, a folder's page
as ``index.html``, ``site.json`` routes for what a file cannot say), so a recorded copy of a site is served by
``cqnews demo --fixtures`` and the tests unchanged; ``expected.json`` answers are then written by hand beside it.

Fetching is a real Scrapy crawl of exactly the URLs given (nothing is followed): robots.txt obeyed, one request
at a time with ``DOWNLOAD_DELAY`` between them, the project's User-Agent, no retries of a page that answered.
Redirects and error statuses are recorded as served, not followed. What is stored for each URL:

- the body bytes as Scrapy received them (after HTTP Content-Encoding is undone: gzip is transport, not page);
- in ``site.json`` under the path: ``status`` (when not 200), ``location`` (for a redirect), ``content_type``,
  and, for the record, ``url`` (as fetched), ``fetched_at`` (UTC, ISO 8601) and every response ``headers``.

A URL's query string is not part of its file name (the fixture server answers by path), so two URLs that differ
only in their query are one recording: the later fetch wins, and the command says so.
"""
from __future__ import annotations

import json
import logging
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.settings import Settings
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# headers Scrapy or the transport changed, which would lie if served again from the recording
_TRANSPORT_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class RecordError(ValueError):
    """A URL that cannot be recorded for this site (another host, not http)."""


@dataclass
class Recording:
    """What one `cqnews record` run stored and what it could not fetch."""

    folder: Path
    stored: list[str] = field(default_factory=list)  # paths written
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
    merged: list[str] = field(default_factory=list)  # paths recorded more than once (query strings)


def file_for(path: str) -> PurePosixPath:
    """The file of a URL path in a fixture folder: ``/a/b.html`` -> ``a/b.html``, ``/a/`` -> ``a/index.html``."""
    relative = unquote(path).lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    clean = posixpath.normpath(relative)
    if clean.startswith("..") or clean == "site.json":
        raise RecordError(f"cannot record the path {path!r}")
    return PurePosixPath(clean)


def fetch_url(url: str, hosts: tuple[str, ...], base_url: str | None) -> str:
    """Where to fetch ``url``: itself, or the same path on ``base_url`` (a mirror, as ``crawl --base-url``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RecordError(f"not an http(s) URL: {url}")
    if parts.hostname not in hosts:
        raise RecordError(f"{url} is not on this site's hosts ({', '.join(hosts)})")
    if not base_url:
        return url
    base = urlsplit(base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, ""))


class RecordSpider(scrapy.Spider):
    """Fetch the given URLs once each and store every response, whatever its status."""

    name = "cqnews_record"
    custom_settings = {"HTTPERROR_ALLOW_ALL": True}

    def __init__(self, targets: list[tuple[str, str]], recording: Recording, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.targets = targets  # (fetch url, recorded url)
        self.recording = recording
        self.routes: dict[str, dict[str, Any]] = {}

    async def start(self) -> Any:
        for fetch, original in self.targets:
            yield scrapy.Request(fetch, callback=self.store, errback=self.failed, dont_filter=True,
                                 meta={"dont_redirect": True, "cqnews_url": original})

    def store(self, response: Response) -> Iterator[Any]:
        path = urlsplit(response.meta["cqnews_url"]).path or "/"
        target = self.recording.folder / file_for(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.body)
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        route: dict[str, Any] = {"url": response.meta["cqnews_url"], "fetched_at": datetime.now(UTC).isoformat()}
        if response.status != 200:
            route["status"] = response.status
        if "Location" in headers:
            route["location"] = urlsplit(response.urljoin(headers["Location"])).path
        if "Content-Type" in headers:
            route["content_type"] = headers["Content-Type"]
        route["file"] = str(file_for(path))
        route["headers"] = {k: v for k, v in headers.items() if k.lower() not in _TRANSPORT_HEADERS}
        if path in self.routes:
            self.recording.merged.append(path)
        self.routes[path] = route
        self.recording.stored.append(path)
        yield from ()

    def failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]  # set by Scrapy on errback failures
        self.recording.failed.append((request.meta["cqnews_url"], failure.getErrorMessage() or failure.type.__name__))


def record(folder: Path, urls: list[str], hosts: tuple[str, ...], settings: dict[str, Any],
           base_url: str | None = None) -> Recording:
    """Fetch ``urls`` (each on one of ``hosts``) into the fixture ``folder``; merges into its site.json.

    Starts Twisted's reactor: call it once per process (the CLI does).
    """
    targets = [(fetch_url(u, hosts, base_url), u) for u in urls]  # every URL checked before any fetch
    recording = Recording(folder)
    folder.mkdir(parents=True, exist_ok=True)
    crawl_settings = Settings({
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": False,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "REDIRECT_ENABLED": False,
        **settings,
    })
    process = CrawlerProcess(crawl_settings)
    crawler = process.create_crawler(RecordSpider)
    process.crawl(crawler, targets=targets, recording=recording)
    process.start()
    spider = crawler.spider
    if isinstance(spider, RecordSpider):
        _merge_routes(folder / "site.json", spider.routes)
    return recording


def _merge_routes(manifest: Path, routes: dict[str, dict[str, Any]]) -> None:
    data = json.loads(manifest.read_text("utf-8")) if manifest.exists() else {}
    data.setdefault("routes", {}).update(routes)
    manifest.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")

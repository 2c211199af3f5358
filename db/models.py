"""The archive's tables, SQLAlchemy 2 typed models.

One article per canonical URL (``articles``); one row per distinct extracted content of it
(``article_versions``); other URLs that served the same text (``url_aliases``); raw responses content-
addressed (``raw_blobs``, zlib-compressed bytes stored once) and referenced per URL capture (``pages``);
one row per crawl with its stats (``crawl_runs``). Timestamps are stored in UTC. The schema changes only
through Alembic migrations; the naming convention makes constraint names stable across backends.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from cqnews.db import tables
from cqnews.db.tables import UTCDateTime, utcnow

__all__ = ["UTCDateTime", "utcnow"]  # (where other modules have always imported them from)

class Base(DeclarativeBase):
    metadata = tables.METADATA
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Site(Base):
    __table__ = tables.SITES

    id: Mapped[int]
    name: Mapped[str]
    title: Mapped[str]
    created_at: Mapped[datetime]

class RawBlob(Base):
    """Response bytes, stored once however many URLs or crawls served them."""

    __tablename__ = "raw_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    compression: Mapped[str] = mapped_column(String(16), default="zlib")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Page(Base):
    """One distinct capture of a URL: the same bytes fetched again only move ``last_fetched_at``."""

    __table__ = tables.PAGES

    id: Mapped[int]
    url: Mapped[str]
    blob_sha256: Mapped[str]
    status: Mapped[int]
    headers: Mapped[dict[str, Any]]
    encoding: Mapped[str | None]
    encoding_overridden: Mapped[bool]
    first_fetched_at: Mapped[datetime]
    last_fetched_at: Mapped[datetime]
    fetch_count: Mapped[int]


class Article(Base):
    __table__ = tables.ARTICLES  # (its columns, and what they are for, are defined there)

    id: Mapped[int]
    site_id: Mapped[int]
    url: Mapped[str]
    url_key: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    version_count: Mapped[int]
    next_visit_at: Mapped[datetime | None]
    revisit_step: Mapped[int]
    simhash: Mapped[int | None]
    sim_band0: Mapped[int | None]
    sim_band1: Mapped[int | None]
    sim_band2: Mapped[int | None]
    sim_band3: Mapped[int | None]
    duplicate_of: Mapped[int | None]

    site: Mapped[Site] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version_no"
    )
    aliases: Mapped[list[UrlAlias]] = relationship(back_populates="article")


class ArticleVersion(Base):
    """One distinct extracted content of an article; an unchanged re-crawl only moves ``last_seen``."""

    __table__ = tables.ARTICLE_VERSIONS

    id: Mapped[int]
    article_id: Mapped[int]
    version_no: Mapped[int]
    title: Mapped[str | None]
    text: Mapped[str]
    published_at: Mapped[datetime | None]
    author: Mapped[str | None]
    source: Mapped[str | None]
    editor: Mapped[str | None]
    language: Mapped[str | None]
    content_hash: Mapped[str]
    text_hash: Mapped[str]
    text_length: Mapped[int]
    extractor_version: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    seen_count: Mapped[int]
    page_id: Mapped[int | None]

    article: Mapped[Article] = relationship(back_populates="versions")
    page: Mapped[Page | None] = relationship()


class UrlAlias(Base):
    """Another URL that served the text of an existing article (reposts, print views, moved pages)."""

    __table__ = tables.URL_ALIASES

    id: Mapped[int]
    article_id: Mapped[int]
    url: Mapped[str]
    url_key: Mapped[str]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]

    article: Mapped[Article] = relationship(back_populates="aliases")


class CrawlRun(Base):
    """One crawl of one site: when, how it ended, and what it did (the full Scrapy stats in ``stats``)."""

    __table__ = tables.CRAWL_RUNS

    id: Mapped[int]
    site: Mapped[str]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str]
    finish_reason: Mapped[str | None]
    trigger: Mapped[str]
    pid: Mapped[int | None]
    log_path: Mapped[str | None]
    pages_fetched: Mapped[int]
    articles_new: Mapped[int]
    articles_updated: Mapped[int]
    articles_unchanged: Mapped[int]
    articles_duplicate: Mapped[int]
    articles_rejected: Mapped[int]
    errors: Mapped[int]
    stats: Mapped[dict[str, Any]]
    progress_at: Mapped[datetime | None]
    cancel_requested_at: Mapped[datetime | None]


class CrawlLock(Base):
    """At most one crawl per site at a time, across processes and machines: a lease that its holder renews.

    A holder that dies stops renewing; once ``expires_at`` passes, the next crawl may take the lock over.
    """

    __table__ = tables.CRAWL_LOCKS

    site: Mapped[str]
    holder: Mapped[str]
    run_id: Mapped[int | None]
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    renewed_at: Mapped[datetime | None]
    info: Mapped[dict[str, Any] | None]


class SiteControl(Base):
    """What an operator asked of the daemon for a site, through the archive (``cqnews pause/resume/run``)."""

    __table__ = tables.SITE_CONTROLS

    site: Mapped[str]
    paused_at: Mapped[datetime | None]
    run_requested_at: Mapped[datetime | None]


class SiteNotice(Base):
    """The last state notified of a subject (a site's health), so that one transition sends one message."""

    __table__ = tables.SITE_NOTICES

    subject: Mapped[str]
    state: Mapped[str]
    changed_at: Mapped[datetime]


class SearchDoc(Base):
    """The full-text index's row for an article (``tables.SEARCH_DOCS`` says what it holds and who writes it)."""

    __table__ = tables.SEARCH_DOCS

    article_id: Mapped[int]
    version_id: Mapped[int]
    site: Mapped[str]
    published_at: Mapped[datetime | None]
    archived_at: Mapped[datetime]
    author: Mapped[str | None]
    source: Mapped[str | None]
    segmenter: Mapped[str]

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
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
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

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("url", "blob_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("raw_blobs.sha256"))
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    encoding: Mapped[str | None] = mapped_column(String(40))
    encoding_overridden: Mapped[bool] = mapped_column(default=False)
    first_fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetch_count: Mapped[int] = mapped_column(Integer, default=1)


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

    __tablename__ = "url_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(Text, unique=True)  # any URL Scrapy fetches (0008)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="aliases")


class CrawlRun(Base):
    """One crawl of one site: when, how it ended, and what it did (the full Scrapy stats in ``stats``)."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|finished|failed|skipped|missed
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")  # manual|scheduled
    pid: Mapped[int | None] = mapped_column(Integer)
    log_path: Mapped[str | None] = mapped_column(Text)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    articles_rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    progress_at: Mapped[datetime | None]  # a running crawl's last update of its counters (live progress)
    cancel_requested_at: Mapped[datetime | None]  # `cqnews cancel RUN`: the crawl stops at its next progress update


class CrawlLock(Base):
    """At most one crawl per site at a time, across processes and machines: a lease that its holder renews.

    A holder that dies stops renewing; once ``expires_at`` passes, the next crawl may take the lock over.
    """

    __tablename__ = "crawl_locks"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this holder took it (kept on renewal)
    expires_at: Mapped[datetime]
    renewed_at: Mapped[datetime | None]  # the holder's last heartbeat
    info: Mapped[dict[str, Any] | None]  # what the holder says of itself (the daemon: its config, its schedules)


class SiteControl(Base):
    """What an operator asked of the daemon for a site, through the archive (``cqnews pause/resume/run``)."""

    __tablename__ = "site_controls"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused_at: Mapped[datetime | None]  # set: the daemon starts no scheduled crawl of the site
    run_requested_at: Mapped[datetime | None]  # set: the daemon crawls the site now, then clears it


class SiteNotice(Base):
    """The last state notified of a subject (a site's health), so that one transition sends one message."""

    __tablename__ = "site_notices"

    subject: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
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

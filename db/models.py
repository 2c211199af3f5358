"""The archive's tables, SQLAlchemy 2 typed models.

One article per canonical URL (``articles``); one row per distinct extracted content of it
(``article_versions``); other URLs that served the same text (``url_aliases``); raw responses content-
addressed (``raw_blobs``, zlib-compressed bytes stored once) and referenced per URL capture (``pages``);
one row per crawl with its stats (``crawl_runs``). Timestamps are stored in UTC. The schema changes only
through Alembic migrations; the naming convention makes constraint names stable across backends.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no tz support) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the archive; timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(Text, unique=True)  # any URL Scrapy fetches (0008)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the sites page's month (0010)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    next_visit_at: Mapped[datetime | None] = mapped_column(index=True)
    revisit_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # rung of the revisit ladder
    # Near-duplicate clustering (fingerprints.simhash, db.neardup): the latest version's SimHash, its four
    # 16-bit bands as lookup keys, and the first archived article of the same story, when this one is a
    # repost of it.
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    sim_band0: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band1: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band2: Mapped[int | None] = mapped_column(Integer, index=True)
    sim_band3: Mapped[int | None] = mapped_column(Integer, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"), index=True)

    site: Mapped[Site] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version_no"
    )
    aliases: Mapped[list[UrlAlias]] = relationship(back_populates="article")


class ArticleVersion(Base):
    """One distinct extracted content of an article; an unchanged re-crawl only moves ``last_seen``."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "version_no"),
        Index("ix_article_versions_text_hash", "text_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    author: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    editor: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    text_hash: Mapped[str] = mapped_column(String(64))
    text_length: Mapped[int] = mapped_column(Integer)
    extractor_version: Mapped[str] = mapped_column(String(80))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the sites page's month (0010)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    seen_count: Mapped[int] = mapped_column(Integer, default=1)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"))

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
    """The full-text index's row for an article: which version is indexed, and the columns search filters on.

    Kept in sync by ``db.fulltext`` in the transaction that writes a version. The index itself is hand-written
    per backend and not part of this model: on SQLite the FTS5 table ``search_fts`` (rowid = the indexed
    ``article_versions.id``), on PostgreSQL the ``tsvector`` column ``terms`` of this table
    and its GIN index. ``author``/``source`` hold folded (simplified, lower-case) copies for filtering.
    """

    __tablename__ = "search_docs"
    __table_args__ = (
        Index("ix_search_docs_site_published_at", "site", "published_at"),
        Index("ix_search_docs_archived_at", "archived_at"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id", ondelete="CASCADE"), unique=True)
    site: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    archived_at: Mapped[datetime]  # the article's first capture
    author: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(200))
    segmenter: Mapped[str] = mapped_column(String(80))  # what segmented it; `cqnews reindex` after a change

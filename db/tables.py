"""The tables a search or a crawl's start reads, as SQLAlchemy Core ``Table`` objects: their one definition.

``db.models`` maps its ORM classes onto these (``__table__``), so the schema Alembic compares is the same;
a search imports this module and not the ORM (``sqlalchemy.orm`` and the declarative models cost a fresh
``cqnews search`` ~150 ms of a 0.5 s budget), and so does a crawl until it stores an article: its runs, locks
and controls (``db.runs``, ``db.controls``) and what the incremental middleware loads are Core statements
(an unchanged re-crawl, ~0.6 s of CPU, spent ~0.05 s importing the ORM and mapping the models). The other
tables are defined by their models only.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import DateTime, TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    # What reads the archive: the CLI's search a Core connection (no ORM loaded), the web and tests a Session.
    Reader: TypeAlias = Connection | Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
METADATA = MetaData(naming_convention=NAMING_CONVENTION)


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


def dialect_name(reader: Reader) -> str:
    """``sqlite`` or ``postgresql``, for a Core connection or an ORM session."""
    return reader.dialect.name if isinstance(reader, Connection) else reader.get_bind().dialect.name


SITES = Table(
    "sites", METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), unique=True, nullable=False),
    Column("title", String(200), default="", nullable=False),
    Column("created_at", UTCDateTime(), default=utcnow, nullable=False),
)

ARTICLES = Table(
    "articles", METADATA,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id"), index=True, nullable=False),
    Column("url", Text, nullable=False),
    Column("url_key", Text, unique=True, nullable=False),  # any URL Scrapy fetches (0008)
    Column("first_seen", UTCDateTime(), default=utcnow, index=True, nullable=False),  # the sites page's month (0010)
    Column("last_seen", UTCDateTime(), default=utcnow, nullable=False),
    Column("version_count", Integer, default=0, nullable=False),
    Column("next_visit_at", UTCDateTime(), index=True),
    Column("revisit_step", Integer, default=0, server_default="0", nullable=False),  # rung of the revisit ladder
    # Near-duplicate clustering (fingerprints.simhash, db.neardup): the latest version's SimHash, its four
    # 16-bit bands as lookup keys, and the first archived article of the same story, when this one is a
    # repost of it.
    Column("simhash", BigInteger),
    Column("sim_band0", Integer, index=True),
    Column("sim_band1", Integer, index=True),
    Column("sim_band2", Integer, index=True),
    Column("sim_band3", Integer, index=True),
    Column("duplicate_of", Integer, ForeignKey("articles.id", ondelete="SET NULL"), index=True),
)

ARTICLE_VERSIONS = Table(
    "article_versions", METADATA,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("version_no", Integer, nullable=False),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("published_at", UTCDateTime(), index=True),
    Column("author", String(200)),
    Column("source", String(200)),
    Column("editor", String(200)),
    Column("language", String(16)),
    Column("content_hash", String(64), nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("text_length", Integer, nullable=False),
    Column("extractor_version", String(80), nullable=False),
    Column("first_seen", UTCDateTime(), default=utcnow, index=True, nullable=False),  # the sites page's month (0010)
    Column("last_seen", UTCDateTime(), default=utcnow, nullable=False),
    Column("seen_count", Integer, default=1, nullable=False),
    Column("page_id", Integer, ForeignKey("pages.id")),
    UniqueConstraint("article_id", "version_no"),
    Index("ix_article_versions_text_hash", "text_hash"),
)

# The full-text index's row for an article: which version is indexed, and the columns search filters on. Kept
# in sync by ``db.fulltext`` in the transaction that writes a version. The index itself is hand-written per
# backend and not part of this table: on SQLite the FTS5 table ``search_fts`` (rowid = the indexed
# ``article_versions.id``), on PostgreSQL the ``tsvector`` column ``terms`` of this table and its GIN index.
# ``author``/``source`` hold folded (simplified, lower-case) copies for filtering.
SEARCH_DOCS = Table(
    "search_docs", METADATA,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("version_id", Integer, ForeignKey("article_versions.id", ondelete="CASCADE"), unique=True,
           nullable=False),
    Column("site", String(64), nullable=False),
    Column("published_at", UTCDateTime(), index=True),
    Column("archived_at", UTCDateTime(), nullable=False),  # the article's first capture
    Column("author", String(200)),
    Column("source", String(200)),
    Column("segmenter", String(80), nullable=False),  # what segmented it; `cqnews reindex` after a change
    Index("ix_search_docs_site_published_at", "site", "published_at"),
    Index("ix_search_docs_archived_at", "archived_at"),
)

PAGES = Table(  # one distinct capture of a URL (models.Page)
    "pages", METADATA,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("blob_sha256", String(64), ForeignKey("raw_blobs.sha256"), nullable=False),
    Column("status", Integer, nullable=False),
    Column("headers", JSON(), default=dict, nullable=False),
    Column("encoding", String(40)),
    Column("encoding_overridden", Boolean(), default=False, nullable=False),
    Column("first_fetched_at", UTCDateTime(), default=utcnow, nullable=False),
    Column("last_fetched_at", UTCDateTime(), default=utcnow, nullable=False),
    Column("fetch_count", Integer, default=1, nullable=False),
    UniqueConstraint("url", "blob_sha256"),
)

URL_ALIASES = Table(  # another URL that served an existing article's text (models.UrlAlias)
    "url_aliases", METADATA,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), index=True, nullable=False),
    Column("url", Text, nullable=False),
    Column("url_key", Text, unique=True, nullable=False),  # any URL Scrapy fetches (0008)
    Column("first_seen", UTCDateTime(), default=utcnow, nullable=False),
    Column("last_seen", UTCDateTime(), default=utcnow, nullable=False),
)

CRAWL_RUNS = Table(  # one crawl of one site (models.CrawlRun; written and read by db.runs only)
    "crawl_runs", METADATA,
    Column("id", Integer, primary_key=True),
    Column("site", String(64), index=True, nullable=False),
    Column("started_at", UTCDateTime(), default=utcnow, nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("status", String(16), default="running", nullable=False),  # running|finished|failed|skipped|missed
    Column("finish_reason", String(64)),
    Column("trigger", String(16), default="manual", server_default="manual", nullable=False),  # manual|scheduled
    Column("pid", Integer),
    Column("log_path", Text),
    Column("pages_fetched", Integer, default=0, nullable=False),
    Column("articles_new", Integer, default=0, nullable=False),
    Column("articles_updated", Integer, default=0, nullable=False),
    Column("articles_unchanged", Integer, default=0, nullable=False),
    Column("articles_duplicate", Integer, default=0, nullable=False),
    Column("articles_rejected", Integer, default=0, nullable=False),
    Column("errors", Integer, default=0, nullable=False),
    Column("stats", JSON(), default=dict, nullable=False),
    Column("progress_at", UTCDateTime()),  # a running crawl's last update of its counters (live progress)
    Column("cancel_requested_at", UTCDateTime()),  # `cqnews cancel RUN`: the crawl stops at its next progress update
)

CRAWL_LOCKS = Table(  # at most one crawl per site at a time: a lease its holder renews (models.CrawlLock)
    "crawl_locks", METADATA,
    Column("site", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("run_id", Integer),
    Column("acquired_at", UTCDateTime(), default=utcnow, nullable=False),  # when this holder took it (kept on renewal)
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("renewed_at", UTCDateTime()),  # the holder's last heartbeat
    Column("info", JSON()),  # what the holder says of itself (the daemon: its config, its schedules)
)

SITE_CONTROLS = Table(  # what an operator asked of the daemon for a site (models.SiteControl; db.controls)
    "site_controls", METADATA,
    Column("site", String(64), primary_key=True),
    Column("paused_at", UTCDateTime()),  # set: the daemon starts no scheduled crawl of the site
    Column("run_requested_at", UTCDateTime()),  # set: the daemon crawls the site now, then clears it
)

SITE_NOTICES = Table(  # the last state notified of a subject, a site's health (models.SiteNotice; db.notices)
    "site_notices", METADATA,
    Column("subject", String(80), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

"""Versioned writes: what turns one extracted article (a ``db.records.ArticleRecord``) into archive rows, idempotently.

The rules (the meaning of "versioned archive"):
- a URL never seen, with text never seen: a new article with version 1;
- a known URL whose latest version has the same content hash: nothing new, ``last_seen`` moves;
- a known URL with different content (title, text or date): version N+1;
- an unknown URL whose text an existing article already has: an alias of that article, not a new one;
- a visit that found an archived page unchanged (``UnchangedVisit``): like an unchanged re-crawl.

Each write also sets the article's place on the revisit ladder (``db.revisit``): a new or changed article
starts again at the first rung, an unchanged one climbs a rung.

A batch is one transaction, each item in a savepoint of its own. Uniqueness is enforced by the database
(``articles.url_key``, ``url_aliases.url_key``, ``article_versions(article_id, version_no)``), so two crawls
racing on the same article cannot both write: the loser's savepoint fails, is retried once, and then sees
the winner's rows. Two crawls storing one new text under two URLs at once are kept apart by a lock on the
text (``_lock_texts``), so the second becomes the first's alias.
"""
from __future__ import annotations

import enum
import functools
import hashlib
import logging
import zlib
from collections.abc import Container, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Row, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cqnews.cputime import StageTimes
from cqnews.db import fulltext
from cqnews.db.models import Article, ArticleVersion, Page, RawBlob, Site, UrlAlias
from cqnews.db.neardup import fingerprint_columns, story_of
from cqnews.db.records import ArticleRecord, Capture, UnchangedVisit
from cqnews.db.revisit import RevisitPolicy
from cqnews.db.session import make_sessionmaker, upsert, upsert_for
from cqnews.stats import CPU_COMPRESSION, CPU_INDEX
from cqnews.urls import url_key

log = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    NEW = "new"
    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    NOT_MODIFIED = "not_modified"
    UNKNOWN = "unknown"  # an unchanged visit to a page whose article is not (or no longer) in the archive


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    article_id: int
    version_no: int
    title_only: bool = False  # indexed by its title alone: its tokens pass PostgreSQL's tsvector limit


class Archive:
    """The write side of the archive, one instance per crawl (built in a pipeline's ``open_spider``)."""

    def __init__(self, engine: Engine, revisit: RevisitPolicy | None = None) -> None:
        self.engine = engine
        self.sessions = make_sessionmaker(engine)
        self.revisit = revisit or RevisitPolicy()
        self._site_ids: dict[str, int] = {}
        self.cpu = StageTimes()  # CPU ms of the index terms and compression, by stage: the store pipeline takes them

    def record(self, article: ArticleRecord, site_title: str = "") -> Recorded:
        """Store one article (and its raw page) in one transaction; retried once after a lost race."""
        return _raise_or_return(self.record_batch([article], site_title)[0])

    def record_visit(self, visit: UnchangedVisit) -> Recorded:
        """A visit found an archived page unchanged: the article is seen again, nothing new is stored."""
        return _raise_or_return(self.record_batch([visit])[0])

    def record_batch(self, batch: Sequence[ArticleRecord | UnchangedVisit],
                     site_title: str = "") -> list[Recorded | Exception]:
        """Store many articles and unchanged visits in one transaction: what the crawl's store does.

        Each item is written inside its own savepoint, so one that fails (a value the database refuses, a
        race lost twice) is rolled back and returned as its exception while the others are kept; a failure
        of the transaction itself (the database went away) raises, and nothing of the batch is written.
        """
        for site in dict.fromkeys(item.site for item in batch):  # in the batch's order: the ids one by one gives
            self._site_id(site, site_title)
        results: list[Recorded | Exception] = []
        with self.sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "sqlite":
                # pysqlite begins a transaction only at the first INSERT or UPDATE: a SAVEPOINT before it
                # would be the outermost, and releasing it would commit. IMMEDIATE: take the write lock now,
                # waiting (busy timeout) for another crawl's batch rather than failing when upgrading later.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            elif dialect == "postgresql":
                _lock_texts(session.connection(), batch)
            at_once = self._new_articles_at_once(session, batch)
            if at_once is not None:
                return at_once
            for item in batch:
                results.append(self._in_savepoint(session, item))
        return results

    def _new_articles_at_once(self, session: Session,
                              batch: Sequence[ArticleRecord | UnchangedVisit]) -> list[Recorded | Exception] | None:
        """A batch of articles that are all new and independent of each other, written with one statement per
        table for the whole batch (``executemany``) in one savepoint; None when the batch is not such a batch
        or its savepoint failed, and then each item is written in its own savepoint as before.

        A first crawl's batches are all of this kind: per-article statements (about 14 each, plus a savepoint)
        were most of the store's CPU (issue 19). "Independent": no URL key or text hash is in the archive or
        twice in the batch, no capture (URL and bytes) twice, so writing them in one go gives what writing them
        one by one gives, the same ids included (rows are inserted in the batch's order)."""
        articles = [item for item in batch if isinstance(item, ArticleRecord)]
        if len(articles) < 2 or len(articles) != len(batch):
            return None
        keys = [url_key(a.canonical_url) for a in articles]
        if (len(set(keys)) < len(keys) or len({a.text_hash for a in articles}) < len(articles)
                or len({a.simhash is None for a in articles}) > 1):
            return None
        conn = session.connection()
        if any(conn.execute(statement, {"values": values}).first() is not None for statement, values in (
                (_ANY_ARTICLE_AT, keys), (_ANY_ALIAS_AT, keys), (_ANY_VERSION_WITH, [a.text_hash for a in articles]))):
            return None  # a re-crawl's batch: known articles (checked before hashing the pages)
        captures = [capture for a in articles for capture in (a.capture, *a.parts)]
        digests = [hashlib.sha256(capture.body).hexdigest() for capture in captures]
        if len(set(zip((c.url for c in captures), digests, strict=True))) < len(captures):
            return None
        try:
            with session.begin_nested():
                return self._write_new_articles(session, articles, keys, captures, digests)
        except DBAPIError as exc:  # IntegrityError included: a race lost, a value refused; one by one says which
            if exc.connection_invalidated:
                raise
            log.info("a batch of %d new articles could not be written at once (%s); writing them one by one",
                     len(articles), exc.orig)
            return None

    def _write_new_articles(self, session: Session, articles: list[ArticleRecord], keys: list[str],
                            captures: list[Capture], digests: list[str]) -> list[Recorded | Exception]:
        conn = session.connection()
        page_ids = iter(store_pages(conn, captures, digests, self.cpu))
        first_pages = []
        for article in articles:  # the article's own page, then its parts'
            first_pages.append(next(page_ids))
            for _ in article.parts:
                next(page_ids)
        conn.execute(_INSERT_ARTICLES, [_new_article(self._site_ids[article.site], key, article, self.revisit)
                                        for article, key in zip(articles, keys, strict=True)])
        by_key = {key: article_id for key, article_id in conn.execute(_ARTICLE_IDS, {"keys": keys})}
        article_ids = [int(by_key[key]) for key in keys]
        conn.execute(_INSERT_VERSIONS, [_new_version(article_id, 1, article, page_id) for article_id, article, page_id
                                        in zip(article_ids, articles, first_pages, strict=True)])
        by_article = {article_id: version_id  # each has its version 1 only
                      for article_id, version_id in conn.execute(_VERSION_IDS, {"ids": article_ids})}
        version_ids = [int(by_article[article_id]) for article_id in article_ids]
        with self.cpu.timed(CPU_INDEX):
            partial = fulltext.write_docs(session, [
                _index_doc(article_id, version_id, a, a.seen_at)
                for article_id, version_id, a in zip(article_ids, version_ids, articles, strict=True)])
        for n, (article_id, article) in enumerate(zip(article_ids, articles, strict=True)):
            # the batch's later articles were not there when one by one
            _link_repost(conn, article_id, article, ignore=article_ids[n + 1:])
        return [Recorded(Outcome.NEW, article_id, 1, title_only=article_id in partial) for article_id in article_ids]

    def _in_savepoint(self, session: Session, item: ArticleRecord | UnchangedVisit) -> Recorded | Exception:
        for attempt in (1, 2):
            try:
                with session.begin_nested():
                    if isinstance(item, ArticleRecord):
                        return self._write_article(session, item)
                    return self._write_visit(session, item)
            except IntegrityError as exc:
                if attempt == 2:
                    return exc
                log.info("concurrent write on %s; retrying", _url_of(item))
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise
                log.warning("could not store %s: %s", _url_of(item), exc.orig)
                return exc
        raise AssertionError("unreachable")

    def _write_article(self, session: Session, article: ArticleRecord) -> Recorded:
        conn = session.connection()
        page_id = store_page(conn, article.capture, self.cpu)
        for part in article.parts:
            store_page(conn, part, self.cpu)
        recorded, written = _record_article(conn, article, self._site_ids[article.site], page_id, self.revisit)
        if written is not None:  # a new article or a new version: index it, link it to the story it reposts
            with self.cpu.timed(CPU_INDEX):
                doc = _index_doc(recorded.article_id, written.version_id, article, written.first_seen)
                if fulltext.write_docs(session, [doc]):  # same transaction
                    recorded = replace(recorded, title_only=True)
            if written.duplicate_of is None:
                _link_repost(conn, recorded.article_id, article)
        return recorded

    def _write_visit(self, session: Session, visit: UnchangedVisit) -> Recorded:
        conn = session.connection()
        article = _find(conn, url_key(visit.url), visit.seen_at)
        if article is None:
            return Recorded(Outcome.UNKNOWN, 0, 0)
        if visit.capture is not None:  # the same bytes again: count the fetch on the stored capture
            store_page(conn, visit.capture, self.cpu)
        latest = _latest(conn, article)
        _seen_again(conn, article, latest, visit.seen_at, self.revisit)
        return Recorded(Outcome.NOT_MODIFIED, article.id, latest.version_no)

    def _site_id(self, name: str, title: str) -> int:
        """The site's row id, created in its own transaction: a cached id must never be one rolled back."""
        if name not in self._site_ids:
            with self.sessions.begin() as session:
                _insert_ignoring_conflict(session, Site, {"name": name, "title": title}, ["name"])
                self._site_ids[name] = session.scalars(select(Site.id).where(Site.name == name)).one()
        return self._site_ids[name]


def _index_doc(article_id: int, version_id: int, article: ArticleRecord, first_seen: datetime) -> fulltext.IndexDoc:
    return fulltext.make_doc(article_id, version_id, article.site, article.title, article.text, article.published_at,
                             first_seen, _clip(article.author), _clip(article.source))


def _link_repost(conn: Connection, article_id: int, article: ArticleRecord, ignore: Container[int] = ()) -> None:
    """Link the article to the story it reposts (``duplicate_of``), if its fingerprint finds one."""
    if article.simhash is not None:
        story = story_of(conn, article_id, article.simhash, len(article.text), ignore=ignore)
        if story is not None:
            conn.execute(_UPDATE_ARTICLE, {"b_id": article_id, "duplicate_of": story})


def _url_of(item: ArticleRecord | UnchangedVisit) -> str:
    return item.canonical_url if isinstance(item, ArticleRecord) else item.url


def _raise_or_return(result: Recorded | Exception) -> Recorded:
    if isinstance(result, Exception):
        raise result
    return result


def store_pages(conn: Connection, captures: Sequence[Capture], digests: Sequence[str],
                cpu: StageTimes) -> list[int]:
    """:func:`store_page` for many captures, no two of the same URL and bytes (``digests``: their SHA-256), with
    one statement per table; their page ids, in order."""
    with cpu.timed(CPU_COMPRESSION):
        blobs = {digest: _blob_row(capture, digest) for capture, digest in zip(captures, digests, strict=True)}
    blob_insert, _ = _page_statements(conn.dialect.name)
    conn.execute(blob_insert, list(blobs.values()))
    conn.execute(_pages_upsert(conn.dialect.name), [_page_row(capture, digest)
                                                   for capture, digest in zip(captures, digests, strict=True)])
    ids = {(url, digest): int(page_id) for page_id, url, digest in conn.execute(
        _PAGES_AT, {"urls": sorted({capture.url for capture in captures})})}
    return [ids[capture.url, digest] for capture, digest in zip(captures, digests, strict=True)]


# zlib level of stored responses, chosen by measurement (bench/README.md, 2026-12-04): against level 6, level 3
# halves the CPU (81 real pages of ~226 KB: 3.24 -> 1.72 ms a page; 1,000 generated ones of 71 KB: 0.39 -> 0.21)
# for 8 % more bytes (54.8 -> 59.2 KB a page; generated 7.8 -> 9.0 KB); level 1 saves little more CPU and stores
# 13-20 % more. Blobs of any level decompress alike, so archives written at 6 need nothing.
BLOB_ZLIB_LEVEL = 3


def _blob_row(capture: Capture, digest: str) -> dict[str, Any]:
    return {"sha256": digest, "size": len(capture.body), "compression": "zlib",
            "data": zlib.compress(capture.body, BLOB_ZLIB_LEVEL)}


def _page_row(capture: Capture, digest: str) -> dict[str, Any]:
    return {"url": capture.url, "blob_sha256": digest, "status": capture.status, "headers": capture.headers,
            "encoding": capture.encoding, "encoding_overridden": capture.encoding_overridden,
            "first_fetched_at": capture.fetched_at, "last_fetched_at": capture.fetched_at, "fetch_count": 1}


def store_page(conn: Connection, capture: Capture, cpu: StageTimes | None = None) -> int:
    """Store the response bytes once (content-addressed) and this URL's capture of them; return the page id.

    ``cpu`` counts the compression's CPU time (stage "compression")."""
    digest = hashlib.sha256(capture.body).hexdigest()
    cpu = cpu or StageTimes()
    with cpu.timed(CPU_COMPRESSION):
        blob = _blob_row(capture, digest)
    blob_insert, page_upsert = _page_statements(conn.dialect.name)
    conn.execute(blob_insert, blob)
    return int(conn.execute(page_upsert, _page_row(capture, digest)).scalar_one())


# The per-article write is Core statements on the session's connection, not ORM objects: the unit of work (its
# flushes, its identity map, an object per row) cost most of the store's CPU, several times the SQL itself
# (issue 19). Each statement is built once; a write passes its values as parameters ("b_" names the ones that
# are not column values), and an UPDATE by id sets the columns its parameters name.
_ARTICLES = cast(Table, Article.__table__)
_VERSIONS = cast(Table, ArticleVersion.__table__)
_ALIASES = cast(Table, UrlAlias.__table__)
_PAGES = cast(Table, Page.__table__)
_BLOBS = cast(Table, RawBlob.__table__)


@functools.cache
def _page_statements(dialect: str) -> tuple[Any, Any]:
    """The blob insert and the capture upsert of :func:`store_page`, built once per backend (building them cost
    more CPU than running them); each write passes its values as parameters."""
    blob = upsert_for(dialect, _BLOBS).on_conflict_do_nothing(index_elements=["sha256"])
    return blob, _pages_upsert(dialect).returning(_PAGES.c.id)


@functools.cache
def _pages_upsert(dialect: str) -> Any:
    """The capture upsert: seen again, the capture counts one more fetch. :func:`store_pages` runs it without
    RETURNING, which an ``executemany`` would need in the parameters' order (it reads the ids back by URL);
    :func:`store_page` with it."""
    page = upsert_for(dialect, _PAGES)
    return page.on_conflict_do_update(
        index_elements=["url", "blob_sha256"],
        set_={"last_fetched_at": page.excluded.last_fetched_at, "fetch_count": _PAGES.c.fetch_count + 1})


_PAGES_AT = select(_PAGES.c.id, _PAGES.c.url, _PAGES.c.blob_sha256).where(
    _PAGES.c.url.in_(bindparam("urls", expanding=True)))
# whether any of a batch's URL keys or text hashes is archived: then the batch is written one article at a time
_ANY_ARTICLE_AT = select(_ARTICLES.c.id).where(_ARTICLES.c.url_key.in_(bindparam("values", expanding=True))).limit(1)
_ANY_ALIAS_AT = select(_ALIASES.c.id).where(_ALIASES.c.url_key.in_(bindparam("values", expanding=True))).limit(1)
_ANY_VERSION_WITH = select(_VERSIONS.c.id).where(
    _VERSIONS.c.text_hash.in_(bindparam("values", expanding=True))).limit(1)


_ARTICLE_COLUMNS = (_ARTICLES.c.id, _ARTICLES.c.version_count, _ARTICLES.c.first_seen, _ARTICLES.c.last_seen,
                    _ARTICLES.c.revisit_step, _ARTICLES.c.duplicate_of)
_ARTICLE_AT_KEY = select(*_ARTICLE_COLUMNS).where(_ARTICLES.c.url_key == bindparam("key"))
_ARTICLE_BY_ID = select(*_ARTICLE_COLUMNS).where(_ARTICLES.c.id == bindparam("b_id"))
_ALIAS_AT_KEY = select(_ALIASES.c.id, _ALIASES.c.article_id, _ALIASES.c.last_seen).where(
    _ALIASES.c.url_key == bindparam("key"))
_VERSION = select(_VERSIONS.c.id, _VERSIONS.c.version_no, _VERSIONS.c.content_hash, _VERSIONS.c.last_seen).where(
    _VERSIONS.c.article_id == bindparam("article_id"), _VERSIONS.c.version_no == bindparam("version_no"))
_FIRST_WITH_TEXT = (select(_ARTICLES.c.id, _ARTICLES.c.version_count, _ARTICLES.c.last_seen)
                    .join(_VERSIONS, _VERSIONS.c.article_id == _ARTICLES.c.id)
                    .where(_VERSIONS.c.text_hash == bindparam("text_hash"))
                    .order_by(_VERSIONS.c.id).limit(1))
_LOCK_TEXTS = text("SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY k) AS s")
_INSERT_ARTICLE = insert(_ARTICLES).returning(_ARTICLES.c.id)
_INSERT_VERSION = insert(_VERSIONS).returning(_VERSIONS.c.id)
# many rows at once: without RETURNING (in the parameters' order SQLite's dialect would send them one by one);
# the new rows' ids are read back by URL key and by article
_INSERT_ARTICLES = insert(_ARTICLES)
_INSERT_VERSIONS = insert(_VERSIONS)
_ARTICLE_IDS = select(_ARTICLES.c.url_key, _ARTICLES.c.id).where(_ARTICLES.c.url_key.in_(
    bindparam("keys", expanding=True)))
_VERSION_IDS = select(_VERSIONS.c.article_id, _VERSIONS.c.id).where(_VERSIONS.c.article_id.in_(
    bindparam("ids", expanding=True)))
_INSERT_ALIAS = insert(_ALIASES)
_UPDATE_ARTICLE = update(_ARTICLES).where(_ARTICLES.c.id == bindparam("b_id"))
_UPDATE_ALIAS = update(_ALIASES).where(_ALIASES.c.id == bindparam("b_id"))
_VERSION_SEEN_AGAIN = (update(_VERSIONS).where(_VERSIONS.c.id == bindparam("b_id"))
                       .values(last_seen=bindparam("b_last_seen"), seen_count=_VERSIONS.c.seen_count + 1))


_Row = Row[*tuple[Any, ...]]  # a row of one of the statements above, its columns by name


@dataclass(frozen=True)
class _Written:
    """What a new article or version needs next: its version's id and the article's first capture (the index),
    and the story the article is already linked to (near-duplicates)."""

    version_id: int
    first_seen: datetime
    duplicate_of: int | None


def _lock_texts(conn: Connection, batch: Sequence[ArticleRecord | UnchangedVisit]) -> None:
    """Hold, until the transaction ends, a PostgreSQL advisory lock on the text hash of every article in the
    batch, taken at its start and in one sorted order (so that two batches cannot deadlock on them).

    Why: "the same text under two URLs is one article" is checked by a read (``_FIRST_WITH_TEXT``), and under
    READ COMMITTED two transactions storing one text under two URLs at once each miss the other's uncommitted
    article: a distributed crawl made two articles of one text. With the lock the second waits for the first
    to commit and then finds its twin. SQLite needs none: ``BEGIN IMMEDIATE`` already serialises writers."""
    keys = sorted({_lock_key(item.text_hash) for item in batch if isinstance(item, ArticleRecord)})
    if keys:
        conn.execute(_LOCK_TEXTS, {"keys": keys})


def _lock_key(text_hash: str) -> int:
    """The text hash as the signed 64-bit key of an advisory lock."""
    return int.from_bytes(hashlib.blake2b(text_hash.encode(), digest_size=8).digest(), "big", signed=True)


def _find(conn: Connection, key: str, seen_at: datetime) -> _Row | None:
    """The article at a URL key (its ``_ARTICLE_COLUMNS``), directly or through an alias (whose ``last_seen``
    moves)."""
    article = conn.execute(_ARTICLE_AT_KEY, {"key": key}).one_or_none()
    if article is None:
        alias = conn.execute(_ALIAS_AT_KEY, {"key": key}).one_or_none()
        if alias is not None:
            conn.execute(_UPDATE_ALIAS, {"b_id": alias.id, "last_seen": max(alias.last_seen, seen_at)})
            article = conn.execute(_ARTICLE_BY_ID, {"b_id": alias.article_id}).one()
    return article


def _latest(conn: Connection, article: _Row) -> _Row:
    return conn.execute(_VERSION, {"article_id": article.id, "version_no": article.version_count}).one()


def _seen_again(conn: Connection, article: _Row, latest: _Row, seen_at: datetime,
                revisit: RevisitPolicy) -> None:
    """The article's latest version was found again: both are seen later, and the article climbs a rung."""
    conn.execute(_VERSION_SEEN_AGAIN, {"b_id": latest.id, "b_last_seen": max(latest.last_seen, seen_at)})
    conn.execute(_UPDATE_ARTICLE, {"b_id": article.id, "last_seen": max(article.last_seen, seen_at),
                                   **revisit.schedule(article.revisit_step + 1, seen_at, article.first_seen)})


def _record_article(conn: Connection, item: ArticleRecord, site_id: int, page_id: int,
                    revisit: RevisitPolicy) -> tuple[Recorded, _Written | None]:
    """What the item is to the archive, and what it wrote if it wrote a version (to be indexed)."""
    key = url_key(item.canonical_url)
    seen_at = item.seen_at
    article = _find(conn, key, seen_at)
    if article is not None:
        return _record_known_article(conn, article, item, page_id, revisit)

    twin = conn.execute(_FIRST_WITH_TEXT, {"text_hash": item.text_hash}).one_or_none()
    if twin is not None:
        conn.execute(_INSERT_ALIAS, {"article_id": twin.id, "url": item.canonical_url, "url_key": key,
                                     "first_seen": seen_at, "last_seen": seen_at})
        conn.execute(_UPDATE_ARTICLE, {"b_id": twin.id, "last_seen": max(twin.last_seen, seen_at)})
        return Recorded(Outcome.DUPLICATE, twin.id, twin.version_count), None

    article_id = conn.execute(_INSERT_ARTICLE, _new_article(site_id, key, item, revisit)).scalar_one()
    version_id = conn.execute(_INSERT_VERSION, _new_version(article_id, 1, item, page_id)).scalar_one()
    return Recorded(Outcome.NEW, article_id, 1), _Written(version_id, seen_at, None)


def _record_known_article(conn: Connection, article: _Row, item: ArticleRecord, page_id: int,
                          revisit: RevisitPolicy) -> tuple[Recorded, _Written | None]:
    latest = _latest(conn, article)
    seen_at = item.seen_at
    if latest.content_hash == item.content_hash:
        _seen_again(conn, article, latest, seen_at, revisit)
        return Recorded(Outcome.UNCHANGED, article.id, latest.version_no), None
    version_no = article.version_count + 1
    version_id = conn.execute(_INSERT_VERSION, _new_version(article.id, version_no, item, page_id)).scalar_one()
    conn.execute(_UPDATE_ARTICLE, {"b_id": article.id, "last_seen": max(article.last_seen, seen_at),
                                   "version_count": version_no, **revisit.schedule(0, seen_at, article.first_seen),
                                   **_fingerprint(item)})
    return Recorded(Outcome.NEW_VERSION, article.id, version_no), _Written(version_id, article.first_seen,
                                                                           article.duplicate_of)


def _new_article(site_id: int, key: str, item: ArticleRecord, revisit: RevisitPolicy) -> dict[str, Any]:
    seen_at = item.seen_at
    return {"site_id": site_id, "url": item.canonical_url, "url_key": key, "first_seen": seen_at,
            "last_seen": seen_at, "version_count": 1, **revisit.schedule(0, seen_at, seen_at), **_fingerprint(item)}


def _fingerprint(item: ArticleRecord) -> dict[str, int]:
    return fingerprint_columns(item.simhash) if item.simhash is not None else {}


def _new_version(article_id: int, version_no: int, item: ArticleRecord, page_id: int) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "version_no": version_no,
        "title": item.title,
        "text": item.text,
        "published_at": item.published_at,
        "author": _clip(item.author),
        "source": _clip(item.source),
        "editor": _clip(item.editor),
        "language": item.language,
        "content_hash": item.content_hash,
        "text_hash": item.text_hash,
        "text_length": len(item.text),
        "extractor_version": item.extractor_version[:80],
        "first_seen": item.seen_at,
        "last_seen": item.seen_at,
        "seen_count": 1,
        "page_id": page_id,
    }


def _clip(value: str | None, limit: int = 200) -> str | None:
    return value[:limit] if value else value


def _insert_ignoring_conflict(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    session.execute(upsert(session.get_bind(), model).values(**values).on_conflict_do_nothing(index_elements=keys))

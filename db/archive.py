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
the winner's rows.
"""
from __future__ import annotations

import enum
import functools
import hashlib
import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cqnews.cputime import StageTimes
from cqnews.db import fulltext
from cqnews.db.models import Article, ArticleVersion, Page, RawBlob, Site, UrlAlias
from cqnews.db.neardup import fingerprint_article
from cqnews.db.records import ArticleRecord, Capture, UnchangedVisit
from cqnews.db.revisit import next_visit, parse_ladder
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
class RevisitPolicy:
    ladder: tuple[timedelta, ...] = field(default_factory=lambda: parse_ladder("1h,6h,1d,3d"))
    max_age: timedelta = timedelta(days=30)

    def schedule(self, article: Article, step: int, seen_at: Any) -> None:
        article.revisit_step = step
        article.next_visit_at = next_visit(step, seen_at, article.first_seen, self.ladder, self.max_age)


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
        for site in {item.site for item in batch}:
            self._site_id(site, site_title)
        results: list[Recorded | Exception] = []
        with self.sessions.begin() as session:
            if session.get_bind().dialect.name == "sqlite":
                # pysqlite begins a transaction only at the first INSERT or UPDATE: a SAVEPOINT before it
                # would be the outermost, and releasing it would commit. IMMEDIATE: take the write lock now,
                # waiting (busy timeout) for another crawl's batch rather than failing when upgrading later.
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            for item in batch:
                results.append(self._in_savepoint(session, item))
        return results

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
        site_id = self._site_ids[article.site]
        page_id = store_page(session, article.capture, self.cpu)
        for part in article.parts:
            store_page(session, part, self.cpu)
        recorded, written = _record_article(session, article, site_id, page_id, self.revisit)
        if written is not None:  # a new article or a new version
            stored = session.get(Article, recorded.article_id)  # in the session already: no query
            assert stored is not None
            with self.cpu.timed(CPU_INDEX):
                if fulltext.index_version(session, stored, written, article.site):  # same transaction
                    recorded = replace(recorded, title_only=True)
            if article.simhash is not None:
                fingerprint_article(session, stored, article.simhash, len(article.text))
        return recorded

    def _write_visit(self, session: Session, visit: UnchangedVisit) -> Recorded:
        article = _find(session, url_key(visit.url), visit.seen_at)
        if article is None:
            return Recorded(Outcome.UNKNOWN, 0, 0)
        if visit.capture is not None:  # the same bytes again: count the fetch on the stored capture
            store_page(session, visit.capture, self.cpu)
        latest = _latest(session, article)
        latest.last_seen = max(latest.last_seen, visit.seen_at)
        latest.seen_count += 1
        article.last_seen = max(article.last_seen, visit.seen_at)
        self.revisit.schedule(article, article.revisit_step + 1, visit.seen_at)
        session.flush()
        return Recorded(Outcome.NOT_MODIFIED, article.id, latest.version_no)

    def _site_id(self, name: str, title: str) -> int:
        """The site's row id, created in its own transaction: a cached id must never be one rolled back."""
        if name not in self._site_ids:
            with self.sessions.begin() as session:
                _insert_ignoring_conflict(session, Site, {"name": name, "title": title}, ["name"])
                self._site_ids[name] = session.scalars(select(Site.id).where(Site.name == name)).one()
        return self._site_ids[name]


def _url_of(item: ArticleRecord | UnchangedVisit) -> str:
    return item.canonical_url if isinstance(item, ArticleRecord) else item.url


def _raise_or_return(result: Recorded | Exception) -> Recorded:
    if isinstance(result, Exception):
        raise result
    return result


def store_page(session: Session, capture: Capture, cpu: StageTimes | None = None) -> int:
    """Store the response bytes once (content-addressed) and this URL's capture of them; return the page id.

    ``cpu`` counts the compression's CPU time (stage "compression")."""
    digest = hashlib.sha256(capture.body).hexdigest()
    cpu = cpu or StageTimes()
    with cpu.timed(CPU_COMPRESSION):
        data = zlib.compress(capture.body, 6)
    blob_insert, page_upsert = _page_statements(session.get_bind().dialect.name)
    session.execute(blob_insert, {"sha256": digest, "size": len(capture.body), "compression": "zlib", "data": data})
    return int(session.execute(page_upsert, {
        "url": capture.url,
        "blob_sha256": digest,
        "status": capture.status,
        "headers": capture.headers,
        "encoding": capture.encoding,
        "encoding_overridden": capture.encoding_overridden,
        "first_fetched_at": capture.fetched_at,
        "last_fetched_at": capture.fetched_at,
        "fetch_count": 1,
    }).scalar_one())


@functools.cache
def _page_statements(dialect: str) -> tuple[Any, Any]:
    """The blob insert and the capture upsert of :func:`store_page`, built once per backend (building them cost
    more CPU than running them); each write passes its values as parameters."""
    blob = upsert_for(dialect, RawBlob).on_conflict_do_nothing(index_elements=["sha256"])
    page = upsert_for(dialect, Page)
    seen_again = page.on_conflict_do_update(
        index_elements=["url", "blob_sha256"],
        set_={"last_fetched_at": page.excluded.last_fetched_at, "fetch_count": Page.fetch_count + 1},
    ).returning(Page.id)
    return blob, seen_again


# The lookups of every write, built once with parameters: building a statement per article cost more CPU
# than running it (issue 19).
_ARTICLE_AT_KEY = select(Article).where(Article.url_key == bindparam("key"))
_ALIAS_AT_KEY = select(UrlAlias).where(UrlAlias.url_key == bindparam("key"))
_VERSION = select(ArticleVersion).where(ArticleVersion.article_id == bindparam("article_id"),
                                        ArticleVersion.version_no == bindparam("version_no"))
_FIRST_WITH_TEXT = (select(ArticleVersion).where(ArticleVersion.text_hash == bindparam("text_hash"))
                    .order_by(ArticleVersion.id).limit(1))


def _find(session: Session, key: str, seen_at: Any) -> Article | None:
    """The article at a URL key, directly or through an alias (whose ``last_seen`` moves)."""
    article = session.scalars(_ARTICLE_AT_KEY, {"key": key}).one_or_none()
    if article is None:
        alias = session.scalars(_ALIAS_AT_KEY, {"key": key}).one_or_none()
        if alias is not None:
            alias.last_seen = max(alias.last_seen, seen_at)
            article = alias.article
    return article


def _latest(session: Session, article: Article) -> ArticleVersion:
    return session.scalars(_VERSION, {"article_id": article.id, "version_no": article.version_count}).one()


def _record_article(session: Session, item: ArticleRecord, site_id: int, page_id: int,
                    revisit: RevisitPolicy) -> tuple[Recorded, ArticleVersion | None]:
    """What the item is to the archive, and the version it wrote if it wrote one (to be indexed)."""
    key = url_key(item.canonical_url)
    seen_at = item.seen_at
    article = _find(session, key, seen_at)
    if article is not None:
        return _record_known_article(session, article, item, page_id, revisit)

    twin = session.scalars(_FIRST_WITH_TEXT, {"text_hash": item.text_hash}).one_or_none()
    if twin is not None:
        session.add(UrlAlias(article_id=twin.article_id, url=item.canonical_url, url_key=key,
                             first_seen=seen_at, last_seen=seen_at))
        twin.article.last_seen = max(twin.article.last_seen, seen_at)
        session.flush()
        return Recorded(Outcome.DUPLICATE, twin.article_id, twin.article.version_count), None

    article = Article(site_id=site_id, url=item.canonical_url, url_key=key, first_seen=seen_at,
                      last_seen=seen_at, version_count=1)
    revisit.schedule(article, 0, seen_at)
    session.add(article)
    session.flush()
    version = _new_version(article.id, 1, item, page_id)
    session.add(version)
    session.flush()
    return Recorded(Outcome.NEW, article.id, 1), version


def _record_known_article(session: Session, article: Article, item: ArticleRecord, page_id: int,
                          revisit: RevisitPolicy) -> tuple[Recorded, ArticleVersion | None]:
    latest = _latest(session, article)
    seen_at = item.seen_at
    article.last_seen = max(article.last_seen, seen_at)
    if latest.content_hash == item.content_hash:
        latest.last_seen = max(latest.last_seen, seen_at)
        latest.seen_count += 1
        revisit.schedule(article, article.revisit_step + 1, seen_at)
        session.flush()
        return Recorded(Outcome.UNCHANGED, article.id, latest.version_no), None
    version_no = article.version_count + 1
    version = _new_version(article.id, version_no, item, page_id)
    session.add(version)
    article.version_count = version_no
    revisit.schedule(article, 0, seen_at)
    session.flush()
    return Recorded(Outcome.NEW_VERSION, article.id, version_no), version


def _new_version(article_id: int, version_no: int, item: ArticleRecord, page_id: int) -> ArticleVersion:
    return ArticleVersion(
        article_id=article_id,
        version_no=version_no,
        title=item.title,
        text=item.text,
        published_at=item.published_at,
        author=_clip(item.author),
        source=_clip(item.source),
        editor=_clip(item.editor),
        language=item.language,
        content_hash=item.content_hash,
        text_hash=item.text_hash,
        text_length=len(item.text),
        extractor_version=item.extractor_version[:80],
        first_seen=item.seen_at,
        last_seen=item.seen_at,
        seen_count=1,
        page_id=page_id,
    )


def _clip(value: str | None, limit: int = 200) -> str | None:
    return value[:limit] if value else value


def _insert_ignoring_conflict(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    session.execute(upsert(session.get_bind(), model).values(**values).on_conflict_do_nothing(index_elements=keys))

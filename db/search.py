"""Reading the archive: search, one article with its versions, a URL's history, crawl runs.

Search here is a plain ``LIKE`` over the latest version's title and text (parameterised, with ``%``/``_``
escaped), the same on SQLite and PostgreSQL; segmented CJK full-text search replaces it later.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from db.models import Article, ArticleVersion, CrawlRun, Site, UrlAlias
from urls import url_key


@dataclass(frozen=True)
class Hit:
    article_id: int
    site: str
    url: str
    title: str | None
    published_at: datetime | None
    last_seen: datetime
    version_count: int
    snippet: str


def _latest_version() -> Select[tuple[Article, ArticleVersion, Site]]:
    return (
        select(Article, ArticleVersion, Site)
        .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                   ArticleVersion.version_no == Article.version_count))
        .join(Site, Site.id == Article.site_id)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    session: Session,
    text: str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """Articles whose latest version contains every word of ``text`` (title or body), newest first."""
    query = _latest_version()
    for word in text.split():
        pattern = f"%{_escape_like(word)}%"
        query = query.where(or_(ArticleVersion.title.like(pattern, escape="\\"),
                                ArticleVersion.text.like(pattern, escape="\\")))
    if site:
        query = query.where(Site.name == site)
    if since:
        query = query.where(ArticleVersion.published_at >= since)
    if until:
        query = query.where(ArticleVersion.published_at < until)
    query = query.order_by(ArticleVersion.published_at.desc().nulls_last(), Article.id.desc())
    rows = session.execute(query.limit(limit).offset(offset)).all()
    words = text.split()
    return [
        Hit(a.id, s.name, a.url, v.title, v.published_at, a.last_seen, a.version_count, snippet(v.text, words))
        for a, v, s in rows
    ]


def snippet(text: str, words: list[str], width: int = 60) -> str:
    """A short window of ``text`` around the first matched word."""
    flat = " ".join(text.split())
    positions = [flat.find(w) for w in words if w and flat.find(w) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def get_article(session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id)


def find_article_by_url(session: Session, url: str) -> Article | None:
    """The article a URL belongs to: its own canonical URL or one of its aliases."""
    key = url_key(url)
    article = session.scalars(select(Article).where(Article.url_key == key)).one_or_none()
    if article is None:
        alias = session.scalars(select(UrlAlias).where(UrlAlias.url_key == key)).one_or_none()
        article = alias.article if alias else None
    return article


@dataclass(frozen=True)
class VersionChange:
    version: ArticleVersion
    changed_fields: list[str]
    paragraphs_added: int
    paragraphs_removed: int


def history(article: Article) -> list[VersionChange]:
    """Each version with what changed since the one before it."""
    out: list[VersionChange] = []
    previous: ArticleVersion | None = None
    for version in article.versions:
        if previous is None:
            out.append(VersionChange(version, [], len(_paragraphs(version.text)), 0))
        else:
            fields = [f for f in ("title", "text", "published_at", "author", "source", "editor")
                      if getattr(previous, f) != getattr(version, f)]
            added = removed = 0
            matcher = difflib.SequenceMatcher(a=_paragraphs(previous.text), b=_paragraphs(version.text))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag in ("replace", "delete"):
                    removed += i2 - i1
                if tag in ("replace", "insert"):
                    added += j2 - j1
            out.append(VersionChange(version, fields, added, removed))
        previous = version
    return out


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]


def recent_runs(session: Session, site: str | None = None, limit: int = 20) -> list[CrawlRun]:
    query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
    if site:
        query = query.where(CrawlRun.site == site)
    return list(session.scalars(query))


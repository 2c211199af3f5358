"""Exports of the archive for other tools: articles as JSON Lines or CSV, stored responses as WARC.

JSONL and CSV hold one article per line/row at its latest version, with its metadata (timestamps in ISO 8601,
Asia/Shanghai). WARC holds the raw HTTP responses the archive kept (``pages`` + ``raw_blobs``), one
``response`` record per capture, after a ``warcinfo`` record, readable by warcio and other WARC tools. The
stored body is the decoded payload (Scrapy removed any Content-Encoding), so the record's HTTP headers drop
Content-Encoding/Transfer-Encoding and give the real Content-Length; the original values are kept as
``X-Cqnews-Original-*`` headers.
"""
from __future__ import annotations

import csv
import http
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from cqnews.db.models import Article, ArticleVersion, Page, RawBlob, UrlAlias
from cqnews.db.pages import blob_bytes

T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")
CHUNK = 500
CSV_FIELDS = ["id", "site", "url", "aliases", "version", "versions", "title", "published_at", "author", "source",
              "editor", "language", "first_seen", "last_seen", "content_hash", "chars", "text"]
_DROPPED_HEADERS = ("content-encoding", "transfer-encoding", "content-length")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def _chunks(ids: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def article_records(session: Session, ids: Sequence[int]) -> Iterator[dict[str, Any]]:
    """The export record of each article, in the order of ``ids``."""
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Article, ArticleVersion)
            .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                       ArticleVersion.version_no == Article.version_count))
            .where(Article.id.in_(chunk))
            .options(selectinload(Article.aliases), selectinload(Article.site))
        ).all()
        by_id = {a.id: (a, v) for a, v in rows}
        for article_id in chunk:
            if article_id not in by_id:
                continue
            a, v = by_id[article_id]
            yield {"id": a.id, "site": a.site.name, "url": a.url, "aliases": [x.url for x in a.aliases],
                   "version": v.version_no, "versions": a.version_count, "title": v.title,
                   "published_at": _iso(v.published_at), "author": v.author, "source": v.source, "editor": v.editor,
                   "language": v.language, "first_seen": _iso(a.first_seen), "last_seen": _iso(a.last_seen),
                   "content_hash": v.content_hash, "chars": v.text_length, "text": v.text}
        session.expunge_all()


def write_jsonl(session: Session, ids: Sequence[int], out: IO[str]) -> int:
    count = 0
    for record in article_records(session, ids):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


# OWASP's CSV injection rule: a cell starting with one of these is a formula to a spreadsheet
# (=HYPERLINK(...) from a hostile page's title would run when the export is opened).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with ' (shown as text); others unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(session: Session, ids: Sequence[int], out: IO[str], *, escape_formulas: bool = True) -> int:
    """CSV (RFC 4180 quoting, UTF-8); ``aliases`` joined by spaces, ``text`` with its line breaks. With
    ``escape_formulas`` (the default) no cell can start a formula (:func:`escape_formula`)."""
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    count = 0
    for record in article_records(session, ids):
        row = record | {"aliases": " ".join(record["aliases"])}
        if escape_formulas:
            row = {key: escape_formula(value) for key, value in row.items()}
        writer.writerow(row)
        count += 1
    return count


def page_ids(session: Session, article_ids: Sequence[int] | None) -> list[int]:
    """The captures that belong to these articles (the pages of their versions, and every capture of their
    URL or an alias); all captures if ``article_ids`` is None."""
    if article_ids is None:
        return list(session.scalars(select(Page.id).order_by(Page.id)))
    found: set[int] = set()
    for chunk in _chunks(article_ids):
        found.update(p for p in session.scalars(select(ArticleVersion.page_id).where(
            ArticleVersion.article_id.in_(chunk), ArticleVersion.page_id.is_not(None))) if p is not None)
        urls = list(session.scalars(select(Article.url).where(Article.id.in_(chunk))))
        urls += list(session.scalars(select(UrlAlias.url).where(UrlAlias.article_id.in_(chunk))))
        for url_chunk in _chunks(urls):
            found.update(session.scalars(select(Page.id).where(Page.url.in_(url_chunk))))
    return sorted(found)


def _http_headers(page: Page, body: bytes) -> Any:
    from warcio.statusandheaders import StatusAndHeaders

    headers: list[tuple[str, str]] = []
    for name, value in (page.headers or {}).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if str(name).lower() in _DROPPED_HEADERS:
                headers.append((f"X-Cqnews-Original-{name}", str(item)))
            else:
                headers.append((str(name), str(item)))
    headers.append(("Content-Length", str(len(body))))
    try:
        reason = http.HTTPStatus(page.status).phrase
    except ValueError:
        reason = "Unknown"
    return StatusAndHeaders(f"{page.status} {reason}", headers, protocol="HTTP/1.1")


def write_warc(session: Session, ids: Sequence[int], out: IO[bytes], *, gzip: bool = True,
               filename: str = "cqnews.warc.gz") -> int:
    """One ``response`` record per capture in ``ids`` (page ids), dated at its first fetch; returns the count."""
    from warcio.timeutils import datetime_to_iso_date
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record(filename, {
        "software": "cqnews", "format": "WARC File Format 1.1",
        "description": "raw responses stored by the cqnews archive (pages + raw_blobs)"}))
    count = 0
    for chunk in _chunks(ids):
        rows = session.execute(select(Page, RawBlob).join(RawBlob, RawBlob.sha256 == Page.blob_sha256)
                               .where(Page.id.in_(chunk)).order_by(Page.id)).all()
        for page, blob in rows:
            body = blob_bytes(blob)
            record = writer.create_warc_record(
                page.url, "response", payload=io.BytesIO(body), length=None,
                http_headers=_http_headers(page, body),
                warc_headers_dict={"WARC-Date": datetime_to_iso_date(page.first_fetched_at)})
            writer.write_record(record)
            count += 1
        session.expunge_all()
    return count

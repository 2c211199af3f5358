"""Exports: JSONL/CSV of articles, WARC of the stored responses read back with warcio."""
from __future__ import annotations

import csv
import io
import json
import zlib
from pathlib import Path

from sqlalchemy import Engine, select, update
from warcio.archiveiterator import ArchiveIterator

from cqnews.db import export
from cqnews.db.fulltext import fold
from cqnews.db.models import ArticleVersion, Page, RawBlob
from cqnews.db.search import Filters, select_articles
from cqnews.db.session import make_sessionmaker

from helpers import CORPUS, cqnews, fill


def stored_pages(engine: Engine) -> dict[str, bytes]:
    with make_sessionmaker(engine)() as session:
        return {p.url: zlib.decompress(b.data) for p, b in session.execute(
            select(Page, RawBlob).join(RawBlob, RawBlob.sha256 == Page.blob_sha256))}


def read_warc(data: bytes) -> list[tuple[str, str | None, int | None, bytes, str | None]]:
    out = []
    for record in ArchiveIterator(io.BytesIO(data)):
        status = int(record.http_headers.get_statuscode()) if record.http_headers else None
        ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
        out.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"), status,
                    record.content_stream().read(), ctype))
    return out


def test_warc_reads_back_with_warcio_and_matches_the_pages(archive_engine: Engine) -> None:
    fill(archive_engine)
    pages = stored_pages(archive_engine)
    for gzip in (True, False):
        buffer = io.BytesIO()
        with make_sessionmaker(archive_engine)() as session:
            count = export.write_warc(session, export.page_ids(session, None), buffer, gzip=gzip)
        records = read_warc(buffer.getvalue())
        assert count == len(pages) == len(CORPUS)
        assert records[0][0] == "warcinfo"
        responses = {uri: (status, body, ctype) for kind, uri, status, body, ctype in records[1:]
                     if kind == "response" and uri}
        assert {uri: body for uri, (_, body, _) in responses.items()} == pages
        assert all(status == 200 and ctype == "text/html; charset=utf-8" for status, _, ctype in responses.values())


def test_filtered_exports(archive_engine: Engine) -> None:
    fill(archive_engine)
    with make_sessionmaker(archive_engine)() as session:
        ids = select_articles(session, Filters(site="cbg"))
        assert len(ids) == 3
        assert select_articles(session, Filters(), "渝北") == select_articles(session, Filters(author="胡虹"))[::-1]
        out = io.StringIO()
        assert export.write_jsonl(session, ids, out) == 3
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        assert {r["site"] for r in records} == {"cbg"}
        assert records[0]["published_at"].endswith("+08:00") and records[0]["text"]
        out = io.StringIO()
        export.write_csv(session, ids, out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert [r["title"] for r in rows] == [r["title"] for r in records]
        warc = io.BytesIO()
        export.write_warc(session, export.page_ids(session, ids), warc)
    uris = {uri for kind, uri, *_ in read_warc(warc.getvalue()) if kind == "response"}
    assert uris == {f"http://cbg.example.cn/{row[1]}.html" for row in CORPUS if row[0] == "cbg"}


def test_cli_export_of_a_demo_archive(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert cqnews(["demo", "--port", "0"], url, tmp_path).returncode == 0
    result = cqnews(["export", "--format", "warc", "-o", str(tmp_path / "all.warc.gz")], url, tmp_path)
    assert result.returncode == 0, result.stderr
    from cqnews.db.session import make_engine

    engine = make_engine(url)
    pages = stored_pages(engine)
    engine.dispose()
    records = read_warc((tmp_path / "all.warc.gz").read_bytes())
    assert {uri: body for kind, uri, _, body, _ in records if kind == "response"} == pages
    result = cqnews(["export", "--format", "jsonl", "--site", "cbg", "--query", "重庆", "-o",
                     str(tmp_path / "cbg.jsonl")], url, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in (tmp_path / "cbg.jsonl").read_text("utf-8").splitlines()]
    assert lines and all(x["site"] == "cbg" and "重庆" in fold(x["title"] + x["text"]) for x in lines)
    bad = cqnews(["export", "--format", "csv", "--query", '"渝北', "-o", str(tmp_path / "x.csv")], url, tmp_path)
    assert bad.returncode == 2 and "unbalanced" in bad.stderr and "Traceback" not in bad.stderr


def test_csv_neutralises_cells_a_spreadsheet_would_run(archive_engine: Engine) -> None:
    fill(archive_engine)
    hostile = ['=HYPERLINK("http://evil.example","点击")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
    with archive_engine.begin() as connection:  # titles as a hostile page would give them
        ids = list(connection.scalars(select(ArticleVersion.id).order_by(ArticleVersion.id)))
        for version_id, title in zip(ids, hostile, strict=False):
            connection.execute(update(ArticleVersion).where(ArticleVersion.id == version_id).values(title=title))
    with make_sessionmaker(archive_engine)() as session:
        articles = select_articles(session, Filters())
        safe, raw = io.StringIO(), io.StringIO()
        export.write_csv(session, articles, safe)
        export.write_csv(session, articles, raw, escape_formulas=False)
    safe_titles = [r["title"] for r in csv.DictReader(io.StringIO(safe.getvalue()))]
    raw_titles = [r["title"] for r in csv.DictReader(io.StringIO(raw.getvalue()))]
    assert set(hostile) <= set(raw_titles)  # the option off: the data as stored
    assert not any(t.startswith(("=", "+", "-", "@", "\t")) for t in safe_titles)
    assert {"'" + t for t in hostile} <= set(safe_titles)
    assert {t for t in safe_titles if not t.startswith("'")} == {t for t in raw_titles if t not in hostile}

"""Speed work must not change what the crawl keeps: the archive a crawl builds, compared with one built before.

Each demo site (reconstructed, cqnews/demo/sites/README.md) is crawled over HTTP into a fresh archive, with
the extraction pool of a real crawl, and the archive is reduced to what a user gets from it: per URL the
latest version's fields and hashes, the SimHash, the stored bytes' digest, which URLs are one article, the
folded text the search checks and the answers to a few searches. Every real dev page
(tests/fixtures/realpages, origins in its README) goes through the extraction workers' ``extract_page``
alone. Both are compared with the snapshots in tests/fixtures/outputs/, made by the code before the speed work
(issue 19).

A change meant to alter outputs (an extraction rule, a new extractor version) rewrites the snapshots:
``CQNEWS_UPDATE_OUTPUT_SNAPSHOTS=1 pytest tests/test_outputs_unchanged.py``, and the diff of the JSON files
shows what changed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from cqnews.db.migrate import upgrade
from cqnews.db.models import Article, ArticleVersion, Page, UrlAlias
from cqnews.db.search import search_ids
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES as DEMO_SITES
from cqnews.demo.server import FixtureSite
from cqnews.fingerprints import from_signed

from helpers import REALPAGES, copy_site, cqnews, dev_pages

SNAPSHOTS = Path(__file__).parent / "fixtures" / "outputs"
UPDATE = os.environ.get("CQNEWS_UPDATE_OUTPUT_SNAPSHOTS") == "1"
SITES = sorted(p.parent.name for p in DEMO_SITES.glob("*/expected.json"))
QUERIES = ["重庆", "经济", "渝", "发展 项目", '"重庆市"', "记者"]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _compare(name: str, actual: dict[str, Any]) -> None:
    file = SNAPSHOTS / f"{name}.json"
    if UPDATE:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(actual, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
        return
    expected = json.loads(file.read_text("utf-8"))
    for key in sorted(expected.keys() | actual.keys()):
        assert actual.get(key) == expected.get(key), f"{name}: {key} differs from the snapshot"


def archive_outputs(database_url: str) -> dict[str, Any]:
    """The archive as its users see it, independent of fetch order (which URL of two with the same text
    became the article and which its alias) and of ids and fetch times."""
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            paths: dict[int, list[str]] = {}
            for article in session.scalars(select(Article)):
                paths.setdefault(article.id, []).append(_path(article.url))
            for alias in session.scalars(select(UrlAlias)):
                paths[alias.article_id].append(_path(alias.url))
            group = {article_id: " ".join(sorted(urls)) for article_id, urls in paths.items()}
            articles: dict[str, Any] = {}
            for article in session.scalars(select(Article)):
                articles[group[article.id]] = {
                    "simhash": None if article.simhash is None else from_signed(article.simhash),
                    "versions": [_version(session, v) for v in article.versions],
                }
            folded = {group[article_id]: [title, body] for article_id, title, body in
                      session.execute(text("SELECT article_id, title, body FROM search_text"))}
            searches = {query: sorted(group[i] for i, _ in search_ids(session, query, limit=None)) for query in QUERIES}
        return {"articles": articles, "search_text": folded, "searches": searches}
    finally:
        engine.dispose()


def _version(session: Any, version: ArticleVersion) -> dict[str, Any]:
    page = session.get(Page, version.page_id)
    return {
        "no": version.version_no, "title": version.title, "author": version.author, "source": version.source,
        "editor": version.editor, "language": version.language, "text_length": version.text_length,
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "content_hash": version.content_hash, "text_hash": version.text_hash,
        "extractor_version": version.extractor_version, "page_sha256": page.blob_sha256, "page_status": page.status,
        "encoding": page.encoding,
    }


@pytest.mark.parametrize("site", SITES)
def test_crawl_archives_the_same_articles_as_before(tmp_path: Path, site: str) -> None:
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with FixtureSite(copy_site(site, tmp_path)) as server:
        result = cqnews(["crawl", site, "--base-url", server.base_url], database_url, tmp_path,
                        env={"CQNEWS_EXTRACT_PROCESSES": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    _compare(f"crawl-{site}", archive_outputs(database_url))


def test_crawl_on_postgresql_archives_the_same_articles_as_before(archive_url: str, tmp_path: Path) -> None:
    if not archive_url.startswith("postgresql"):
        pytest.skip("SQLite: every site above")
    with FixtureSite(copy_site("cq_people", tmp_path)) as server:
        result = cqnews(["crawl", "cq_people", "--base-url", server.base_url], archive_url, tmp_path,
                        env={"CQNEWS_EXTRACT_PROCESSES": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    _compare("crawl-cq_people", archive_outputs(archive_url))


def test_real_pages_extract_the_same_as_before() -> None:
    from cqnews.pipelines.extract import extract_page

    outputs: dict[str, Any] = {}
    for page in dev_pages():
        body = page.read_bytes()
        if page.suffix == ".gz":
            import gzip

            body = gzip.decompress(body)
        outcome = extract_page(body, "http://cq.people.com.cn/n2/2020/0508/c365401-1.html", None, None, 60, [])
        done = outcome.extracted
        outputs[str(page.relative_to(REALPAGES))] = {"rejected": outcome.rejected} if done is None else {
            "title": done.title, "author": done.author, "source": done.source, "editor": done.editor,
            "published_at": done.published_at.isoformat() if done.published_at else None,
            "language": done.language, "encoding": done.encoding,
            "text_sha256": hashlib.sha256(done.text.encode()).hexdigest(),
            "simhash": outcome.fingerprints.simhash if outcome.fingerprints else None,
        }
    _compare("extract-realpages", outputs)

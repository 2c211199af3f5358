"""The store pipeline on a real archive: batches, what a refused item does, and that every item waits for its commit."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

from scrapy.statscollectors import StatsCollector
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select

from cqnews.archive_engine import ArchiveEngine
from cqnews.db.models import Article
from cqnews.db.records import Capture, UnchangedVisit
from cqnews.db.session import make_sessionmaker
from cqnews.extraction.extracted import Extracted
from cqnews.fingerprints import content_fingerprint, normalise, simhash, text_fingerprint
from cqnews.items import Article as ArticleItem
from cqnews.items import RawPage
from cqnews.pipelines.store import StorePipeline, archive_record
from cqnews.urls import canonical_url

from helpers import BODY, HEADERS, PUBLISHED, T0, URL, count, make_record, page_html


def make_item(url: str, text: str = BODY, title: str = "渝北:努力成为新动力源", at: datetime = T0) -> ArticleItem:
    """The item the dedup pipeline hands on for the page ``helpers.make_record`` stores."""
    page = RawPage(site="cq_people", url=url, status=200, headers=HEADERS, body=page_html(title, text), fetched_at=at)
    extracted = Extracted(text=text, title=title, author="胡虹", source="人民网-重庆频道", published_at=PUBLISHED,
                          encoding="gb18030")
    item = ArticleItem(page=page, extracted=extracted, canonical_url=canonical_url(url), extractor_version="test")
    item.text_hash = text_fingerprint(extracted.text)
    item.content_hash = content_fingerprint(extracted.title, extracted.text, extracted.published_at)
    item.simhash = simhash(normalise(extracted.text))
    return item


def test_an_article_item_becomes_the_archive_record_of_its_pages() -> None:
    item = make_item(URL + "?utm_source=weixin")
    item.page.parts = [(URL.replace(".html", "-2.html"), b"<p>second page</p>")]
    record = archive_record(item)
    assert record == make_record(URL + "?utm_source=weixin", parts=(
        Capture(URL.replace(".html", "-2.html"), 200, HEADERS, b"<p>second page</p>", T0, "gb18030"),))


def test_an_unchanged_page_is_a_visit_with_a_capture_only_when_its_bytes_came_again() -> None:
    at = T0 + timedelta(hours=1)
    same_bytes = RawPage("cq_people", URL, 200, HEADERS, b"<html>same</html>", fetched_at=at, not_modified=True)
    revalidated = RawPage("cq_people", URL, 304, HEADERS, b"", fetched_at=at, not_modified=True)
    assert archive_record(same_bytes) == UnchangedVisit("cq_people", URL, at,
                                                        Capture(URL, 200, HEADERS, b"<html>same</html>", at))
    assert archive_record(revalidated) == UnchangedVisit("cq_people", URL, at, None)


def pipeline(url: str, batch_size: int, wait: float = 0.0) -> tuple[StorePipeline, StatsCollector]:
    """The store of a crawl whose archive (its ArchiveEngine's engine) is at ``url``, opened as Scrapy opens it."""
    crawler = get_crawler(settings_dict={"CQNEWS_DATABASE_URL": url, "CQNEWS_STORE_BATCH": batch_size,
                                         "CQNEWS_STORE_WAIT": wait,
                                         "EXTENSIONS": {"cqnews.archive_engine.ArchiveEngine": 100}})
    store = build_from_crawler(StorePipeline, crawler)
    store.site_title = "人民网重庆频道"
    store.open_spider()
    assert crawler.stats is not None
    return store, crawler.stats


def close(store: StorePipeline) -> None:
    """What the end of the crawl does to the store's engine (ArchiveEngine disposes it)."""
    ArchiveEngine.of(store.crawler).dispose()


def items(n: int) -> list[Any]:
    return [make_item(URL.replace(".html", f"-{i}.html"), text=f"第{i}篇。重庆市渝北区新闻正文。", title=f"标题{i}")
            for i in range(n)]


def test_items_arriving_together_are_written_in_batches(archive_engine, archive_url) -> None:  # type: ignore[no-untyped-def]
    store, stats = pipeline(archive_url, batch_size=4)

    async def crawl() -> list[Any]:
        return await asyncio.gather(*(store.process_item(item) for item in items(10)))

    assert len(asyncio.run(crawl())) == 10
    close(store)
    assert count(archive_engine, Article) == 10
    assert stats.get_value("cqnews/store/new") == 10
    assert stats.get_value("cqnews/store/batches") == 3  # 4 + 4 + 2, not 10 transactions
    assert stats.get_value("cqnews/store/largest_batch") == 4


def test_items_arriving_one_by_one_wait_for_a_batch_and_a_full_batch_is_written_at_once(  # type: ignore[no-untyped-def]
        archive_engine, archive_url) -> None:
    store, stats = pipeline(archive_url, batch_size=3, wait=30.0)

    async def arrive(i: int, item: Any) -> Any:
        await asyncio.sleep(0.02 * i)  # one after another, as the extraction pool hands them over
        return await store.process_item(item)

    async def crawl() -> list[Any]:
        return await asyncio.gather(*(arrive(i, item) for i, item in enumerate(items(6))))

    start = time.monotonic()
    assert len(asyncio.run(crawl())) == 6
    assert time.monotonic() - start < 15  # each batch was written when full, not after the 30 s wait
    close(store)
    assert count(archive_engine, Article) == 6
    assert stats.get_value("cqnews/store/batches") == 2  # 3 + 3 (without the wait: the first item alone)
    assert stats.get_value("cqnews/store/largest_batch") == 3


def test_an_item_returns_only_once_stored_and_a_refused_one_fails_alone(archive_engine, archive_url) -> None:  # type: ignore[no-untyped-def]
    store, stats = pipeline(archive_url, batch_size=100)
    batch = items(3)
    batch[1].content_hash = None  # the database refuses it (NOT NULL)
    seen_in_archive: list[int] = []

    async def one(item: Any) -> Any:
        result = await store.process_item(item)
        with make_sessionmaker(archive_engine)() as session:  # committed by the time the pipeline returns
            seen_in_archive.append(int(session.scalar(select(func.count()).select_from(Article)) or 0))
        return result

    async def crawl() -> list[Any]:
        return await asyncio.gather(*(one(item) for item in batch), return_exceptions=True)

    results = asyncio.run(crawl())
    close(store)
    assert isinstance(results[1], Exception) and results[0] is batch[0] and results[2] is batch[2]
    assert seen_in_archive and min(seen_in_archive) == 2
    assert stats.get_value("cqnews/store/new") == 2 and stats.get_value("cqnews/store/failed") == 1


def test_a_database_that_went_away_fails_the_items_and_stores_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cqnews.db.migrate import upgrade
    from cqnews.db.session import make_engine

    url = f"sqlite:///{tmp_path / 'gone.db'}"
    upgrade(make_engine(url))
    store, stats = pipeline(url, batch_size=100)
    close(store)
    for leftover in tmp_path.glob("gone.db*"):
        leftover.unlink()
    (tmp_path / "gone.db").write_bytes(b"this is not an archive any more\n" * 200)

    async def crawl() -> list[Any]:
        return await asyncio.gather(*(store.process_item(item) for item in items(3)), return_exceptions=True)

    results = asyncio.run(crawl())
    close(store)
    assert all(isinstance(r, Exception) for r in results)
    assert stats.get_value("cqnews/store/failed") == 3 and stats.get_value("cqnews/store/new") is None

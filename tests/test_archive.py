"""Versioned writes on a real database, both backends: new, unchanged, new version, alias, races."""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import event, func, select, text

from cqnews.db.archive import Archive, Outcome
from cqnews.db.migrate import upgrade
from cqnews.db.models import Article, ArticleVersion, Page, RawBlob, UrlAlias
from cqnews.db.records import Capture, UnchangedVisit
from cqnews.db.search import search_ids
from cqnews.db.session import make_engine, make_sessionmaker

from helpers import BODY, T0, URL, count, make_record, page_html, postgres_database


def test_first_capture_is_a_new_article_with_version_one(archive_engine) -> None:  # type: ignore[no-untyped-def]
    recorded = Archive(archive_engine).record(make_record(URL), "人民网重庆频道")
    assert (recorded.outcome, recorded.version_no) == (Outcome.NEW, 1)
    assert count(archive_engine, Article) == 1
    assert count(archive_engine, ArticleVersion) == 1
    with archive_engine.connect() as conn:
        row = conn.execute(text("SELECT site, title, author, version_no FROM latest_articles")).one()
    assert tuple(row) == ("cq_people", "渝北:努力成为新动力源", "胡虹", 1)


def test_unchanged_recrawl_only_moves_last_seen(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    archive.record(make_record(URL, at=T0))
    later = T0 + timedelta(hours=6)
    recorded = archive.record(make_record(URL, at=later))
    assert recorded.outcome is Outcome.UNCHANGED
    with make_sessionmaker(archive_engine)() as session:
        version = session.scalars(select(ArticleVersion)).one()
        article = session.scalars(select(Article)).one()
    assert (version.first_seen, version.last_seen, version.seen_count) == (T0, later, 2)
    assert article.last_seen == later
    assert count(archive_engine, Page) == 1  # the same bytes at the same URL: one capture, fetched twice
    assert count(archive_engine, RawBlob) == 1
    # A share link with tracking parameters is the same article; the response is kept under its own URL.
    shared = archive.record(make_record(URL + "?utm_source=weixin#top", at=later + timedelta(hours=1)))
    assert (shared.outcome, shared.article_id) == (Outcome.UNCHANGED, recorded.article_id)
    assert count(archive_engine, Article) == 1 and count(archive_engine, RawBlob) == 1


def test_changed_text_adds_the_next_version(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    archive.record(make_record(URL))
    edited = BODY + "\n\n（更正：原文第二段数据有误。）"
    recorded = archive.record(make_record(URL, text=edited, at=T0 + timedelta(days=1)))
    assert (recorded.outcome, recorded.version_no) == (Outcome.NEW_VERSION, 2)
    again = archive.record(make_record(URL, text=edited, at=T0 + timedelta(days=2)))
    assert (again.outcome, again.version_no) == (Outcome.UNCHANGED, 2)
    retitled = archive.record(make_record(URL, text=edited, title="新标题", at=T0 + timedelta(days=3)))
    assert (retitled.outcome, retitled.version_no) == (Outcome.NEW_VERSION, 3)
    with make_sessionmaker(archive_engine)() as session:
        article = session.scalars(select(Article)).one()
        assert [v.version_no for v in article.versions] == [1, 2, 3]
        assert article.version_count == 3
        assert count(archive_engine, RawBlob) == 3


def test_same_text_under_another_url_is_an_alias(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    first = archive.record(make_record(URL))
    other = "http://cq.people.com.cn/n2/2020/0508/c365402-33998999.html"
    dup = archive.record(make_record(other, at=T0 + timedelta(minutes=5)))
    assert dup.outcome is Outcome.DUPLICATE and dup.article_id == first.article_id
    assert count(archive_engine, Article) == 1
    assert count(archive_engine, ArticleVersion) == 1
    with make_sessionmaker(archive_engine)() as session:
        alias = session.scalars(select(UrlAlias)).one()
    assert alias.url == other and alias.article_id == first.article_id
    # Seen again under the alias: still the one article, unchanged.
    assert archive.record(make_record(other, at=T0 + timedelta(hours=1))).outcome is Outcome.UNCHANGED


def test_identical_bytes_are_stored_once(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    html = "<html><body>同一个页面</body></html>".encode()
    archive.record(make_record(URL, html=html))
    archive.record(make_record("http://cq.people.com.cn/n2/mirror.html", html=html))
    assert count(archive_engine, RawBlob) == 1
    assert count(archive_engine, Page) == 2


def test_an_unchanged_visit_moves_last_seen_and_counts_a_fetch_only_if_one_was_made(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    first = archive.record(make_record(URL))
    capture = make_record(URL).capture
    refetched = archive.record_visit(UnchangedVisit("cq_people", URL, T0 + timedelta(hours=1),
                                                    replace(capture, fetched_at=T0 + timedelta(hours=1))))
    revalidated = archive.record_visit(UnchangedVisit("cq_people", URL, T0 + timedelta(hours=2)))  # no body fetched
    assert [(r.outcome, r.article_id, r.version_no) for r in (refetched, revalidated)] == \
        [(Outcome.NOT_MODIFIED, first.article_id, 1)] * 2
    with make_sessionmaker(archive_engine)() as session:
        version = session.scalars(select(ArticleVersion)).one()
        page = session.scalars(select(Page)).one()
    assert (version.last_seen, version.seen_count) == (T0 + timedelta(hours=2), 3)
    assert (page.fetch_count, page.last_fetched_at) == (2, T0 + timedelta(hours=1))
    unknown = archive.record_visit(UnchangedVisit("cq_people", "http://cq.people.com.cn/n2/gone.html", T0))
    assert unknown.outcome is Outcome.UNKNOWN


def test_racing_writers_never_duplicate(archive_engine) -> None:  # type: ignore[no-untyped-def]
    """Two crawls storing the same new article at the same moment: one article, one version."""
    barrier = threading.Barrier(4)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def write() -> None:
        archive = Archive(archive_engine)
        barrier.wait()
        try:
            outcomes.append(archive.record(make_record(URL)).outcome)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(outcomes).count(Outcome.NEW) == 1
    assert count(archive_engine, Article) == 1
    assert count(archive_engine, ArticleVersion) == 1


def test_one_text_stored_under_two_urls_at_the_same_moment_is_one_article(archive_url) -> None:  # type: ignore[no-untyped-def]
    """Two workers of a distributed crawl store the same new text under two URLs at once: the second becomes an
    alias of the first, not a second article. The first writer is held inside its transaction, after inserting
    its article, until the second has finished or is seen waiting for a lock; on PostgreSQL, before the text
    lock, the second finished there with an article of its own (READ COMMITTED hid the first's)."""
    first_engine, second_engine, watcher = (make_engine(archive_url) for _ in range(3))
    other_url = "http://cq.people.com.cn/n2/2020/0508/c367673-33998868.html"
    second_done = threading.Event()
    results: dict[str, object] = {}

    def second_writer() -> None:
        try:
            other_page = page_html("渝北:努力成为新动力源", BODY) + b"<!-- another channel's page -->"
            results["second"] = Archive(second_engine).record(make_record(other_url, html=other_page))
        except BaseException as exc:  # noqa: BLE001 - reported below
            results["second"] = exc
        second_done.set()

    racer = threading.Thread(target=second_writer)

    def second_is_waiting() -> bool:
        if watcher.dialect.name != "postgresql":  # SQLite's writer waits in its busy handler, unseen
            return False
        with watcher.connect() as conn:
            return bool(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND datname = current_database()")))

    @event.listens_for(first_engine, "after_cursor_execute")
    def hold_after_inserting_the_article(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO articles") and not racer.is_alive() and not second_done.is_set():
            racer.start()
            deadline = time.monotonic() + (10 if watcher.dialect.name == "postgresql" else 1)
            while not second_done.is_set() and not second_is_waiting() and time.monotonic() < deadline:
                time.sleep(0.01)

    try:
        first = Archive(first_engine).record(make_record(URL))
        racer.join(60)
        second = results["second"]
        assert not isinstance(second, BaseException), second
        assert (second.outcome, second.article_id) == (Outcome.DUPLICATE, first.article_id)  # type: ignore[attr-defined]
        assert count(watcher, Article) == 1
        assert count(watcher, UrlAlias) == 1
    finally:
        for engine in (first_engine, second_engine, watcher):
            engine.dispose()


def test_naive_timestamps_are_refused(archive_engine) -> None:  # type: ignore[no-untyped-def]
    import pytest

    with pytest.raises(Exception, match="timezone-aware"):
        Archive(archive_engine).record(make_record(URL, at=datetime(2026, 1, 1)))
    assert count(archive_engine, Article) == 0  # nothing half-written


XINHUA = (
    "新华社重庆5月9日电 重庆主城都市区工作座谈会9日召开，研究推进主城都市区发展问题。会议指出，推进主城都市区发展，"
    "是推动新时代重庆高质量发展的重要部署，对于加快推动“一区两群”协调发展和成渝地区双城经济圈建设、更好融入和服务"
    "全国发展大局具有十分重大的意义。会议要求，要强化中心城区带动作用，提升主城新区综合承载能力，推动产业协同发展，"
    "加快交通基础设施互联互通，促进公共服务共建共享，构建生态环境保护新格局。会议强调，各区县要把思想和行动统一到"
    "市委决策部署上来，坚持一盘棋思维，在规划统筹、政策协同、产业协作、设施联通等方面下功夫，努力在推动高质量发展、"
    "创造高品质生活上走在前列，为全市发展大局作出更大贡献。"
)


def test_a_repost_on_another_site_is_linked_to_the_first_story(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    first = archive.record(make_record(URL, text=XINHUA, title="重庆主城都市区工作座谈会召开"))
    repost = archive.record(make_record("https://www.cbg.cn/a/705/20200509/0a1b2c3d.html", site="cbg",
                                        text=XINHUA.replace("新华社重庆5月9日电 ", ""),
                                        title="主城都市区工作座谈会召开", at=T0 + timedelta(hours=2)))
    other = archive.record(make_record("http://cq.people.com.cn/n2/other.html", at=T0 + timedelta(hours=3)))
    assert repost.outcome is Outcome.NEW and repost.article_id != first.article_id  # kept, not merged
    with make_sessionmaker(archive_engine)() as session:
        by_id = {a.id: a for a in session.scalars(select(Article))}
    assert by_id[repost.article_id].duplicate_of == first.article_id
    assert by_id[first.article_id].duplicate_of is None
    assert by_id[other.article_id].duplicate_of is None


def test_a_batch_keeps_every_good_item_when_one_is_refused(archive_engine) -> None:  # type: ignore[no-untyped-def]
    archive = Archive(archive_engine)
    good = make_record(URL)
    refused = replace(make_record("http://cq.people.com.cn/n2/refused.html",
                                  text="另一篇文章的正文，数据库不会接受它。",
                                  html=page_html("refused", "只属于被拒绝的那一篇")),
                      content_hash=None)  # NOT NULL: the database refuses it, twice
    later = make_record("http://cq.people.com.cn/n2/later.html", text="第三篇文章。重庆江北区新闻。", title="江北")
    results = archive.record_batch([good, refused, later], "人民网重庆频道")
    assert [getattr(r, "outcome", None) for r in results] == [Outcome.NEW, None, Outcome.NEW]
    assert isinstance(results[1], Exception)
    assert count(archive_engine, Article) == 2 and count(archive_engine, ArticleVersion) == 2
    with make_sessionmaker(archive_engine)() as session:  # the refused item's page went with its savepoint
        assert session.scalar(select(func.count()).select_from(Page).where(Page.url.like("%refused%"))) == 0
        assert session.scalar(select(func.count()).select_from(RawBlob)) == 2
    assert archive.record(make_record(URL, at=T0 + timedelta(hours=2))).outcome is Outcome.UNCHANGED


def _archive_rows(engine) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Every row a write makes (ids included), the index's and a few searches' answers: what must not depend on
    whether a batch was written at once or article by article."""
    with make_sessionmaker(engine)() as session:
        tables = {name: sorted(tuple(row) for row in session.execute(text(f"SELECT {columns} FROM {name}")))
                  for name, columns in [
                      ("articles", "id, site_id, url, url_key, first_seen, last_seen, version_count, revisit_step, "
                                   "next_visit_at, simhash, sim_band0, sim_band3, duplicate_of"),
                      ("article_versions", "id, article_id, version_no, title, text, content_hash, text_hash, "
                                           "page_id, first_seen, seen_count"),
                      ("pages", "id, url, blob_sha256, status, first_fetched_at, last_fetched_at, fetch_count"),
                      ("raw_blobs", "sha256, size, data"),
                      ("search_docs", "article_id, version_id, site, published_at, archived_at, author, source"),
                      ("search_text", "article_id, title, body, partial")]}
        searches = {query: search_ids(session, query, limit=None) for query in ["重庆", "座谈会", '"主城都市区"']}
    return tables | {"searches": searches}


def test_a_batch_of_new_articles_written_at_once_is_what_one_by_one_writes(archive_engine, database_url,  # type: ignore[no-untyped-def]
                                                                           tmp_path) -> None:
    """A first crawl's batch (all new, independent articles) goes through one statement per table: the same
    rows and ids as one savepoint per article, a repost inside the batch linked to the story before it (and
    not the other way round), a multi-page article's parts stored, and the articles' versions inserted once."""
    part = Capture(url=URL.replace(".html", "-2.html"), status=200, headers={},
                   body=page_html("第二页", "第二页正文。"), fetched_at=T0, encoding="gb18030")
    batch = [make_record(URL, text=XINHUA, title="重庆主城都市区工作座谈会召开", parts=(part,)),
             make_record("http://cq.people.com.cn/n2/other.html", at=T0 + timedelta(minutes=1)),
             make_record("https://www.cbg.cn/a/705/20200509/0a1b2c3d.html", site="cbg",
                         text=XINHUA.replace("新华社重庆5月9日电 ", ""), title="主城都市区工作座谈会召开",
                         at=T0 + timedelta(minutes=2))]
    version_inserts = []
    listen = event.listens_for(archive_engine, "before_cursor_execute")
    listen(lambda conn, cursor, statement, *args: version_inserts.append(1)
           if statement.startswith("INSERT INTO article_versions") else None)
    at_once = Archive(archive_engine).record_batch(batch, "人民网重庆频道")
    assert len(version_inserts) == 1  # one statement for the batch's versions: it was written at once
    with contextlib.ExitStack() as stack:
        if database_url.startswith("sqlite"):
            other_url = f"sqlite:///{tmp_path / 'one-by-one.db'}"
        else:
            other_url = stack.enter_context(contextlib.contextmanager(postgres_database)())
        other = make_engine(other_url)
        stack.callback(other.dispose)
        upgrade(other)
        archive = Archive(other)
        one_by_one = [archive.record(record, "人民网重庆频道") for record in batch]
        assert at_once == one_by_one
        assert [r.outcome for r in one_by_one] == [Outcome.NEW] * 3
        rows = _archive_rows(archive_engine)
        assert rows == _archive_rows(other)
    first, _, repost = (r.article_id for r in one_by_one)  # type: ignore[union-attr]
    assert {row[0]: row[-1] for row in rows["articles"]} == {first: None, first + 1: None, repost: first}  # type: ignore[index]
    assert [row[1] for row in rows["pages"]] == [URL, part.url, batch[1].capture.url, batch[2].capture.url]  # type: ignore[index]


CRASH_MID_BATCH = """
import os, sys
sys.path[:0] = [{repo!r}, {tests!r}]
from datetime import timedelta
from sqlalchemy import event
from cqnews.db.archive import Archive
from cqnews.db.session import make_engine
from helpers import URL, T0, make_record
engine = make_engine({url!r})
archive = Archive(engine)
versions = []
def crash(conn, cursor, statement, *args):
    if statement.startswith("INSERT INTO article_versions"):
        versions.append(1)
    if versions and statement.startswith("INSERT INTO search_docs"):  # well into the batch: versions written
        os._exit(9)
event.listen(engine, "before_cursor_execute", crash)
archive.record_batch([make_record(URL.replace(".html", f"-{{i}}.html"), text=f"第{{i}}篇。重庆新闻正文。",
                                  at=T0 + timedelta(minutes=i)) for i in range(5)])
"""


def test_a_crash_in_the_middle_of_a_batch_writes_none_of_it(archive_engine, archive_url) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from pathlib import Path

    Archive(archive_engine).record(make_record(URL))  # committed before: must survive
    tests = Path(__file__).resolve().parent
    script = CRASH_MID_BATCH.format(repo=str(tests.parent), tests=str(tests), url=archive_url)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9, done.stderr
    assert count(archive_engine, Article) == 1 and count(archive_engine, ArticleVersion) == 1
    assert count(archive_engine, Page) == 1
    with make_sessionmaker(archive_engine)() as session:
        assert session.scalar(text("SELECT count(*) FROM search_docs")) == 1

"""A common query's total on PostgreSQL ("more than N") is proved from the table's head, and a query that only
looks common to the statistics still gets its exact count (``db.dense``)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from cqnews.db import dense, fulltext, search
from cqnews.db.archive import Archive
from cqnews.db.migrate import upgrade
from cqnews.db.search import Filters, MatchCount, count_matches
from cqnews.db.session import make_engine, make_sessionmaker

from helpers import postgres_database, text_record

AT = datetime(2026, 1, 1, tzinfo=UTC)
N = 300


def body(n: int) -> str:
    """Synthetic: every article has 重庆市 and 市委 (so the bigrams of 重庆市委 look common), 1 in 60 the
    phrase 重庆市委召开, 1 in 10 渝北区."""
    parts = ["重庆市民表示，市委和市政府推进城市更新。", f"第{n}号公告。"]
    if n % 60 == 0:
        parts.append("重庆市委召开全会。")
    if n % 10 == 0:
        parts.append("渝北区举行活动。")
    return "".join(parts)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    for url in postgres_database():
        engine = make_engine(url)
        upgrade(engine)
        archive = Archive(engine)
        for n in range(N):
            at = AT + timedelta(hours=n)
            site = "cbg" if n % 3 else "cq_people"  # cbg two thirds of the articles
            archive.record(text_record(f"http://cq.example.cn/{n}.html", f"新闻{n}", body(n), at, at, site=site), site)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE search_docs"))
        yield engine
        engine.dispose()


@pytest.fixture
def head_reads(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the table's head (a TID range), as they ran."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "ctid" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def count(engine: Engine, query: str, cap: int, filters: Filters | None = None) -> MatchCount:
    with make_sessionmaker(engine)() as session:
        return count_matches(session, query, filters or Filters(), cap=cap)


def test_a_common_query_is_more_than_the_cap_read_from_the_head(engine: Engine, head_reads: list[str]) -> None:
    assert count(engine, "重庆", 20) == MatchCount(20, True)
    assert count(engine, '"市委和市政府"', 20) == MatchCount(20, True)  # a phrase, checked against the text
    assert count(engine, "重庆", 10, Filters(site="cbg")) == MatchCount(10, True)  # two thirds of the rows
    assert len(head_reads) == 3


def test_a_query_common_only_in_its_tokens_is_counted_exactly(engine: Engine, head_reads: list[str]) -> None:
    # its bigrams 重庆 庆市 市委 are in every article, the phrase in 5: the head has too few, the index counts
    assert count(engine, "重庆市委", 20) == MatchCount(5)
    assert count(engine, "重庆市委", 4) == MatchCount(4, True)
    assert head_reads  # the head was tried, and did not decide


def test_a_rare_query_is_counted_by_the_index_alone(engine: Engine, head_reads: list[str]) -> None:
    assert count(engine, "渝北区", 1000) == MatchCount(30)
    assert count(engine, "渝北区", 20) == MatchCount(20, True)  # 30 matches in 10 %: not worth reading the head
    assert count(engine, "重庆 -渝北区", 1000) == MatchCount(270)
    assert count(engine, "重庆", 1000) == MatchCount(N)  # the head would be the whole table
    assert count(engine, "重庆", 10, Filters(site="cq_people")) == MatchCount(10, True)  # a third: the index counts
    assert not head_reads


def test_a_fairly_common_query_is_more_than_the_floor_when_the_head_proves_it(
        engine: Engine, head_reads: list[str]) -> None:
    """渝北 is in 1 article of 10, under the head's 0.4 for a cap of 1,000: with a floor of 1 the head's first
    rows (sized for the least share tried, 3 x 2 / 0.05 = 120) prove "more than 1"; a floor whose head would be
    most of the table, and a query the statistics call rare, are counted exactly."""
    def counted(query: str, cap: int, floor: int) -> MatchCount:
        with make_sessionmaker(engine)() as session:
            return count_matches(session, query, cap=cap, floor=floor)

    assert counted("渝北", 1000, 1) == MatchCount(1, True)
    assert len(head_reads) == 1
    assert counted("渝北", 1000, 40) == MatchCount(30)  # the head for 41 would be most of the table: the index counts
    assert counted("重庆市委召开", 1000, 2) == MatchCount(5)  # too rare for the statistics
    assert len(head_reads) == 1


def test_titles_the_statistics_call_many_are_ranked_by_levels_with_the_same_page(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # every title is 新闻N: with caps of 100, the statistics alone say "many" (no GIN bitmap of every title asked)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 100)
    monkeypatch.setattr(search, "TITLED_AT_ONCE", 100)
    with make_sessionmaker(engine)() as session:
        for text_ in ("新闻 重庆", '新闻 渝北区', '"新闻" "重庆市民"', "新闻 OR 市委 城市更新"):
            query = fulltext.parse_query(text_)
            assert dense.titles_exceed(session, query, 100), text_
            for limit, offset in ((10, 0), (20, 25)):
                windowed = search.windowed_ids(session, query, Filters(), sort="relevance", limit=limit, offset=offset)
                whole = search.sorted_ids(session, query, Filters(), sort="relevance", limit=limit, offset=offset)
                assert windowed == whole and windowed, (text_, limit, offset)
        assert not dense.titles_exceed(session, fulltext.parse_query("渝北区"), 100)  # in no title

"""No text is too odd for the index: every article is stored and findable, whatever the backend's index limits
(PostgreSQL: 2 KB a lexeme, 1 MB a tsvector); a query word too long to search is a one-line error."""
from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from cqnews.db import search as search_module
from cqnews.db.archive import Archive
from cqnews.db.fulltext import QuerySyntaxError, has_partial
from cqnews.db.search import count_matches, search_ids
from cqnews.db.session import make_sessionmaker

from helpers import text_record

AT = datetime(2026, 11, 1, tzinfo=UTC)


def store(engine: Engine, n: int, title: str, body: str, title_only: bool = False) -> int:
    """Archive one article; ``title_only``: the store must say it indexed it by its title alone."""
    recorded = Archive(engine).record(text_record(f"http://cq.example.cn/{n}.html", title, body, AT, AT))
    assert recorded.title_only == title_only  # what the crawl counts as cqnews/store/indexed_by_title_only
    return int(recorded.article_id)


def counts(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("articles", "article_versions", "pages")]


def found(engine: Engine, query: str) -> list[int]:
    with make_sessionmaker(engine)() as session:
        return [a for a, _ in search_ids(session, query, limit=None)]


def test_odd_texts_are_stored_and_found_by_their_other_words(archive_engine: Engine) -> None:
    rng = random.Random(3000)
    token = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(3000))
    long_token = store(archive_engine, 1, "长词测试", f"渝北区发布通知。{token} 轨道交通建设加快。")
    numbers = store(archive_engine, 2, "数字测试", "两江新区统计公报：" + " ".join(map(str, range(200_000))) + " 完。")
    han = [chr(c) for c in range(0x4E00, 0x9FA5)]
    diverse_text = "".join(rng.choice(han) for _ in range(150_000))  # ~150,000 distinct bigrams: > 1 MB of lexemes
    diverse = store(archive_engine, 3, "生僻字长文", "开头一句话。" + diverse_text + "结尾一句话。",
                    title_only=archive_engine.dialect.name == "postgresql")
    plain = store(archive_engine, 4, "普通新闻", "渝北区轨道交通建设加快，市民出行更便捷。")
    assert counts(archive_engine) == [4, 4, 4]  # article, version and page of each: none lost to the index

    assert set(found(archive_engine, "轨道交通")) == {long_token, plain}
    assert found(archive_engine, token[1000:1040]) == [long_token]  # even inside the long token
    assert found(archive_engine, "统计公报") == [numbers]
    assert found(archive_engine, '"199998 199999 完"') == [numbers]
    assert found(archive_engine, "开头一句话") == [diverse] and found(archive_engine, "结尾") == [diverse]
    piece = diverse_text[70_000:70_003]
    assert set(found(archive_engine, piece)) == {a for a, body in ((diverse, diverse_text),) if piece in body}
    assert found(archive_engine, "便捷") == [plain]  # the diverse text is verified, never a false match
    absent = next(a + b for a in han for b in han[:50] if a + b not in diverse_text)
    assert found(archive_engine, absent) == []
    with make_sessionmaker(archive_engine)() as session:
        assert count_matches(session, "一句话").count == 1
        # only PostgreSQL has to index that text by its title alone (and then checks its text)
        assert has_partial(session) == (archive_engine.dialect.name == "postgresql")


def test_a_5000_character_query_word_is_a_one_line_error(archive_engine: Engine) -> None:
    store(archive_engine, 1, "普通新闻", "渝北区轨道交通建设加快。")
    with pytest.raises(QuerySyntaxError, match="at most") as info:
        found(archive_engine, "渝" * 5000)
    assert "\n" not in str(info.value)
    assert found(archive_engine, "渝" * 200) == []  # as long as allowed: searched, no database error


def test_a_database_error_inside_a_search_is_reported_as_itself(archive_engine: Engine) -> None:
    with make_sessionmaker(archive_engine)() as session:
        with pytest.raises(DBAPIError) as info:
            with search_module.bitmap_scans(session):
                session.execute(text("SELECT count(*) FROM no_such_table")).scalar_one()
        assert "no_such_table" in str(info.value)  # not "current transaction is aborted" (InFailedSqlTransaction)

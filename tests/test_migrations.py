"""The schema evolves only through Alembic: every revision goes up and down cleanly on both backends."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from cqnews.db import migrate
from cqnews.db.session import make_engine

from helpers import URL, make_record

TABLES = {"sites", "articles", "article_versions", "url_aliases", "raw_blobs", "pages", "crawl_runs"}


def test_upgrade_check_downgrade_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    assert "latest_articles" in inspect(engine).get_view_names()
    command.check(migrate.alembic_config(engine))  # models and migrations agree

    migrate.downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    assert "latest_articles" not in inspect(engine).get_view_names()
    assert migrate.current_revision(engine) is None

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_writers_refuse_a_database_not_at_head(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(migrate.DatabaseNotAtHead, match="cqnews db upgrade"):
        migrate.require_head(engine)
    migrate.upgrade(engine)
    migrate.require_head(engine)
    engine.dispose()


def test_constraint_names_follow_the_naming_convention(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    uniques = {u["name"] for u in inspect(engine).get_unique_constraints("articles")}
    assert "uq_articles_url_key" in uniques
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM latest_articles")).scalar_one() == 0
    engine.dispose()


def test_archived_data_survives_downgrade_and_upgrade(database_url: str) -> None:
    """Rebuilding a table (SQLite batch mode) must not cascade-delete the rows that refer to it."""
    from datetime import UTC, datetime

    from cqnews.db.archive import Archive

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    Archive(engine).record(make_record(URL, at=datetime(2026, 11, 1, tzinfo=UTC)))
    for revision in ("0001", "head"):
        if revision == "head":
            migrate.upgrade(engine)
        else:
            migrate.downgrade(engine, revision)
        with engine.connect() as conn:
            counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("articles", "article_versions", "pages", "raw_blobs")]
        assert counts == [1, 1, 1, 1], (revision, counts)
    engine.dispose()


def test_the_ngram_index_revision_goes_down_and_up_and_asks_for_a_reindex(database_url: str) -> None:
    """0006 (substring search) empties the index both ways; `cqnews reindex` makes the archive findable again."""
    from datetime import UTC, datetime

    from cqnews.db import fulltext
    from cqnews.db.archive import Archive
    from cqnews.db.search import search_ids
    from cqnews.db.session import make_sessionmaker

    from helpers import text_record

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    body = "近平与京大的人民网，GDP1.5%。"
    Archive(engine).record(text_record("http://cq.example.cn/a.html", "渝北区", body, at, at))
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        assert [a for a, _ in search_ids(session, "民网")] and [a for a, _ in search_ids(session, "gdp")]
    migrate.downgrade(engine, "0005")
    assert "search_text" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "search_text" in inspect(engine).get_table_names()
    command.check(migrate.alembic_config(engine))
    with sessions() as session:
        assert fulltext.missing(session) == 1
    assert fulltext.rebuild(engine) == 1
    with sessions() as session:
        assert fulltext.missing(session) == 0 and len(search_ids(session, "京大")) == 1
    engine.dispose()


def long_url(length: int) -> str:
    """An article URL of exactly ``length`` characters (its query padded), as Scrapy would fetch it."""
    stem = URL + "?page=1&q="
    return stem + "a" * (length - len(stem))


def test_an_article_url_as_long_as_scrapy_fetches_is_stored_and_kept_by_a_downgrade(database_url: str) -> None:
    """2,083 characters (Scrapy's URLLENGTH_LIMIT) failed on PostgreSQL before 0008_url_length (String(2048));
    going back to 0007 with such a key stored is refused in one line, and the article is still there."""
    from alembic.util import CommandError

    from cqnews.db.archive import Archive
    from cqnews.db.models import Article
    from cqnews.db.session import make_sessionmaker
    from cqnews.urls import url_key

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    url = long_url(2083)
    assert len(url) == 2083 and len(url_key(url)) > 2048
    Archive(engine).record(make_record(url))
    Archive(engine).record(make_record(url))  # and found again by its key: one article, seen twice
    with make_sessionmaker(engine)() as session:
        (article,) = session.query(Article).all()
        assert article.url_key == url_key(url) and article.version_count == 1
    migrate.downgrade(engine, "0008_url_length")  # the revisions after it keep no URL
    with pytest.raises(CommandError, match="longer than the 2048"):
        migrate.downgrade(engine, "0007_daemon_liveness")
    assert migrate.current_revision(engine) == "0008_url_length"
    with make_sessionmaker(engine)() as session:
        assert session.query(Article).one().url_key == url_key(url)
    engine.dispose()


def test_the_title_index_revision_fills_it_from_the_archived_index(database_url: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """0011 (SQLite's title-only table) is filled from the index already there, so relevance levels read by it
    stay right without a reindex: the title holding both words ranks first after the downgrade and upgrade."""
    from datetime import UTC, datetime, timedelta

    from cqnews.db import fulltext, search
    from cqnews.db.archive import Archive
    from cqnews.db.session import make_sessionmaker

    from helpers import text_record

    monkeypatch.setattr(search, "TITLE_CANDIDATES", 0)  # rank level by level, as for words many titles hold
    monkeypatch.setattr(search, "TITLED_AT_ONCE", 0)
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    archive = Archive(engine)
    titled = archive.record(text_record("http://cq.example.cn/a.html", "渝北区推进城市更新", "会议召开。", at, at))
    later = at + timedelta(days=1)  # newer, both words in its body only
    archive.record(text_record("http://cq.example.cn/b.html", "新闻", "渝北区推进城市更新。", later, later))
    query = fulltext.parse_query("渝北区 城市更新")

    def first() -> int:
        with make_sessionmaker(engine)() as session:
            return search.windowed_ids(session, query, search.Filters(), sort="relevance", limit=2, offset=0)[0][0]

    assert first() == titled.article_id
    migrate.downgrade(engine, "0010_first_seen_indexes")
    migrate.upgrade(engine)
    command.check(migrate.alembic_config(engine))
    assert first() == titled.article_id
    engine.dispose()

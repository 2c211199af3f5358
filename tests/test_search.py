"""Full-text search on real archives (filled through Archive.record), on SQLite and PostgreSQL alike."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from cqnews.cli.render import snippet
from cqnews.db import fulltext
from cqnews.db.archive import Archive
from cqnews.db.fulltext import QuerySyntaxError
from cqnews.db.migrate import downgrade, upgrade
from cqnews.db.search import Filters, SearchIndexMissing, TextMatch, search, text_match
from cqnews.db.session import make_engine, make_sessionmaker

from helpers import CORPUS, SH, T0, corpus_record, fill, postgres_database


@pytest.fixture
def filled(archive_engine: Engine) -> Engine:
    fill(archive_engine)
    return archive_engine


def titles(engine: Engine, query: str, filters: Filters | None = None, **kwargs: object) -> list[str]:
    with make_sessionmaker(engine)() as session:
        return [h.title or "" for h in search(session, query, filters or Filters(), **kwargs)]  # type: ignore[arg-type]


def test_two_character_words_and_phrases(filled: Engine) -> None:
    assert set(titles(filled, "渝北")) == {"渝北:努力成为新动力源", "轻轨3号线延长段开通"}
    assert titles(filled, "渝北")[0] == "渝北:努力成为新动力源"  # in the title: first
    assert len(titles(filled, "重庆")) == 5  # 重庆市, 重庆大学, 重慶 (traditional) all count
    assert set(titles(filled, "双城经济圈")) == {"成渝地区双城经济圈建设提速", "雙城經濟圈：重慶與成都攜手"}
    assert titles(filled, "沙坪坝 大学城") == ["沙坪坝大学城迎来新生"]
    assert titles(filled, "火锅 夜间经济 解放碑") == ["解放碑夜间经济火热"]
    assert titles(filled, "渝北 火锅") == []  # every word is required


def test_traditional_and_simplified_find_each_other(filled: Engine) -> None:
    both = {"成渝地区双城经济圈建设提速", "雙城經濟圈：重慶與成都攜手"}
    assert set(titles(filled, "雙城經濟圈")) == both
    assert set(titles(filled, "经济圈 成都")) == {"雙城經濟圈：重慶與成都攜手"}
    assert set(titles(filled, "經濟")) == set(titles(filled, "经济"))
    assert "雙城經濟圈：重慶與成都攜手" in titles(filled, "经济")


def test_or_and_exclusion(filled: Engine) -> None:
    assert set(titles(filled, "火锅 OR 大学城")) == {"解放碑夜间经济火热", "沙坪坝大学城迎来新生"}
    assert "雙城經濟圈：重慶與成都攜手" not in titles(filled, "重庆 -成都")


def test_filters(filled: Engine) -> None:
    assert set(titles(filled, "重庆", Filters(site="cbg"))) == {
        "雙城經濟圈：重慶與成都攜手", "沙坪坝大学城迎来新生", "解放碑夜间经济火热"}
    since = datetime(2020, 5, 12, tzinfo=SH)
    until = datetime(2020, 6, 1, tzinfo=SH)
    assert set(titles(filled, "重庆", Filters(since=since, until=until))) == {
        "雙城經濟圈：重慶與成都攜手", "沙坪坝大学城迎来新生"}
    assert titles(filled, "渝北", Filters(author="胡虹")) == titles(filled, "渝北")
    assert titles(filled, "重庆", Filters(author="张伟")) == ["雙城經濟圈：重慶與成都攜手"]  # folded
    assert titles(filled, "经济", Filters(source="視界")) == titles(filled, "经济", Filters(source="视界网"))
    archived = Filters(dates="archived", since=T0 + timedelta(days=4))  # the last two recorded
    assert set(titles(filled, "重庆 OR 渝北", archived)) == {"解放碑夜间经济火热", "轻轨3号线延长段开通"}


def test_sorting_and_pages(filled: Engine) -> None:
    by_date = titles(filled, "重庆", sort="date")
    assert by_date[0] == "解放碑夜间经济火热" and by_date[-1] == "渝北:努力成为新动力源"
    pages = [titles(filled, "重庆", sort="date", limit=2, offset=o) for o in (0, 2, 4)]
    assert sum(pages, []) == by_date
    relevance = titles(filled, "重庆")
    assert relevance[0] == "雙城經濟圈：重慶與成都攜手"  # the only one with 重庆 in its title


def test_the_index_follows_new_versions(filled: Engine) -> None:
    archive = Archive(filled)
    row = CORPUS[3]
    archive.record(corpus_record(row[0], row[1], row[2], "磁器口古镇游客如织。", row[4], row[5], row[6],
                        at=T0 + timedelta(days=30)))
    assert titles(filled, "磁器口") == ["沙坪坝大学城迎来新生"]
    assert titles(filled, "新生 报到") == []  # the old version is not searched any more
    fulltext.rebuild(filled)
    assert titles(filled, "磁器口") == ["沙坪坝大学城迎来新生"] and titles(filled, "新生 报到") == []
    assert len(titles(filled, "重庆")) == 4


@pytest.mark.parametrize("query", ['重庆" OR "*', "NEAR(重庆 渝北)", "渝北*", "title:渝北", "{body}:重庆",
                                   "'; DROP TABLE articles; --", "重庆 AND", "^渝北", "渝北)"])
def test_operators_cannot_break_or_inject(filled: Engine, query: str) -> None:
    try:
        titles(filled, query)  # runs, or is refused as a query: never a database error
    except QuerySyntaxError:
        pass
    with filled.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar_one() == len(CORPUS)


def test_invalid_syntax_is_a_clear_error(filled: Engine) -> None:
    with pytest.raises(QuerySyntaxError, match="unbalanced"):
        titles(filled, '"渝北')
    with pytest.raises(QuerySyntaxError, match="nothing to search"):
        titles(filled, "-渝北")


def test_an_archive_without_index_says_reindex(filled: Engine) -> None:
    with filled.begin() as conn:
        conn.execute(text("DELETE FROM search_docs"))
    with pytest.raises(SearchIndexMissing, match="cqnews reindex"):
        titles(filled, "重庆")
    with make_sessionmaker(filled)() as session:
        assert fulltext.missing(session) == len(CORPUS)
    assert fulltext.rebuild(filled, batch=2) == len(CORPUS)
    assert len(titles(filled, "重庆")) == 5


def test_the_facets_migration_empties_the_index_and_reindex_restores_it(filled: Engine) -> None:
    before = titles(filled, "重庆", sort="date")
    downgrade(filled, "0004")  # the index before facets: emptied, its old shape back
    upgrade(filled)
    with make_sessionmaker(filled)() as session:
        assert fulltext.missing(session) == len(CORPUS)
    with pytest.raises(SearchIndexMissing, match="cqnews reindex"):
        titles(filled, "重庆")
    fulltext.rebuild(filled)
    assert titles(filled, "重庆", sort="date") == before and len(before) == 5


@pytest.fixture
def both_backends(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    pg = postgres_database()
    engines = (make_engine(f"sqlite:///{tmp_path / 'a.db'}"), make_engine(next(pg)))
    for engine in engines:
        upgrade(engine)
        fill(engine)
    yield engines
    for engine in engines:
        engine.dispose()
    pg.close()


QUERIES = ["渝北", "重庆", "经济", "經濟", "双城经济圈", "沙坪坝 大学城", "火锅 OR 大学城", "重庆 -成都", "新生",
           "轨道交通", "成渝 川渝", "重庆 渝北 大学城 火锅"]


def test_same_results_on_sqlite_and_postgresql(both_backends: tuple[Engine, Engine]) -> None:
    lite, pg = both_backends
    for query in QUERIES:
        for sort in ("relevance", "date"):
            for filters in (Filters(), Filters(site="cbg"), Filters(author="胡虹"),
                            Filters(since=datetime(2020, 5, 10, tzinfo=SH))):
                with make_sessionmaker(lite)() as a, make_sessionmaker(pg)() as b:
                    left = [(h.url, h.score, snippet(h.match)) for h in search(a, query, filters, sort=sort)]  # type: ignore[arg-type]
                    right = [(h.url, h.score, snippet(h.match)) for h in search(b, query, filters, sort=sort)]  # type: ignore[arg-type]
                assert left == right, (query, sort, filters)


def test_an_index_made_by_another_segmentation_is_reported_until_reindexed(filled: Engine) -> None:
    sessions = make_sessionmaker(filled)
    with sessions() as session:
        assert not fulltext.outdated(session) and fulltext.stale(session) == 0
    with filled.begin() as connection:  # as if indexed before jieba, OpenCC or the word list changed
        connection.execute(text("UPDATE search_docs SET segmenter = 'jieba 0.41 search/noHMM'"
                                " WHERE article_id IN (SELECT min(article_id) FROM search_docs)"))
    with sessions() as session:
        assert fulltext.outdated(session) and fulltext.stale(session) == 1
    fulltext.rebuild(filled)
    with sessions() as session:
        assert not fulltext.outdated(session) and fulltext.stale(session) == 0


def test_a_snippet_is_the_passage_around_the_first_match_found_in_the_folded_text() -> None:
    text = "前言。" * 20 + "\n\n重慶軌道交通  三號線" + "後記。" * 20
    match = text_match(text, [fulltext.fold("轨道")])
    flat = " ".join(text.split())
    assert match == TextMatch(flat, flat.index("軌道"))  # shown as written: folding kept the length
    assert snippet(match) == "…" + flat[match.first - 20 : match.first + 40] + "…"  # type: ignore[operator]
    assert snippet(text_match("短文。", ["重庆"])) == "短文。"

"""Search read newest first through the month facets gives exactly what sorting every match gives.

A corpus of a few hundred articles spread over three years (some without a published date, some in
traditional characters, several sites and authors) is written straight into the archive tables and indexed
by ``fulltext.write_docs``; then, for many queries, filters, sorts and pages, the windowed plan
(``search.windowed_ids``) is compared with sorting every match (``search.sorted_ids``), on SQLite and on
PostgreSQL, and the two backends with each other.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select

from cqnews.db import fulltext, search, windows
from cqnews.db.facets import facets
from cqnews.db.migrate import upgrade
from cqnews.db.models import Article, ArticleVersion, Site
from cqnews.db.search import Filters, search_ids, sorted_ids, windowed_ids
from cqnews.db.session import make_engine, make_sessionmaker

from helpers import postgres_database

SITES = ["cq_people", "cbg", "cqnews"]
WORDS = ["重庆", "渝北", "经济", "双城经济圈", "大学城", "火锅", "轨道交通", "乡村振兴", "两江新区", "志愿者"]
AUTHORS = ["胡虹", "王新", "張偉", None]
START = datetime(2023, 1, 1, tzinfo=UTC)


def corpus(n: int = 360, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        # a Zipf-like skew: the first words are in many articles, the last in few
        weights = [1 / (k + 1) for k in range(len(WORDS))]
        title_words = rng.choices(WORDS, weights, k=rng.randint(1, 2))
        body_words = rng.choices(WORDS, weights, k=rng.randint(1, 4))
        title = "推进".join(title_words)
        body = "。".join(f"据了解{w}工作" for w in body_words) + "。"
        if rng.random() < 0.1:
            title, body = title.replace("经济", "經濟"), body.replace("经济", "經濟").replace("重庆", "重慶")
        archived = START + timedelta(hours=rng.randint(0, 3 * 365 * 24))
        published = None if rng.random() < 0.08 else archived - timedelta(hours=rng.randint(0, 24 * 40))
        rows.append({"id": i, "site": rng.choice(SITES), "title": title, "text": body, "published": published,
                     "archived": archived, "author": rng.choice(AUTHORS)})
    return rows


def fill(engine: Engine, rows: list[dict[str, Any]]) -> None:
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for name in SITES:
            session.add(Site(name=name, title=name))
    with sessions.begin() as session:
        site_ids = {name: session.scalar(select(Site.id).where(Site.name == name)) for name in SITES}
        session.execute(insert(Article), [
            {"id": r["id"], "site_id": site_ids[r["site"]], "url": f"http://x.example/{r['id']}.html",
             "url_key": f"x.example/{r['id']}.html", "first_seen": r["archived"], "last_seen": r["archived"],
             "version_count": 1, "revisit_step": 0} for r in rows])
        session.execute(insert(ArticleVersion), [
            {"id": r["id"], "article_id": r["id"], "version_no": 1, "title": r["title"], "text": r["text"],
             "published_at": r["published"], "author": r["author"], "source": None, "editor": None,
             "language": "zh", "content_hash": f"{r['id']:064x}", "text_hash": f"{r['id']:064x}",
             "text_length": len(r["text"]), "extractor_version": "test", "first_seen": r["archived"],
             "last_seen": r["archived"], "seen_count": 1} for r in rows])
        fulltext.write_docs(session, [
            fulltext.make_doc(r["id"], r["id"], r["site"], r["title"], r["text"], r["published"], r["archived"],
                              r["author"], None) for r in rows])


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine]]:
    pg = postgres_database()
    lite = make_engine(f"sqlite:///{tmp_path_factory.mktemp('windows') / 'a.db'}")
    both = (lite, make_engine(next(pg)))
    rows = corpus()
    for engine in both:
        upgrade(engine)
        fill(engine, rows)
    yield both
    for engine in both:
        engine.dispose()
    pg.close()


QUERIES = ["重庆", "經濟", "渝北 经济", "志愿者", "两江新区 火锅", "重庆 -火锅", "大学城 OR 志愿者",
           "重庆 经济 渝北", "乡村振兴 两江新区 志愿者 重庆", '"两江新区"', '"重庆 经济" -火锅',
           "经济工作", '"推进火锅" OR 重庆工作']  # (the last: a first bigram in many titles, the piece in few)
FILTERS = [Filters(), Filters(site="cbg"), Filters(author="张伟"),
           Filters(since=datetime(2024, 3, 1, tzinfo=UTC), until=datetime(2025, 2, 1, tzinfo=UTC)),
           Filters(dates="archived", since=datetime(2025, 6, 1, tzinfo=UTC))]


# The defaults rank every query's titled matches from their few title candidates; (3, 0, 1): most queries rank
# level by level in the index, the others from at most 3 titled matches, and candidates checked against the
# text are mostly read as they stream, past the first few.
@pytest.mark.parametrize(("titled_at_once", "title_candidates", "first_checked"),
                         [(search.TITLED_AT_ONCE, search.TITLE_CANDIDATES, search.FIRST_CHECKED), (3, 0, 1)])
@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_the_windowed_page_is_the_sorted_page(engines: tuple[Engine, Engine], sort: str, titled_at_once: int,
                                              title_candidates: int, first_checked: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "TITLED_AT_ONCE", titled_at_once)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", title_candidates)
    monkeypatch.setattr(search, "FIRST_CHECKED", first_checked)
    compared = 0
    for query in QUERIES:
        parsed = fulltext.parse_query(query)
        for filters in FILTERS:
            for limit, offset in ((3, 0), (10, 0), (10, 7), (20, 40)):
                pages = []
                for engine in engines:
                    with make_sessionmaker(engine)() as session:
                        windowed = windowed_ids(session, parsed, filters, sort=sort, limit=limit, offset=offset)  # type: ignore[arg-type]
                        whole = sorted_ids(session, parsed, filters, sort=sort, limit=limit, offset=offset)  # type: ignore[arg-type]
                    assert windowed == whole, (engine.dialect.name, query, filters, limit, offset)
                    pages.append(windowed)
                assert pages[0] == pages[1], (query, filters, limit, offset)
                compared += bool(pages[0])
    assert compared > 100  # most combinations have matches: the comparison is not of empty pages


def test_title_candidates_look_past_a_first_token_that_many_titles_hold(engines: tuple[Engine, Engine]) -> None:
    rows = corpus()
    holding = {r["id"] for r in rows if "推进火锅" in fulltext.searchable(r["title"])}
    first_token = {r["id"] for r in rows if "推进" in r["title"]}
    assert 0 < len(holding) < len(first_token)
    query = fulltext.parse_query('"推进火锅"')
    for engine in engines:
        with make_sessionmaker(engine)() as session:
            found = fulltext.title_candidates(session, query, len(first_token) - 1)
            assert fulltext.title_candidates(session, fulltext.parse_query("推进"), len(first_token) - 1) is None
        # (version ids are article ids in this corpus) a superset of the titles holding the piece, within the cap
        assert found is not None and holding <= set(found) and len(found) < len(first_token), engine.dialect.name


def test_a_page_of_a_common_word_reads_only_the_newest_months(engines: tuple[Engine, Engine]) -> None:
    lite, _ = engines
    expressions: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "MATCH" in statement:
            expressions.append(next(p for p in parameters if isinstance(p, str) and "{title body}" in p))

    event.listen(lite, "before_cursor_execute", remember)
    try:
        with make_sessionmaker(lite)() as session:
            assert len(search_ids(session, "重庆", sort="date", limit=3)) == 3
    finally:
        event.remove(lite, "before_cursor_execute", remember)
    assert len(expressions) == 1  # one probe was enough
    assert expressions[0].count('"p2') == windows.FIRST_WINDOW  # the newest months' facets, nothing older


def test_months_between_crosses_years() -> None:
    months = windows.months_between(datetime(2025, 2, 3, tzinfo=UTC), datetime(2024, 11, 30, tzinfo=UTC))
    assert months == ["202502", "202501", "202412", "202411"]


def test_windows_widen_until_the_page_is_full_then_take_everything() -> None:
    months = [f"{2024 + m // 12}{m % 12 + 1:02d}" for m in range(23, -1, -1)]  # 24 months, newest first
    asked: list[tuple[str, ...]] = []

    def probe_for(wanted: int) -> Callable[[tuple[str, ...]], list[int]]:
        def probe(window: tuple[str, ...]) -> list[int]:
            asked.append(window)
            return [1] * min(wanted, len(window) if window else 24)  # one match a month
        return probe

    assert len(windows.newest_first(months, 5, probe_for(5))) == 5
    assert [len(w) for w in asked] == [2, 8]  # 1 a month seen: 1.5 x what 5 needs
    assert asked[1][0] == "202512" and asked[1][-1] == "202505"  # the newest months
    asked.clear()
    assert len(windows.newest_first(months, 20, probe_for(20))) == 20
    assert [len(w) for w in asked] == [2, 0]  # a window of half the months or more is the whole archive
    asked.clear()
    assert len(windows.newest_first(months, 5, probe_for(5), whole_first=True)) == 5
    assert [len(w) for w in asked] == [0]


def test_a_rate_that_projects_few_matches_over_the_archive_asks_for_it_whole() -> None:
    """PostgreSQL's ``whole_below``: one match in the newest two months projects 12 over 24 months, so the next
    probe is the whole archive rather than a wider window; a rate projecting more keeps widening."""
    months = [f"{2024 + m // 12}{m % 12 + 1:02d}" for m in range(23, -1, -1)]
    asked: list[tuple[str, ...]] = []

    def probe(window: tuple[str, ...]) -> list[int]:
        asked.append(window)
        return [1] * (len(window) // 2 if window else 12)  # one match every two months

    assert len(windows.newest_first(months, 3, probe, whole_below=12)) == 12
    assert [len(w) for w in asked] == [2, 0]
    asked.clear()
    assert len(windows.newest_first(months, 3, probe, whole_below=11)) == 4
    assert [len(w) for w in asked] == [2, 9]  # 12 projected: over the bound, widened by the rate as before


@pytest.mark.parametrize("reader", ["session", "connection"])
def test_the_facets_count_exactly_the_matches_of_the_search(engines: tuple[Engine, Engine], reader: str) -> None:
    """Per site and per Asia/Shanghai month, the facets count the articles the search returns (one statement, the
    site filter in the index's match); read through an ORM session (the web) or a Core connection (the CLI)."""
    rows = {r["id"]: r for r in corpus()}
    compared = 0
    for engine in engines:
        for query in QUERIES:
            for filters in FILTERS:
                with make_sessionmaker(engine)() if reader == "session" else engine.connect() as session:
                    found = [i for i, _ in search_ids(session, query, filters, limit=None)]
                    counted = facets(session, query, filters)
                    capped = facets(session, query, filters, cap=3)
                field = "archived" if filters.dates == "archived" else "published"
                months = Counter((rows[i][field] + timedelta(hours=8)).strftime("%Y-%m") if rows[i][field] else ""
                                 for i in found)
                sites = Counter(rows[i]["site"] for i in found)
                assert (dict(counted.sites), dict(counted.months), counted.partial) == (sites, months, False), (
                    engine.dialect.name, query, filters)
                assert [n for _, n in counted.sites] == sorted(sites.values(), reverse=True)
                assert capped.partial == (len(found) > 3)
                assert sum(n for _, n in capped.sites) == sum(n for _, n in capped.months) == min(3, len(found))
                compared += len(found) > 3
    assert compared > 50

"""Search finds exactly the articles whose text holds the query, like Ctrl-F over the archive: checked against
brute force over real texts (tests/fixtures/search/, see its README), archived through the archive's own path."""
from __future__ import annotations

import json
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import opencc
import pytest
from sqlalchemy import Engine, text

from cqnews.db.archive import Archive
from cqnews.db.search import MatchCount, count_matches, search_ids
from cqnews.db.session import make_sessionmaker

from helpers import text_record

REAL_TEXTS = Path(__file__).parent / "fixtures" / "search" / "real_texts.jsonl"
SITES = ("cq_people", "cbg", "cqnews")
CJK = re.compile(r"[\u4e00-\u9fff]+")
LATIN = re.compile(r"[0-9a-z][0-9a-z.%+\-]*")
_t2s, _s2t = opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def folded(value: str | None) -> str:
    """The brute force's own folding (written apart from the index's): NFKC, simplified, lower case, one space."""
    return " ".join(_t2s.convert(unicodedata.normalize("NFKC", value or "")).lower().split())


def fill(engine: Engine) -> dict[int, tuple[str, str]]:
    """The real texts archived with seeded dates over five years; returns what was stored, folded, by article id."""
    rng = random.Random(15)
    archive = Archive(engine)
    start = datetime(2016, 1, 1, tzinfo=UTC)
    for n, line in enumerate(REAL_TEXTS.read_text("utf-8").splitlines()):
        case = json.loads(line)
        published = start + timedelta(days=rng.randrange(5 * 365), hours=rng.randrange(24))
        record = text_record(f"http://news{n}.example.cn/{case['id']}.html", case["title"], case["text"],
                             published, published + timedelta(hours=3), site=SITES[n % len(SITES)])
        archive.record(record, record.site)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT article_id, title, text FROM latest_articles")).all()
    if engine.dialect.name == "postgresql":  # the statistics a count's plan reads (autovacuum's, at its own time)
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE search_docs"))
    return {int(a): (folded(t), folded(b)) for a, t, b in rows}


def pieces(stored: dict[int, tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs sampled from the stored texts themselves."""
    texts = [t + "\n" + b for t, b in stored.values()]
    out: list[tuple[str, str]] = []

    def sample(pattern: re.Pattern[str], lo: int, hi: int) -> str:
        while True:
            runs = pattern.findall(rng.choice(texts))
            runs = [r for r in runs if len(r) >= lo]
            if runs:
                run = rng.choice(runs)
                size = rng.randint(lo, min(hi, len(run)))
                at = rng.randrange(len(run) - size + 1)
                return run[at:at + size]

    for size in range(1, 7):  # CJK pieces of 1-6 characters
        out += [("cjk", sample(CJK, size, size)) for _ in range(40)]
    out += [("traditional", _s2t.convert(sample(CJK, 2, 4))) for _ in range(30)]
    out += [("latin", sample(LATIN, 1, 6)) for _ in range(50)]
    mixed = re.compile(r"[0-9a-z.%]+[\u4e00-\u9fff]{1,2}|[\u4e00-\u9fff]{1,2}[0-9a-z.%]+")
    out += [("mixed", sample(mixed, 2, 6)) for _ in range(30)]
    for _ in range(50):  # phrases with punctuation or a space, quoted
        while True:
            source = rng.choice(texts)
            at = rng.randrange(max(1, len(source) - 12))
            phrase = source[at:at + rng.randint(3, 10)].strip()
            if phrase and "\n" not in phrase and '"' not in phrase and not CJK.fullmatch(phrase) \
                    and not phrase.isalnum():
                out.append(("phrase", f'"{phrase}"'))
                break
    chars = sorted({c for t in texts for c in CJK.findall(t) for c in c})
    out += [("random pair", rng.choice(chars) + rng.choice(chars)) for _ in range(30)]  # mostly found nowhere
    return out


def brute_force(stored: dict[int, tuple[str, str]], piece: str) -> set[int]:
    return {a for a, (title, body) in stored.items() if piece in title or piece in body}


def expected(stored: dict[int, tuple[str, str]], query: str) -> set[int]:
    """A query of bare pieces (AND), ``OR`` between two, ``-piece``: the brute force's answer."""
    words = query.split()
    if "OR" in words:
        i = words.index("OR")
        return (brute_force(stored, folded(words[i - 1])) | brute_force(stored, folded(words[i + 1]))) & \
            expected(stored, " ".join(words[:i - 1] + words[i + 2:]) or "")
    found = set(stored)
    for word in words:
        if word.startswith("-"):
            found -= brute_force(stored, folded(word[1:]))
        else:
            found &= brute_force(stored, folded(word.strip('"')))
    return found


def test_random_pieces_of_real_texts_are_found_exactly_where_they_are(archive_engine: Engine) -> None:
    stored = fill(archive_engine)
    rng = random.Random(20261202)
    queries = pieces(stored, rng)
    found_somewhere = 0
    with make_sessionmaker(archive_engine)() as session:
        for kind, query in queries:
            want = expected(stored, query)
            got = [a for a, _ in search_ids(session, query, limit=None)]
            assert sorted(got) == sorted(want), (kind, query)
            assert len(got) == len(set(got))
            found_somewhere += bool(want)
        assert found_somewhere > 0.8 * len(queries)  # the sample is of real pieces, not of misses
        # a page read newest first (windows, title levels) and the count agree with the whole answer
        for kind, query in queries[::7]:
            want = expected(stored, query)
            page = [a for a, _ in search_ids(session, query, limit=len(stored))]
            assert set(page) == want, (kind, query)
            assert count_matches(session, query).count == len(want)
            # a small cap: on PostgreSQL a common query's "more than 3" is proved from the table's head (db.dense)
            assert count_matches(session, query, cap=3) == (MatchCount(3, True) if len(want) > 3
                                                            else MatchCount(len(want)))


def test_combined_queries_match_brute_force(archive_engine: Engine) -> None:
    stored = fill(archive_engine)
    rng = random.Random(7)
    texts = [t + "\n" + b for t, b in stored.values()]

    def word() -> str:
        runs = [r for r in CJK.findall(rng.choice(texts)) if len(r) >= 3]
        run = rng.choice(runs)
        size = rng.randint(1, 3)
        at = rng.randrange(len(run) - size + 1)
        return run[at:at + size]

    shapes = ["{a} {b}", "{a} AND {b}", "{a} OR {b}", "{a} -{b}", "{a} NOT {b}", "{a} {b} OR {c}", "{a} -{b} {c}"]
    with make_sessionmaker(archive_engine)() as session:
        for n in range(70):
            shape = shapes[n % len(shapes)]
            query = shape.format(a=word(), b=word(), c=word())
            want = expected(stored, query.replace(" AND ", " ").replace(" NOT ", " -"))
            for sort in ("relevance", "date"):
                got = [a for a, _ in search_ids(session, query, sort=sort, limit=None)]  # type: ignore[arg-type]
                assert set(got) == want and len(got) == len(want), (query, sort)
                page = [a for a, _ in search_ids(session, query, sort=sort, limit=10)]  # type: ignore[arg-type]
                assert page == got[:10], (query, sort)


@pytest.mark.parametrize("query", ["重庆", "发展 经济", '"，我"'])
def test_relevance_puts_title_matches_first(archive_engine: Engine, query: str) -> None:
    stored = fill(archive_engine)
    with make_sessionmaker(archive_engine)() as session:
        ranked = search_ids(session, query, limit=None)
    pieces_ = [folded(w.strip('"')) for w in query.split()]
    scores = [sum(p in stored[a][0] for p in pieces_) for a, _ in ranked]
    assert scores == sorted(scores, reverse=True)
    assert [s for _, s in ranked] == scores

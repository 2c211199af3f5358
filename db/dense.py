"""Proving that a common query has more than ``cap`` matches without GIN's whole bitmap (PostgreSQL).

GIN has no index scan, only a bitmap one: counting a query's matches, even with ``LIMIT cap + 1``, first
collects every candidate into a bitmap (at 1,000,000 articles, 992,781 rows for ``"负责人说，“我们将"``: 167 ms
of the count's 178). When the planner's statistics (``pg_stats``: the most common lexemes of
``search_docs.terms`` and the share of rows holding each) say that every group of the query is in most
articles, its matches are likely dense in the table: reading the table's first blocks in their physical order
(a TID range scan) and testing each row, lexemes and text checks alike, finds ``cap + 1`` of them after a few
thousand rows. Finding them is a proof that there are more than ``cap``; finding fewer proves nothing, and the
caller counts through the index as before. The answer never depends on the estimate, only the time does.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy import text as sql

from cqnews.db import fulltext

if TYPE_CHECKING:
    from cqnews.db.tables import Reader

# Least estimated share of the rows that hold the query's tokens for reading the table's head to be worth it:
# the head costs ~1,001 / share rows tested one by one (~8 µs each: a tsvector read whole), the bitmap
# ~50 ns per candidate and token (at 1,000,000 articles, share x 50 ms a token).
DENSE = 0.4
# Rows the head is read for, as a multiple of ``cap + 1`` over the estimated share (the text checks of a phrase
# reject some of the candidates its bigrams give), and at most (a try that fails costs this much more).
HEAD_MARGIN = 3
HEAD_ROWS = 30_000
# Least estimated share for proving a smaller bound than the cap from the head (``search.count_matches``'s
# ``floor``): 3 x 101 / 0.05 = ~6,000 rows, ~10 ms when it fails (at 1,000,000 articles "more than 100" of
# "重庆市委召开", 2个项目, 99个 took 8-10 ms from the head; "more than 1,000" 61-81 ms, GIN's count 56-127 ms).
FLOOR_DENSE = 0.05


def _frequencies(session: Reader, tokens: list[str]) -> dict[str, float]:
    """The share of ``search_docs`` rows whose ``terms`` hold each of ``tokens`` that ``ANALYZE`` found among its
    most common lexemes (a token missing is rarer than every one listed: treated as rare)."""
    rows = session.execute(sql(
        "SELECT e, f FROM pg_stats, unnest(most_common_elems::text::text[], most_common_elem_freqs) AS u(e, f) "
        "WHERE schemaname = current_schema() AND tablename = 'search_docs' AND attname = 'terms' "
        "AND e = ANY(:tokens)"), {"tokens": tokens})
    return {str(e): float(f) for e, f in rows}


def estimated_share(session: Reader, query: fulltext.Query, site: str | None) -> float:
    """The estimated share of the rows that are the query's candidates: a piece's tokens, the groups and the site
    as if independent, a group as common as its commonest piece. (A piece's bigrams are not independent: the
    product underestimates a real phrase, which at worst costs the try, and keeps the estimate of a phrase of
    common bigrams that is itself rarer, "重庆市委召开" at 1,000,000 articles: 0.63 as its rarest bigram, ~0.1
    in fact, from wasting one.)"""
    pieces = {p: fulltext.piece_tokens(p) for group in query.groups for p in group}
    site_token = fulltext.FACET_PREFIX + fulltext.site_facet(site) if site else None
    wanted = [t for tokens in pieces.values() for t in tokens] + ([site_token] if site_token else [])
    freq = _frequencies(session, list(dict.fromkeys(wanted)))
    share = math.prod(max(math.prod(freq.get(t, 0.0) for t in pieces[p]) for p in group) for group in query.groups)
    return share * freq.get(site_token, 0.0) if site_token else share


def _table_size(session: Reader) -> tuple[float, int]:
    """``search_docs``'s estimated rows and its pages, as ``ANALYZE`` left them (0, 0 if unknown)."""
    row = session.execute(sql("SELECT reltuples, relpages FROM pg_class WHERE oid = to_regclass('search_docs')")
                          ).one_or_none()
    return (float(row[0]), int(row[1])) if row is not None else (0.0, 0)


def titles_exceed(session: Reader, query: fulltext.Query, cap: int, *, matching: bool = False) -> bool:
    """Whether the statistics put well over ``cap`` (twice) rows among the titles that may hold one of the query's
    groups (``matching``: among those that also match the whole query): then asking GIN whether there are at most
    ``cap`` of them (``title_candidates``, ``windowed_ids``'s ``titled``) would only build the bitmap of every one
    (at 1,000,000 articles 33-49 and 48-102 ms for 高质量发展 长江经济带, and then "more"). Only ever a shortcut to
    the answer "many", which the search takes by another, exact, path; a token unknown to the statistics counts as
    rare, so the question is then asked as before. A word is as common in titles as its rarest bigram: its bigrams
    travel together (the product put 高质量发展's titles at ~200 of 1,000,000, each bigram's share says ~119,000),
    so a word all of whose bigrams the statistics list (each above ANALYZE's cut, ~8 % of rows) counts as many."""
    pieces = [[fulltext.TITLE_PREFIX + t for t in fulltext.piece_tokens(p)] for p in dict.fromkeys(query.words)]
    freq = _frequencies(session, list(dict.fromkeys(t for tokens in pieces for t in tokens)))
    share = min(1.0, sum(min((freq.get(t, 0.0) for t in tokens), default=0.0) for tokens in pieces))
    if matching:
        share *= estimated_share(session, query, None)
    return share * _table_size(session)[0] > 2 * cap


def head_blocks(session: Reader, share: float, cap: int, *, least: float = DENSE) -> int | None:
    """How many blocks of the table's head to read for ``cap + 1`` matches of a query whose candidates are
    ``share`` of the rows (``estimated_share``, read once by the caller for its tries), or None when it is not
    worth a try (matches likely sparse, estimated under ``least``, or the head would be much of the table: the
    index's count is cheap then). Under ``DENSE`` the head is sized for ``least`` itself: there the estimate of a
    phrase, its bigrams' shares multiplied, is far from its own (at 1,000,000 articles "重庆市委召开" 0.35, ~0.1
    in fact: a head of 3 x 101 / 0.35 rows held fewer than 101), and the read stops at ``cap + 1`` matches anyway."""
    if share < least:
        return None
    rows = math.ceil(HEAD_MARGIN * (cap + 1) / (share if least >= DENSE else least))
    tuples, pages = _table_size(session)
    if rows > HEAD_ROWS or rows > tuples / 2 or pages < 1:
        return None
    return math.ceil(rows / (tuples / pages))


def more_than(session: Reader, matches: Select, blocks: int, cap: int) -> bool:
    """Whether the table's first ``blocks`` blocks hold more than ``cap`` of ``matches`` (a SELECT over
    ``search_docs`` with every condition of the search), read by a TID range scan that stops at the
    ``cap + 1``-th match."""
    head = matches.where(literal_column("search_docs.ctid") < literal_column(f"'({int(blocks)},0)'::tid"))
    session.execute(sql("SET LOCAL enable_bitmapscan = off"))  # (else the planner reads GIN, then the range)
    found = int(session.scalar(select(func.count()).select_from(head.limit(cap + 1).subquery())) or 0)
    # (no ``finally``: after an error the transaction is aborted and ends, undoing SET LOCAL; see bitmap_scans)
    session.execute(sql("RESET enable_bitmapscan"))
    return found > cap

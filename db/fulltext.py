"""Chinese full-text search with substring semantics: folding, character n-grams, the index per backend, queries.

A search finds what Ctrl-F over the archive would: an article matches a query piece when its folded title or
folded body holds the piece as a substring. Folding is NFKC (full-width → ASCII), OpenCC traditional →
simplified, lower case, and every run of white space made one space (``searchable``), on the text and on the
query alike, so 經濟 finds 经济 and ``GDP`` finds ``gdp1.5%``.

The index holds, per article (its latest version), every distinct character and every distinct pair of
adjacent characters of the folded title and body (``ngrams``): ASCII punctuation and the space are mapped
to private-use characters so that FTS5's ``ascii`` tokenizer keeps them as tokens. A query piece of one
character is its unigram, of two its bigram: the index answers those exactly. A longer piece (or one with
ASCII punctuation or a space in it) is pre-filtered by up to ``PIECE_TOKENS`` of its bigrams, and every
candidate is verified against the folded text kept in ``search_text`` (an ``instr``/``strpos``): bigrams
cannot say in which order they stand. jieba is not needed for matching at all.

- SQLite: the contentless FTS5 table ``search_fts(title, body, facets)``, rowid = ``article_versions.id``
  (and ``search_fts_title``, the title n-grams alone, for proving that no title holds several query groups)
  (rows only added; ``search_docs.version_id`` says which is current; ``cqnews reindex`` drops stale rows).
- PostgreSQL: ``search_docs.terms``, a tsvector (``array_to_tsvector``: no parser, no positions) with a GIN
  index, holding the n-grams, the title's again as ``t:`` and the facets as ``f:``. N-grams are a few bytes,
  so no lexeme can reach the 2 KB limit; an article whose n-grams would pass the tsvector's 1 MB limit keeps
  only its title's n-grams and facets, is marked ``partial`` in ``search_text`` and the ``f:partial`` word,
  and is then a candidate of every query, verified against its text (``capped`` counts them).
Relevance: how many of the query's groups the title holds, then newest. Facets (site, month of the published
and archived date) let ``db.windows`` read the newest matches first.
"""
from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Engine,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)

from cqnews.db.session import upsert_for
from cqnews.db.tables import ARTICLE_VERSIONS, ARTICLES, SEARCH_DOCS, SITES, dialect_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cqnews.db.tables import Reader

log = logging.getLogger(__name__)

FTS_TABLE = "search_fts"
TITLE_FTS = "search_fts_title"  # SQLite: the title n-grams alone (migration 0011), for ``titles_may_hold``
TEXT_TABLE = "search_text"
# Objects of the index written by hand in migrations 0003, 0005 and 0006, not by models: autogenerate must not
# see them (``title_terms`` exists on PostgreSQL from 0003 to 0004 only).
HAND_WRITTEN_TABLES = (FTS_TABLE, TEXT_TABLE)
HAND_WRITTEN_COLUMNS = ("title_terms", "terms")
HAND_WRITTEN_INDEXES = ("ix_search_docs_terms", "ix_search_text_partial")
TERMS_TSVECTOR = "search_docs.terms"

MAX_QUERY_PIECES = 64
MAX_PIECE_CHARS = 256  # a query word longer than this is an error (no one types it; verifying it costs)
PIECE_TOKENS = 4  # bigrams of a long piece the index pre-filters by; the folded text decides the rest
# (4, not 8: a long phrase's bigrams are each in most articles, and reading eight posting lists cost more than
# checking the few more candidates: "负责人说，“我们将" at 1,000,000 articles, 231 -> 144 ms CPU on PostgreSQL,
# 101 -> 74 ms on SQLite)
# PostgreSQL refuses a tsvector whose lexemes pass 1 MB ("string is too long for tsvector"): an article whose
# n-grams would take more than this is indexed by its title and facets only (``partial``), and verified.
TSVECTOR_BUDGET = 900_000
PARTIAL_WORD = "partial"  # ``f:partial`` on PostgreSQL: the article is a candidate of every query

# ASCII punctuation, space and control characters as private-use characters (plane 15), which FTS5's ascii
# tokenizer keeps inside tokens: ``gdp1.5%`` stays one run of characters. A piece holding such a character
# (or a real plane-15/16 one) is always verified, so the mapping can never make a false match.
_TOKEN_MAP = {i: chr(0xF0000 + i) for i in range(128) if not chr(i).isalnum()}
_SPACES = re.compile(r"\s+")


class QuerySyntaxError(ValueError):
    """A search query that cannot be understood; the message says why, in one line."""


# -- folding and n-grams ----------------------------------------------------------------------------------


@functools.cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@functools.cache
def segmenter_id() -> str:
    """Fingerprint of the index's tokens (folding tools and versions, the n-gram scheme), stored with every row."""
    import opencc

    return f"ngram 1-2 v1; opencc {getattr(opencc, '__version__', '?')} t2s; nfkc lower; facets 1"


def fold(value: str) -> str:
    """NFKC (full-width → ASCII), traditional → simplified, lower case: what index and queries compare."""
    return str(_converter().convert(unicodedata.normalize("NFKC", value))).lower()


def searchable(value: str | None) -> str:
    """The text a search compares with: folded, every run of white space one space, no space at the ends."""
    return _SPACES.sub(" ", fold(value)).strip() if value else ""


def ngrams(folded: str) -> list[str]:
    """The index tokens of a folded text: each distinct character, then each distinct pair of neighbours."""
    chars = folded.translate(_TOKEN_MAP)
    return list(dict.fromkeys([*chars, *map(str.__add__, chars, chars[1:])]))  # map: no Python step per pair


def is_exact(piece: str) -> bool:
    """Whether the index alone answers ``piece`` (its one unigram or bigram), with no look at the text."""
    return len(piece) <= 2 and all(c.isalnum() if c < "\x80" else c < "\U000f0000" for c in piece)


def piece_tokens(piece: str) -> list[str]:
    """The tokens every article holding ``piece`` has: its unigram, or (at most ``PIECE_TOKENS`` of) its bigrams,
    spread over the piece (first and last included)."""
    chars = piece.translate(_TOKEN_MAP)
    if len(chars) == 1:
        return [chars]
    grams = list(dict.fromkeys(chars[i:i + 2] for i in range(len(chars) - 1)))
    if len(grams) <= PIECE_TOKENS:
        return grams
    step = (len(grams) - 1) / (PIECE_TOKENS - 1)
    return list(dict.fromkeys(grams[round(k * step)] for k in range(PIECE_TOKENS)))


# -- queries -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed search: every group must match (one of its alternative pieces), no excluded piece may.

    A piece is folded text (``searchable``) that the title or the body must hold as written. ``partial``:
    the archive holds articles indexed by their title only (PostgreSQL), which every query must verify.
    """

    groups: list[list[str]]
    excluded: list[str] = field(default_factory=list)
    partial: bool = False

    @property
    def words(self) -> list[str]:
        """The pieces to look for in a text (snippets)."""
        return [piece for group in self.groups for piece in group]

    @property
    def exact(self) -> bool:
        """Whether the index answers every piece alone (no verification against the text)."""
        return all(is_exact(p) for p in [*self.words, *self.excluded])


# `-"quoted words"`, `"quoted words"`, or a bare word (a double quote always ends a bare word)
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')
_OPERATORS = {"OR": "OR", "|": "OR", "AND": "AND", "&": "AND", "NOT": "NOT"}


def parse_query(raw: str) -> Query:
    """Words separated by spaces are all required; ``A OR B`` needs either (OR binds tighter than the spaces);
    ``AND`` may be written; ``-word`` or ``NOT word`` excludes; ``"several words"`` is one piece, spaces and
    punctuation included. Every other character is text to find (``《决定》``, ``1.5%``, ``C++``)."""
    if raw.count('"') % 2:
        raise QuerySyntaxError(f'unbalanced " in the query {raw!r}: close the quoted words')
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending: str | None = None  # an OR or AND waiting for its right-hand word
    negate = after_word = last_excluded = False
    for match in _QUERY_TOKEN.finditer(raw):
        minus, quoted, bare = match.groups()
        operator = _OPERATORS.get(bare or "")
        if operator in ("OR", "AND"):
            if not after_word or pending or negate:
                raise QuerySyntaxError(f"{bare} needs a word on each side, in the query {raw!r}")
            pending, after_word = operator, False
            continue
        if operator == "NOT":
            if negate:
                raise QuerySyntaxError(f"NOT twice in a row, in the query {raw!r}")
            negate = True
            continue
        if quoted is not None:
            piece, excluding = searchable(quoted), bool(minus)
        elif bare.startswith("-") and len(bare) > 1:
            piece, excluding = searchable(bare[1:]), True
        else:
            piece, excluding = searchable(bare), False
        excluding, negate = excluding or negate, False
        if not piece:
            raise QuerySyntaxError(f'empty quotes "" in the query {raw!r}: put the words to find between them')
        if len(piece) > MAX_PIECE_CHARS:
            raise QuerySyntaxError(f"a word of the query has {len(piece):,} characters; at most {MAX_PIECE_CHARS}")
        if pending == "OR" and (excluding or last_excluded):
            raise QuerySyntaxError(f"an excluded word cannot be part of OR, in the query {raw!r}")
        if excluding:
            excluded.append(piece)
        elif pending == "OR":
            groups[-1].append(piece)
        else:
            groups.append([piece])
        pending, after_word, last_excluded = None, True, excluding
    if pending:
        raise QuerySyntaxError(f"{pending} needs a word on each side, in the query {raw!r}")
    if negate:
        raise QuerySyntaxError(f"NOT needs a word after it, in the query {raw!r}")
    if not groups:
        raise QuerySyntaxError(f"nothing to search for in {raw!r}: give at least one word (not only -words)")
    count = sum(len(g) for g in groups) + len(excluded)
    if count > MAX_QUERY_PIECES:
        raise QuerySyntaxError(f"the query has {count} words; at most {MAX_QUERY_PIECES}")
    return Query(groups, excluded)


def _fts5_token(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts5_piece(piece: str) -> str:
    return "(" + " AND ".join(map(_fts5_token, piece_tokens(piece))) + ")"


def _fts5_group(pieces: Sequence[str]) -> str:
    return "(" + " OR ".join(map(_fts5_piece, pieces)) + ")"


def fts5_expression(query: Query, column_name: str | None = None) -> str:
    """The FTS5 MATCH string: every token a quoted string (so no FTS syntax can come from the user).

    ``column_name`` restricts it to columns (``"title"``, ``"title body"``); searches always restrict it
    to the text's columns, so a query's words never match the facets. Excluded pieces the index cannot
    answer alone are left to ``restrict``'s check against the text.
    """
    expr = " AND ".join(_fts5_group(g) for g in query.groups)
    exact_excluded = [p for p in query.excluded if is_exact(p)]
    if exact_excluded:
        expr = f"({expr}) NOT {_fts5_group(exact_excluded)}"
    return f"{{{column_name}}} : ({expr})" if column_name else expr


def _tsquery_token(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery_piece(piece: str, prefix: str = "") -> str:
    return "(" + " & ".join(_tsquery_token(prefix + t) for t in piece_tokens(piece)) + ")"


def _tsquery_group(pieces: Sequence[str], prefix: str = "", partial: bool = False) -> str:
    alternatives = [_tsquery_piece(p, prefix) for p in pieces]
    if partial:
        alternatives.append(_tsquery_token(FACET_PREFIX + PARTIAL_WORD))
    return "(" + " | ".join(alternatives) + ")"


def tsquery_expression(query: Query) -> str:
    """The tsquery text (cast, never parsed by a text search configuration): quoted lexemes, & | !."""
    expr = " & ".join(_tsquery_group(g, partial=query.partial) for g in query.groups)
    exact_excluded = [p for p in query.excluded if is_exact(p)]
    if exact_excluded:
        expr = f"{expr} & !{_tsquery_group(exact_excluded)}"
    return expr


# -- facets and narrowed matches -------------------------------------------------------------------------

TITLE_PREFIX = "t:"  # PostgreSQL: a title word again, in ``terms``
FACET_PREFIX = "f:"  # PostgreSQL: a facet word, in ``terms`` (SQLite: in the ``facets`` column)
# How many query groups relevance is answered for level by level (2**n title combinations); beyond it the
# matches are scored and sorted whole.
MAX_LEVELLED_GROUPS = 4


def month_of(value: datetime) -> str:
    """The facet month of a timestamp: UTC, ``YYYYMM`` (stored naive timestamps are UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y%m")


def site_facet(site: str) -> str:
    return "s" + site.encode().hex()  # site names may hold "_", which FTS5's ascii tokenizer splits at


def date_facet(field: str, month: str) -> str:
    """``field`` is ``p`` (published) or ``a`` (archived)."""
    return field + month


def facet_words(site: str, published_at: datetime | None, archived_at: datetime) -> list[str]:
    words = [site_facet(site), date_facet("a", month_of(archived_at))]
    if published_at is not None:
        words.append(date_facet("p", month_of(published_at)))
    return words


@dataclass(frozen=True)
class Narrowing:
    """What a probe of ``db.windows`` adds to a query, inside the full-text match itself.

    ``title_level``: exactly that many of the query's groups match the title (``title_any``: at least one;
    ``title_at_least``: the title has the index tokens of at least that many groups, the superset of a level
    that a query the index cannot answer alone is pre-filtered by);
    ``months``: the date ``field`` (``p``/``a``) falls in one of these months; ``site``: the article is of
    this site.
    """

    title_level: int | None = None
    months: tuple[str, ...] = ()
    field: str = "p"
    site: str | None = None
    title_any: bool = False  # at least one of the query's groups matches the title
    title_at_least: int = 0


def _fts5_facets(words: Sequence[str]) -> str:
    return "{facets} : (" + " OR ".join(map(_fts5_token, words)) + ")"


def _tsquery_facets(words: Sequence[str]) -> str:
    return "(" + " | ".join(_tsquery_token(FACET_PREFIX + w) for w in words) + ")"


def _title_group(pieces: Sequence[str], dialect: str) -> str:
    """The index's title tokens of a group: exactly its matches in the title when every piece is exact, a
    superset of them otherwise."""
    if dialect == "sqlite":
        return "{title} : " + _fts5_group(pieces)
    return _tsquery_group(pieces, TITLE_PREFIX)


def match_expression(query: Query, dialect: str, narrowing: Narrowing = Narrowing()) -> str:
    """The MATCH string (SQLite) or tsquery text (PostgreSQL) of a query, narrowed.

    Title levels are exact here only for an exact query; ``restrict`` turns them into a title pre-filter plus
    an exact check for the others."""
    lite = dialect == "sqlite"
    base = fts5_expression(query, "title body") if lite else tsquery_expression(query)
    AND, OR, NOT = (" AND ", " OR ", " NOT ") if lite else (" & ", " | ", " & !")
    titles = [f"({_title_group(g, dialect)})" for g in query.groups]
    expr = base
    if narrowing.title_any:
        expr = f"({base}){AND}({OR.join(titles)})"
    elif narrowing.title_at_least:
        chosen_sets = combinations(range(len(titles)), narrowing.title_at_least)
        expr = f"({base}){AND}(" + OR.join(f"({AND.join(titles[i] for i in chosen)})" for chosen in chosen_sets) + ")"
    elif narrowing.title_level == 0:
        expr = f"({base}){NOT}({OR.join(titles)})"
    elif narrowing.title_level is not None:
        # The query once, ANDed with the title combinations: each combination repeating the query would
        # have the engine walk its words' posting lists once per combination.
        alternatives = []
        for chosen in combinations(range(len(titles)), narrowing.title_level):
            inside = AND.join(titles[i] for i in chosen)
            rest = [t for i, t in enumerate(titles) if i not in chosen]
            alternatives.append(f"({inside}){NOT}({OR.join(rest)})" if rest else inside)
        expr = f"({base}){AND}(" + OR.join(f"({a})" for a in alternatives) + ")"
    facets = []
    if narrowing.months:
        facets.append([date_facet(narrowing.field, m) for m in narrowing.months])
    if narrowing.site is not None:
        facets.append([site_facet(narrowing.site)])
    for words in facets:
        expr = f"({expr}){AND}" + (_fts5_facets(words) if lite else _tsquery_facets(words))
    return expr


_FTS = table(FTS_TABLE, column("rowid", Integer))
TEXTS = table(TEXT_TABLE, column("article_id", Integer), column("title", Text), column("body", Text),
              column("partial", Boolean))
# ``search_docs`` (its Core table: a search loads no ORM, part of the start-up of `cqnews search`).
DOCS = SEARCH_DOCS


def _tsquery(value: Any) -> ColumnElement[Any]:
    from sqlalchemy.dialects.postgresql import TSQUERY  # (imported only where PostgreSQL is searched)

    return cast(value, TSQUERY)


def _position(dialect: str, haystack: Any, piece: str) -> ColumnElement[int]:
    return func.instr(haystack, piece) if dialect == "sqlite" else func.strpos(haystack, piece)


def _holds(pieces: Sequence[str], dialect: str, *, title_only: bool = False) -> ColumnElement[bool]:
    """The article's folded title (or body) holds one of ``pieces``: the check every candidate of a piece the
    index cannot answer alone passes (one row of ``search_text``, looked up by its key)."""
    found = []
    for piece in pieces:
        found.append(_position(dialect, TEXTS.c.title, piece) > 0)
        if not title_only:
            found.append(_position(dialect, TEXTS.c.body, piece) > 0)
    return exists().where(TEXTS.c.article_id == DOCS.c.article_id, or_(*found))


def _whole() -> ColumnElement[bool]:
    """The article's index holds all its n-grams (not ``partial``): the index's answer is the answer."""
    return DOCS.c.article_id.not_in(select(TEXTS.c.article_id).where(TEXTS.c.partial))


def verification(query: Query, dialect: str) -> list[ColumnElement[bool]]:
    """The checks against the folded text that make the index's candidates exactly the matches."""
    checks: list[ColumnElement[bool]] = []
    for group in query.groups:
        if not all(map(is_exact, group)):
            checks.append(_holds(group, dialect))
        elif query.partial:
            checks.append(or_(_whole(), _holds(group, dialect)))
    inexact = [p for p in query.excluded if not is_exact(p)]
    if inexact:
        checks.append(not_(_holds(inexact, dialect)))
    exact = [p for p in query.excluded if is_exact(p)]
    if exact and query.partial:
        checks.append(or_(_whole(), not_(_holds(exact, dialect))))
    return checks


def text_checks(query: Query, dialect: str) -> list[ColumnElement[bool]]:
    """The whole query decided by the folded text alone, every piece by ``instr``/``strpos`` (no index): for a
    few rows known by other means (``title_candidates``), where matching them in the index would cost more."""
    checks: list[ColumnElement[bool]] = [_holds(group, dialect) for group in query.groups]
    if query.excluded:
        checks.append(not_(_holds(query.excluded, dialect)))
    return checks


# Most statements ``title_candidates`` spends on SQLite looking for tokens that few titles hold.
TITLE_PROBES = 12


def title_candidates(session: Reader, query: Query, cap: int) -> list[int] | None:
    """The version ids of the articles whose title may hold one of the query's groups (a superset: the titles
    that hold every token of a piece, on SQLite one token of it that at most ``cap`` titles hold), or None
    when there are more than ``cap``.

    Read on its own because a title condition inside the full-text match costs the whole posting list of every
    token in it, even when no title holds them (measured at 152,000 articles: a phrase of 8 common bigrams
    that no title holds, 470 ms inside the match, 17 ms for one title token alone). A piece's first token alone
    is often in many titles (重庆 of "重庆市委召开", in none): its other tokens are tried too."""
    pieces = list(dict.fromkeys(query.words))
    if dialect_name(session) != "sqlite":  # GIN intersects a piece's tokens itself, skipping by the rarest
        expression = " | ".join("(" + " & ".join(_tsquery_token(TITLE_PREFIX + t) for t in piece_tokens(p)) + ")"
                                for p in pieces)
        statement = select(DOCS.c.version_id).where(
            literal_column(TERMS_TSVECTOR).bool_op("@@")(_tsquery(bindparam("title_match", expression)))).limit(cap + 1)
        found = [int(v) for v in session.scalars(statement)]
        return found if len(found) <= cap else None
    # FTS5 reads an AND's children one after the other, each to its next title hit (a token in many bodies and
    # no title: its whole posting list): one token per statement, the first few titles hold stands for its piece.
    titles: dict[str, list[int]] = {}
    candidates: set[int] = set()
    for piece in pieces:
        for token in piece_tokens(piece):
            if token not in titles:
                if len(titles) == TITLE_PROBES:
                    return None
                titles[token] = [int(v) for v in session.scalars(text(
                    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :title_match LIMIT :cap").bindparams(
                    title_match="{title} : " + _fts5_token(token), cap=cap + 1))]
            if len(titles[token]) <= cap:
                candidates.update(titles[token])
                break
        else:
            return None
        if len(candidates) > cap:
            return None
    return sorted(candidates)


def titles_may_hold(session: Reader, query: Query, groups: int) -> bool:
    """Whether some title has the index tokens of ``groups`` of the query's groups (one combination or another):
    False proves that no match has that many groups in its title, so a relevance level of that many is empty.

    Read from the titles' own posting lists: on SQLite ``search_fts_title`` (in ``search_fts`` a title token's
    entries are among every body's: at 100,000 articles 7.7 against 0.8 ms for 高质量发展 长江经济带, which no
    title holds both of), on PostgreSQL the ``t:`` words. A stale row (an older version's title) can only make
    it say True, and the level is then read as before."""
    lite = dialect_name(session) == "sqlite"
    AND, OR = (" AND ", " OR ") if lite else (" & ", " | ")
    titles = [f"({_fts5_group(g) if lite else _tsquery_group(g, TITLE_PREFIX)})" for g in query.groups]
    expression = OR.join(f"({AND.join(titles[i] for i in chosen)})"
                         for chosen in combinations(range(len(titles)), groups))
    if lite:
        found = session.scalar(text(f"SELECT 1 FROM {TITLE_FTS} WHERE {TITLE_FTS} MATCH :titles LIMIT 1").bindparams(
            titles=expression))
    else:
        found = session.scalar(select(literal_column("1")).select_from(DOCS).where(
            literal_column(TERMS_TSVECTOR).bool_op("@@")(_tsquery(bindparam("titles", expression)))).limit(1))
    return found is not None


def _index_narrowing(query: Query, narrowing: Narrowing) -> Narrowing:
    """What the index can narrow by: title levels are exact only for an exact query; otherwise the index
    pre-filters level k by "the tokens of k groups are in the title" (of any k: a superset of the level) and
    ``checks`` counts the title's matches. (Level 2 of 2 groups by "some group's tokens" instead, as before,
    had every candidate of level 1 checked too: measured at 100,000 articles, 2,229 against none.)"""
    if query.exact or (narrowing.title_level is None and not narrowing.title_any):
        return narrowing
    return Narrowing(None, narrowing.months, narrowing.field, narrowing.site, narrowing.title_any,
                     narrowing.title_level or 0)


def checks(query: Query, dialect: str, narrowing: Narrowing = Narrowing()) -> list[ColumnElement[bool]]:
    """The conditions on ``search_docs`` rows that turn the index's candidates into exactly the matches."""
    conditions = verification(query, dialect)
    if _index_narrowing(query, narrowing) is not narrowing:
        score = title_score(query, dialect)
        conditions.append(score >= 1 if narrowing.title_any else score == narrowing.title_level)
    return conditions


def restrict(statement: Select, query: Query, dialect: str, narrowing: Narrowing = Narrowing(), *,
             verify: bool = True) -> Select:
    """Add the full-text match to a SELECT over ``search_docs``: the index's candidates, then (``verify``) the
    text's checks; without them, a superset of the matches, for ``checks`` to be applied lazily."""
    index_narrowing = _index_narrowing(query, narrowing)
    expression = match_expression(query, dialect, index_narrowing)
    if dialect == "sqlite":
        statement = statement.join(_FTS, _FTS.c.rowid == DOCS.c.version_id).where(
            text(f"{FTS_TABLE} MATCH :fts_match").bindparams(fts_match=expression))
    else:
        terms: ColumnElement[Any] = literal_column(TERMS_TSVECTOR)
        statement = statement.where(terms.bool_op("@@")(_tsquery(bindparam("ts_match", expression))))
    return statement.where(*checks(query, dialect, narrowing)) if verify else statement


def title_matches(query: Query, title: str | None) -> int:
    """How many of the query's groups the title holds, read from the title itself."""
    folded = searchable(title)
    return sum(any(piece in folded for piece in group) for group in query.groups)


def title_score(query: Query, dialect: str) -> ColumnElement[int]:
    """How many of the query's groups match the article's title (the relevance that comes before date)."""
    parts: list[ColumnElement[int]] = []
    for i, group in enumerate(query.groups):
        condition: ColumnElement[bool]
        if not query.exact:  # checked row by row anyway: the title's text, not a title-match set per statement
            condition = _holds(group, dialect, title_only=True)
        elif dialect == "sqlite":
            condition = _fts_title_condition(i, group)
        else:
            condition = literal_column(TERMS_TSVECTOR).bool_op("@@")(
                _tsquery(bindparam(f"title_{i}", _title_group(group, dialect))))
        parts.append(case((condition, 1), else_=0))
    total: ColumnElement[int] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _fts_title_condition(i: int, group: Sequence[str]) -> ColumnElement[bool]:
    """The title matches as one set: measured at 1,000,000 articles, faster than probing FTS5 per candidate row
    (rowid + MATCH costs 50-140 µs a row)."""
    sub = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :title_{i}").bindparams(
        **{f"title_{i}": "{title} : " + _fts5_group(group)}).columns(column("rowid", Integer))
    return DOCS.c.version_id.in_(sub)


def has_partial(session: Reader) -> bool:
    """Whether some article is indexed by its title only (PostgreSQL's tsvector limit): queries verify those."""
    if dialect_name(session) != "postgresql":
        return False
    return bool(session.scalar(select(exists().where(TEXTS.c.partial))))


# -- writing the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexDoc:
    """One article's index entry, folded and cut into n-grams, ready to write."""

    article_id: int
    version_id: int
    site: str
    published_at: datetime | None
    archived_at: datetime
    author: str | None
    source: str | None
    title_terms: list[str]
    body_terms: list[str]
    facets: list[str]
    title: str = ""  # the folded title and body (``searchable``), which pieces are verified against
    body: str = ""


def make_doc(article_id: int, version_id: int, site: str, title: str | None, body: str,
             published_at: datetime | None, archived_at: datetime, author: str | None,
             source: str | None) -> IndexDoc:
    folded_title, folded_body = searchable(title), searchable(body)
    return IndexDoc(article_id, version_id, site, published_at, archived_at,
                    fold(author)[:200] if author else None, fold(source)[:200] if source else None,
                    ngrams(folded_title), ngrams(folded_body), facet_words(site, published_at, archived_at),
                    folded_title, folded_body)


def latest_rows() -> Select:
    a, v = ARTICLES.c, ARTICLE_VERSIONS.c
    return (
        select(a.id, v.id, SITES.c.name, v.title, v.text, v.published_at, a.first_seen, v.author, v.source)
        .join(ARTICLE_VERSIONS, and_(v.article_id == a.id, v.version_no == a.version_count))
        .join(SITES, SITES.c.id == a.site_id)
    )


def index_article(session: Session, article_id: int) -> bool:
    """Index the latest version of one article, in the caller's transaction (called for every new version);
    True if it was indexed by its title only.

    No text can make this fail on either backend's limits (``pg_terms``), so no article is ever lost to it."""
    row = session.execute(latest_rows().where(ARTICLES.c.id == article_id)).one()
    return bool(write_docs(session, [make_doc(*row)]))


def write_docs(session: Session, docs: Sequence[IndexDoc]) -> set[int]:
    """Write the docs' index rows; returns the articles indexed by their title only (PostgreSQL's limit)."""
    if not docs:
        return set()
    dialect = dialect_name(session)
    current = dict(session.execute(select(DOCS.c.article_id, DOCS.c.version_id).where(
        DOCS.c.article_id.in_([d.article_id for d in docs]))).all())
    values = [{"article_id": d.article_id, "version_id": d.version_id, "site": d.site, "published_at": d.published_at,
               "archived_at": d.archived_at, "author": d.author, "source": d.source, "segmenter": segmenter_id()}
              for d in docs]
    docs_upsert, texts_upsert = _index_upserts(dialect)
    session.execute(docs_upsert, values)
    terms: dict[int, list[str]] = {}
    partial: set[int] = set()
    if dialect == "postgresql":
        for d in docs:
            terms[d.article_id], cut = pg_terms(d)
            if cut:
                partial.add(d.article_id)
                log.warning("article %d: its %d n-grams pass PostgreSQL's tsvector limit; indexed by its title, "
                            "found by checking its text", d.article_id, len(d.body_terms))
        session.execute(
            text("UPDATE search_docs SET terms = array_to_tsvector(CAST(:terms AS text[])) WHERE article_id = :id"),
            [{"id": d.article_id, "terms": terms[d.article_id]} for d in docs])
    else:
        fresh = [d for d in docs if current.get(d.article_id) != d.version_id]
        if fresh:
            session.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, body, facets) "
                                 "VALUES (:rowid, :title, :body, :facets)"),
                            [{"rowid": d.version_id, "title": " ".join(d.title_terms), "body": " ".join(d.body_terms),
                              "facets": " ".join(d.facets)} for d in fresh])
            session.execute(text(f"INSERT INTO {TITLE_FTS} (rowid, title) VALUES (:rowid, :title)"),
                            [{"rowid": d.version_id, "title": " ".join(d.title_terms)} for d in fresh])
    session.execute(texts_upsert, [{"article_id": d.article_id, "title": d.title, "body": d.body,
                                    "partial": d.article_id in partial} for d in docs])
    return partial


_DOC_COLUMNS = ("version_id", "site", "published_at", "archived_at", "author", "source", "segmenter")


@functools.cache
def _index_upserts(dialect: str) -> tuple[Any, Any]:
    """The upserts of ``search_docs`` and ``search_text``, built once per backend: building them (their
    ``excluded`` aliases, their cache keys) cost more CPU than running them, once per stored article."""
    docs = upsert_for(dialect, DOCS)
    texts = upsert_for(dialect, TEXTS)
    return (docs.on_conflict_do_update(index_elements=["article_id"],
                                       set_={name: getattr(docs.excluded, name) for name in _DOC_COLUMNS}),
            texts.on_conflict_do_update(index_elements=["article_id"], set_={
                "title": texts.excluded.title, "body": texts.excluded.body, "partial": texts.excluded.partial}))


def pg_terms(doc: IndexDoc) -> tuple[list[str], bool]:
    """The lexemes of an article's ``terms`` tsvector (its n-grams, its title's again as ``t:``, its facets),
    and whether they had to be cut to the title's and ``f:partial``."""
    title = [TITLE_PREFIX + t for t in doc.title_terms]
    facets = [FACET_PREFIX + f for f in doc.facets]
    whole = list(dict.fromkeys(doc.title_terms + doc.body_terms + title + facets))
    if sum(len(t.encode()) + 8 for t in whole) <= TSVECTOR_BUDGET:
        return whole, False
    return list(dict.fromkeys(doc.title_terms + title + facets)) + [FACET_PREFIX + PARTIAL_WORD], True


def segment_rows(rows: list[tuple[Any, ...]]) -> list[IndexDoc]:
    return [make_doc(*row) for row in rows]


def rebuild(engine: Engine, *, batch: int = 500, workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the latest versions; returns the number of articles indexed.

    The old index is emptied in one transaction, then articles are indexed in batches, each committed (a
    crawl may write meanwhile: what it indexes itself is skipped here). ``workers`` > 1 folds and cuts the
    text in that many processes.
    """
    from cqnews.db.session import make_sessionmaker

    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        empty_for_bulk_load(session)
        total = int(session.scalar(select(func.count()).select_from(ARTICLES).where(ARTICLES.c.version_count > 0)) or 0)
    done = 0
    if progress:
        progress(0, total)

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        last = 0
        while True:
            with sessions() as session:
                rows = [tuple(r) for r in session.execute(
                    latest_rows().where(ARTICLES.c.id > last).order_by(ARTICLES.c.id).limit(batch)).all()]
            if not rows:
                return
            last = rows[-1][0]
            yield rows

    pool = None
    if workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(workers)
        segmented: Iterable[list[IndexDoc]] = pool.imap(segment_rows, batches())
    else:
        segmented = map(segment_rows, batches())
    try:
        for docs in segmented:
            with sessions.begin() as session:
                taken = set(session.scalars(select(DOCS.c.article_id).where(
                    DOCS.c.article_id.in_([d.article_id for d in docs]))))
                write_docs(session, [d for d in docs if d.article_id not in taken])
            done += len(docs)
            if progress:
                progress(done, total)
    finally:
        if pool is not None:
            pool.terminate()
        finish_bulk_load(engine)
    return done


def empty_for_bulk_load(session: Session) -> None:
    """Empty the index before loading it whole (``rebuild``, the benchmark's generator)."""
    if dialect_name(session) == "sqlite":
        for name in (FTS_TABLE, TITLE_FTS):
            session.execute(text(f"INSERT INTO {name} ({name}) VALUES ('delete-all')"))
    else:  # loading into a GIN index grows it: build it afresh at the end instead
        session.execute(text("DROP INDEX IF EXISTS ix_search_docs_terms"))
    session.execute(delete(TEXTS))
    session.execute(delete(DOCS))


def finish_bulk_load(engine: Engine) -> None:
    """Compact the FTS5 index / build the GIN index, and refresh the planner's statistics."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for name in (FTS_TABLE, TITLE_FTS):
                connection.execute(text(f"INSERT INTO {name} ({name}) VALUES ('optimize')"))
        else:
            connection.execute(text("CREATE INDEX IF NOT EXISTS ix_search_docs_terms ON search_docs "
                                    "USING gin (terms)"))
            connection.execute(text(f"ANALYZE search_docs; ANALYZE {TEXT_TABLE}"))


def stale(session: Reader) -> int:
    """How many index rows another tokenisation made (OpenCC or the n-gram scheme changed): reindex them."""
    return int(session.scalar(select(func.count()).select_from(DOCS).where(
        DOCS.c.segmenter != segmenter_id())) or 0)


def outdated(session: Reader) -> bool:
    """Whether the index was made by another tokenisation, read from its oldest row alone (cheap enough for
    every search): ``rebuild`` redoes every row, so rows made before a change are always the oldest."""
    oldest = session.scalar(select(DOCS.c.segmenter).order_by(DOCS.c.article_id).limit(1))
    return oldest is not None and oldest != segmenter_id()


def missing(session: Reader) -> int:
    """How many articles have no index row (e.g. archived before the index existed): `cqnews reindex` fixes it."""
    return int(session.scalar(select(func.count()).select_from(ARTICLES).where(
        ARTICLES.c.version_count > 0, ~exists().where(DOCS.c.article_id == ARTICLES.c.id))) or 0)


def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: the hand-written index objects are not in the models, on purpose."""
    if type_ == "table":
        return not (name or "").startswith(HAND_WRITTEN_TABLES)
    if type_ == "column":
        return not (parent_names.get("table_name") == "search_docs" and name in HAND_WRITTEN_COLUMNS)
    if type_ == "index":
        return name not in HAND_WRITTEN_INDEXES
    return True

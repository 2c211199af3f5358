"""Reading the archive: full-text search, one article with its versions, a URL's history, version diffs, runs.

Search goes through the full-text index of ``db.fulltext`` (jieba-segmented, traditional folded to
simplified; FTS5 on SQLite, tsvector + GIN on PostgreSQL), over the latest version of each article, with
the same results on both backends.

Everything here returns plain data (where a match is, which paragraphs changed how); showing it to people
(snippets, diff marks) is ``cli.render``'s.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy import text as sql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from cqnews.db import dense, fulltext, windows
from cqnews.db.tables import ARTICLE_VERSIONS, ARTICLES, SITES, dialect_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cqnews.db.models import Article, ArticleVersion
    from cqnews.db.tables import Reader

# A search reads Core tables (``db.tables``), so `cqnews search` never imports the ORM (start-up time).
DOCS = fulltext.DOCS
VERSIONS = ARTICLE_VERSIONS

DateField = Literal["published", "archived"]
SortOrder = Literal["relevance", "date"]


class SearchIndexMissing(Exception):
    """The archive has articles but the search index has none of them: ``cqnews reindex`` builds it."""


class UnknownSite(LookupError):
    """A search narrowed to a site the archive does not know (``known``: the names it knows)."""

    def __init__(self, site: str, known: list[str]) -> None:
        super().__init__(site)
        self.site = site
        self.known = known

    def problem(self, spiders: list[str] | tuple[str, ...]) -> str | None:
        """None for a site a spider crawls (not crawled yet: the search has nothing to show, no error), else the
        error, naming every site a user may name: the archive's and the spiders'."""
        if self.site in spiders:
            return None
        return f"unknown site {self.site}; known: {', '.join(sorted({*self.known, *spiders}))}"


@dataclass(frozen=True)
class TextMatch:
    """Where a query's words are in an article's text, for a reader to show the passage around them.

    ``text`` is the article's text with its white space collapsed (and folded to simplified, when folding
    changes its length, so that positions found in the folded text stay true); ``first`` is where the
    earliest of the words starts in it, None when none is there.
    """

    text: str
    first: int | None


@dataclass(frozen=True)
class Hit:
    article_id: int
    site: str
    url: str
    title: str | None
    published_at: datetime | None
    last_seen: datetime
    version_count: int
    match: TextMatch
    author: str | None = None
    source: str | None = None
    first_seen: datetime | None = None
    score: int = 0  # how many of the query's words are in the title


@dataclass(frozen=True)
class Filters:
    """What every search and export can be narrowed by; dates are aware datetimes, ``until`` exclusive."""

    site: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    dates: DateField = "published"
    author: str | None = None  # substring, folded (traditional or simplified, any case)
    source: str | None = None


def _latest_version() -> Select:
    """What a hit shows of an article, its latest version and its site, as plain rows."""
    a, v = ARTICLES.c, VERSIONS.c
    return (
        select(a.id, SITES.c.name, a.url, v.title, v.published_at, a.last_seen, a.version_count, v.text, v.author,
               v.source, a.first_seen)
        .join(VERSIONS, and_(v.article_id == a.id, v.version_no == a.version_count))
        .join(SITES, SITES.c.id == a.site_id)
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class FilterColumns:
    """Where each filter applies: the search index's columns, or the archive's own (exports without a query)."""

    site: Any
    published: Any
    archived: Any
    author: Any
    source: Any
    folded: bool  # the columns hold folded text (the index): fold the filter value the same way

    def date(self, filters: Filters) -> Any:
        """The date column the filters' range and the date order use."""
        return self.archived if filters.dates == "archived" else self.published


class _Unindexed(FunctionElement[Any]):
    """A column SQLite must not read through an index: ``+column`` there (its documented hint), the column
    elsewhere.

    A search's rows must come from the full-text match, each then looked up by its version id. Offered a
    site or date index on ``search_docs``, SQLite's planner walks it in date order and probes FTS5 row by
    row instead (measured: 44 ms against 0.3 ms for one window of 3,000 articles, growing with the archive).
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.column = column  # itself, where an index is wanted (the min and max of a date)
        self.type = column.type


@compiles(_Unindexed)
def _column_as_is(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed, "sqlite")
def _column_without_index(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


INDEX_COLUMNS = FilterColumns(_Unindexed(DOCS.c.site), _Unindexed(DOCS.c.published_at),
                              _Unindexed(DOCS.c.archived_at), _Unindexed(DOCS.c.author),
                              _Unindexed(DOCS.c.source), folded=True)
ARCHIVE_COLUMNS = FilterColumns(SITES.c.name, VERSIONS.c.published_at, ARTICLES.c.first_seen, VERSIONS.c.author,
                                VERSIONS.c.source, folded=False)


def filtered(statement: Select, filters: Filters, columns: FilterColumns = INDEX_COLUMNS) -> Select:
    """``statement`` narrowed by the filters, on the index's columns (or the archive's): what every search, total,
    facet count and export applies, so all of them agree on which articles a filter keeps."""
    date = columns.date(filters)
    if filters.site:
        statement = statement.where(columns.site == filters.site)
    if filters.since:
        statement = statement.where(date >= filters.since)
    if filters.until:
        statement = statement.where(date < filters.until)
    for col, value in ((columns.author, filters.author), (columns.source, filters.source)):
        if value and value.strip():
            if columns.folded:
                pattern, target = fulltext.fold(value.strip()), col
            else:
                pattern, target = value.strip().lower(), func.lower(col)
            statement = statement.where(target.like(f"%{_escape_like(pattern)}%", escape="\\"))
    return statement


def search_ids(session: Reader, text: str, filters: Filters = Filters(), *, sort: SortOrder = "relevance",
               limit: int | None = 20, offset: int = 0) -> list[tuple[int, int]]:
    """(article id, title score) of the matches, best first; raises ``fulltext.QuerySyntaxError``.

    A page (``limit`` given) is read newest first from the index's month facets (``db.windows``); all
    matches (``limit=None``, exports) and queries of more groups than relevance levels are worked out for
    (``fulltext.MAX_LEVELLED_GROUPS``) are sorted whole. Both give the same order.
    """
    query = prepared_query(session, text, filters)
    if limit is None or (sort == "relevance" and len(query.groups) > fulltext.MAX_LEVELLED_GROUPS):
        ranked = sorted_ids(session, query, filters, sort=sort, limit=limit, offset=offset)
    else:
        ranked = windowed_ids(session, query, filters, sort=sort, limit=limit, offset=offset)
    if not ranked and not session.scalar(select(exists().where(DOCS.c.article_id.is_not(None)))) \
            and session.scalar(select(exists().where(ARTICLES.c.version_count > 0))):
        raise SearchIndexMissing("the search index is empty but the archive has articles: run `cqnews reindex`")
    return ranked


def prepared_query(session: Reader, text: str, filters: Filters) -> fulltext.Query:
    """The parsed query, knowing whether the index holds title-only articles; raises ``UnknownSite``."""
    query = fulltext.parse_query(text)
    if filters.site and session.scalar(select(SITES.c.id).where(SITES.c.name == filters.site)) is None:
        raise UnknownSite(filters.site, list(session.scalars(select(SITES.c.name).order_by(SITES.c.name))))
    if fulltext.has_partial(session):
        query = replace(query, partial=True)
    return query


@dataclass(frozen=True)
class MatchCount:
    """How many articles a search matches: ``count`` exactly, or more than ``count`` when ``more``."""

    count: int
    more: bool = False


def count_matches(session: Reader, text: str, filters: Filters = Filters(), *, cap: int = 1000,
                  floor: int | None = None) -> MatchCount:
    """The number of matches, counted up to ``cap`` (beyond it, counting a common word would read its whole
    posting list: a search says "more than cap" instead). On PostgreSQL a query its statistics say is common
    is first looked for in the table's head (``db.dense``): GIN would collect every candidate before the LIMIT.
    ``floor`` (below ``cap``): the least bound the caller may show instead; a query the statistics call fairly
    common (``dense.FLOOR_DENSE``) whose head holds more than ``floor`` matches is "more than floor", because
    GIN's count to ``cap`` of a phrase of common bigrams builds the bitmap of them all (at 1,000,000 articles
    "重庆市委召开" ~110 ms) and the head proves ``floor`` = 100 in ~10 ms. The answer stays true, only coarser."""
    query = prepared_query(session, text, filters)
    dialect = dialect_name(session)
    matches = filtered(fulltext.restrict(select(DOCS.c.article_id), query, dialect), filters)
    if dialect == "postgresql":  # a common query: its first cap + 1 matches in the table's head, if they are there
        share = dense.estimated_share(session, query, filters.site)  # (one read of the statistics for both tries)
        blocks = dense.head_blocks(session, share, cap)
        if blocks is not None and dense.more_than(session, matches, blocks, cap):
            return MatchCount(cap, True)
        if blocks is None and floor is not None and floor < cap:
            blocks = dense.head_blocks(session, share, floor, least=dense.FLOOR_DENSE)
            if blocks is not None and dense.more_than(session, matches, blocks, floor):
                return MatchCount(floor, True)
    matches = matches.limit(cap + 1)
    with bitmap_scans(session):
        count = int(session.scalar(select(func.count()).select_from(matches.subquery())) or 0)
    return MatchCount(cap, True) if count > cap else MatchCount(count)


def page_total(session: Reader, text: str, filters: Filters, page_end: int) -> MatchCount:
    """The total a reader sees under a page of results that ends at match ``page_end`` (the CLI's and the web
    reader's): exact up to ``TOTAL_CAP``, "more than" beyond it, never a bound below the page's own end; on
    PostgreSQL a fairly common query may be "more than ``TOTAL_FLOOR``" (``count_matches``'s ``floor``)."""
    return count_matches(session, text, filters, cap=max(TOTAL_CAP, page_end), floor=max(TOTAL_FLOOR, page_end))


def sorted_ids(session: Reader, query: fulltext.Query, filters: Filters, *, sort: SortOrder,
               limit: int | None, offset: int) -> list[tuple[int, int]]:
    """Every match scored (title words) and sorted by the database."""
    dialect = dialect_name(session)
    score = fulltext.title_score(query, dialect).label("score")
    date = INDEX_COLUMNS.date(filters)
    statement = filtered(fulltext.restrict(select(DOCS.c.article_id, score), query, dialect), filters)
    order: list[Any] = [date.desc().nulls_last(), DOCS.c.article_id.desc()]
    statement = statement.order_by(*([score.desc(), *order] if sort == "relevance" else order))
    if limit is not None:
        statement = statement.limit(limit)
    with bitmap_scans(session):
        return [(int(a), int(s)) for a, s in session.execute(statement.offset(offset)).all()]


# The total under a page of results (``page_total``) is exact up to TOTAL_CAP; TOTAL_FLOOR is the least it may
# show as "more than N" (``count_matches``'s ``floor``).
TOTAL_CAP = 1000
TOTAL_FLOOR = 100
# Relevance of a query of several groups: when no more than this many matches have any of its words in the
# title, they are all read in one probe and ranked by their titles here, instead of one probe per title level.
TITLED_AT_ONCE = 200
# PostgreSQL: a level whose newest months project no more matches than this over the whole archive is read whole
# next (``windows.newest_first``): GIN and the sort of this many cost less than a window's months.
WHOLE_BELOW = 2_000
# A query whose title candidates (``fulltext.title_candidates``) are no more than this many ranks them by their
# text in one statement, without a title condition in the full-text match.
TITLE_CANDIDATES = 500


def windowed_ids(session: Reader, query: fulltext.Query, filters: Filters, *, sort: SortOrder, limit: int,
                 offset: int) -> list[tuple[int, int]]:
    """The page read from the newest months first, level by level of title words for relevance."""
    dialect = dialect_name(session)
    date = INDEX_COLUMNS.date(filters)
    field = "a" if filters.dates == "archived" else "p"
    months = _months(session, filters)
    need = offset + limit

    def matches(narrowing: fulltext.Narrowing, *columns: Any, verify: bool = True) -> Select:
        return filtered(fulltext.restrict(select(DOCS.c.article_id, *columns), query, dialect, narrowing,
                                           verify=verify), filters)

    def level_rows(level: int | None, wanted: int) -> list[int]:
        if level is not None and level > 1 and not fulltext.titles_may_hold(session, query, level):
            return []  # no title holds that many groups: proved from the titles alone, not by a probe of the archive

        def probe(window: tuple[str, ...]) -> list[int]:
            narrowing = fulltext.Narrowing(level, window, field, filters.site)
            order = (date.desc().nulls_last(), DOCS.c.article_id.desc())
            if query.exact:
                statement = matches(narrowing).order_by(*order).limit(wanted)
                return [int(a) for a in session.scalars(statement)]
            return _verified_newest(session, matches(narrowing, verify=False).order_by(*order),
                                    fulltext.checks(query, dialect, narrowing), wanted)

        # (several title words together are rare: read such a level whole rather than its newest months first)
        return windows.newest_first(months, wanted, probe, whole_first=level is not None and level > 1,
                                    whole_below=WHOLE_BELOW if dialect == "postgresql" else 0)

    def titled() -> list[tuple[int, int | None]] | None:
        """Every match with a query word in its title, ranked, if there are few; None if there are many."""
        if dialect == "postgresql" and dense.titles_exceed(session, query, TITLED_AT_ONCE, matching=True):
            return None
        statement = matches(fulltext.Narrowing(site=filters.site, title_any=True), date, VERSIONS.c.title)
        statement = statement.join(VERSIONS, VERSIONS.c.id == DOCS.c.version_id)
        rows = session.execute(statement.limit(TITLED_AT_ONCE + 1)).all()
        if len(rows) > TITLED_AT_ONCE:
            return None
        scored = [(int(a), fulltext.title_matches(query, title), d) for a, d, title in rows]
        scored.sort(key=lambda r: (-r[1], r[2] is None, -(r[2].timestamp() if r[2] else 0), -r[0]))
        return [(a, level) for a, level, _ in scored]

    def few_titled() -> list[tuple[int, int | None]] | None:
        """The matches with a query group in the title, ranked, decided by their text, when the index names few
        articles whose title may hold one (none, often: a phrase); None if it names many."""
        if dialect == "postgresql" and dense.titles_exceed(session, query, TITLE_CANDIDATES):
            return None
        candidates = fulltext.title_candidates(session, query, TITLE_CANDIDATES)
        if candidates is None:
            return None
        if not candidates:
            return []
        statement = filtered(select(DOCS.c.article_id, date, VERSIONS.c.title), filters).join(
            VERSIONS, VERSIONS.c.id == DOCS.c.version_id).where(
            DOCS.c.version_id.in_(candidates), *fulltext.text_checks(query, dialect))
        scored = [(int(a), fulltext.title_matches(query, title), d) for a, d, title in session.execute(statement)]
        scored = [r for r in scored if r[1] > 0]
        scored.sort(key=lambda r: (-r[1], r[2] is None, -(r[2].timestamp() if r[2] else 0), -r[0]))
        return [(a, level) for a, level, _ in scored]

    head: list[tuple[int, int | None]] = []
    levels: list[int | None] = [None]
    with bitmap_scans(session):
        ranked = None
        if sort == "relevance":
            ranked = few_titled()
            if ranked is None and len(query.groups) > 1:
                ranked = titled()
            levels = [] if ranked is not None else list(range(len(query.groups), -1, -1))
        if ranked is not None:
            head = ranked
            if len(head) < need:
                # The rest, newest first, read without a title condition (which costs the engine the posting list of
                # every title token, measured at 100,000 articles: 4.4 against 1.4 ms for 的 a window): the newest
                # ``need`` matches, but those already ranked.
                taken = {a for a, _ in head}
                head += [(a, 0) for a in level_rows(None, need) if a not in taken][:need - len(head)]
        elif len(head) < need:
            head += windows.by_level(levels, need - len(head), level_rows)
    page = head[offset:need]
    if sort == "relevance":
        return [(article_id, int(level or 0)) for article_id, level in page]
    titles = dict(session.execute(
        select(DOCS.c.article_id, VERSIONS.c.title)
        .join(VERSIONS, VERSIONS.c.id == DOCS.c.version_id)
        .where(DOCS.c.article_id.in_([a for a, _ in page]))).all())
    return [(article_id, fulltext.title_matches(query, titles.get(article_id))) for article_id, _ in page]


# The newest candidates ``_verified_newest`` checks first (at least; 4 times what is wanted).
FIRST_CHECKED = 100


def _verified_newest(session: Reader, candidates: Select, checks: list[Any], wanted: int) -> list[int]:
    """The first ``wanted`` of the ordered ``candidates`` that pass the ``checks``, checked a batch at a time
    in order: a common phrase's newest matches are found by checking a few dozen texts, not every candidate
    of the window (measured at 100,000 articles: ~2,000 a window for a phrase in most of them).

    The newest few are read with a LIMIT (a top-N sort); if too few of them pass, all the others are read by
    one more statement, as it streams (a statement per batch re-read and re-sorted the whole match each time:
    at 100,000 articles, 34 and 33 ms for the first two batches of 高质量发展 长江经济带 by one author)."""
    def passing(ids: list[int]) -> list[int]:
        passed = set(session.scalars(select(DOCS.c.article_id).where(DOCS.c.article_id.in_(ids), *checks)))
        return [a for a in ids if a in passed]

    size = max(4 * wanted, FIRST_CHECKED)
    ids = [int(a) for a in session.scalars(candidates.limit(size))]
    found = passing(ids) if ids else []
    if len(found) >= wanted or len(ids) < size:
        return found[:wanted]
    rest = session.execute(candidates.offset(size).execution_options(stream_results=True))
    try:
        while len(found) < wanted:
            size *= 4
            ids = [int(row[0]) for row in rest.fetchmany(size)]
            found += passing(ids) if ids else []
            if len(ids) < size:
                break
    finally:
        rest.close()
    return found[:wanted]


def _months(session: Reader, filters: Filters) -> list[str]:
    """The facet months the filters' date can be in, newest first (none: the archive has no such date)."""
    date = INDEX_COLUMNS.date(filters).column
    newest = session.scalar(select(func.max(date)))  # two statements: SQLite reads an index for one alone
    oldest = session.scalar(select(func.min(date)))
    if newest is None or oldest is None:
        return []
    if filters.until is not None:
        newest = min(newest, filters.until - timedelta(microseconds=1))
    if filters.since is not None:
        oldest = max(oldest, filters.since)
    return windows.months_between(newest, oldest) if newest >= oldest else []


@contextmanager
def bitmap_scans(session: Reader) -> Iterator[None]:
    """On PostgreSQL, read the full-text index by bitmap scans only, for the statements inside (only those
    that match words: a min() or max() read from a btree index needs an index scan).

    The GIN index's matches need no recheck, whereas the planner prices testing each row's tsvector as
    cheap and picks a sequential scan or a walk along a date index that tests every row (20x slower).
    """
    if dialect_name(session) != "postgresql":
        yield
        return
    session.execute(sql("SET LOCAL enable_seqscan = off"))
    session.execute(sql("SET LOCAL enable_indexscan = off"))
    yield
    # Not in a ``finally``: after an error the transaction is aborted, a RESET would fail and hide the error
    # (and the transaction's end undoes SET LOCAL anyway).
    session.execute(sql("RESET enable_seqscan"))
    session.execute(sql("RESET enable_indexscan"))


def search(session: Reader, text: str, filters: Filters = Filters(), *, sort: SortOrder = "relevance",
           limit: int = 20, offset: int = 0) -> list[Hit]:
    """Articles whose latest version has every word of ``text`` (title or body), best first.

    Relevance: articles with more of the query's words in their title first, then newest first (by the date
    the filters use); ``sort="date"`` is newest first only. Ties break on the article id, so pages are stable.
    """
    ranked = search_ids(session, text, filters, sort=sort, limit=limit, offset=offset)
    if not ranked:
        return []
    words = fulltext.parse_query(text).words
    found = {row.id: row for row in session.execute(
        _latest_version().where(ARTICLES.c.id.in_([i for i, _ in ranked])))}
    hits = []
    for article_id, score in ranked:
        r = found[article_id]
        hits.append(Hit(r.id, r.name, r.url, r.title, r.published_at, r.last_seen, r.version_count,
                        text_match(r.text, words), r.author, r.source, r.first_seen, score))
    return hits


def text_match(text: str, words: list[str]) -> TextMatch:
    """Where the first of the (folded) query ``words`` is in ``text``, looked for in the folded text."""
    flat = " ".join(text.split())
    folded = fulltext.fold(flat) if words else flat
    shown = flat if len(folded) == len(flat) else folded
    positions = [folded.find(w) for w in words if w and folded.find(w) >= 0]
    return TextMatch(shown, min(positions) if positions else None)


def select_articles(session: Reader, filters: Filters = Filters(), text: str | None = None) -> list[int]:
    """Ids of the articles an export takes: the matches of ``text`` if given, else all that pass the filters."""
    if text:
        return [i for i, _ in search_ids(session, text, filters, sort="date", limit=None)]
    a, v = ARTICLES.c, VERSIONS.c
    statement = (
        select(a.id)
        .join(VERSIONS, and_(v.article_id == a.id, v.version_no == a.version_count))
        .join(SITES, SITES.c.id == a.site_id)
    )
    return list(session.scalars(filtered(statement, filters, ARCHIVE_COLUMNS).order_by(a.id)))


def get_article(session: Session, article_id: int) -> Article | None:
    from cqnews.db.models import Article  # (the ORM: for show/history/diff, not for searches)

    return session.get(Article, article_id)


def find_article_by_url(session: Session, url: str) -> Article | None:
    """The article a URL belongs to: its own canonical URL or one of its aliases."""
    from cqnews.db.models import Article, UrlAlias  # (the ORM: not for searches)
    from cqnews.urls import url_key  # (courlan, w3lib: not for searches)

    key = url_key(url)
    article = session.scalars(select(Article).where(Article.url_key == key)).one_or_none()
    if article is None:
        alias = session.scalars(select(UrlAlias).where(UrlAlias.url_key == key)).one_or_none()
        article = alias.article if alias else None
    return article


@dataclass(frozen=True)
class VersionChange:
    version: ArticleVersion
    changed_fields: list[str]
    paragraphs_added: int
    paragraphs_removed: int


def history(article: Article) -> list[VersionChange]:
    """Each version with what changed since the one before it."""
    out: list[VersionChange] = []
    previous: ArticleVersion | None = None
    for version in article.versions:
        if previous is None:
            out.append(VersionChange(version, [], len(_paragraphs(version.text)), 0))
        else:
            fields = [f for f in ("title", "text", "published_at", "author", "source", "editor")
                      if getattr(previous, f) != getattr(version, f)]
            added = removed = 0
            matcher = difflib.SequenceMatcher(a=_paragraphs(previous.text), b=_paragraphs(version.text))
            for tag, i1, i2, j1, j2 in matcher.get_opcodes():
                if tag in ("replace", "delete"):
                    removed += i2 - i1
                if tag in ("replace", "insert"):
                    added += j2 - j1
            out.append(VersionChange(version, fields, added, removed))
        previous = version
    return out


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.splitlines() if p.strip()]



ChangeKind = Literal["equal", "replace", "delete", "insert"]  # difflib's opcodes


@dataclass(frozen=True)
class ParagraphChange:
    """One run of a paragraph diff: the paragraphs of the old text and those of the new that took their place."""

    kind: ChangeKind
    old: list[str]
    new: list[str]


@dataclass(frozen=True)
class TextChange:
    """One run of a character diff of a paragraph (by character: Chinese has no spaces to diff words by)."""

    kind: ChangeKind
    old: str
    new: str


def paragraph_changes(old: str, new: str) -> list[ParagraphChange]:
    """The two texts compared paragraph by paragraph, every paragraph of each in one run, in order."""
    a, b = _paragraphs(old), _paragraphs(new)
    return [ParagraphChange(tag, a[i1:i2], b[j1:j2])
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()]


def character_changes(old: str, new: str) -> list[TextChange]:
    """Two versions of a paragraph compared character by character."""
    return [TextChange(tag, old[i1:i2], new[j1:j2])
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()]


def version_pair(article: Article, v1: int | None = None, v2: int | None = None) -> tuple[ArticleVersion,
                                                                                            ArticleVersion]:
    """The two versions to compare: the given numbers, or the last two (the only one, twice, if just one)."""
    versions = {v.version_no: v for v in article.versions}
    if v1 is None or v2 is None:
        numbers = sorted(versions)
        v1, v2 = (numbers[-2], numbers[-1]) if len(numbers) > 1 else (numbers[-1], numbers[-1])
    missing = [n for n in (v1, v2) if n not in versions]
    if missing:
        raise KeyError(f"article {article.id} has no version {missing[0]} (it has 1 to {max(versions)})")
    return versions[v1], versions[v2]

"""Chinese full-text search: segmentation, simplified/traditional folding, the index per backend, queries.

Text is folded (NFKC, OpenCC traditional → simplified, lower case) and segmented by jieba in search mode
(each word, plus the dictionary words inside longer words: 重庆市 → 重庆 重庆市) and in full mode (every
dictionary word its characters hold: 重庆大学城 → … 大学城), without jieba's HMM so that a word segments the
same way in a query and in the text around it. A query is segmented the same way,
word by word (jieba's precise mode), and every word of it must be in an article (title or body).

The index holds, per article, its latest version only:
- SQLite: a contentless FTS5 table ``search_fts(title, body, facets)`` whose rowid is the
  ``article_versions.id`` indexed; rows are only ever added (a new version adds a row,
  ``search_docs.version_id`` says which row is current), so nothing has to be re-segmented to delete it.
  ``cqnews reindex`` drops the stale rows.
- PostgreSQL: the ``tsvector`` column ``terms`` on ``search_docs``, built with ``array_to_tsvector`` (the
  tokens as they are: no server parser, dictionary or extension; no positions), and a GIN index on it. It
  holds the title's and the body's words, the title's words again as ``t:word`` and the facets as
  ``f:word`` (no word of a text can hold a colon, so neither can be matched by a query's words).
Both hold the same tokens and both queries are plain AND/OR/NOT of tokens, so the two backends return the
same articles in the same order. Relevance is: how many of the query's words are in the title, then newest.

Facets are index words for what a search narrows by: the site, and the month (UTC) of the published and of
the archived date. They let the engine intersect a word's posting list with one month's, so that a search
for a word in half the archive can read its newest matches without reading all of them (``db.windows``).

The index row is written in the transaction that writes the version (``index_article``, called by
``db.archive``); ``rebuild`` re-creates the whole index (``cqnews reindex``).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from cqnews.db.models import Article, ArticleVersion, SearchDoc, Site

log = logging.getLogger(__name__)

FTS_TABLE = "search_fts"
# Objects of the index written by hand in migrations 0003 and 0005, not by models: autogenerate must not see
# them (``title_terms`` exists on PostgreSQL from 0003 to 0004 only).
HAND_WRITTEN_TABLES = (FTS_TABLE,)
HAND_WRITTEN_COLUMNS = ("title_terms", "terms")
HAND_WRITTEN_INDEXES = ("ix_search_docs_terms",)
TERMS_TSVECTOR = "search_docs.terms"

# Words of Chongqing news that jieba's general dictionary lacks or splits; added to it, never removed
# (changing this list changes the segmentation: the fingerprint changes and `cqnews reindex` is due).
DOMAIN_WORDS = (
    "渝中", "渝中区", "渝北", "渝北区", "江北区", "南岸区", "九龙坡区", "沙坪坝区", "大渡口区", "巴南区", "北碚区",
    "两江新区", "高新区", "万州区", "涪陵区", "黔江区", "长寿区", "江津区", "合川区", "永川区", "南川区", "綦江区",
    "大足区", "璧山区", "铜梁区", "潼南区", "荣昌区", "开州区", "梁平区", "武隆区", "城口县", "丰都县", "垫江县",
    "忠县", "云阳县", "奉节县", "巫山县", "巫溪县", "石柱县", "秀山县", "酉阳县", "彭水县", "开州", "梁平", "武隆",
    "璧山", "铜梁", "潼南", "荣昌", "綦江", "大足", "江津", "合川", "永川", "南川", "涪陵", "黔江", "万州", "巴南",
    "北碚", "大渡口", "两江", "成渝", "川渝", "双城经济圈", "成渝地区", "西部科学城", "西部陆海新通道", "陆海新通道",
    "中欧班列", "解放碑", "洪崖洞", "朝天门", "磁器口", "观音桥", "重庆主城", "主城都市区", "渝东北", "渝东南",
    "市委", "市政府", "市人大", "市政协", "轨道交通", "轻轨", "山城", "火锅",
)

_WORD = re.compile(r"[^\W_]+")  # what FTS5's "ascii" tokenizer keeps whole, given lower-case input
MAX_QUERY_TOKENS = 64


class QuerySyntaxError(ValueError):
    """A search query that cannot be understood; the message says why, in one line."""


# -- folding and segmentation ------------------------------------------------------------------------


@functools.cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


@functools.cache
def _tokenizer() -> Any:
    """jieba with the domain words, built once per process on first use (loading takes about a second).

    A cached function rather than an object passed down: the archive's writers and readers (pipelines,
    CLI, tests, worker processes of ``rebuild``) all need the one segmentation, and jieba's own default is
    a module global too. Its cache file goes to the temp dir, never the repo.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word)
    return tokenizer


@functools.cache
def segmenter_id() -> str:
    """Fingerprint of the segmentation (tools, versions, added words), stored with every indexed article."""
    import jieba
    import opencc

    words = hashlib.sha1("\n".join(DOMAIN_WORDS).encode()).hexdigest()[:8]
    return (f"jieba {jieba.__version__} search+full/noHMM; opencc {getattr(opencc, '__version__', '?')} t2s; "
            f"+{words}; facets 1")


def fold(value: str) -> str:
    """NFKC (full-width → ASCII), traditional → simplified, lower case: what index and queries compare."""
    return str(_converter().convert(unicodedata.normalize("NFKC", value))).lower()


def _pieces(words: Iterable[str]) -> Iterator[str]:
    for word in words:
        yield from _WORD.findall(word)


def index_terms(value: str | None) -> list[str]:
    """The index tokens of a text: folded, segmented in search mode (words and their sub-words), then every
    other dictionary word the characters hold (jieba's full mode), once each, at the end.

    Full mode is what makes a word findable wherever its characters stand: precise segmentation reads
    重庆大学城 as 重庆大学 + 城 and 重庆市民 as 重庆 + 市民, so 大学城 and 重庆市 would never match there; the
    extra words are about 7% more distinct tokens per article.
    """
    if not value:
        return []
    folded = fold(value)
    terms = list(_pieces(_tokenizer().cut_for_search(folded, HMM=False)))
    known = set(terms)
    extra = (t for t in _pieces(_tokenizer().cut(folded, cut_all=True, HMM=False)) if t not in known)
    return terms + list(dict.fromkeys(extra))


def query_terms(word: str) -> list[str]:
    """The tokens one query word must match (precise mode: 双城经济圈 → 双城经济圈, 重庆大学城 → 重庆 大学城)."""
    return list(dict.fromkeys(_pieces(_tokenizer().cut(fold(word), HMM=False))))


# -- queries -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed search: every group must match (one of its alternatives, each a list of tokens), no exclusion may.

    Syntax: words separated by spaces are all required; ``"several words"`` is one word (kept together in
    relevance and snippets); ``A OR B`` (or ``A | B``) needs either; ``-word`` excludes. Anything else
    (FTS operators, ``*``, ``:``, brackets) is just text and is segmented like the rest.
    """

    groups: list[list[list[str]]]
    excluded: list[list[str]] = field(default_factory=list)
    words: list[str] = field(default_factory=list)  # folded query words, for snippets


_QUERY_TOKEN = re.compile(r'"([^"]*)"|([^\s"]+)')


def parse_query(raw: str) -> Query:
    if raw.count('"') % 2:
        raise QuerySyntaxError(f'unbalanced " in the query {raw!r}: close the quoted words')
    items: list[tuple[str, bool]] = []  # (word, quoted)
    for match in _QUERY_TOKEN.finditer(raw):
        quoted, bare = match.group(1), match.group(2)
        items.append((quoted, True) if quoted is not None else (bare, False))
    groups: list[list[list[str]]] = []
    excluded: list[list[str]] = []
    words: list[str] = []
    pending_or = False
    for word, quoted in items:
        if not quoted and word in ("OR", "|"):
            if not groups or pending_or:
                raise QuerySyntaxError(f"OR needs a word on each side, in the query {raw!r}")
            pending_or = True
            continue
        negative = not quoted and word.startswith("-") and len(word) > 1
        tokens = query_terms(word[1:] if negative else word)
        if not tokens:
            if pending_or:
                raise QuerySyntaxError(f"OR needs a word on each side, in the query {raw!r}")
            continue  # punctuation or operators only: nothing to search for
        if negative:
            if pending_or:
                raise QuerySyntaxError(f"an excluded -word cannot be part of OR, in the query {raw!r}")
            excluded.append(tokens)
            continue
        words.append(fold(word).strip())
        if pending_or:
            groups[-1].append(tokens)
            pending_or = False
        else:
            groups.append([tokens])
    if pending_or:
        raise QuerySyntaxError(f"OR needs a word on each side, in the query {raw!r}")
    if not groups:
        raise QuerySyntaxError(f"nothing to search for in {raw!r}: give at least one word (not only -words)")
    count = sum(len(t) for g in groups for t in g) + sum(len(t) for t in excluded)
    if count > MAX_QUERY_TOKENS:
        raise QuerySyntaxError(f"the query has {count} words; at most {MAX_QUERY_TOKENS}")
    return Query(groups, excluded, words)


def _fts5_token(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _fts5_group(alternatives: Sequence[Sequence[str]]) -> str:
    return "(" + " OR ".join("(" + " AND ".join(map(_fts5_token, alt)) + ")" for alt in alternatives) + ")"


def fts5_expression(query: Query, column_name: str | None = None) -> str:
    """The FTS5 MATCH string: every token a quoted string (so no FTS syntax can come from the user).

    ``column_name`` restricts it to columns (``"title"``, ``"title body"``); searches always restrict it
    to the text's columns, so a query's words never match the facets.
    """
    expr = " AND ".join(_fts5_group(g) for g in query.groups)
    if query.excluded:
        expr = f"({expr}) NOT {_fts5_group(query.excluded)}"
    return f"{{{column_name}}} : ({expr})" if column_name else expr


def _tsquery_token(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def _tsquery_group(alternatives: Sequence[Sequence[str]]) -> str:
    return "(" + " | ".join("(" + " & ".join(map(_tsquery_token, alt)) + ")" for alt in alternatives) + ")"


def tsquery_expression(query: Query) -> str:
    """The tsquery text (cast, never parsed by a text search configuration): quoted lexemes, & | !."""
    expr = " & ".join(_tsquery_group(g) for g in query.groups)
    if query.excluded:
        expr = f"{expr} & !{_tsquery_group(query.excluded)}"
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

    ``title_level``: exactly that many of the query's groups match the title (``title_any``: at least one);
    ``months``: the date ``field`` (``p``/``a``) falls in one of these months; ``site``: the article is of
    this site.
    """

    title_level: int | None = None
    months: tuple[str, ...] = ()
    field: str = "p"
    site: str | None = None
    title_any: bool = False  # at least one of the query's groups matches the title


def _fts5_facets(words: Sequence[str]) -> str:
    return "{facets} : (" + " OR ".join(map(_fts5_token, words)) + ")"


def _tsquery_facets(words: Sequence[str]) -> str:
    return "(" + " | ".join(_tsquery_token(FACET_PREFIX + w) for w in words) + ")"


def _title_group(alternatives: Sequence[Sequence[str]], dialect: str) -> str:
    if dialect == "sqlite":
        return "{title} : " + _fts5_group(alternatives)
    return _tsquery_group([[TITLE_PREFIX + t for t in alt] for alt in alternatives])


def match_expression(query: Query, dialect: str, narrowing: Narrowing = Narrowing()) -> str:
    """The MATCH string (SQLite) or tsquery text (PostgreSQL) of a query, narrowed."""
    lite = dialect == "sqlite"
    base = fts5_expression(query, "title body") if lite else tsquery_expression(query)
    AND, OR, NOT = (" AND ", " OR ", " NOT ") if lite else (" & ", " | ", " & !")
    titles = [f"({_title_group(g, dialect)})" for g in query.groups]
    expr = base
    if narrowing.title_any:
        expr = f"({base}){AND}({OR.join(titles)})"
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


def restrict(statement: Select, query: Query, dialect: str, narrowing: Narrowing = Narrowing()) -> Select:
    """Add the full-text match to a SELECT over ``search_docs``."""
    expression = match_expression(query, dialect, narrowing)
    if dialect == "sqlite":
        return statement.join(_FTS, _FTS.c.rowid == SearchDoc.version_id).where(
            text(f"{FTS_TABLE} MATCH :fts_match").bindparams(fts_match=expression))
    terms: ColumnElement[Any] = literal_column(TERMS_TSVECTOR)
    return statement.where(terms.bool_op("@@")(cast(bindparam("ts_match", expression), TSQUERY)))


def title_matches(query: Query, title: str | None) -> int:
    """How many of the query's groups the title holds, from the title itself (segmented as the index is)."""
    words = set(index_terms(title))
    return sum(any(set(alt) <= words for alt in group) for group in query.groups)


def title_score(query: Query, dialect: str) -> ColumnElement[int]:
    """How many of the query's groups match the article's title (the relevance that comes before date)."""
    parts: list[ColumnElement[int]] = []
    for i, group in enumerate(query.groups):
        single = Query([group])
        if dialect == "sqlite":
            condition = _fts_title_condition(i, single)
        else:
            condition = literal_column(TERMS_TSVECTOR).bool_op("@@")(
                cast(bindparam(f"title_{i}", _title_group(group, dialect)), TSQUERY))
        parts.append(case((condition, 1), else_=0))
    total: ColumnElement[int] = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _fts_title_condition(i: int, single: Query) -> ColumnElement[bool]:
    """The title matches as one set: measured at 1,000,000 articles, faster than probing FTS5 per candidate row
    (rowid + MATCH costs 50-140 µs a row)."""
    sub = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :title_{i}").bindparams(
        **{f"title_{i}": fts5_expression(single, "title")}).columns(column("rowid", Integer))
    return SearchDoc.version_id.in_(sub)


# -- writing the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexDoc:
    """One article's index entry, segmented and ready to write."""

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


def make_doc(article_id: int, version_id: int, site: str, title: str | None, body: str,
             published_at: datetime | None, archived_at: datetime, author: str | None,
             source: str | None) -> IndexDoc:
    return IndexDoc(article_id, version_id, site, published_at, archived_at,
                    fold(author)[:200] if author else None, fold(source)[:200] if source else None,
                    index_terms(title), index_terms(body), facet_words(site, published_at, archived_at))


def latest_rows() -> Select:
    return (
        select(Article.id, ArticleVersion.id, Site.name, ArticleVersion.title, ArticleVersion.text,
               ArticleVersion.published_at, Article.first_seen, ArticleVersion.author, ArticleVersion.source)
        .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                   ArticleVersion.version_no == Article.version_count))
        .join(Site, Site.id == Article.site_id)
    )


def index_article(session: Session, article_id: int) -> None:
    """Index the latest version of one article, in the caller's transaction (called for every new version)."""
    row = session.execute(latest_rows().where(Article.id == article_id)).one()
    write_docs(session, [make_doc(*row)])


def write_docs(session: Session, docs: Sequence[IndexDoc]) -> None:
    if not docs:
        return
    dialect = session.get_bind().dialect.name
    current = dict(session.execute(select(SearchDoc.article_id, SearchDoc.version_id).where(
        SearchDoc.article_id.in_([d.article_id for d in docs]))).all())
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SearchDoc)
    values = [{"article_id": d.article_id, "version_id": d.version_id, "site": d.site, "published_at": d.published_at,
               "archived_at": d.archived_at, "author": d.author, "source": d.source, "segmenter": segmenter_id()}
              for d in docs]
    upsert = insert.on_conflict_do_update(
        index_elements=["article_id"],
        set_={name: getattr(insert.excluded, name) for name in values[0] if name != "article_id"})
    session.execute(upsert, values)
    if dialect == "postgresql":
        session.execute(
            text("UPDATE search_docs SET terms = array_to_tsvector(CAST(:terms AS text[])) WHERE article_id = :id"),
            [{"id": d.article_id, "terms": pg_terms(d)} for d in docs])
    else:
        fresh = [d for d in docs if current.get(d.article_id) != d.version_id]
        if fresh:
            session.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, body, facets) "
                                 "VALUES (:rowid, :title, :body, :facets)"),
                            [{"rowid": d.version_id, "title": " ".join(d.title_terms), "body": " ".join(d.body_terms),
                              "facets": " ".join(d.facets)} for d in fresh])


def pg_terms(doc: IndexDoc) -> list[str]:
    """The lexemes of an article's ``terms`` tsvector: its words, its title's again as ``t:``, its facets."""
    return list(dict.fromkeys(doc.title_terms + doc.body_terms + [TITLE_PREFIX + t for t in doc.title_terms]
                              + [FACET_PREFIX + f for f in doc.facets]))


def segment_rows(rows: list[tuple[Any, ...]]) -> list[IndexDoc]:
    return [make_doc(*row) for row in rows]


def rebuild(engine: Engine, *, batch: int = 500, workers: int = 1,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the latest versions; returns the number of articles indexed.

    The old index is emptied in one transaction, then articles are indexed in batches, each committed (a
    crawl may write meanwhile: what it indexes itself is skipped here). ``workers`` > 1 segments in that
    many processes.
    """
    from cqnews.db.session import make_sessionmaker

    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        empty_for_bulk_load(session)
        total = int(session.scalar(select(func.count()).select_from(Article).where(Article.version_count > 0)) or 0)
    done = 0
    if progress:
        progress(0, total)

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        last = 0
        while True:
            with sessions() as session:
                rows = [tuple(r) for r in session.execute(
                    latest_rows().where(Article.id > last).order_by(Article.id).limit(batch)).all()]
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
                taken = set(session.scalars(select(SearchDoc.article_id).where(
                    SearchDoc.article_id.in_([d.article_id for d in docs]))))
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
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')"))
    else:  # loading into a GIN index grows it: build it afresh at the end instead
        session.execute(text("DROP INDEX IF EXISTS ix_search_docs_terms"))
    session.execute(delete(SearchDoc))


def finish_bulk_load(engine: Engine) -> None:
    """Compact the FTS5 index / build the GIN index, and refresh the planner's statistics."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')"))
        else:
            connection.execute(text("CREATE INDEX IF NOT EXISTS ix_search_docs_terms ON search_docs "
                                    "USING gin (terms)"))
            connection.execute(text("ANALYZE search_docs"))


def stale(session: Session) -> int:
    """How many index rows another segmentation made (jieba, OpenCC or the word list changed): reindex them."""
    return int(session.scalar(select(func.count()).select_from(SearchDoc).where(
        SearchDoc.segmenter != segmenter_id())) or 0)


def outdated(session: Session) -> bool:
    """Whether the index was made by another segmentation, read from its oldest row alone (cheap enough for
    every search): ``rebuild`` redoes every row, so rows made before a change are always the oldest."""
    oldest = session.scalar(select(SearchDoc.segmenter).order_by(SearchDoc.article_id).limit(1))
    return oldest is not None and oldest != segmenter_id()


def missing(session: Session) -> int:
    """How many articles have no index row (e.g. archived before the index existed): `cqnews reindex` fixes it."""
    return int(session.scalar(select(func.count()).select_from(Article).where(
        Article.version_count > 0, ~exists().where(SearchDoc.article_id == Article.id))) or 0)


def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: the hand-written index objects are not in the models, on purpose."""
    if type_ == "table":
        return not (name or "").startswith(HAND_WRITTEN_TABLES)
    if type_ == "column":
        return not (parent_names.get("table_name") == "search_docs" and name in HAND_WRITTEN_COLUMNS)
    if type_ == "index":
        return name not in HAND_WRITTEN_INDEXES
    return True

"""What each page and its JSON twin show, read through ``db/`` once per request: plain dicts (datetimes as
such) that the templates render and the API encodes. A request for something that is not there, or that
cannot be read (a bad query), raises an ``HTTPException`` with the reason."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from cqnews.db import runs, timeline
from cqnews.db.fulltext import QuerySyntaxError, outdated, parse_query
from cqnews.db.models import Article, ArticleVersion
from cqnews.db.search import (
    Filters,
    SearchIndexMissing,
    UnknownSite,
    get_article,
    history,
    page_total,
    paragraph_changes,
    search,
    version_pair,
)
from cqnews.health import Problem, SiteHealth
from cqnews.stats import attempted
from cqnews.web import params, plots
from cqnews.web.present import diff_rows, marked_changes, snippet

PLOT_DAYS = 30
FACET_CAP = 10_000  # facets count this many matches at most: all of a common word's would take seconds
MAX_PLOTTED_RUNS = 1000  # runs read per site for its 30-day plot (a crawl every 3 hours is 240)


@dataclass(frozen=True)
class Reader:
    """Everything the web reader reads from: the archive, and the judgement of `cqnews status` with its words
    (built by `cqnews serve` from the same settings and schedules as `cqnews status`)."""

    engine: Engine
    health: Callable[[datetime], list[SiteHealth]]
    describe: Callable[[Problem], str]
    # `cqnews status --format json`'s text and whether status would exit 1, as of a time (for /api/status)
    status: Callable[[datetime], tuple[str, bool]]
    token: str | None = None
    spiders: tuple[str, ...] = ()  # the sites a spider crawls: a search on one not crawled yet finds nothing

    def session(self) -> Session:
        return Session(self.engine)


# -- search ----------------------------------------------------------------------------------------------

def search_request(query: QueryParams) -> dict[str, Any]:
    """The search a query string asks for, checked (400 on a bad value)."""
    return {"q": params.text(query, "q") or "", "site": params.text(query, "site"),
            "since": params.day(query, "since"), "until": params.day(query, "until"),
            "dates": params.choice(query, "dates", ("published", "archived")),
            "author": params.text(query, "author"), "source": params.text(query, "source"),
            "sort": params.choice(query, "sort", ("relevance", "date")),
            "page": params.integer(query, "page", 1, 1, params.MAX_PAGE),
            "per_page": params.integer(query, "per_page", 20, 1, params.MAX_PER_PAGE)}


def search_results(session: Session, asked: dict[str, Any], spiders: tuple[str, ...] = ()) -> dict[str, Any]:
    """One page of results with the total and the facets; nothing searched for an empty query."""
    from cqnews.db.facets import facets

    no_results = {"hits": [], "total": 0, "more": False, "pages": 0, "facets": None, "index_outdated": False}
    if not asked["q"]:
        return no_results
    filters = Filters(site=asked["site"], since=asked["since"], until=asked["until"], dates=asked["dates"],
                      author=asked["author"], source=asked["source"])
    per_page, skip = asked["per_page"], (asked["page"] - 1) * asked["per_page"]
    try:
        hits = search(session, asked["q"], filters, sort=asked["sort"], limit=per_page, offset=skip)
        total = page_total(session, asked["q"], filters, skip + per_page)
        counted = facets(session, asked["q"], filters, cap=FACET_CAP)
    except QuerySyntaxError as exc:
        raise HTTPException(400, f"bad query: {exc}") from None
    except UnknownSite as exc:
        problem = exc.problem(spiders)
        if problem is None:
            return no_results
        raise HTTPException(400, problem) from None
    except SearchIndexMissing as exc:
        raise HTTPException(409, str(exc)) from None
    words = parse_query(asked["q"]).words
    return {
        "hits": [{"id": h.article_id, "site": h.site, "url": h.url, "title": h.title, "published_at": h.published_at,
                  "archived_at": h.first_seen, "author": h.author, "source": h.source, "versions": h.version_count,
                  "title_matches": h.score, "snippet": snippet(h.match, words)} for h in hits],
        "total": total.count, "more": total.more,
        "pages": None if total.more else max(1, -(-total.count // per_page)),
        "facets": {"sites": counted.sites, "months": counted.months, "partial": counted.partial,
                   "counted": sum(n for _, n in counted.sites)},
        "index_outdated": outdated(session),  # what `cqnews search` warns of: results may miss articles
    }


# -- articles --------------------------------------------------------------------------------------------

def version_record(v: ArticleVersion) -> dict[str, Any]:
    return {"version": v.version_no, "title": v.title, "published_at": v.published_at, "author": v.author,
            "source": v.source, "editor": v.editor, "content_hash": v.content_hash, "chars": v.text_length,
            "first_seen": v.first_seen, "last_seen": v.last_seen, "seen": v.seen_count, "page_id": v.page_id}


def article_of(session: Session, article_id: int) -> Article:
    article = get_article(session, params.identifier(article_id))
    if article is None or not article.versions:
        raise HTTPException(404, f"no article with id {article_id}")
    return article


def article_record(session: Session, article: Article) -> dict[str, Any]:
    """The article at its latest version, with its aliases, the other copies of its story and its versions."""
    from cqnews.db.neardup import copies_of

    latest = article.versions[-1]
    changes = {c.version.version_no: c for c in history(article)}
    return {
        "id": article.id, "site": article.site.name, "url": article.url, "title": latest.title,
        "published_at": latest.published_at, "author": latest.author, "source": latest.source,
        "editor": latest.editor, "archived_at": article.first_seen, "last_seen": article.last_seen,
        "text": latest.text, "aliases": [a.url for a in article.aliases], "duplicate_of": article.duplicate_of,
        "copies": [{"id": c.id, "site": c.site.name, "url": c.url,
                    "title": c.versions[-1].title if c.versions else None} for c in copies_of(session, article)],
        "versions": [version_record(v) | {"changed": changes[v.version_no].changed_fields,
                                          "paragraphs_added": changes[v.version_no].paragraphs_added,
                                          "paragraphs_removed": changes[v.version_no].paragraphs_removed}
                     for v in article.versions],
    }


def diff_record(article: Article, query: QueryParams) -> dict[str, Any]:
    """Versions ``a`` and ``b`` of the article compared (default: the last two)."""
    a = params.integer(query, "a", 0, 1, params.MAX_ID) or None
    b = params.integer(query, "b", 0, 1, params.MAX_ID) or None
    if (a is None) != (b is None):
        raise HTTPException(400, "give both versions to compare (a and b), or neither for the last two")
    try:
        old, new = version_pair(article, a, b)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    fields = {f: [getattr(old, f), getattr(new, f)] for f in ("title", "published_at", "author", "source", "editor")
              if getattr(old, f) != getattr(new, f)}
    changes = paragraph_changes(old.text, new.text)
    title_old, title_new, _ = marked_changes(old.title or "", new.title or "")
    return {"id": article.id, "url": article.url, "title": article.versions[-1].title,
            "from": version_record(old), "to": version_record(new), "fields": fields,
            "title_marked": {"old": title_old, "new": title_new} if "title" in fields else None,
            "rows": diff_rows(changes), "same": all(c.kind == "equal" for c in changes),
            "paragraphs": [{"kind": c.kind, "old": c.old, "new": c.new} for c in changes]}


# -- sites and runs --------------------------------------------------------------------------------------

def run_record(r: runs.RunRecord) -> dict[str, Any]:
    requests = attempted(r.stats)
    return {"id": r.id, "site": r.site, "trigger": str(r.trigger), "status": str(r.status),
            "reason": r.finish_reason, "started": r.started_at, "finished": r.finished_at,
            "pages": r.pages_fetched, "new": r.articles_new, "updated": r.articles_updated,
            "unchanged": r.articles_unchanged, "duplicate": r.articles_duplicate, "rejected": r.articles_rejected,
            "errors": r.errors, "requests": requests,
            "failure_rate": round(r.errors / requests, 4) if requests else 0.0}


def sites_record(reader: Reader, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per site: the verdict of `cqnews status`, its last runs, and the plots of the last 30 days."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=PLOT_DAYS)
    with reader.session() as session:
        days = timeline.articles_per_day(session, since)
        totals = timeline.article_totals(session)
    out = []
    for h in reader.health(now):
        month = [r for r in runs.recent_runs(reader.engine, h.site, MAX_PLOTTED_RUNS) if r.started_at >= since]
        month.reverse()  # oldest first, as plotted
        site_days = days.get(h.site, [])
        out.append({"site": h.site, "ok": h.ok, "verdict": "; ".join(map(reader.describe, h.problems)) or "OK",
                    "problems": [reader.describe(p) for p in h.problems], "schedule": h.schedule,
                    "next_run": h.next_run, "articles": totals.get(h.site, 0),
                    "runs": [run_record(r) for r in h.runs],
                    "days": [{"day": d.day.isoformat(), "new": d.new, "updated": d.updated} for d in site_days],
                    "articles_plot": plots.daily_articles(site_days, now, PLOT_DAYS),
                    "runs_plot": plots.run_pages(month, since, now)})
    return out


def runs_record(reader: Reader, query: QueryParams) -> dict[str, Any]:
    site = params.text(query, "site")
    limit = params.integer(query, "limit", 50, 1, 1000)
    recent = runs.recent_runs(reader.engine, site, limit)
    return {"runs": [run_record(r) for r in recent],
            "running": [run_record(r) for r in recent if r.status == runs.RunStatus.RUNNING]}

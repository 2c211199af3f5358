"""Facets of a search: how many of its matches are on each site and in each month, for a reader to narrow by.

The matches are those of ``db.search`` (the same query language, filters and index); counting stops at
``cap`` matches, as the total does, so a common word costs one bounded read: then ``FacetCounts.partial``.
Months are Asia/Shanghai months of the date the filters use (published or archived).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cqnews.db import fulltext
from cqnews.db.models import SearchDoc
from cqnews.db.search import INDEX_COLUMNS, Filters, prepared_query
from cqnews.db.search import _bitmap_scans as bitmap_scans  # the planner hint every index read takes
from cqnews.db.search import _filtered as filtered  # the filters exactly as a search applies them

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class FacetCounts:
    """Matches per site and per month ("YYYY-MM"; "" for an article without that date), most first."""

    sites: list[tuple[str, int]] = field(default_factory=list)
    months: list[tuple[str, int]] = field(default_factory=list)
    partial: bool = False  # counted over the first ``cap`` matches only


def facets(session: Session, text: str, filters: Filters | None = None, *, cap: int = 10_000) -> FacetCounts:
    """The site and month facets of the search for ``text``; raises what ``db.search.search`` raises."""
    filters = filters or Filters()
    query = prepared_query(session, text, filters)
    dialect = session.get_bind().dialect.name
    date = INDEX_COLUMNS.date(filters).column
    statement = filtered(fulltext.restrict(select(SearchDoc.site, date), query, dialect), filters).limit(cap + 1)
    with bitmap_scans(session):
        rows = session.execute(statement).all()
    partial = len(rows) > cap
    rows = rows[:cap]
    sites = Counter(site for site, _ in rows)
    months = Counter(when.astimezone(SHANGHAI).strftime("%Y-%m") if when else "" for _, when in rows)
    return FacetCounts(sorted(sites.items(), key=lambda kv: (-kv[1], kv[0])),
                       sorted(months.items(), key=lambda kv: kv[0], reverse=True), partial)

"""Facets of a search: how many of its matches are on each site and in each month, for a reader to narrow by.

The matches are those of ``db.search`` (the same query language, filters and index); counting stops at
``cap`` matches, as the total does, so a common word costs one bounded read: then ``FacetCounts.partial``.
Months are Asia/Shanghai months of the date the filters use (published or archived).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cqnews.db import fulltext
from cqnews.db.search import INDEX_COLUMNS, Filters, bitmap_scans, filtered, prepared_query
from cqnews.db.timeline import shanghai_day


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
    matches = filtered(fulltext.restrict(select(fulltext.DOCS.c.site, date.label("date")), query, dialect), filters)
    first = matches.limit(cap).subquery()  # grouped by the database: 10,000 rows read as objects cost 5x more
    month = func.substr(shanghai_day(first.c.date), 1, 7)
    with bitmap_scans(session):
        counted = int(session.scalar(select(func.count()).select_from(matches.limit(cap + 1).subquery())) or 0)
        sites = session.execute(select(first.c.site, func.count()).group_by(first.c.site)).all()
        months = session.execute(select(month, func.count()).group_by(month)).all()
    partial = counted > cap
    return FacetCounts(sorted(((str(k), int(n)) for k, n in sites), key=lambda kv: (-kv[1], kv[0])),
                       sorted(((str(k or ""), int(n)) for k, n in months), key=lambda kv: kv[0], reverse=True),
                       partial)

"""Facets of a search: how many of its matches are on each site and in each month, for a reader to narrow by.

The matches are those of ``db.search`` (the same query language, filters and index); counting stops at
``cap`` matches, as the total does, so a common word costs one bounded read: then ``FacetCounts.partial``.
Months are Asia/Shanghai months of the date the filters use (published or archived).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from cqnews.db import fulltext
from cqnews.db.search import INDEX_COLUMNS, Filters, bitmap_scans, filtered, prepared_query
from cqnews.db.tables import dialect_name
from cqnews.db.timeline import shanghai_day

if TYPE_CHECKING:
    from cqnews.db.tables import Reader


@dataclass(frozen=True)
class FacetCounts:
    """Matches per site and per month ("YYYY-MM"; "" for an article without that date), most first."""

    sites: list[tuple[str, int]] = field(default_factory=list)
    months: list[tuple[str, int]] = field(default_factory=list)
    partial: bool = False  # counted over the first ``cap`` matches only


def facets(session: Reader, text: str, filters: Filters | None = None, *, cap: int = 10_000) -> FacetCounts:
    """The site and month facets of the search for ``text``; raises what ``db.search.search`` raises.

    One statement reads the (site, month) of the first ``cap + 1`` matches, counted here: three statements
    (the total, then each facet grouped by the database) read and rechecked the same matches three times. A site
    filter is also put in the full-text match (the index's site facet word): filtered after the match instead,
    PostgreSQL read the site's rows by its B-tree index and rechecked every one's terms (~250 ms a statement at
    300,000 articles, against ~35 ms).
    """
    filters = filters or Filters()
    query = prepared_query(session, text, filters)
    dialect = dialect_name(session)
    date = INDEX_COLUMNS.date(filters).column
    month = func.substr(shanghai_day(date), 1, 7)  # (text from the database: no datetime made per row)
    matches = filtered(fulltext.restrict(select(fulltext.DOCS.c.site, month), query, dialect,
                                         fulltext.Narrowing(site=filters.site)), filters)
    with bitmap_scans(session):
        rows = session.execute(matches.limit(cap + 1)).all()
    partial = len(rows) > cap
    sites = Counter(str(site) for site, _ in rows[:cap])
    months = Counter(str(m or "") for _, m in rows[:cap])
    return FacetCounts(sorted(sites.items(), key=lambda kv: (-kv[1], kv[0])),
                       sorted(months.items(), key=lambda kv: kv[0], reverse=True), partial)

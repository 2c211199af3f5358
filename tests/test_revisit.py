from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cqnews.db.revisit import next_visit, parse_ladder

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LADDER = parse_ladder("1h,6h,1d,3d")


def test_parse_ladder() -> None:
    assert LADDER == (timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(days=3))
    assert parse_ladder("30s, 1.5m") == (timedelta(seconds=30), timedelta(seconds=90))
    with pytest.raises(ValueError, match="'1y'"):
        parse_ladder("1h,1y")


def test_unchanged_article_climbs_the_ladder_then_stops() -> None:
    visits = []
    seen = T0
    for step in range(5):
        when = next_visit(step, seen, T0, LADDER, timedelta(days=30))
        visits.append(when)
        if when:
            seen = when
    assert visits[:4] == [T0 + timedelta(hours=1), T0 + timedelta(hours=7), T0 + timedelta(hours=31),
                          T0 + timedelta(hours=103)]
    assert visits[4] is None


def test_old_articles_are_not_revisited() -> None:
    assert next_visit(0, T0 + timedelta(days=30), T0, LADDER, timedelta(days=30)) is None
    assert next_visit(0, T0 + timedelta(days=29), T0, LADDER, timedelta(days=30)) is not None

"""The revisit ladder: when to fetch an archived article again, while it may still be edited.

A new or changed article is revisited after the first rung (e.g. 1 hour), an unchanged one climbs a rung
(6 hours, 1 day, 3 days); past the last rung, or once the article is older than the maximum age, it is not
revisited at all (``next_visit_at`` is NULL).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_STEP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_ladder(spec: str) -> tuple[timedelta, ...]:
    """``"1h,6h,1d,3d"`` -> durations; raises ValueError with the offending rung."""
    steps = []
    for part in spec.split(","):
        if not part.strip():
            continue
        match = _STEP.match(part)
        if not match:
            raise ValueError(f"bad revisit interval {part.strip()!r} (use e.g. 1h, 6h, 1d, 3d)")
        steps.append(timedelta(**{_UNITS[match[2]]: float(match[1])}))
    return tuple(steps)


def next_visit(step: int, seen_at: datetime, first_seen: datetime, ladder: tuple[timedelta, ...],
               max_age: timedelta) -> datetime | None:
    """When to visit an article next, being at rung ``step`` (0 = just created or changed)."""
    if step >= len(ladder):
        return None
    when = seen_at + ladder[step]
    return when if when - first_seen <= max_age else None


@dataclass(frozen=True)
class RevisitPolicy:
    """The ladder and the maximum age a crawl's store schedules revisits with (its settings)."""

    ladder: tuple[timedelta, ...] = field(default_factory=lambda: parse_ladder("1h,6h,1d,3d"))
    max_age: timedelta = timedelta(days=30)

    def schedule(self, step: int, seen_at: datetime, first_seen: datetime) -> dict[str, Any]:
        """An article's revisit columns at rung ``step`` of the ladder."""
        return {"revisit_step": step,
                "next_visit_at": next_visit(step, seen_at, first_seen, self.ladder, self.max_age)}

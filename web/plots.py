"""The sites page's plots as geometry for inline SVG (rendered by the template, no chart library, no script):
articles per day (new and updated, stacked) and pages fetched per run with its failure rate.

A dead site shows as an empty stretch at the right, a failing one as red marks and a high failure line.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cqnews.db.runs import RunRecord, RunStatus
from cqnews.db.timeline import DayCount
from cqnews.stats import attempted

SHANGHAI = ZoneInfo("Asia/Shanghai")
WIDTH, HEIGHT, TOP, BOTTOM = 520, 140, 16, 20  # the plot area is HEIGHT - TOP - BOTTOM high


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    kind: str  # CSS class: new, updated, pages, failed
    label: str  # the tooltip (<title>)


@dataclass(frozen=True)
class Plot:
    title: str
    bars: list[Bar] = field(default_factory=list)
    line: str = ""  # polyline points of a rate from 0 (bottom) to 1 (top)
    peak: int = 0  # the value at the top of the scale
    first: str = ""  # the labels of both ends of the time axis
    last: str = ""
    empty: bool = True
    width: int = WIDTH
    height: int = HEIGHT


def _scale(value: float, peak: float) -> float:
    return (HEIGHT - TOP - BOTTOM) * value / peak if peak else 0.0


def daily_articles(days: list[DayCount], now: datetime, span: int) -> Plot:
    """New and updated articles on each of the last ``span`` days (Asia/Shanghai), one slot per day."""
    today = now.astimezone(SHANGHAI).date()
    first = today - timedelta(days=span - 1)
    by_day = {d.day: d for d in days if d.day >= first}
    peak = max((d.new + d.updated for d in by_day.values()), default=0)
    slot = WIDTH / span
    bars = []
    for n in range(span):
        day = first + timedelta(days=n)
        count = by_day.get(day)
        if count is None:
            continue
        base = float(HEIGHT - BOTTOM)
        for value, kind in ((count.new, "new"), (count.updated, "updated")):
            if value:
                h = _scale(value, peak)
                base -= h
                bars.append(Bar(n * slot + 1, base, slot - 2, h, kind, f"{day}: {value} {kind}"))
    return Plot("articles per day: new and updated", bars, peak=peak, first=first.isoformat(),
                last=today.isoformat(), empty=not bars)


def run_pages(runs: list[RunRecord], since: datetime, now: datetime) -> Plot:
    """Pages fetched by each run (oldest first), placed at its start time, and its failure rate as a line."""
    span = (now - since).total_seconds() or 1.0
    peak = max((r.pages_fetched for r in runs), default=0)
    bars, points = [], []
    for r in runs:
        x = WIDTH * (r.started_at - since).total_seconds() / span
        requests = attempted(r.stats)
        rate = r.errors / requests if requests else (1.0 if r.status == RunStatus.FAILED else 0.0)
        h = max(_scale(r.pages_fetched, peak), 1.0)
        kind = "failed" if r.status == RunStatus.FAILED or rate > 0.5 else "pages"
        when = r.started_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        bars.append(Bar(max(0.0, x - 2), HEIGHT - BOTTOM - h, 4, h, kind,
                        f"run {r.id} {when}: {r.pages_fetched} pages, {r.errors} errors ({rate:.0%}), {r.status}"))
        points.append(f"{x:.1f},{HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * rate:.1f}")
    return Plot("pages fetched per run, and failure rate", bars, " ".join(points), peak,
                since.astimezone(SHANGHAI).date().isoformat(), now.astimezone(SHANGHAI).date().isoformat(),
                empty=not bars)

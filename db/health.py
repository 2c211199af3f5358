"""Is each site being crawled, and are its crawls any good? Verdicts from ``crawl_runs`` rows, never exit codes.

A site is unhealthy when its last crawl failed or fetched nothing, too many of its requests failed, it found
no new article for N finished crawls in a row, too many of its article pages extracted to nothing, or a
scheduled crawl is overdue (it should have started, by its schedule and grace time, and did not).
Thresholds are settings (CQNEWS_HEALTH_*).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cqnews.db.models import CrawlRun

CRAWLED = ("running", "finished", "failed")  # runs that crawled; skipped and missed ones did not
MIN_EXTRACTED = 5  # fewer article pages than this say nothing about an extraction-empty rate


class Schedule(Protocol):
    """What health needs of a site's schedule (scheduler.SiteSchedule)."""

    description: str
    misfire_grace_time: int

    def due_after(self, last_start: datetime) -> datetime | None: ...

    def next_run(self, last_start: datetime | None, now: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class Thresholds:
    runs: int = 5
    zero_new_runs: int = 3
    empty_rate: float = 0.5
    error_rate: float = 0.2
    overdue_slack: int = 900

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(runs=settings.getint("CQNEWS_HEALTH_RUNS", 5),
                   zero_new_runs=settings.getint("CQNEWS_HEALTH_ZERO_NEW_RUNS", 3),
                   empty_rate=settings.getfloat("CQNEWS_HEALTH_EMPTY_RATE", 0.5),
                   error_rate=settings.getfloat("CQNEWS_HEALTH_ERROR_RATE", 0.2),
                   overdue_slack=settings.getint("CQNEWS_HEALTH_OVERDUE_SLACK", 900))


@dataclass
class SiteHealth:
    site: str
    schedule: str | None
    next_run: datetime | None
    runs: list[CrawlRun]  # newest first
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def verdict(self) -> str:
        return "OK" if self.ok else "; ".join(self.problems)


def empty_rate(stats: dict[str, Any]) -> tuple[float, int]:
    """Share of article pages whose extraction came out empty or too short (not-HTML pages aside), and of how many."""

    def get(key: str) -> int:
        return int(stats.get(key, 0) or 0)

    rejected = get("cqnews/extract/rejected") - get("cqnews/extract/rejected/not_html")
    total = get("cqnews/extract/ok") + rejected
    return (rejected / total if total else 0.0), total


DISTRIBUTED_CRAWL = "cqnews/distributed/crawl"  # the stat naming the distributed crawl a run took part in
SUMMED = ("pages_fetched", "errors", "articles_new", "articles_updated", "articles_unchanged", "articles_duplicate",
          "articles_rejected")
STATUS_RANK = {"running": 0, "failed": 1, "finished": 2, "skipped": 3, "missed": 4}


def one_row_per_crawl(runs: list[CrawlRun]) -> list[CrawlRun]:
    """The runs (newest first) with the rows of each distributed crawl (its coordinator and every worker)
    added into one: judged row by row, a worker that came late and found the queue drained would look like
    a crawl that fetched nothing, and one crawl of three workers like three crawls without new articles."""
    merged: list[CrawlRun] = []
    by_crawl: dict[str, CrawlRun] = {}
    for run in runs:
        crawl_id = (run.stats or {}).get(DISTRIBUTED_CRAWL)
        if not crawl_id:
            merged.append(run)
            continue
        whole = by_crawl.get(crawl_id)
        if whole is None:
            whole = by_crawl[crawl_id] = CrawlRun(
                site=run.site, started_at=run.started_at, finished_at=run.finished_at, status=run.status,
                finish_reason=run.finish_reason, stats=dict(run.stats or {}),
                **{name: getattr(run, name) or 0 for name in SUMMED})
            merged.append(whole)
            continue
        whole.started_at = min(whole.started_at, run.started_at)
        if STATUS_RANK.get(run.status, 9) < STATUS_RANK.get(whole.status, 9):
            whole.status, whole.finish_reason = run.status, run.finish_reason
        for name in SUMMED:
            setattr(whole, name, (getattr(whole, name) or 0) + (getattr(run, name) or 0))
        for key, value in (run.stats or {}).items():
            if key.startswith(("cqnews/extract/", "downloader/request_count")) and isinstance(value, int):
                whole.stats[key] = int(whole.stats.get(key, 0) or 0) + value
    return merged


def judge(runs: list[CrawlRun], schedule: Schedule | None, now: datetime, limits: Thresholds) -> list[str]:
    """The problems of one site, from its recent runs (newest first) and its schedule (None: unscheduled)."""
    problems: list[str] = []
    runs = one_row_per_crawl(runs)
    crawled = [r for r in runs if r.status in CRAWLED]
    # A crawl stopped by a shutdown (the daemon restarted) says nothing about the site: judge the ones before.
    done = [r for r in crawled if r.status != "running" and r.finish_reason != "shutdown"]
    if not crawled:
        if schedule is not None:
            problems.append("never crawled")
        return problems
    if schedule is not None:
        due = schedule.due_after(crawled[0].started_at)
        if crawled[0].status != "running" and due is not None and now > due + timedelta(
                seconds=schedule.misfire_grace_time + limits.overdue_slack):
            problems.append(f"overdue: a crawl was due {_local(due)}")
    if done:
        last = done[0]
        requests = int((last.stats or {}).get("downloader/request_count", 0) or 0)
        if last.status == "failed":
            problems.append(f"errors: the last crawl failed ({last.finish_reason})")
        elif last.pages_fetched == 0:
            problems.append(f"errors: the last crawl fetched no page ({last.errors} errors); is the site up?")
        elif requests and last.errors / requests > limits.error_rate:
            problems.append(f"errors: {last.errors} in {requests} requests of the last crawl")
        rate, total = empty_rate(last.stats or {})
        if total >= MIN_EXTRACTED and rate > limits.empty_rate:
            problems.append(f"extraction empty for {rate:.0%} of {total} article pages")
    streak = 0
    for run in done:
        if run.status != "finished" or run.articles_new:
            break
        streak += 1
    if limits.zero_new_runs and streak >= limits.zero_new_runs:
        problems.append(f"zero new articles for {streak} runs")
    return problems


def site_health(session: Session, site: str, schedule: Schedule | None, limits: Thresholds,
                now: datetime | None = None) -> SiteHealth:
    now = now or datetime.now(UTC)
    runs = list(session.scalars(select(CrawlRun).where(CrawlRun.site == site)
                                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
                                .limit(max(limits.runs, limits.zero_new_runs) * 4)))
    last_start = next((r.started_at for r in runs if r.status in CRAWLED), None)
    return SiteHealth(
        site=site, schedule=schedule.description if schedule else None,
        next_run=schedule.next_run(last_start, now) if schedule else None,
        runs=runs[: limits.runs], problems=judge(runs, schedule, now, limits),
    )


def sites_with_runs(session: Session) -> list[str]:
    return list(session.scalars(select(CrawlRun.site).distinct().order_by(CrawlRun.site)))


def _local(value: datetime) -> str:
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")

"""Is each site being crawled, and are its crawls any good? Judged from its runs, never from exit codes.

A site is unhealthy when its last crawl failed or fetched nothing, too many of its requests failed, it found
no new article for N finished crawls in a row, too many of its article pages extracted to nothing, or a
scheduled crawl is overdue (it should have started, by its schedule and grace time, and did not).

Everything here is plain data in, plain data out: runs as ``db.runs.RunRecord`` (newest first), a schedule as
anything with the :class:`Schedule` methods, :class:`Thresholds` as numbers (the CLI builds them from the
CQNEWS_HEALTH_* settings). A problem is a value (:data:`Problem`); ``cli/render.py`` puts it into words.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from cqnews.db.runs import COUNTERS, CRAWLED, FinishReason, LockInfo, RunRecord, RunStatus
from cqnews.stats import (
    DISCOVER_MATCHED,
    DISCOVER_UNMATCHED,
    DISTRIBUTED_CRAWL,
    DISTRIBUTED_DEQUEUED,
    EXTRACT_OK,
    EXTRACT_PREFIX,
    EXTRACT_REJECTED,
    EXTRACT_REJECTED_NOT_HTML,
    FEED_ARTICLES,
    FETCH_DELIBERATE,
    LISTING_FETCHED,
    REQUESTS,
    RETRIES,
    SITEMAP_ARTICLES,
    attempted,
    count,
)

MIN_EXTRACTED = 5  # fewer article pages than this say nothing about an extraction-empty rate


class Schedule(Protocol):
    """What health needs of a site's schedule (scheduler.SiteSchedule)."""

    description: str
    misfire_grace_time: int

    def due_after(self, last_start: datetime) -> datetime | None: ...

    def next_run(self, last_start: datetime | None, now: datetime) -> datetime | None: ...


@dataclass(frozen=True)
class Thresholds:
    runs: int = 5  # runs shown per site
    zero_new_runs: int = 3  # this many finished crawls in a row without a new article: unhealthy (0: never)
    empty_rate: float = 0.5  # share of article pages that extracted to nothing
    error_rate: float = 0.2  # errors per request of the last crawl
    overdue_slack: int = 900  # seconds past a schedule's due time and grace before a crawl is overdue
    drift_min_unmatched: int = 3  # fewer article-like links than this outside the patterns are noise, not drift
    drift_runs: int = 3  # this many crawls in a row whose declared patterns matched nothing: the scheme changed


def thresholds_from(settings: Any) -> Thresholds:
    """The thresholds from the CQNEWS_HEALTH_* settings (anything with Scrapy's ``getint``/``getfloat``)."""
    return Thresholds(runs=settings.getint("CQNEWS_HEALTH_RUNS", 5),
                      zero_new_runs=settings.getint("CQNEWS_HEALTH_ZERO_NEW_RUNS", 3),
                      empty_rate=settings.getfloat("CQNEWS_HEALTH_EMPTY_RATE", 0.5),
                      error_rate=settings.getfloat("CQNEWS_HEALTH_ERROR_RATE", 0.2),
                      overdue_slack=settings.getint("CQNEWS_HEALTH_OVERDUE_SLACK", 900),
                      drift_min_unmatched=settings.getint("CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED", 3),
                      drift_runs=settings.getint("CQNEWS_HEALTH_DRIFT_RUNS", 3))


# -- problems ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NeverCrawled:
    """A scheduled site without a single crawl."""


@dataclass(frozen=True)
class Overdue:
    due: datetime  # when the crawl that did not start was due


@dataclass(frozen=True)
class LastCrawlFailed:
    reason: str | None


@dataclass(frozen=True)
class FetchedNothing:
    """The last crawl got no page at all: the site is down, or blocks us."""

    errors: int


@dataclass(frozen=True)
class TooManyErrors:
    errors: int
    requests: int


@dataclass(frozen=True)
class ExtractionEmpty:
    rate: float
    pages: int


@dataclass(frozen=True)
class NoNewArticles:
    runs: int  # finished crawls in a row


@dataclass(frozen=True)
class DiscoveryDrift:
    """The site's listing pages lead mostly to article-like links its patterns do not know (``unmatched`` vs
    ``matched`` in the last crawl), or its patterns matched nothing for ``runs`` crawls: its URL scheme changed."""

    matched: int
    unmatched: int
    runs: int
    silent: bool  # the verdict is "matched nothing for ``runs`` crawls", not "mostly unmatched"


Problem = (NeverCrawled | Overdue | LastCrawlFailed | FetchedNothing | TooManyErrors | ExtractionEmpty
           | NoNewArticles | DiscoveryDrift)


@dataclass(frozen=True)
class SiteHealth:
    site: str
    schedule: str | None
    next_run: datetime | None
    runs: list[RunRecord]  # newest first
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- the daemon --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DaemonAlive:
    host: str
    pid: int | None
    since: datetime  # when it started
    last_seen: datetime  # its last heartbeat


@dataclass(frozen=True)
class DaemonDead:
    """A daemon that holds its lock no more than a corpse does: killed, crashed, or silent too long."""

    host: str
    pid: int | None
    since: datetime
    last_seen: datetime
    pid_gone: bool  # its process is gone from this host (else: it stopped renewing)


Liveness = DaemonAlive | DaemonDead | None  # None: no daemon holds the archive (none ever ran, or one stopped)


def daemon_liveness(lock: LockInfo | None, pid_gone: bool, now: datetime) -> Liveness:
    """Is the daemon that holds the archive's daemon lock alive? Dead at once when its process is gone from this
    host (``pid_gone``, which the caller checks), or when it missed two heartbeats (it records their interval),
    or its lease ran out; a daemon that stopped cleanly gave its lock back (None)."""
    if lock is None:
        return None
    heartbeat = float(lock.info.get("heartbeat_seconds") or 0)
    silent = bool(heartbeat) and now - lock.last_seen > timedelta(seconds=2 * heartbeat)
    if pid_gone or silent or not lock.alive(now):
        return DaemonDead(lock.host, lock.pid, lock.acquired_at, lock.last_seen, pid_gone)
    return DaemonAlive(lock.host, lock.pid, lock.acquired_at, lock.last_seen)


# -- judging -----------------------------------------------------------------------------------------------

def found_no_work(run: RunRecord) -> bool:
    """A worker of a distributed crawl that took no request, the others having drained the queue: a normal end,
    unlike a crawl that took requests and could fetch none of them (dead site, errors).

    Decides what the distributed scheduler records (such a joining worker's run becomes ``skipped``,
    ``no_work_left``), what the crawl summary says of it, and that it never decides a distributed crawl's status.
    """
    ended_idle = (run.status, run.finish_reason) in {(RunStatus.FINISHED, FinishReason.FINISHED),
                                                     (RunStatus.SKIPPED, FinishReason.NO_WORK_LEFT)}
    return (ended_idle and bool(run.stats.get(DISTRIBUTED_CRAWL)) and not run.stats.get(DISTRIBUTED_DEQUEUED)
            and run.pages_fetched == 0 and run.errors == 0)


def unexpected_errors(run: RunRecord) -> int | None:
    """The errors of a crawl told which errors to expect (``cqnews demo``: its sites' deliberately broken pages,
    counted under ``cqnews/fetch/deliberate``) that were not among them: each a fault of the fixture or of cqnews.
    None for a crawl told nothing (every crawl of a real site), whose errors are judged by their rate."""
    if FETCH_DELIBERATE not in run.stats:
        return None
    return max(run.errors - count(run.stats, FETCH_DELIBERATE), 0)


def empty_rate(stats: dict[str, Any]) -> tuple[float, int]:
    """Share of article pages whose extraction came out empty or too short (not-HTML pages aside), and of how many."""
    rejected = count(stats, EXTRACT_REJECTED) - count(stats, EXTRACT_REJECTED_NOT_HTML)
    total = count(stats, EXTRACT_OK) + rejected
    return (rejected / total if total else 0.0), total


# Which row's status a distributed crawl takes: the most telling one (running, then failed...); a row that found
# no work never decides it while a sibling did work.
STATUS_RANK = {RunStatus.RUNNING: 0, RunStatus.FAILED: 1, RunStatus.FINISHED: 2, RunStatus.SKIPPED: 3,
               RunStatus.MISSED: 4}


def _rank(run: RunRecord) -> tuple[bool, int]:
    return found_no_work(run), STATUS_RANK.get(run.status, 9)


def one_row_per_crawl(runs: list[RunRecord]) -> list[RunRecord]:
    """The runs (newest first) with the rows of each distributed crawl (its coordinator and every worker)
    added into one: judged row by row, a worker that came late and found the queue drained would look like
    a crawl that fetched nothing, and one crawl of three workers like three crawls without new articles."""
    merged: list[RunRecord] = []
    crawls: dict[str, list[RunRecord]] = {}
    for run in runs:
        crawl_id = run.stats.get(DISTRIBUTED_CRAWL)
        if not crawl_id:
            merged.append(run)
            continue
        if crawl_id not in crawls:
            crawls[crawl_id] = []
            merged.append(run)  # a placeholder, replaced by the whole crawl below
        crawls[crawl_id].append(run)
    return [_whole(crawls[run.stats[DISTRIBUTED_CRAWL]]) if run.stats.get(DISTRIBUTED_CRAWL) else run
            for run in merged]


def _whole(rows: list[RunRecord]) -> RunRecord:
    """One distributed crawl's rows (newest first) as one run."""
    telling = min(rows, key=_rank)
    stats = dict(rows[0].stats)
    for run in rows[1:]:
        for key, value in run.stats.items():
            if key.startswith((EXTRACT_PREFIX, REQUESTS, RETRIES)) and isinstance(value, int):
                stats[key] = count(stats, key) + value
    return replace(rows[0], id=None, started_at=min(r.started_at for r in rows), status=telling.status,
                   finish_reason=telling.finish_reason, stats=stats,
                   **{name: sum(getattr(r, name) for r in rows) for name in COUNTERS})


OPERATOR_ENDS = frozenset({FinishReason.SHUTDOWN, FinishReason.CANCELLED})


def judge(runs: list[RunRecord], schedule: Schedule | None, now: datetime, limits: Thresholds) -> list[Problem]:
    """The problems of one site, from its recent runs (newest first) and its schedule (None: unscheduled)."""
    problems: list[Problem] = []
    runs = one_row_per_crawl(runs)
    crawled = [r for r in runs if r.status in CRAWLED]
    # A crawl stopped by a shutdown (the daemon restarted) or cancelled by an operator says nothing about the
    # site: judge the ones before.
    done = [r for r in crawled if r.status != RunStatus.RUNNING and r.finish_reason not in OPERATOR_ENDS]
    if not crawled:
        if schedule is not None:
            problems.append(NeverCrawled())
        return problems
    if schedule is not None:
        due = schedule.due_after(crawled[0].started_at)
        if crawled[0].status != RunStatus.RUNNING and due is not None and now > due + timedelta(
                seconds=schedule.misfire_grace_time + limits.overdue_slack):
            problems.append(Overdue(due))
    if done:
        last = done[0]
        requests = attempted(last.stats)  # a request retried three times is one request, and at most one error
        # a demo site's deliberately broken pages are no fault; a crawl told which errors to expect has no other to
        # forgive
        faults = unexpected_errors(last)
        errors, error_rate = (last.errors, limits.error_rate) if faults is None else (faults, 0.0)
        if last.status == RunStatus.FAILED:
            problems.append(LastCrawlFailed(last.finish_reason))
        elif last.pages_fetched == 0:
            problems.append(FetchedNothing(last.errors))
        elif requests and (errors / requests > error_rate or errors >= requests):
            problems.append(TooManyErrors(errors, requests))
        rate, total = empty_rate(last.stats)
        if total >= MIN_EXTRACTED and rate > limits.empty_rate:
            problems.append(ExtractionEmpty(rate, total))
    streak = 0
    for run in done:
        if run.status != RunStatus.FINISHED or run.articles_new:
            break
        streak += 1
    if limits.zero_new_runs and streak >= limits.zero_new_runs:
        problems.append(NoNewArticles(streak))
    if (drift := discovery_drift(done, limits)) is not None:
        problems.append(drift)
    return problems


def discovery_drift(done: list[RunRecord], limits: Thresholds | None = None) -> DiscoveryDrift | None:
    """Discovery drift, from the finished crawls (newest first) that measured it (spiders/discovery.py): the last
    crawl found more article-like links outside the declared patterns than inside (at least
    ``limits.drift_min_unmatched``), or the patterns matched no listing link, sitemap or feed entry for
    ``limits.drift_runs`` crawls in a row that read listing pages."""
    limits = limits or Thresholds()
    measured = [r for r in done if DISCOVER_MATCHED in r.stats and count(r.stats, LISTING_FETCHED)]
    if not measured:
        return None
    last = measured[0].stats
    matched = count(last, DISCOVER_MATCHED) + count(last, SITEMAP_ARTICLES) + count(last, FEED_ARTICLES)
    unmatched = count(last, DISCOVER_UNMATCHED)
    streak = 0
    for run in measured:
        if count(run.stats, DISCOVER_MATCHED) + count(run.stats, SITEMAP_ARTICLES) + count(run.stats, FEED_ARTICLES):
            break
        streak += 1
    silent = streak >= limits.drift_runs
    if (unmatched >= limits.drift_min_unmatched and unmatched > matched) or silent:
        return DiscoveryDrift(matched, unmatched, streak, silent)
    return None


def runs_to_judge(limits: Thresholds) -> int:
    """How many of a site's latest runs :func:`site_health` needs (distributed crawls take several rows each)."""
    return max(limits.runs, limits.zero_new_runs) * 4


def site_health(site: str, runs: list[RunRecord], schedule: Schedule | None, limits: Thresholds,
                now: datetime) -> SiteHealth:
    """A site's health from its latest :func:`runs_to_judge` runs (newest first)."""
    last_start = next((r.started_at for r in runs if r.status in CRAWLED), None)
    return SiteHealth(
        site=site, schedule=schedule.description if schedule else None,
        next_run=schedule.next_run(last_start, now) if schedule else None,
        runs=runs[: limits.runs], problems=judge(runs, schedule, now, limits),
    )

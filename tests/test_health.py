"""Health verdicts: from crawl_runs rows and schedules; `cqnews status` flags a dead site with a non-zero exit."""
from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cqnews.cli.render import daemon_text, problem_text, verdict
from cqnews.db.runs import DAEMON, LockInfo, RunRecord, RunStatus
from cqnews.demo.server import FixtureSite
from cqnews.health import (
    DaemonAlive,
    DaemonDead,
    NoNewArticles,
    Overdue,
    Schedule,
    Thresholds,
    daemon_liveness,
    judge,
)
from cqnews.scheduler import SiteSchedule, parse_schedule

from helpers import copy_site, cqnews

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LIMITS = Thresholds(runs=5, zero_new_runs=3, empty_rate=0.5, error_rate=0.2, overdue_slack=600)


def hourly(grace: int = 300) -> SiteSchedule:
    trigger, description = parse_schedule("every: 1h", ZoneInfo("Asia/Shanghai"))
    return SiteSchedule("cbg", trigger, description, misfire_grace_time=grace, timeout=600)


def said(runs: list[RunRecord], schedule: Schedule | None, now: datetime, limits: Thresholds) -> list[str]:
    """The problems judge() finds, in the words of `cqnews status`."""
    return [problem_text(p) for p in judge(runs, schedule, now, limits)]


def run(hours_ago: float, status: str = "finished", new: int = 3, errors: int = 0, pages: int = 20,
        reason: str | None = None, stats: dict[str, Any] | None = None) -> RunRecord:
    started = NOW - timedelta(hours=hours_ago)
    return RunRecord(site="cbg", started_at=started, finished_at=started + timedelta(minutes=2),
                     status=RunStatus(status),
                     finish_reason=reason or ("finished" if status == "finished" else "shutdown"),
                     articles_new=new, errors=errors, pages_fetched=pages,
                     stats=stats if stats is not None else {"downloader/request_count": pages,
                                                            "cqnews/extract/ok": 10})


def test_a_site_crawled_on_time_with_new_articles_is_ok() -> None:
    assert said([run(0.5), run(1.5, new=0), run(2.5, new=0)], hourly(), NOW, LIMITS) == []


def test_never_crawled_scheduled_site_is_flagged() -> None:
    assert said([], hourly(), NOW, LIMITS) == ["never crawled"]
    assert said([], None, NOW, LIMITS) == []  # not scheduled, never crawled: nothing expected of it


def test_overdue_after_grace_and_slack() -> None:
    # due 1h after the last start, plus 300 s grace and 600 s slack
    assert said([run(1.2)], hourly(), NOW, LIMITS) == []
    problems = said([run(1.3)], hourly(), NOW, LIMITS)
    assert len(problems) == 1 and problems[0].startswith("overdue")
    missed = RunRecord(site="cbg", started_at=NOW - timedelta(hours=1), status=RunStatus.MISSED,
                       finish_reason="misfire")
    assert said([missed, run(2)], hourly(), NOW, LIMITS)[0].startswith("overdue")  # a missed run is no crawl


def test_errors_failed_crawl_dead_site_and_error_rate() -> None:
    assert said([run(0.1, status="failed", reason="closespider_timeout")], hourly(), NOW, LIMITS) == [
        "errors: the last crawl failed (closespider_timeout)"]
    dead = said([run(0.1, pages=0, errors=3, stats={"downloader/request_count": 3})], hourly(), NOW, LIMITS)
    assert dead == ["errors: the last crawl fetched no page (3 errors); is the site up?"]
    assert said([run(0.1, errors=5, pages=20)], hourly(), NOW, LIMITS) == [
        "errors: 5 in 20 requests of the last crawl"]
    assert said([run(0.1, errors=2, pages=20)], hourly(), NOW, LIMITS) == []
    # a crawl stopped by the daemon's shutdown does not count against the site
    assert said([run(0.1, status="failed", reason="shutdown"), run(0.9)], hourly(), NOW, LIMITS) == []


def test_zero_new_articles_for_n_runs() -> None:
    runs = [run(0.2, new=0), run(1.2, new=0), run(2.2, new=0), run(3.2, new=4)]
    assert said(runs, hourly(), NOW, LIMITS) == ["zero new articles for 3 runs"]
    assert said(runs[1:], hourly(grace=99999), NOW, LIMITS) == []
    skipped = RunRecord(site="cbg", started_at=NOW, status=RunStatus.SKIPPED, finish_reason="locked")
    assert said([skipped, *runs[1:]], hourly(grace=99999), NOW, LIMITS) == []  # skipped runs are no crawls


def test_extraction_empty_rate_above_threshold() -> None:
    stats = {"downloader/request_count": 20, "cqnews/extract/ok": 3, "cqnews/extract/rejected": 9,
             "cqnews/extract/rejected/empty": 5, "cqnews/extract/rejected/too_short": 2,
             "cqnews/extract/rejected/not_html": 2}
    assert said([run(0.1, stats=stats)], hourly(), NOW, LIMITS) == ["extraction empty for 70% of 10 article pages"]
    few = {"downloader/request_count": 20, "cqnews/extract/ok": 1, "cqnews/extract/rejected": 2}
    assert said([run(0.1, stats=few)], hourly(), NOW, LIMITS) == []  # too few pages to judge


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_status_flags_a_site_whose_server_is_down(archive_url: str, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{_closed_port()}"
    with FixtureSite(copy_site("cq_people", tmp_path)) as server:
        config = tmp_path / "cqnews.toml"
        config.write_text(f'default = "off"\n[sites.cq_people]\nevery = "1h"\nbase_url = "{server.base_url}"\n'
                          f'[sites.cbg]\ncron = "0 */2 * * *"\nbase_url = "{down}"\n', "utf-8")
        env = {"CQNEWS_SCHEDULE_FILE": str(config)}
        never = cqnews(["status"], archive_url, tmp_path, env=env)
        assert never.returncode == 1 and "never crawled" in never.stdout
        ok = cqnews(["crawl", "cq_people", "--base-url", server.base_url], archive_url, tmp_path)
        assert ok.returncode == 0, ok.stderr[-3000:]
    dead = cqnews(["crawl", "cbg", "--base-url", down], archive_url, tmp_path)
    assert dead.returncode == 1

    status = cqnews(["status"], archive_url, tmp_path, env=env)
    assert status.returncode == 1, status.stdout + status.stderr
    verdicts = {line.split()[0]: line for line in status.stdout.splitlines() if line.startswith(("cbg ", "cq_people "))}
    assert " OK " in verdicts["cq_people"]
    assert "fetched no page" in verdicts["cbg"]
    assert "cqnews: cbg: errors: the last crawl fetched no page" in status.stderr
    assert "cqnews: cq_people:" not in status.stderr  # healthy; but no daemon crawls it or cbg:
    assert "cqnews: no running daemon crawls the scheduled site(s) cbg, cq_people" in status.stderr
    assert "daemon: not running" in status.stdout

    report = json.loads(cqnews(["status", "--format", "json"], archive_url, tmp_path, env=env).stdout)
    by_site = {s["site"]: s for s in report["sites"]}
    assert report["healthy"] is False and by_site["cq_people"]["ok"] and not by_site["cbg"]["ok"]
    assert by_site["cq_people"]["schedule"] == "every 1h" and by_site["cq_people"]["next_run"].endswith("+08:00")
    assert by_site["cbg"]["runs"][0]["status"] == "finished" and by_site["cbg"]["runs"][0]["pages"] == 0


def worker_row(hours_ago: float, crawl: str, pages: int, new: int, status: str = "finished",
               reason: str = "finished") -> RunRecord:
    return run(hours_ago, status=status, new=new, pages=pages, reason=reason,
               stats={"cqnews/distributed/crawl": crawl, "downloader/request_count": pages,
                      "cqnews/extract/ok": pages})


def test_the_rows_of_one_distributed_crawl_are_judged_as_one_crawl() -> None:
    # the coordinator got no request (two workers drained the queue), a late worker found nothing left
    crawl = [worker_row(0.40, "c3", pages=0, new=0), worker_row(0.45, "c3", pages=0, new=0, status="skipped",
                                                                 reason="no_work_left"),
             worker_row(0.50, "c3", pages=12, new=4), worker_row(0.50, "c3", pages=9, new=2)]
    assert said(crawl, hourly(), NOW, LIMITS) == []
    # two crawls of two rows each, no new article: a streak of 2 crawls, not 4 runs
    quiet = [worker_row(0.2, "c2", 5, 0), worker_row(0.2, "c2", 5, 0), worker_row(1.2, "c1", 5, 0),
             worker_row(1.2, "c1", 5, 0)]
    assert said(quiet, hourly(), NOW, LIMITS) == []
    third = [worker_row(2.2, "c0", 5, 0), worker_row(2.2, "c0", 5, 0)]
    assert said(quiet + third, hourly(), NOW, LIMITS) == ["zero new articles for 3 runs"]
    # every row of a crawl fetched nothing: the crawl did
    dead = [worker_row(0.3, "c9", 0, 0), worker_row(0.3, "c9", 0, 0)]
    assert said(dead, hourly(), NOW, LIMITS)[0].startswith("errors: the last crawl fetched no page")


# -- `cqnews status`, byte for byte ------------------------------------------------------------------------
# A fixed history, judged by `cqnews status`; tests/fixtures/status/ holds what it printed before health moved
# out of db/ (table, its stderr, JSON). Scheduled sites run on 29 February only, so that their next run
# (2028-02-29) and the overdue crawl (due 2024-02-29) do not depend on today.
STATUS_SCHEDULES = 'default = "off"\n[sites.cbg]\ncron = "0 0 29 2 *"\n[sites.xinhua_cq]\ncron = "0 0 29 2 *"\n'
GOLDEN = Path(__file__).parent / "fixtures" / "status"


def _history() -> list[dict[str, Any]]:
    def at(day: str, hour: int = 10) -> datetime:
        return datetime.fromisoformat(f"{day}T{hour:02d}:07:00+00:00")

    def row(site: str, day: str, status: str, reason: str | None, trigger: str = "manual", pages: int = 20,
            new: int = 0, updated: int = 0, rejected: int = 0, errors: int = 0, stats: dict[str, Any] | None = None,
            hour: int = 10) -> dict[str, Any]:
        started = at(day, hour)
        return {"site": site, "started_at": started, "finished_at": started + timedelta(minutes=3, seconds=12),
                "status": status, "finish_reason": reason, "trigger": trigger, "pid": 4242, "pages_fetched": pages,
                "articles_new": new, "articles_updated": updated, "articles_unchanged": 5, "articles_duplicate": 1,
                "articles_rejected": rejected, "errors": errors,
                "stats": stats if stats is not None else {"downloader/request_count": pages, "cqnews/extract/ok": 9}}

    def worker(day: str, hour: int, crawl: str, pages: int, new: int, status: str = "finished",
               reason: str = "finished", dequeued: int = 0) -> dict[str, Any]:
        stats: dict[str, Any] = {"cqnews/distributed/crawl": crawl, "downloader/request_count": pages,
                                 "cqnews/extract/ok": pages, "cqnews/extract/rejected": 0}
        if dequeued:
            stats["cqnews/distributed/dequeued"] = dequeued
        return row("cqcb", day, status, reason, pages=pages, new=new, stats=stats, hour=hour)

    empty = {"downloader/request_count": 20, "cqnews/extract/ok": 3, "cqnews/extract/rejected": 9,
             "cqnews/extract/rejected/empty": 7, "cqnews/extract/rejected/not_html": 2}
    return [
        # cbg, scheduled: no new article for three crawls, and the crawl due 2024-02-29 never started
        row("cbg", "2023-11-01", "finished", "finished", "scheduled"),
        row("cbg", "2023-12-01", "finished", "finished", "scheduled", updated=2),
        row("cbg", "2024-01-10", "finished", "finished", "scheduled", errors=1),
        row("cbg", "2024-01-10", "skipped", "locked", pages=0, stats={"cqnews/lock/held_by_run": 3}, hour=11),
        # cq_people: its last crawl timed out, after a missed run and a good crawl
        row("cq_people", "2024-03-01", "finished", "finished", new=12),
        row("cq_people", "2024-03-02", "missed", "misfire", "scheduled", pages=0, stats={"late_by_seconds": 4000}),
        row("cq_people", "2024-03-03", "failed", "closespider_timeout", new=1, errors=2),
        # cq_gov: the site was down
        row("cq_gov", "2024-03-05", "finished", "finished", pages=0, errors=3,
            stats={"downloader/request_count": 3}),
        # cqnews: most article pages extracted to nothing, and too many errors; a crawl stopped by a shutdown after
        row("cqnews", "2024-03-06", "finished", "finished", new=2, rejected=9, errors=5, stats=empty),
        row("cqnews", "2024-03-07", "failed", "shutdown", pages=4, stats={"downloader/request_count": 4}),
        # cqcb: one distributed crawl (a coordinator that got nothing, a late worker, two that worked), fine
        worker("2024-03-08", 9, "c1", pages=0, new=0),
        worker("2024-03-08", 10, "c1", pages=12, new=4, dequeued=12),
        worker("2024-03-08", 10, "c1", pages=9, new=2, dequeued=9),
        worker("2024-03-08", 11, "c1", pages=0, new=0, status="skipped", reason="no_work_left"),
        # xinhua_cq, scheduled: never crawled
    ]


def _seed_history(archive_url: str) -> None:
    from cqnews.db.models import CrawlRun
    from cqnews.db.session import make_engine, make_sessionmaker

    engine = make_engine(archive_url)
    with make_sessionmaker(engine).begin() as session:
        session.add_all([CrawlRun(**values) for values in _history()])
    engine.dispose()


def test_status_prints_what_it_always_printed(archive_url: str, tmp_path: Path) -> None:
    _seed_history(archive_url)
    config = tmp_path / "cqnews.toml"
    config.write_text(STATUS_SCHEDULES, "utf-8")
    env = {"CQNEWS_SCHEDULE_FILE": str(config)}
    table = cqnews(["status"], archive_url, tmp_path, env=env)
    report = cqnews(["status", "--format", "json"], archive_url, tmp_path, env=env)
    assert (table.returncode, report.returncode) == (1, 1), table.stderr + report.stderr
    assert table.stdout.replace(str(config), "SCHEDULE_FILE") == (GOLDEN / "table.out").read_text("utf-8")
    assert table.stderr.replace(str(config), "SCHEDULE_FILE") == (GOLDEN / "table.err").read_text("utf-8")
    assert report.stdout == (GOLDEN / "report.json").read_text("utf-8")
    assert report.stderr == ""


def test_problems_are_values_that_the_cli_puts_into_words() -> None:
    problems = judge([run(1.3, new=0), run(2.3, new=0), run(3.3, new=0)], hourly(), NOW, LIMITS)
    assert problems == [Overdue(due=NOW - timedelta(hours=0.3)), NoNewArticles(runs=3)]
    assert verdict(problems) == "overdue: a crawl was due 2026-05-01 19:42:00; zero new articles for 3 runs"
    assert verdict([]) == "OK"


def test_a_daemon_is_alive_while_its_process_runs_and_its_heartbeats_come() -> None:
    started = NOW - timedelta(hours=5)

    def lock(seen_ago: float, lease_left: float = 200, heartbeat: float = 60) -> LockInfo:
        return LockInfo(DAEMON, "vm:4242:ab", None, started, NOW + timedelta(seconds=lease_left),
                        NOW - timedelta(seconds=seen_ago), {"heartbeat_seconds": heartbeat})

    assert daemon_liveness(None, False, NOW) is None  # none ever ran, or it stopped and gave its lock back
    alive = daemon_liveness(lock(30), False, NOW)
    assert alive == DaemonAlive("vm", 4242, started, NOW - timedelta(seconds=30))
    # killed: dead at once, whatever its lease says; silent for two heartbeats, or its lease over: dead
    assert daemon_liveness(lock(1), True, NOW) == DaemonDead("vm", 4242, started, NOW - timedelta(seconds=1), True)
    assert isinstance(daemon_liveness(lock(121), False, NOW), DaemonDead)
    assert isinstance(daemon_liveness(lock(30, lease_left=-1), False, NOW), DaemonDead)
    shown = NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    assert daemon_text(daemon_liveness(lock(0), True, NOW)) == (
        f"daemon: not running (last seen {shown:%Y-%m-%d %H:%M}, pid 4242 gone)")
    since = started.astimezone(ZoneInfo("Asia/Shanghai"))
    assert daemon_text(alive).startswith(f"daemon: running (pid 4242 on vm), since {since:%Y-%m-%d %H:%M}")
    assert daemon_text(None) == "daemon: not running"


def test_a_site_whose_every_page_fails_is_unhealthy_however_often_each_request_is_retried() -> None:
    for retries in (0, 2, 3, 10):  # RETRY_TIMES: each of the 4 URLs is sent 1 + retries times, fails once
        stats = {"downloader/request_count": 4 * (1 + retries), "retry/count": 4 * retries,
                 "response_received_count": 4 * (1 + retries)}
        all_500 = run(0.1, errors=4, pages=4 * (1 + retries), new=0, stats=stats)
        assert said([all_500], hourly(), NOW, LIMITS) == ["errors: 4 in 4 requests of the last crawl"], retries
        lenient = Thresholds(error_rate=1.0)  # even when the rate allowed is 100 %
        assert [problem_text(p) for p in judge([all_500], hourly(), NOW, lenient)] == [
            "errors: 4 in 4 requests of the last crawl"]
    one_in_ten = {"downloader/request_count": 40, "retry/count": 20, "response_received_count": 40}
    assert said([run(0.1, errors=2, pages=40, stats=one_in_ten)], hourly(), NOW, LIMITS) == []

"""Health verdicts: from crawl_runs rows and schedules; `cqnews status` flags a dead site with a non-zero exit."""
from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cqnews.db.health import Thresholds, judge
from cqnews.db.models import CrawlRun
from cqnews.demo.server import FixtureSite
from cqnews.scheduler import SiteSchedule, parse_schedule

from helpers import copy_site, cqnews

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LIMITS = Thresholds(runs=5, zero_new_runs=3, empty_rate=0.5, error_rate=0.2, overdue_slack=600)


def hourly(grace: int = 300) -> SiteSchedule:
    trigger, description = parse_schedule("every: 1h", ZoneInfo("Asia/Shanghai"))
    return SiteSchedule("cbg", trigger, description, misfire_grace_time=grace, timeout=600)


def run(hours_ago: float, status: str = "finished", new: int = 3, errors: int = 0, pages: int = 20,
        reason: str | None = None, stats: dict[str, Any] | None = None) -> CrawlRun:
    started = NOW - timedelta(hours=hours_ago)
    return CrawlRun(site="cbg", started_at=started, finished_at=started + timedelta(minutes=2), status=status,
                    finish_reason=reason or ("finished" if status == "finished" else "shutdown"),
                    articles_new=new, errors=errors, pages_fetched=pages,
                    stats=stats if stats is not None else {"downloader/request_count": pages,
                                                           "cqnews/extract/ok": 10})


def test_a_site_crawled_on_time_with_new_articles_is_ok() -> None:
    assert judge([run(0.5), run(1.5, new=0), run(2.5, new=0)], hourly(), NOW, LIMITS) == []


def test_never_crawled_scheduled_site_is_flagged() -> None:
    assert judge([], hourly(), NOW, LIMITS) == ["never crawled"]
    assert judge([], None, NOW, LIMITS) == []  # not scheduled, never crawled: nothing expected of it


def test_overdue_after_grace_and_slack() -> None:
    # due 1h after the last start, plus 300 s grace and 600 s slack
    assert judge([run(1.2)], hourly(), NOW, LIMITS) == []
    problems = judge([run(1.3)], hourly(), NOW, LIMITS)
    assert len(problems) == 1 and problems[0].startswith("overdue")
    missed = CrawlRun(site="cbg", started_at=NOW - timedelta(hours=1), status="missed", finish_reason="misfire")
    assert judge([missed, run(2)], hourly(), NOW, LIMITS)[0].startswith("overdue")  # a missed run is no crawl


def test_errors_failed_crawl_dead_site_and_error_rate() -> None:
    assert judge([run(0.1, status="failed", reason="closespider_timeout")], hourly(), NOW, LIMITS) == [
        "errors: the last crawl failed (closespider_timeout)"]
    dead = judge([run(0.1, pages=0, errors=3, stats={"downloader/request_count": 3})], hourly(), NOW, LIMITS)
    assert dead == ["errors: the last crawl fetched no page (3 errors); is the site up?"]
    assert judge([run(0.1, errors=5, pages=20)], hourly(), NOW, LIMITS) == [
        "errors: 5 in 20 requests of the last crawl"]
    assert judge([run(0.1, errors=2, pages=20)], hourly(), NOW, LIMITS) == []
    # a crawl stopped by the daemon's shutdown does not count against the site
    assert judge([run(0.1, status="failed", reason="shutdown"), run(0.9)], hourly(), NOW, LIMITS) == []


def test_zero_new_articles_for_n_runs() -> None:
    runs = [run(0.2, new=0), run(1.2, new=0), run(2.2, new=0), run(3.2, new=4)]
    assert judge(runs, hourly(), NOW, LIMITS) == ["zero new articles for 3 runs"]
    assert judge(runs[1:], hourly(grace=99999), NOW, LIMITS) == []
    skipped = CrawlRun(site="cbg", started_at=NOW, status="skipped", finish_reason="locked")
    assert judge([skipped, *runs[1:]], hourly(grace=99999), NOW, LIMITS) == []  # skipped runs are no crawls


def test_extraction_empty_rate_above_threshold() -> None:
    stats = {"downloader/request_count": 20, "cqnews/extract/ok": 3, "cqnews/extract/rejected": 9,
             "cqnews/extract/rejected/empty": 5, "cqnews/extract/rejected/too_short": 2,
             "cqnews/extract/rejected/not_html": 2}
    assert judge([run(0.1, stats=stats)], hourly(), NOW, LIMITS) == ["extraction empty for 70% of 10 article pages"]
    few = {"downloader/request_count": 20, "cqnews/extract/ok": 1, "cqnews/extract/rejected": 2}
    assert judge([run(0.1, stats=few)], hourly(), NOW, LIMITS) == []  # too few pages to judge


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
    assert "cq_people" not in status.stderr
    assert "daemon: not running" in status.stdout

    report = json.loads(cqnews(["status", "--format", "json"], archive_url, tmp_path, env=env).stdout)
    by_site = {s["site"]: s for s in report["sites"]}
    assert report["healthy"] is False and by_site["cq_people"]["ok"] and not by_site["cbg"]["ok"]
    assert by_site["cq_people"]["schedule"] == "every 1h" and by_site["cq_people"]["next_run"].endswith("+08:00")
    assert by_site["cbg"]["runs"][0]["status"] == "finished" and by_site["cbg"]["runs"][0]["pages"] == 0


def worker_row(hours_ago: float, crawl: str, pages: int, new: int, status: str = "finished",
               reason: str = "finished") -> CrawlRun:
    return run(hours_ago, status=status, new=new, pages=pages, reason=reason,
               stats={"cqnews/distributed/crawl": crawl, "downloader/request_count": pages,
                      "cqnews/extract/ok": pages})


def test_the_rows_of_one_distributed_crawl_are_judged_as_one_crawl() -> None:
    # the coordinator got no request (two workers drained the queue), a late worker found nothing left
    crawl = [worker_row(0.40, "c3", pages=0, new=0), worker_row(0.45, "c3", pages=0, new=0, status="skipped",
                                                                 reason="no_work_left"),
             worker_row(0.50, "c3", pages=12, new=4), worker_row(0.50, "c3", pages=9, new=2)]
    assert judge(crawl, hourly(), NOW, LIMITS) == []
    # two crawls of two rows each, no new article: a streak of 2 crawls, not 4 runs
    quiet = [worker_row(0.2, "c2", 5, 0), worker_row(0.2, "c2", 5, 0), worker_row(1.2, "c1", 5, 0),
             worker_row(1.2, "c1", 5, 0)]
    assert judge(quiet, hourly(), NOW, LIMITS) == []
    third = [worker_row(2.2, "c0", 5, 0), worker_row(2.2, "c0", 5, 0)]
    assert judge(quiet + third, hourly(), NOW, LIMITS) == ["zero new articles for 3 runs"]
    # every row of a crawl fetched nothing: the crawl did
    dead = [worker_row(0.3, "c9", 0, 0), worker_row(0.3, "c9", 0, 0)]
    assert judge(dead, hourly(), NOW, LIMITS)[0].startswith("errors: the last crawl fetched no page")

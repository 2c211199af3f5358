"""Operators steer the daemon through the archive (db/controls.py) and follow running crawls (`runs --follow`),
in-process; the daemon obeying them is tested with a real daemon in tests/test_scheduler.py."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect

from cqnews.db import controls, migrate, runs
from cqnews.db.runs import RunStatus, RunTrigger
from cqnews.db.session import make_engine

from helpers import assert_one_line_error, cqnews


def test_the_control_revision_goes_down_and_up(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    controls.pause(engine, "cbg")
    run_id = runs.start_run(engine, "cbg", RunTrigger.MANUAL, 1)
    migrate.downgrade(engine, "0008_url_length")
    tables = set(inspect(engine).get_table_names())
    assert not {"site_controls", "site_notices"} & tables
    assert "cancel_requested_at" not in {c["name"] for c in inspect(engine).get_columns("crawl_runs")}
    migrate.upgrade(engine)
    command.check(migrate.alembic_config(engine))
    assert controls.paused(engine) == {} and runs.get_run(engine, run_id) is not None  # the runs stay
    engine.dispose()


def test_requests_are_kept_until_taken_and_taken_once(archive_engine: Engine) -> None:
    controls.pause(archive_engine, "cbg")
    controls.pause(archive_engine, "cbg")  # again: still paused, once
    assert list(controls.paused(archive_engine)) == ["cbg"]
    assert controls.resume(archive_engine, "cbg") and not controls.resume(archive_engine, "cbg")
    controls.request_run(archive_engine, "cbg")
    controls.request_run(archive_engine, "cq_people")
    assert sorted(controls.take_run_requests(archive_engine)) == ["cbg", "cq_people"]
    assert controls.take_run_requests(archive_engine) == []  # a request runs one crawl

    run_id = runs.start_run(archive_engine, "cbg", RunTrigger.SCHEDULED, 1)
    assert runs.update_progress(archive_engine, run_id, {"pages_fetched": 7, "errors": 1}) is False
    progress = runs.get_run(archive_engine, run_id)
    assert progress is not None and (progress.pages_fetched, progress.errors) == (7, 1) and progress.updated_at
    assert runs.request_cancel(archive_engine, run_id) is not None
    assert runs.update_progress(archive_engine, run_id, {"pages_fetched": 9}) is True  # the crawl is told to stop
    with pytest.raises(ValueError, match="not crawl_runs counters: pages"):
        runs.update_progress(archive_engine, run_id, {"pages": 1})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pause_resume_run_cancel_and_follow_from_the_command_line(archive_url: str, tmp_path: Path) -> None:
    engine = make_engine(archive_url)
    paused = cqnews(["pause", "cbg"], archive_url, tmp_path)
    assert paused.returncode == 0 and "cbg: paused" in paused.stdout
    status = cqnews(["status"], archive_url, tmp_path, env={"CQNEWS_SCHEDULE": "every: 1h"})
    assert "paused: cbg since " in status.stdout, status.stdout
    assert [line.split()[-1] for line in status.stdout.splitlines() if line.startswith("cbg ")] == ["paused"]
    assert "resumed" in cqnews(["resume", "cbg"], archive_url, tmp_path).stdout
    assert "was not paused" in cqnews(["resume", "cbg"], archive_url, tmp_path).stdout
    assert_one_line_error(cqnews(["pause", "nosuch"], archive_url, tmp_path), 2)

    no_daemon = cqnews(["run", "cbg"], archive_url, tmp_path)  # asked for: kept until a daemon starts
    assert "cbg: crawl asked for, but no daemon" in assert_one_line_error(no_daemon, 1)
    assert controls.take_run_requests(engine) == ["cbg"]

    assert "no run 99" in assert_one_line_error(cqnews(["cancel", "99"], archive_url, tmp_path), 2)
    done = runs.start_run(engine, "cbg", RunTrigger.MANUAL, 1)
    runs.finish_run(engine, done, RunStatus.FINISHED, "finished", {}, {})
    assert "is not running: it is finished" in assert_one_line_error(
        cqnews(["cancel", str(done)], archive_url, tmp_path), 1)

    running = runs.start_run(engine, "cq_people", RunTrigger.SCHEDULED, 1)
    cancel = cqnews(["cancel", str(running)], archive_url, tmp_path)
    assert cancel.returncode == 0 and f"run {running} (cq_people): cancel asked" in cancel.stdout

    # --follow: the running crawls as they write their counters, until none runs
    runs.update_progress(engine, running, {"pages_fetched": 42})

    def crawl_ends() -> None:
        time.sleep(1.5)
        runs.finish_run(engine, running, RunStatus.FAILED, "cancelled", {"pages_fetched": 50}, {})

    ender = threading.Thread(target=crawl_ends)
    ender.start()
    started = time.monotonic()
    follow = cqnews(["runs", "--follow", "--interval", "1"], archive_url, tmp_path)
    ender.join()
    assert follow.returncode == 0 and time.monotonic() - started < 10
    table = follow.stdout.splitlines()
    assert "1 crawl(s) running" in table[0] and table[1].split()[:2] == ["run", "site"]
    assert table[2].split()[0:2] == [str(running), "cq_people"] and "42" in table[2].split()
    assert table[-1].endswith("no crawl running")
    listed = cqnews(["runs"], archive_url, tmp_path).stdout
    assert "pages/min" in listed and "cancelled" in listed
    engine.dispose()


def test_a_running_crawl_shows_its_rate_so_far() -> None:
    now = datetime.now(UTC)
    run = runs.RunRecord(site="cbg", started_at=now - timedelta(minutes=2), status=RunStatus.RUNNING,
                         pages_fetched=30, updated_at=now - timedelta(minutes=1))
    assert run.pages_per_minute(now) == pytest.approx(30.0)  # 30 pages in the minute to its last update
    assert runs.RunRecord(site="cbg", started_at=now, status=RunStatus.RUNNING).pages_per_minute(now) is None

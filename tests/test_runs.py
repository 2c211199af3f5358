"""db/runs.py owns crawl_runs and crawl_locks; stats.py owns the stats keys; a worker without work is decided once."""
from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cqnews import stats
from cqnews.db import runs
from cqnews.db.models import CrawlRun
from cqnews.db.runs import FinishReason, RunRecord, RunStatus, RunTrigger
from cqnews.extensions import run_status
from cqnews.health import found_no_work

PACKAGE = Path(__file__).resolve().parents[1]
README = (PACKAGE / "README.md").read_text("utf-8")


def _modules(*exclude: str) -> list[Path]:
    """The package's own Python files (not its tests, migrations or virtualenv), less ``exclude``."""
    skipped = {"tests", "migrations", ".venv", "build", "dist"}
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if not skipped & set(p.relative_to(PACKAGE).parts) and str(p.relative_to(PACKAGE)) not in exclude)


def _code_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings, with their line."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


# -- the one owner -------------------------------------------------------------------------------------------

def test_only_db_runs_touches_crawl_runs_and_crawl_locks() -> None:
    """Every read and write of crawl_runs/crawl_locks goes through db/runs.py: no other module names their models
    or their tables in SQL."""
    sql = re.compile(r"\b(select|insert|update|delete|from|into|join)\b[^\n]*\bcrawl_(runs|locks)\b", re.I)
    offenders = []
    for path in _modules("db/runs.py", "db/models.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            else:
                continue
            offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {n}" for n in names
                          if n in ("CrawlRun", "CrawlLock")]
        offenders += [f"{path.relative_to(PACKAGE)}:{line}: SQL on {text!r}" for line, text in _code_strings(tree)
                      if sql.search(text)]
    assert offenders == []


def test_the_old_homes_are_gone() -> None:
    assert not (PACKAGE / "db" / "locks.py").exists() and not (PACKAGE / "db" / "health.py").exists()


def test_run_statuses_and_triggers_are_the_stored_strings_the_readme_promises() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| `crawl_runs` |"))
    promised = re.search(r"`status` \(([a-z/]+)\)", row)
    triggers = re.search(r"`trigger` \(([a-z/]+)\)", row)
    assert promised and triggers
    assert [s.value for s in RunStatus] == promised.group(1).split("/")
    assert [t.value for t in RunTrigger] == triggers.group(1).split("/")
    columns = CrawlRun.__table__.columns  # type: ignore[attr-defined]
    assert max(len(s) for s in RunStatus) <= columns["status"].type.length
    assert max(len(t) for t in RunTrigger) <= columns["trigger"].type.length
    assert max(len(r) for r in FinishReason) <= columns["finish_reason"].type.length
    assert columns["trigger"].server_default.arg == RunTrigger.MANUAL
    assert runs.CRAWLED == {RunStatus.RUNNING, RunStatus.FINISHED, RunStatus.FAILED}


def test_every_status_and_trigger_is_stored_and_read_back(archive_engine: Engine) -> None:
    when = datetime(2026, 3, 1, tzinfo=UTC)
    for i, status in enumerate(RunStatus):
        for trigger in RunTrigger:
            runs.record_run(archive_engine, "cbg", status, FinishReason.MISFIRE, when + timedelta(minutes=i),
                            {"n": i}, trigger=trigger)
    back = runs.recent_runs(archive_engine, "cbg", 100)
    assert {(r.status, r.trigger) for r in back} == {(s, t) for s in RunStatus for t in RunTrigger}
    assert all(type(r.status) is RunStatus and type(r.trigger) is RunTrigger for r in back)
    assert [r.started_at for r in back] == sorted((r.started_at for r in back), reverse=True)  # newest first
    assert runs.last_started(archive_engine, "cbg") == when + timedelta(minutes=2)  # failed; not skipped/missed
    assert runs.sites_with_runs(archive_engine) == ["cbg"]


# -- a run's life --------------------------------------------------------------------------------------------

def test_a_run_is_started_finished_and_read_back(archive_engine: Engine) -> None:
    run_id = runs.start_run(archive_engine, "cq_people", RunTrigger.SCHEDULED, pid=321, log_path="/tmp/x.log")
    started = runs.get_run(archive_engine, run_id)
    assert started is not None and (started.status, started.trigger, started.pid) == ("running", "scheduled", 321)
    assert started.finished_at is None and started.pages_fetched == 0 and started.stats == {}
    scrapy_stats = {"response_received_count": 7, "cqnews/store/new": 3, "cqnews/store/unchanged": 1,
                    "cqnews/store/not_modified": 2, "cqnews/fetch/errors": 1, "cqnews/item_errors": 1}
    counters = stats.run_counters(scrapy_stats)
    assert counters == {"pages_fetched": 7, "articles_new": 3, "articles_updated": 0, "articles_unchanged": 3,
                        "articles_duplicate": 0, "articles_rejected": 0, "errors": 2}
    assert runs.finish_run(archive_engine, run_id, RunStatus.FINISHED, "finished", counters, scrapy_stats)
    done = runs.get_run(archive_engine, run_id)
    assert done is not None and (done.status, done.finish_reason) == ("finished", "finished")
    assert done.articles_unchanged == 3
    assert done.finished_at is not None and done.stats == scrapy_stats
    assert not runs.finish_run(archive_engine, run_id + 99, RunStatus.FINISHED, "finished", counters, {})
    with pytest.raises(ValueError, match="not crawl_runs counters"):
        runs.finish_run(archive_engine, run_id, RunStatus.FINISHED, "finished", {"pages": 1}, {})


def test_a_run_left_running_by_its_process_is_failed_and_its_lock_given_back(archive_engine: Engine) -> None:
    since = datetime.now(UTC)
    assert runs.fail_if_running(archive_engine, "cbg", 999, since, FinishReason.KILLED) is None  # none recorded
    run_id = runs.start_run(archive_engine, "cbg", RunTrigger.SCHEDULED, pid=999)
    assert runs.acquire(archive_engine, "cbg", "h", 60, run_id)
    found = runs.fail_if_running(archive_engine, "cbg", 999, since, FinishReason.TIMEOUT)
    assert found is not None and found.status == RunStatus.RUNNING  # as it was found
    after = runs.get_run(archive_engine, run_id)
    assert after is not None and (after.status, after.finish_reason) == ("failed", "timeout")
    assert runs.current(archive_engine, "cbg") is None
    again = runs.fail_if_running(archive_engine, "cbg", 999, since, FinishReason.KILLED)
    assert again is not None and (again.status, again.finish_reason) == ("failed", "timeout")  # left alone


def test_mark_no_work_only_changes_a_finished_run_that_fetched_nothing(archive_engine: Engine) -> None:
    idle = runs.start_run(archive_engine, "cbg", RunTrigger.MANUAL, pid=1)
    busy = runs.start_run(archive_engine, "cbg", RunTrigger.MANUAL, pid=2)
    runs.finish_run(archive_engine, idle, RunStatus.FINISHED, "finished", {"pages_fetched": 0}, {})
    runs.finish_run(archive_engine, busy, RunStatus.FINISHED, "finished", {"pages_fetched": 4}, {})
    assert runs.mark_no_work(archive_engine, idle) and not runs.mark_no_work(archive_engine, busy)
    marked = runs.get_run(archive_engine, idle)
    assert marked is not None and (marked.status, marked.finish_reason) == ("skipped", "no_work_left")


def test_how_a_closed_crawl_is_recorded() -> None:
    assert run_status("locked") == RunStatus.SKIPPED
    assert run_status("finished") == run_status("closespider_pagecount") == run_status("closespider_itemcount") \
        == RunStatus.FINISHED
    assert run_status("shutdown") == run_status("lock_lost") == run_status("closespider_timeout") == RunStatus.FAILED


# -- a worker that found no work ------------------------------------------------------------------------------

def _worker(status: RunStatus = RunStatus.FINISHED, reason: str = "finished", pages: int = 0, errors: int = 0,
            **extra: object) -> RunRecord:
    return RunRecord(site="cbg", started_at=datetime.now(UTC), status=status, finish_reason=reason,
                     pages_fetched=pages, errors=errors, stats={stats.DISTRIBUTED_CRAWL: "c1", **extra})


def test_a_worker_that_found_no_work_is_told_from_a_dead_site() -> None:
    assert found_no_work(_worker())  # the coordinator, or a worker not yet marked
    assert found_no_work(_worker(RunStatus.SKIPPED, "no_work_left"))  # marked by the distributed scheduler
    assert not found_no_work(_worker(errors=3))  # took requests and could fetch none: a dead site
    assert not found_no_work(_worker(**{stats.DISTRIBUTED_DEQUEUED: 4}))
    assert not found_no_work(_worker(RunStatus.FAILED, "shutdown"))
    assert not found_no_work(_worker(RunStatus.SKIPPED, "locked"))
    plain = RunRecord(site="cbg", started_at=datetime.now(UTC), status=RunStatus.FINISHED, finish_reason="finished")
    assert not found_no_work(plain)  # not distributed: a crawl that fetched nothing


# -- stats keys ----------------------------------------------------------------------------------------------

def _keys() -> set[str]:
    return {v for k, v in vars(stats).items() if k.isupper() and isinstance(v, str)}


def test_no_module_but_stats_spells_a_cqnews_stats_key() -> None:
    key = re.compile(r"^cqnews/[a-z_]+(/|$)")
    offenders = []
    for path in _modules("stats.py"):
        tree = ast.parse(path.read_text("utf-8"))
        offenders += [f"{path.relative_to(PACKAGE)}:{line}: {text!r}" for line, text in _code_strings(tree)
                      if key.match(text)]
    assert offenders == []


def test_stats_keys_keep_their_stored_spelling() -> None:
    assert stats.http_error(404) == "cqnews/fetch/http_error/404"
    assert stats.fetch_failed("TCPTimedOutError") == "cqnews/fetch/failed/TCPTimedOutError"
    assert stats.extract_rejected("too_short") == "cqnews/extract/rejected/too_short"
    assert stats.extract_part_rejected("empty") == "cqnews/extract/part_rejected/empty"
    assert stats.store_outcome("new_version") == stats.STORE_NEW_VERSION == "cqnews/store/new_version"
    assert stats.item_error("IntegrityError") == "cqnews/item_errors/IntegrityError"
    assert stats.distributed_event("dequeued") == stats.DISTRIBUTED_DEQUEUED == "cqnews/distributed/dequeued"
    assert (stats.CRAWL_RUN_ID, stats.DISTRIBUTED_CRAWL, stats.INCREMENTAL_NOT_DUE, stats.LOCK_HELD_BY_RUN) == (
        "cqnews/crawl_run_id", "cqnews/distributed/crawl", "cqnews/incremental/not_due", "cqnews/lock/held_by_run")
    scrapys = (stats.REQUESTS, stats.RETRIES, stats.SPIDER_EXCEPTIONS)  # Scrapy's own keys that cqnews reads
    assert all(k.startswith(stats.PREFIX) or "/" not in k or k in scrapys for k in _keys())


def test_the_keys_the_readme_names_exist() -> None:
    named = re.findall(r"`(cqnews/[a-z_/]+?)(/\.\.\.)?`", README)
    assert named
    for key, open_ended in named:
        assert (any(k.startswith(key + "/") for k in _keys()) if open_ended else key in _keys()), key


def test_a_lock_keeps_when_its_holder_took_it_and_records_its_heartbeats_and_info(archive_engine: Engine) -> None:
    holder = runs.new_holder()
    assert runs.acquire(archive_engine, runs.DAEMON, holder, 60, info={"config": "a.toml"})
    first = runs.current(archive_engine, runs.DAEMON)
    assert first is not None and first.info == {"config": "a.toml"} and first.pid == os.getpid()
    assert first.host == socket.gethostname() and first.last_seen == first.renewed_at
    assert runs.acquire(archive_engine, runs.DAEMON, holder, 60, info={"config": "a.toml"})  # a renewal
    again = runs.current(archive_engine, runs.DAEMON)
    assert again is not None and again.acquired_at == first.acquired_at  # "since": when it started
    assert again.last_seen > first.last_seen


def test_a_crawl_lock_whose_holder_is_gone_from_this_host_is_given_back_and_its_run_failed(
        archive_engine: Engine) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead_holder = f"{socket.gethostname()}:{gone.pid}:x"
    run_id = runs.start_run(archive_engine, "cbg", RunTrigger.SCHEDULED, pid=gone.pid)
    assert runs.acquire(archive_engine, "cbg", dead_holder, 300, run_id)  # a lease far from over
    assert runs.acquire(archive_engine, "cq_people", runs.new_holder(), 300)  # ours: alive
    assert runs.acquire(archive_engine, "cqcb", f"elsewhere:{gone.pid}:x", 300)  # another host: not judged here
    assert runs.acquire(archive_engine, runs.DAEMON, f"{socket.gethostname()}:{gone.pid}:y", 300)
    assert runs.release_dead_holders(archive_engine) == [run_id]
    after = runs.get_run(archive_engine, run_id)
    assert after is not None and (after.status, after.finish_reason) == ("failed", "holder_died")
    assert runs.current(archive_engine, "cbg") is None
    assert runs.current(archive_engine, "cq_people") and runs.current(archive_engine, "cqcb")
    assert runs.current(archive_engine, runs.DAEMON)  # kept: status says when the dead daemon was last seen
    assert runs.release_dead_holders(archive_engine) == []


def test_a_missed_slot_is_found_once_recorded(archive_engine: Engine) -> None:
    due = datetime.now(UTC) - timedelta(hours=2)
    assert not runs.missed_recorded(archive_engine, "cbg", due)
    runs.record_run(archive_engine, "cbg", RunStatus.MISSED, FinishReason.MISFIRE, due)
    assert runs.missed_recorded(archive_engine, "cbg", due)
    assert not runs.missed_recorded(archive_engine, "cbg", due + timedelta(hours=1))
    assert not runs.missed_recorded(archive_engine, "cq_people", due)

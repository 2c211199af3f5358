"""The daemon as a user runs it: a real process on short schedules, real crawls of the demo sites, real signals."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from cqnews.commands import cqnews_command
from cqnews.db.models import Article, ArticleVersion, CrawlLock, CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo.server import FixtureSite
from cqnews.runner import project_settings
from cqnews.scheduler import ScheduleError, crawl_command, load_config, parse_duration, parse_schedule

from helpers import alive, assert_one_line_error, command_line, copy_site, cqnews, descendants, runs, webhook_receiver

SITES = ["cbg", "cq_people"]


# -- configuration ---------------------------------------------------------------------------------------


def test_durations_and_schedules() -> None:
    assert [parse_duration(t) for t in ("90", "90s", "45m", "3h", "1d", "1h30m")] == [
        90, 90, 2700, 10800, 86400, 5400]
    tz = ZoneInfo("Asia/Shanghai")
    cron, text = parse_schedule("cron: 7 */3 * * *", tz)
    assert isinstance(cron, CronTrigger) and text == "cron 7 */3 * * * (Asia/Shanghai)"
    fire = cron.get_next_fire_time(None, datetime(2026, 5, 1, 0, 0, tzinfo=tz))
    assert fire == datetime(2026, 5, 1, 0, 7, tzinfo=tz)
    every, _ = parse_schedule("every: 3h", tz)
    assert isinstance(every, IntervalTrigger) and every.interval == timedelta(hours=3)
    for bad in ("hourly", "cron: 61 * * * *", "every: soon", "every: 0s"):
        with pytest.raises(ScheduleError):
            parse_schedule(bad, tz)


def _config(tmp_path: Path, text: str, **overrides: str) -> object:
    path = tmp_path / "cqnews.toml"
    path.write_text(text, "utf-8")
    return load_config(project_settings(dict(overrides)), SITES, str(path))


def test_config_file_env_and_defaults(tmp_path: Path) -> None:
    config = _config(tmp_path, 'timezone = "Europe/Paris"\nmisfire_grace_time = 120\n'
                               '[sites.cbg]\nevery = "45m"\nbase_url = "http://127.0.0.1:9"\ntimeout = 60\n'
                               'settings = { DOWNLOAD_DELAY = 2 }\n', CQNEWS_SCHEDULE="cron: 0 4 * * *")
    assert config.timezone.key == "Europe/Paris"  # type: ignore[attr-defined]
    cbg, people = config.sites["cbg"], config.sites["cq_people"]  # type: ignore[attr-defined]
    assert (cbg.description, cbg.base_url, cbg.timeout, cbg.misfire_grace_time, cbg.settings) == (
        "every 45m", "http://127.0.0.1:9", 60, 120, {"DOWNLOAD_DELAY": "2"})
    assert people.description == "cron 0 4 * * * (Europe/Paris)"  # the default schedule, for unlisted sites
    # the environment (CQNEWS_TIMEZONE) beats the file; "off" schedules only the listed sites
    config = _config(tmp_path, 'timezone = "Europe/Paris"\n[sites.cbg]\ncron = "0 4 * * *"\n',
                     CQNEWS_TIMEZONE="UTC", CQNEWS_SCHEDULE="off")
    assert list(config.sites) == ["cbg"] and config.timezone.key == "UTC"  # type: ignore[attr-defined]
    for bad in ('[sites.nosuch]\nevery = "1h"\n', '[sites.cbg]\nevery = "1h"\ncron = "0 * * * *"\n',
                '[sites.cbg]\nevry = "1h"\n', 'timezone = "Mars/Olympus"\n', "sites = [", "colour = 1\n"):
        with pytest.raises(ScheduleError):
            _config(tmp_path, bad)
    with pytest.raises(ScheduleError, match="not found"):
        load_config(project_settings(), SITES, str(tmp_path / "missing.toml"))


def test_default_schedule_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no cqnews.toml here: that is fine, the default applies
    config = load_config(project_settings({"CQNEWS_TIMEZONE": ""}), SITES)
    assert set(config.sites) == set(SITES) and config.timezone.key == "Asia/Shanghai"
    assert config.sites["cbg"].misfire_grace_time == 3600 and config.source.startswith("defaults")


def test_distributed_sites_need_a_redis_url(tmp_path: Path) -> None:
    text = ('default = "off"\n[sites.cbg]\nevery = "1h"\ndistributed = true\n'
            '[sites.cq_people]\nevery = "2h"\ndistributed = false\n')
    config = _config(tmp_path, text, CQNEWS_REDIS_URL="redis://127.0.0.1:6379/3")
    assert config.sites["cbg"].distributed and not config.sites["cq_people"].distributed  # type: ignore[attr-defined]
    with pytest.raises(ScheduleError, match=r"\[sites.cbg\] distributed = true needs a Redis server: set CQNEWS_REDIS"):
        _config(tmp_path, text, CQNEWS_REDIS_URL="")
    with pytest.raises(ScheduleError, match=r"'http://:\*\*\*@127.0.0.1:6379/0' is not a Redis URL"):
        _config(tmp_path, text, CQNEWS_REDIS_URL="http://:secret@127.0.0.1:6379/0")
    # a site's own settings may name its Redis server: that is the one checked (and the one its crawls use)
    own = ('default = "off"\n[sites.cbg]\nevery = "1h"\ndistributed = true\n'
           'settings = { CQNEWS_REDIS_URL = "unix:///run/redis.sock" }\n')
    assert _config(tmp_path, own, CQNEWS_REDIS_URL="").sites["cbg"].distributed  # type: ignore[attr-defined]
    with pytest.raises(ScheduleError, match="distributed must be true or false"):
        _config(tmp_path, '[sites.cbg]\nevery = "1h"\ndistributed = "yes"\n')
    assert not _config(tmp_path, "", CQNEWS_REDIS_URL="").sites["cbg"].distributed  # type: ignore[attr-defined]


def test_the_daemon_starts_a_distributed_site_as_the_coordinator_of_a_distributed_crawl(tmp_path: Path) -> None:
    config = _config(tmp_path, 'default = "off"\n[sites.cbg]\nevery = "1h"\ndistributed = true\n'
                               'base_url = "http://127.0.0.1:9"\nsettings = { DOWNLOAD_DELAY = 2 }\n'
                               '[sites.cq_people]\nevery = "1h"\n')
    log = tmp_path / "run.log"
    cbg = crawl_command("cbg", config.sites["cbg"], ["CQNEWS_MAX_PAGES=50"], log)  # type: ignore[attr-defined]
    assert cbg[:4] == [sys.executable, "-P", "-m", "cqnews"] and cbg[4:] == [
        "crawl", "cbg", "--verbose", "--no-config", "--distributed", "-s", "CQNEWS_RUN_TRIGGER=scheduled",
        "-s", f"CQNEWS_RUN_LOG_PATH={log}", "--base-url", "http://127.0.0.1:9",
        "-s", "CQNEWS_MAX_PAGES=50", "-s", "DOWNLOAD_DELAY=2"]
    people = crawl_command("cq_people", config.sites["cq_people"], [], log)  # type: ignore[attr-defined]
    assert people[4:6] == ["crawl", "cq_people"] and "--distributed" not in people


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_daemon_refuses_a_distributed_site_without_redis_in_one_line(archive_url: str, tmp_path: Path) -> None:
    config = tmp_path / "cqnews.toml"
    config.write_text('default = "off"\n[sites.cbg]\nevery = "1h"\ndistributed = true\n', "utf-8")
    result = subprocess.run(cqnews_command("daemon"), cwd=tmp_path, capture_output=True, text=True,
                            env=_env(archive_url, config) | {"CQNEWS_REDIS_URL": ""}, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"cqnews: {config}: [sites.cbg] distributed = true needs a Redis server: set CQNEWS_REDIS_URL "
        "(e.g. redis://redishost:6379/0), the one the site's workers use"]


def test_daemon_check_validates_without_starting(archive_url: str, tmp_path: Path) -> None:
    """`cqnews daemon --check`: what a start would refuse is refused the same way (exit 2, one line), a good
    file is listed and nothing starts (no daemon lock is taken)."""
    from cqnews.db import runs as run_rows

    good = _write(tmp_path / "good.toml", 'default = "off"\n[sites.cbg]\nevery = "1h"\n'
                                          '[sites.cq_people]\ncron = "0 4 * * *"\n')
    checked = cqnews(["daemon", "--check", "--config", str(good)], archive_url, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [f"{good}: ok; a daemon would run 2 site(s):", "  cbg: every 1h",
                                           "  cq_people: cron 0 4 * * * (Asia/Shanghai)"], checked.stdout
    assert run_rows.current(make_engine(archive_url), run_rows.DAEMON) is None  # nothing started
    broken = _write(tmp_path / "broken.toml", '[sites.cbg]\nevery = "soon"\n')
    line = assert_one_line_error(cqnews(["daemon", "--check", "--config", str(broken)], archive_url, tmp_path), 2)
    assert "not a duration: 'soon'" in line, line
    nothing = _write(tmp_path / "off.toml", 'default = "off"\n')
    assert "no site is scheduled" in assert_one_line_error(
        cqnews(["daemon", "--check", "--config", str(nothing)], archive_url, tmp_path), 2)


# -- the daemon process ------------------------------------------------------------------------------------


def _env(database_url: str, config: Path) -> dict[str, str]:
    return dict(os.environ, CQNEWS_DATABASE_URL=database_url, CQNEWS_SCHEDULE_FILE=str(config),
                CQNEWS_DOWNLOAD_DELAY="0", CQNEWS_AUTOTHROTTLE="0", CQNEWS_RETRY_TIMES="0",
                CQNEWS_LOCK_LEASE_SECONDS="5", CQNEWS_LOCK_RENEW_SECONDS="1", CQNEWS_STOP_TIMEOUT="20",
                CQNEWS_LOG_DIR=str(config.parent / "logs"))


@contextmanager
def daemon(database_url: str, config: Path, env: dict[str, str] | None = None,
           log_name: str = "daemon.log") -> Iterator[subprocess.Popen[str]]:
    log = (config.parent / log_name).open("w")
    process = subprocess.Popen(cqnews_command("daemon"), cwd=config.parent, text=True,
                               env=_env(database_url, config) | (env or {}), stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def wait_for(predicate: Callable[[], object], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{log.read_text()[-4000:]}" if log else ""))
        time.sleep(0.2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_manual_crawl_follows_the_sites_entry_in_the_config_file_under_its_flags(
        archive_url: str, tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    with FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        # Not scheduled (enabled = false), yet the entry says where the site is and how to crawl it.
        (tmp_path / "cqnews.toml").write_text(
            f'default = "off"\n[sites.cbg]\nenabled = false\nbase_url = "{cbg.base_url}"\n'
            'settings = { CLOSESPIDER_PAGECOUNT = 2 }\n', "utf-8")
        by_file = cqnews(["crawl", "cbg"], archive_url, tmp_path)
        assert "crawling cbg as cqnews.toml says" in by_file.stderr, by_file.stderr[-3000:]
        first = runs(archive_url)[-1]
        assert (first.finish_reason, first.errors) == ("closespider_pagecount", 0), by_file.stderr[-3000:]
        assert 2 <= first.pages_fetched < 5  # from the fixture server, cut short by the file's setting

        other = tmp_path / "conf" / "other.toml"
        other.parent.mkdir()
        other.write_text(f'[sites.cbg]\nevery = "1h"\nbase_url = "{closed}"\n'
                         'settings = { CLOSESPIDER_PAGECOUNT = 2 }\n', "utf-8")
        flags = cqnews(["crawl", "cbg", "--config", str(other), "--base-url", cbg.base_url,
                        "-s", "CLOSESPIDER_PAGECOUNT=0"], archive_url, tmp_path)  # flags win over the file
        assert flags.returncode == 0, flags.stderr[-3000:]
        second = runs(archive_url)[-1]
        assert second.finish_reason == "finished" and second.pages_fetched > first.pages_fetched
        ignored = cqnews(["crawl", "cbg", "--no-config", "--base-url", cbg.base_url], archive_url, tmp_path)
        assert "as cqnews.toml says" not in ignored.stderr and runs(archive_url)[-1].finish_reason == "finished"

    missing = cqnews(["crawl", "cbg", "--config", str(tmp_path / "nosuch.toml")], archive_url, tmp_path)
    assert "schedule file not found" in assert_one_line_error(missing, 2)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_daemon_refuses_an_archive_not_at_head(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "cqnews.toml"
    config.write_text('[sites.cbg]\nevery = "1s"\n', "utf-8")
    result = subprocess.run(cqnews_command("daemon"), cwd=tmp_path, env=_env(database_url, config),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "cqnews db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert "cqnews daemon started" not in result.stderr


def test_daemon_runs_schedules_refuses_an_overlapping_manual_crawl_and_stops_cleanly(
        archive_url: str, tmp_path: Path) -> None:
    with FixtureSite(copy_site("cq_people", tmp_path)) as people, FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        config = tmp_path / "cqnews.toml"
        config.write_text(
            'default = "off"\nmisfire_grace_time = 30\n'
            f'[sites.cq_people]\nevery = "4s"\nbase_url = "{people.base_url}"\n'
            f'[sites.cbg]\nevery = "5s"\nbase_url = "{cbg.base_url}"\n'
            'settings = { DOWNLOAD_DELAY = "2" }\n', "utf-8")  # cbg crawls slowly: we crawl it by hand meanwhile
        log = tmp_path / "daemon.log"

        def scheduled(site: str, status: str) -> list[CrawlRun]:
            return [r for r in runs(archive_url) if (r.site, r.trigger, r.status) == (site, "scheduled", status)]

        with daemon(archive_url, config) as process:
            wait_for(lambda: scheduled("cbg", "running"), 40, "a scheduled cbg crawl", log)
            manual = cqnews(["crawl", "cbg", "--base-url", cbg.base_url], archive_url, tmp_path,
                            env={"CQNEWS_LOCK_LEASE_SECONDS": "5"})
            assert manual.returncode == 1
            assert "crawl refused: another crawl of this site is running" in manual.stderr
            wait_for(lambda: len(scheduled("cq_people", "finished")) >= 2, 60, "two scheduled cq_people runs", log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-4000:]
        text = log.read_text()
        assert "received SIGTERM" in text and "cqnews daemon stopped" in text and "Traceback" not in text

    all_runs = runs(archive_url)
    refused = [r for r in all_runs if r.trigger == "manual"]
    assert [(r.site, r.status, r.finish_reason) for r in refused] == [("cbg", "skipped", "locked")]
    cbg_scheduled = {r.id for r in all_runs if (r.site, r.trigger) == ("cbg", "scheduled")}
    assert refused[0].stats["cqnews/lock/held_by_run"] in cbg_scheduled  # refused by the scheduled crawl
    people_runs = scheduled("cq_people", "finished")
    assert len(people_runs) >= 2 and people_runs[0].articles_new > 0
    for r in people_runs:  # each scheduled run has its own log file, with Scrapy's output
        assert r.pid and r.log_path and Path(r.log_path).is_file() and "Spider closed" in Path(r.log_path).read_text()
    # a consistent archive: nothing left running or locked, every run ended, versions counted right
    assert all(r.status in ("finished", "failed", "skipped", "missed") and r.finished_at for r in all_runs)
    assert all(r.finish_reason == "shutdown" for r in all_runs if r.status == "failed")
    engine = make_engine(archive_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(CrawlLock)).all() == []
        counts = {article_id: n for article_id, n in session.execute(
            select(ArticleVersion.article_id, func.count()).group_by(ArticleVersion.article_id))}
        articles = session.scalars(select(Article)).all()
        assert articles and all(counts.get(a.id) == a.version_count for a in articles)
    engine.dispose()

    status = cqnews(["status", "--format", "json"], archive_url, tmp_path,
                    env={"CQNEWS_SCHEDULE_FILE": str(config)})
    assert "daemon" in status.stdout and '"daemon": null' in status.stdout  # stopped: its lock is gone


def test_daemon_catches_up_a_run_due_while_it_was_down_or_records_it_missed(
        archive_url: str, tmp_path: Path) -> None:
    engine = make_engine(archive_url)
    now = datetime.now(UTC)
    with make_sessionmaker(engine).begin() as session:
        # cq_people was last crawled 3 hours ago, hourly with 60 s of grace: that run is missed.
        session.add(CrawlRun(site="cq_people", started_at=now - timedelta(hours=3), status="finished",
                             finished_at=now - timedelta(hours=3), finish_reason="finished", trigger="scheduled"))
        # cbg is hourly with an hour of grace, last crawled 61 minutes ago: it runs at once.
        session.add(CrawlRun(site="cbg", started_at=now - timedelta(minutes=61), status="finished",
                             finished_at=now - timedelta(minutes=60), finish_reason="finished", trigger="scheduled"))
    engine.dispose()
    with FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        config = tmp_path / "cqnews.toml"
        # cq_people points at a closed local port: should it ever be crawled here, it must not reach the internet.
        config.write_text('default = "off"\n[sites.cq_people]\nevery = "1h"\nmisfire_grace_time = 60\n'
                          'base_url = "http://127.0.0.1:9"\n'
                          f'[sites.cbg]\nevery = "1h"\nmisfire_grace_time = 3600\nbase_url = "{cbg.base_url}"\n',
                          "utf-8")
        log = tmp_path / "daemon.log"
        with daemon(archive_url, config) as process:
            wait_for(lambda: any(r.site == "cbg" and r.status == "finished" and r.started_at > now
                                 for r in runs(archive_url)), 60, "the catch-up crawl of cbg", log)
            process.send_signal(signal.SIGINT)
            assert process.wait(60) == 0, log.read_text()[-4000:]
    missed = [r for r in runs(archive_url) if r.status == "missed"]
    assert [(r.site, r.finish_reason, r.trigger) for r in missed] == [("cq_people", "daemon_not_running", "scheduled")]
    assert abs((missed[0].started_at - (now - timedelta(hours=2))).total_seconds()) < 5  # when it was due
    assert not [r for r in runs(archive_url) if r.site == "cq_people" and r.started_at > now]


def _crawled_61_minutes_ago(archive_url: str, site: str) -> None:
    """A good crawl of ``site`` 61 minutes ago: an hourly schedule runs the next one as soon as the daemon starts."""
    engine = make_engine(archive_url)
    with make_sessionmaker(engine).begin() as session:
        before = datetime.now(UTC) - timedelta(minutes=61)
        session.add(CrawlRun(site=site, started_at=before, status="finished", finished_at=before,
                             finish_reason="finished", trigger="scheduled", pages_fetched=20, articles_new=10))
    engine.dispose()


def test_a_killed_daemon_is_seen_dead_at_once_and_its_orphaned_crawl_is_closed_when_it_restarts(
        archive_url: str, tmp_path: Path) -> None:
    """kill -9 of the daemon and of its crawl: `status` says so at once (exit 1), from another folder, judging
    against the daemon's own schedules; a restarted daemon fails the run and frees the lock without waiting for
    the 300 s lease."""
    elsewhere = tmp_path / "conf"
    elsewhere.mkdir()
    _crawled_61_minutes_ago(archive_url, "cbg")
    with FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        config = elsewhere / "other.toml"
        config.write_text(f'default = "off"\n[sites.cbg]\nevery = "1h"\nbase_url = "{cbg.base_url}"\n'
                          'settings = { DOWNLOAD_DELAY = "1" }\n', "utf-8")  # slow: still running when killed
        long_lease = {"CQNEWS_LOCK_LEASE_SECONDS": "300"}  # only a dead pid can explain what follows
        log = elsewhere / "daemon.log"

        def running() -> list[CrawlRun]:
            return [r for r in runs(archive_url) if r.status == "running" and r.pid]

        with daemon(archive_url, config, long_lease) as process:
            wait_for(running, 60, "a scheduled crawl", log)
            alive = cqnews(["status"], archive_url, tmp_path)  # ./cqnews.toml absent: defaults would list all
            assert alive.stdout.startswith(f"daemon: running (pid {process.pid} on "), alive.stdout
            assert f"schedules: {config} (the daemon's)" in alive.stdout and "cq_people" not in alive.stdout
            assert alive.returncode == 0, alive.stdout + alive.stderr
            crawl_pid = running()[0].pid
            process.kill()
            process.wait()
            os.kill(crawl_pid, signal.SIGKILL)

            dead = cqnews(["status"], archive_url, tmp_path)
            assert dead.returncode == 1
            first = dead.stdout.splitlines()[0]
            assert first.startswith("daemon: not running (last seen ") and f"pid {process.pid} gone" in first
            assert first in dead.stderr
            report = json.loads(cqnews(["status", "--format", "json"], archive_url, tmp_path).stdout)
            assert report["daemon"]["running"] is False and report["daemon"]["pid"] == process.pid

        restart_log = "restarted.log"
        with daemon(archive_url, config, long_lease, restart_log) as again:
            wait_for(lambda: not running(), 60, "the orphaned run to be failed", elsewhere / restart_log)
            engine = make_engine(archive_url)
            with make_sessionmaker(engine)() as session:
                assert [lock.site for lock in session.scalars(select(CrawlLock))] == ["__daemon__"]
            engine.dispose()
            again.send_signal(signal.SIGTERM)
            assert again.wait(60) == 0
    killed = [r for r in runs(archive_url) if r.pid == crawl_pid]
    assert [(r.status, r.finish_reason) for r in killed] == [("failed", "holder_died")]


def test_status_fails_while_scheduled_sites_have_no_live_daemon_even_if_none_ever_ran(
        archive_url: str, tmp_path: Path) -> None:
    from cqnews.db import runs as run_rows
    from cqnews.scheduler import config_record

    config = tmp_path / "cqnews.toml"
    config.write_text('default = "off"\n[sites.cbg]\nevery = "1h"\n[sites.cq_people]\nevery = "1h"\n', "utf-8")
    never = cqnews(["status", "--config", str(config)], archive_url, tmp_path)
    assert never.returncode == 1 and never.stdout.startswith("daemon: not running\n"), never.stdout
    assert "cqnews: no running daemon crawls the scheduled site(s) cbg, cq_people" in never.stderr, never.stderr
    report = cqnews(["status", "--config", str(config), "--format", "json"], archive_url, tmp_path)
    assert report.returncode == 1 and json.loads(report.stdout)["unattended"] == ["cbg", "cq_people"]

    nothing = tmp_path / "off.toml"
    nothing.write_text('default = "off"\n', "utf-8")
    assert cqnews(["status", "--config", str(nothing)], archive_url, tmp_path).returncode == 0  # nothing to run
    # No schedule file and no daemon ever on this archive: the built-in default is what a daemon *would* run;
    # an archive crawled by hand (`cqnews demo`, `cqnews crawl`) is not neglected.
    elsewhere = tmp_path / "elsewhere"  # a folder without cqnews.toml
    elsewhere.mkdir()
    by_hand = cqnews(["status", "--format", "json"], archive_url, elsewhere)
    assert json.loads(by_hand.stdout)["unattended"] == [], by_hand.stdout  # (its sites are still "never crawled")
    # Once a daemon ran slots here (even on the default schedule), its absence is an incident again.
    engine = make_engine(archive_url)
    run_rows.record_run(engine, "cbg", run_rows.RunStatus.MISSED, "daemon_not_running", datetime.now(UTC))
    abandoned = cqnews(["status", "--format", "json"], archive_url, elsewhere)
    assert abandoned.returncode == 1 and "cbg" in json.loads(abandoned.stdout)["unattended"], abandoned.stdout

    # A live holder of the daemon lock (this process) that schedules cbg only: cq_people is still unattended.
    held = load_config(project_settings({}), SITES, str(_write(tmp_path / "cbg.toml", 'default = "off"\n'
                                                                '[sites.cbg]\nevery = "1h"\n')))
    assert run_rows.acquire(engine, run_rows.DAEMON, run_rows.new_holder(), 300, info=config_record(held))
    engine.dispose()
    partly = json.loads(cqnews(["status", "--config", str(config), "--format", "json"], archive_url, tmp_path).stdout)
    assert partly["daemon"]["running"] is True and partly["unattended"] == ["cq_people"]
    own = json.loads(cqnews(["status", "--format", "json"], archive_url, tmp_path).stdout)  # the daemon's schedules
    assert own["unattended"] == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_sighup_puts_a_changed_schedule_in_force_and_a_broken_file_changes_nothing(
        archive_url: str, tmp_path: Path) -> None:
    with FixtureSite(copy_site("cq_people", tmp_path)) as people:
        config = tmp_path / "cqnews.toml"
        config.write_text('default = "off"\n[sites.cbg]\nevery = "1d"\nbase_url = "http://127.0.0.1:9"\n', "utf-8")
        log = tmp_path / "daemon.log"

        def people_runs() -> list[CrawlRun]:
            return [r for r in runs(archive_url) if r.site == "cq_people" and r.status == "finished"]

        with daemon(archive_url, config) as process:
            wait_for(lambda: "cqnews daemon started" in log.read_text(), 60, "the daemon to start", log)
            config.write_text(f'default = "off"\n[sites.cq_people]\nevery = "3s"\nbase_url = "{people.base_url}"\n',
                              "utf-8")
            process.send_signal(signal.SIGHUP)
            wait_for(lambda: len(people_runs()) >= 1, 90, "a crawl on the reloaded schedule", log)
            status = cqnews(["status"], archive_url, tmp_path, env={"CQNEWS_SCHEDULE_FILE": ""})
            assert "every 3s" in status.stdout and "cbg" not in status.stdout.split("\n\n")[1], status.stdout

            config.write_text('default = "off"\n[sites.cq_people]\nevery = "soon"\n', "utf-8")
            process.send_signal(signal.SIGHUP)
            wait_for(lambda: "schedules not reloaded" in log.read_text(), 60, "the refusal", log)
            done = len(people_runs())
            wait_for(lambda: len(people_runs()) > done, 90, "crawls still on the schedule in force", log)
            assert process.poll() is None  # SIGHUP never stopped it
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-4000:]
    text = log.read_text()
    refusal = [line for line in text.splitlines() if "schedules not reloaded" in line]
    assert len(refusal) == 1 and "not a duration: 'soon'" in refusal[0]
    assert "schedules reloaded: 1 site(s)" in text and "Traceback" not in text
    stamps = [line.split()[0] for line in text.splitlines() if line[:2] == "20"]  # one zone in the whole log
    assert stamps and all(stamp.endswith("+08:00") for stamp in stamps) and "+00:00" not in text
    assert not [r for r in runs(archive_url) if r.site == "cbg"]  # unscheduled before it was ever due


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_crawl_past_its_timeout_is_killed_with_every_process_it_started(archive_url: str, tmp_path: Path) -> None:
    _crawled_61_minutes_ago(archive_url, "cq_people")
    with FixtureSite(copy_site("cq_people", tmp_path)) as people:
        config = tmp_path / "cqnews.toml"
        config.write_text(f'default = "off"\n[sites.cq_people]\nevery = "1h"\ntimeout = 8\n'
                          f'base_url = "{people.base_url}"\n'
                          'settings = { DOWNLOAD_DELAY = "1", CQNEWS_EXTRACT_PROCESSES = "2" }\n', "utf-8")
        log = tmp_path / "daemon.log"
        with daemon(archive_url, config, {"CQNEWS_STOP_TIMEOUT": "1"}) as process:
            wait_for(lambda: "still running after 8s: stopping it" in log.read_text(), 90, "the timeout", log)
            wait_for(lambda: [r for r in runs(archive_url) if r.status == "failed"], 60, "the run to end", log)
            left = {pid: command_line(pid) for pid in descendants(process.pid) if alive(pid)}
            assert not left, left
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-4000:]
    killed = [r for r in runs(archive_url) if r.site == "cq_people" and r.status != "finished"]
    assert [r.status for r in killed] == ["failed"] and killed[0].finish_reason in ("timeout", "shutdown")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_operators_are_notified_once_per_transition_and_steer_a_running_daemon_within_seconds(
        archive_url: str, tmp_path: Path) -> None:
    """One daemon: a dead site notifies `unhealthy` once over several crawls; `pause` stops its scheduled crawls,
    `run` starts a crawl now, its counters grow while it runs, `cancel` stops it; fixed and resumed, the site
    notifies `recovered` once. Each command is obeyed within 10 s."""
    with webhook_receiver() as (hook, received), FixtureSite(copy_site("cq_people", tmp_path)) as people, \
            FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        config = tmp_path / "cqnews.toml"
        schedules = (f'default = "off"\nnotify = ["{hook}"]\n'
                     f'[sites.cbg]\nevery = "1h"\nbase_url = "{cbg.base_url}"\nsettings = {{ DOWNLOAD_DELAY = "1" }}\n'
                     '[sites.cq_people]\nevery = "2s"\nbase_url = "{people}"\n')
        config.write_text(schedules.replace("{people}", "http://127.0.0.1:9"), "utf-8")  # a closed port: dead
        log = tmp_path / "daemon.log"
        quick = {"CQNEWS_CONTROL_SECONDS": "1", "CQNEWS_PROGRESS_SECONDS": "1", "CQNEWS_HEALTH_ZERO_NEW_RUNS": "1000"}

        def of(site: str, *statuses: str) -> list[CrawlRun]:
            return [r for r in runs(archive_url) if r.site == site and r.status in statuses]

        def titles() -> list[str]:
            return [m["title"] for m in received]

        with daemon(archive_url, config, quick) as process:
            wait_for(lambda: len(of("cq_people", "failed", "finished")) >= 3, 90, "three crawls of a dead site", log)
            assert titles() == ["cqnews: cq_people is unhealthy"]
            assert "fetched no page" in received[0]["message"]

            cqnews(["pause", "cq_people"], archive_url, tmp_path)
            paused_at = datetime.now(UTC)
            wait_for(lambda: [r for r in of("cq_people", "skipped") if r.finish_reason == "paused"], 10,
                     "a scheduled crawl skipped as paused", log)

            asked = cqnews(["run", "cbg"], archive_url, tmp_path)
            assert asked.returncode == 0 and "cbg: crawl asked for" in asked.stdout, asked.stderr
            wait_for(lambda: "cbg: a crawl was asked for (cqnews run): starting it now" in log.read_text(), 10,
                     "the daemon to start the crawl asked for", log)
            wait_for(lambda: [r for r in of("cbg", "running") if r.pages_fetched > 0], 60, "live progress", log)
            running = of("cbg", "running")[0]
            assert cqnews(["cancel", str(running.id)], archive_url, tmp_path).returncode == 0
            wait_for(lambda: not of("cbg", "running"), 10, "the cancelled crawl to stop", log)
            assert not [r for r in of("cq_people", "running", "finished", "failed") if r.started_at > paused_at
                        + timedelta(seconds=1)]  # none started while paused

            config.write_text(schedules.replace("{people}", people.base_url), "utf-8")
            process.send_signal(signal.SIGHUP)
            cqnews(["resume", "cq_people"], archive_url, tmp_path)
            wait_for(lambda: len(received) >= 2, 90, "the recovery notice", log)
            wait_for(lambda: len(of("cq_people", "finished")) >= 2, 90, "another good crawl", log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-4000:]
    assert titles() == ["cqnews: cq_people is unhealthy", "cqnews: cq_people recovered"]
    cancelled = [r for r in runs(archive_url) if r.id == running.id][0]
    assert (cancelled.status, cancelled.finish_reason, cancelled.trigger) == ("failed", "cancelled", "scheduled")
    assert 0 < cancelled.pages_fetched and "Traceback" not in log.read_text()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_run_crawls_a_listed_unscheduled_site_and_a_cancel_it_ignores_becomes_a_sigterm(
        archive_url: str, tmp_path: Path) -> None:
    with FixtureSite(copy_site("cbg", tmp_path)) as cbg:
        config = tmp_path / "cqnews.toml"
        # cbg is not scheduled; its crawls write no progress, so they never read a cancel request themselves.
        config.write_text(f'default = "off"\n[sites.cq_people]\nevery = "1d"\n'
                          f'[sites.cbg]\nenabled = false\nbase_url = "{cbg.base_url}"\n'
                          'settings = { DOWNLOAD_DELAY = "2", CQNEWS_PROGRESS_SECONDS = "0" }\n', "utf-8")
        log = tmp_path / "daemon.log"
        quick = {"CQNEWS_CONTROL_SECONDS": "1", "CQNEWS_CANCEL_GRACE_SECONDS": "3"}
        with daemon(archive_url, config, quick) as process:
            wait_for(lambda: "cqnews daemon started" in log.read_text(), 60, "the daemon to start", log)
            unlisted = cqnews(["run", "cq_gov"], archive_url, tmp_path)
            assert "does not list cq_gov" in assert_one_line_error(unlisted, 2)
            asked = cqnews(["run", "cbg"], archive_url, tmp_path)
            assert asked.returncode == 0, asked.stderr
            wait_for(lambda: len(cbg.hits) >= 2 and [r for r in runs(archive_url) if r.site == "cbg"], 30,
                     "the crawl asked for, from the entry's base_url", log)
            run = next(r for r in runs(archive_url) if r.site == "cbg")
            assert run.status == "running" and run.pages_fetched == 0  # no progress written: it cannot see a cancel
            assert cqnews(["cancel", str(run.id)], archive_url, tmp_path).returncode == 0
            wait_for(lambda: [r for r in runs(archive_url) if r.id == run.id and r.status != "running"], 30,
                     "the SIGTERM after the cancel's grace", log)
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, log.read_text()[-4000:]
        served = len(cbg.hits)
    text = log.read_text()
    assert f"cbg: run {run.id} still running 3.0s after it was cancelled: SIGTERM to its processes" in text, text
    ended = next(r for r in runs(archive_url) if r.id == run.id)
    assert (ended.status, ended.finish_reason) == ("failed", "cancelled")
    assert 0 < ended.pages_fetched <= served  # stopped mid-crawl, its counters kept
    assert "Traceback" not in text

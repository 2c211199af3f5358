"""The cqnews daemon: per-site schedules (APScheduler 3.x), each crawl in a process of its own.

Twisted's reactor cannot restart, so every crawl is ``python -P -m cqnews crawl SITE`` in a child process, with a
timeout, its output in a per-run log file, and ``-s CQNEWS_RUN_TRIGGER=scheduled`` so its ``crawl_runs`` row
says who started it. The crawl itself takes the site's lock (extensions.py), so a manual ``cqnews crawl``
and a scheduled one never run together: the later one is recorded ``skipped``.

Schedules come from a TOML file (CQNEWS_SCHEDULE_FILE, default ``cqnews.toml``, optional)::

    timezone = "Asia/Shanghai"        # of cron expressions; CQNEWS_TIMEZONE overrides it
    default = "cron: 7 */3 * * *"     # for sites not listed; "off" schedules only the listed ones
    misfire_grace_time = 3600         # seconds; also per site
    notify = ["json://ops:8080/cqnews", "mailto://user:pass@example.com"]  # apprise URLs (notify.py)
    [sites.cq_people]
    cron = "7 */2 * * *"              # crontab: minute hour day month weekday
    [sites.cbg]
    every = "3h"                      # or an interval: 90s, 45m, 3h, 1d, 1h30m
    base_url = "http://mirror:8080"   # crawl a mirror (passed as --base-url)
    timeout = 1800                    # kill the crawl process after this many seconds
    settings = { DOWNLOAD_DELAY = 1 } # Scrapy settings for this site's crawls (-s KEY=VALUE)
    [sites.cqnews]
    every = "6h"
    distributed = true                # run `crawl SITE --distributed` (the coordinator) instead

A distributed site's scheduled crawl seeds the site's queue in Redis (CQNEWS_REDIS_URL, from the environment,
the daemon's ``-s`` or the site's ``settings``; checked when the file is read) and works it together with the
workers that join it, typically ``cqnews worker SITE --forever`` services on other machines. To the daemon it
is a crawl like any other: one child process, one timeout, one ``crawl_runs`` row (each worker records its own).

Jobs live in APScheduler's memory store and are rebuilt from that file at every start: the file is the
truth about schedules and ``crawl_runs`` the truth about what ran, so there is no pickled job state to go
stale. At start, a run that fell due while the daemon was down is run at once if still within its grace
time, else recorded ``missed``.

Operators steer a running daemon through the archive (db/controls.py, from any host): every
CQNEWS_CONTROL_SECONDS it starts the crawls asked for (``cqnews run SITE``: a site its config lists, scheduled or
not, crawled as its entry says), sends SIGTERM to the process group of a crawl of its own still running
CQNEWS_CANCEL_GRACE_SECONDS after ``cqnews cancel`` asked it to stop, and a paused site's scheduled crawls
are recorded ``skipped`` (``paused``) instead of started. After every crawl it judges the site's health
(health.py) and notifies a change of verdict (notify.py).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cqnews import health
from cqnews.commands import cqnews_command
from cqnews.db import controls, runs
from cqnews.db.runs import FinishReason, RunStatus, RunTrigger
from cqnews.notify import Notifier, NotifyError, check_urls

if TYPE_CHECKING:  # the scheduler itself is the daemon's: `cqnews crawl` reads the schedule file without it
    from apscheduler.events import JobEvent
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Asia/Shanghai"
LOG_TIMEZONE = ZoneInfo("Asia/Shanghai")  # of the times in the log, whatever the schedules' zone
DEFAULT_SCHEDULE_FILE = "cqnews.toml"  # may be missing; any other configured file must exist
SITE_KEYS = {"cron", "every", "base_url", "timeout", "misfire_grace_time", "settings", "enabled", "distributed"}
REDIS_SCHEMES = ("redis", "rediss", "unix")  # what redis.Redis.from_url accepts
TOP_KEYS = {"timezone", "default", "misfire_grace_time", "timeout", "sites", "notify"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def shown(when: datetime) -> str:
    """A time as the daemon's log writes it: one zone (Asia/Shanghai, like every time cqnews shows), its offset."""
    return when.astimezone(LOG_TIMEZONE).isoformat(timespec="seconds")


class ScheduleError(Exception):
    """The schedule configuration cannot be used; the message says where and why."""


class DaemonError(Exception):
    """The daemon cannot start (another daemon runs on this archive...)."""


@dataclass
class SiteSchedule:
    site: str
    trigger: BaseTrigger
    description: str
    misfire_grace_time: int
    timeout: int
    base_url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    distributed: bool = False  # run `crawl SITE --distributed`: seed a Redis queue that workers share
    spec: str = ""  # the schedule as written ("cron: 7 */3 * * *", "every: 3h"), to record it for `status`

    @property
    def interval(self) -> timedelta | None:
        return self.trigger.interval if isinstance(self.trigger, IntervalTrigger) else None

    def due_after(self, last_start: datetime) -> datetime | None:
        """When the crawl after one that started at ``last_start`` is due (intervals count from the last run)."""
        if self.interval is not None:
            return last_start + self.interval
        fire = self.trigger.get_next_fire_time(None, last_start + timedelta(seconds=1))
        return fire.astimezone(UTC) if fire else None

    def next_run(self, last_start: datetime | None, now: datetime) -> datetime | None:
        """The next time the daemon will start this crawl (if it runs)."""
        if self.interval is not None and last_start is not None:
            due = last_start + self.interval
            return due if due > now else now
        fire = self.trigger.get_next_fire_time(None, now)
        return fire.astimezone(UTC) if fire else None


@dataclass(frozen=True)
class SiteEntry:
    """How the config file says to crawl a site it lists, scheduled or not: what a manual ``cqnews crawl SITE``
    and ``cqnews run SITE`` use too."""

    base_url: str | None
    settings: dict[str, str]
    timeout: int
    distributed: bool


@dataclass
class DaemonConfig:
    timezone: ZoneInfo
    sites: dict[str, SiteSchedule]
    source: str
    notify: list[str] = field(default_factory=list)  # apprise URLs (notify.py)
    entries: dict[str, SiteEntry] = field(default_factory=dict)  # every site the file lists, scheduled or not
    # Someone chose these schedules (a schedule file, or a daemon's record), rather than only the built-in default
    # that a daemon would use if one were started: ``status`` holds an archive to chosen schedules only.
    chosen: bool = True


def config_record(config: DaemonConfig) -> dict[str, Any]:
    """The schedules as a daemon loaded them, as JSON-ready data it records in the archive (its lock's info), so
    that ``status``, wherever it runs, judges the sites against what the daemon runs (and ``run SITE`` knows the
    unscheduled sites it can crawl: ``entries``)."""
    source = Path(config.source)
    return {"config": str(source.resolve()) if source.is_file() else config.source,
            "timezone": config.timezone.key, "entries": sorted(config.entries),
            "sites": {site: {"schedule": s.spec, "misfire_grace_time": s.misfire_grace_time, "timeout": s.timeout,
                             "distributed": s.distributed} for site, s in config.sites.items()}}


def config_from_record(record: dict[str, Any]) -> DaemonConfig:
    """A daemon's recorded schedules (:func:`config_record`) as a config again; ScheduleError if unreadable."""
    try:
        tz = ZoneInfo(record["timezone"])
        sites = {}
        for site, spec in record["sites"].items():
            trigger, description = parse_schedule(spec["schedule"], tz)
            sites[site] = SiteSchedule(site=site, trigger=trigger, description=description,
                                       misfire_grace_time=int(spec["misfire_grace_time"]),
                                       timeout=int(spec["timeout"]), distributed=bool(spec["distributed"]),
                                       spec=spec["schedule"])
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as exc:
        raise ScheduleError(f"the daemon's recorded schedules cannot be read: {exc!r}") from None
    return DaemonConfig(timezone=tz, sites=sites, source=f"{record['config']} (the daemon's)")


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``45m``, ``3h``, ``1d``, ``1h30m`` -> seconds."""
    text = str(text).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ScheduleError(f"not a duration: {text!r} (use e.g. 90s, 45m, 3h, 1d)")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def parse_schedule(text: str, tz: ZoneInfo) -> tuple[BaseTrigger, str]:
    """``cron: M H DOM MON DOW`` or ``every: DURATION`` -> an APScheduler trigger and a description."""
    kind, sep, rest = text.partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    if not sep or kind not in ("cron", "every"):
        raise ScheduleError(f"not a schedule: {text!r} (use 'cron: 7 */3 * * *' or 'every: 3h')")
    if kind == "cron":
        try:
            return CronTrigger.from_crontab(rest, timezone=tz), f"cron {rest} ({tz.key})"
        except ValueError as exc:
            raise ScheduleError(f"bad cron expression {rest!r}: {exc}") from None
    seconds = parse_duration(rest)
    if seconds <= 0:
        raise ScheduleError(f"an interval must be positive: {text!r}")
    return IntervalTrigger(seconds=seconds, timezone=tz), f"every {rest}"


def load_config(settings: Any, known_sites: list[str], path: str | None = None) -> DaemonConfig:
    """Schedules for the known sites from the settings and the schedule file (see the module docstring)."""
    path = path or settings.get("CQNEWS_SCHEDULE_FILE") or DEFAULT_SCHEDULE_FILE
    data: dict[str, Any] = {}
    file = Path(path)
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScheduleError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ScheduleError(f"{path}: cannot be read: {exc.strerror}") from None
        source = str(file)
    elif file.is_dir():
        raise ScheduleError(f"schedule file {path} is a folder; name the .toml file in it")
    elif path != DEFAULT_SCHEDULE_FILE:
        raise ScheduleError(f"schedule file not found: {path}")
    else:
        source = "defaults (no cqnews.toml)"
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ScheduleError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(TOP_KEYS))}")
    tz_name = settings.get("CQNEWS_TIMEZONE") or data.get("timezone") or DEFAULT_TIMEZONE
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {tz_name!r} (use e.g. Asia/Shanghai)") from None
    grace = int(data.get("misfire_grace_time", settings.getint("CQNEWS_MISFIRE_GRACE_SECONDS", 3600)))
    timeout = int(data.get("timeout", settings.getint("CQNEWS_CRAWL_TIMEOUT", 5400)))
    default = str(data.get("default", settings.get("CQNEWS_SCHEDULE") or "off"))
    listed: dict[str, Any] = data.get("sites", {})
    strangers = [s for s in listed if s not in known_sites]
    if strangers:
        raise ScheduleError(f"{path}: unknown site(s) {', '.join(strangers)}; known: {', '.join(known_sites)}")
    sites: dict[str, SiteSchedule] = {}
    entries: dict[str, SiteEntry] = {}
    for site in known_sites:
        spec = listed.get(site)
        if spec is None:
            if default.strip().lower() == "off":
                continue
            spec = {"schedule": default}
        elif not isinstance(spec, dict) or set(spec) - SITE_KEYS:
            raise ScheduleError(f"{path}: [sites.{site}] accepts {', '.join(sorted(SITE_KEYS))}")
        entry_settings = {str(k): str(v) for k, v in spec.get("settings", {}).items()}
        entry = SiteEntry(base_url=spec.get("base_url"), settings=entry_settings,
                          timeout=int(spec.get("timeout", timeout)),
                          distributed=_distributed(spec, entry_settings, settings, f"{path}: [sites.{site}]"))
        if site in listed:
            entries[site] = entry
        if not spec.get("enabled", True):
            continue
        if "cron" in spec and "every" in spec:
            raise ScheduleError(f"{path}: [sites.{site}] has both cron and every; choose one")
        text = (f"cron: {spec['cron']}" if "cron" in spec else f"every: {spec['every']}" if "every" in spec
                else spec.get("schedule", default))
        if text.strip().lower() == "off":
            continue
        trigger, description = parse_schedule(text, tz)
        sites[site] = SiteSchedule(
            site=site, trigger=trigger, description=description,
            misfire_grace_time=int(spec.get("misfire_grace_time", grace)), timeout=entry.timeout,
            base_url=entry.base_url, settings=entry.settings, distributed=entry.distributed, spec=text,
        )
    try:
        notify = check_urls(data.get("notify", []), path)
    except NotifyError as exc:
        raise ScheduleError(str(exc)) from None
    return DaemonConfig(timezone=tz, sites=sites, source=source, notify=notify, entries=entries,
                        chosen=file.is_file())


def _distributed(spec: dict[str, Any], site_settings: dict[str, str], settings: Any, where: str) -> bool:
    """A site's ``distributed`` flag; a distributed site needs a usable Redis URL (checked now, not at 3 a.m.)."""
    flag = spec.get("distributed", False)
    if not isinstance(flag, bool):
        raise ScheduleError(f"{where} distributed must be true or false, not {flag!r}")
    if flag:
        redis_url(site_settings.get("CQNEWS_REDIS_URL", settings.get("CQNEWS_REDIS_URL") or ""), where)
    return flag


def redis_url(url: str, where: str) -> str:
    """``url`` if it names a Redis server as redis-py reads it (raises ScheduleError otherwise)."""
    url = url.strip()
    if not url:
        raise ScheduleError(f"{where} distributed = true needs a Redis server: set CQNEWS_REDIS_URL "
                            f"(e.g. redis://redishost:6379/0), the one the site's workers use")
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES or not (parts.netloc or parts.path):
        shown = url if parts.password is None else url.replace(parts.password, "***")
        raise ScheduleError(f"{where} distributed = true: CQNEWS_REDIS_URL {shown!r} is not a Redis URL "
                            f"(use redis://host:6379/0, rediss://... or unix:///path)")
    return url


def crawl_command(site: str, sched: SiteSchedule | SiteEntry, overrides: list[str], log_path: Path) -> list[str]:
    """The child process of one crawl by the daemon (scheduled, or an unscheduled site's entry for ``cqnews run``):
    a plain crawl, or the coordinator of a distributed one.

    ``overrides`` are the daemon's own ``-s KEY=VALUE``; the site's settings come after them and win.
    ``--verbose``: its output is the run's log file, read after the fact, so it keeps Scrapy's start-up report
    and closing stats, which a person at a terminal is spared.
    """
    command = cqnews_command("crawl", site, "--verbose", "--no-config")
    if sched.distributed:
        command.append("--distributed")
    command += ["-s", f"CQNEWS_RUN_TRIGGER={RunTrigger.SCHEDULED}", "-s", f"CQNEWS_RUN_LOG_PATH={log_path}"]
    if sched.base_url:
        command += ["--base-url", sched.base_url]
    for pair in overrides + [f"{k}={v}" for k, v in sched.settings.items()]:
        command += ["-s", pair]
    return command


def exited(child: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``child`` to end, *without reaping it*: while it is a zombie its pid,
    which is also its process group's id, cannot be reused, so :func:`end_group` cannot hit a stranger."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if child.returncode is not None:
            return True
        try:
            if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # reaped elsewhere (Popen.poll)
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 0.5)


def end_group(child: subprocess.Popen[bytes], reaping: threading.Lock) -> None:
    """SIGKILL whatever is left of a crawl's process group (it was started in a session of its own), then reap
    the crawl. A crawl that ended normally has stopped its pool already: then this kills nothing. ``reaping``
    keeps two threads from signalling a group whose leader the other has just reaped."""
    with reaping:
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()


class Daemon:
    """Runs the schedules until SIGTERM/SIGINT, then stops the running crawls cleanly and returns 0."""

    def __init__(self, config: DaemonConfig, settings: Any, engine: Engine, overrides: list[str],
                 loader: Callable[[], DaemonConfig] | None = None,
                 words: Callable[[list[Any]], str] = lambda problems: repr(problems)) -> None:
        self.config = config
        self.words = words  # a site's health problems in a sentence, for notifications (the CLI's wording)
        self.notifier = Notifier(config.notify, engine, words)
        self.limits = health.thresholds_from(settings)
        self.control_every = settings.getfloat("CQNEWS_CONTROL_SECONDS", 5)
        self.cancel_grace = settings.getfloat("CQNEWS_CANCEL_GRACE_SECONDS", 30)
        self._paused: set[str] = set()  # as last read, to log a change once
        self.loader = loader  # reads the schedules again on SIGHUP
        self.engine = engine
        self.overrides = overrides  # -s KEY=VALUE given to the daemon, passed on to every crawl
        self.log_dir = Path(settings.get("CQNEWS_LOG_DIR") or "data/logs")
        self.log_keep = settings.getint("CQNEWS_LOG_KEEP", 500)
        self.stop_timeout = settings.getfloat("CQNEWS_STOP_TIMEOUT", 60)
        self.lease = settings.getfloat("CQNEWS_LOCK_LEASE_SECONDS", 300)
        self.holder = runs.new_holder()
        self.heartbeat = max(min(self.lease / 3, 60.0), 1.0)  # seconds between renewals of the daemon's lease
        self.info = config_record(config) | {"heartbeat_seconds": self.heartbeat}  # for `status` to read
        self.stopping = threading.Event()
        self._reload_wanted = threading.Event()
        self._wake = threading.Event()  # the main thread's: a signal came, or maintenance says stop
        self._guard = threading.Lock()
        self._reaping = threading.Lock()  # see end_group
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._stopped: dict[int, str] = {}  # pid -> why we stopped it (timeout, shutdown)
        self.scheduler: BackgroundScheduler | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    def run(self) -> int:
        if not runs.acquire(self.engine, runs.DAEMON, self.holder, self.lease, info=self.info):
            other = runs.current(self.engine, runs.DAEMON)
            raise DaemonError(f"another cqnews daemon ({other.holder if other else '?'}) runs on this archive; "
                              f"its lease ends {shown(other.expires_at) if other else '?'}")
        try:
            return self._run()
        finally:
            runs.release(self.engine, runs.DAEMON, self.holder)

    def _run(self) -> int:
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self._close_orphans()
        sites = self.config.sites
        scheduler = BackgroundScheduler(
            timezone=self.config.timezone,
            executors={"default": ThreadPoolExecutor(max_workers=64)},  # a thread per site, started as needed
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler = scheduler
        now = datetime.now(UTC)
        for site, sched in sites.items():
            scheduler.add_job(self.crawl, sched.trigger, args=[site], id=site, name=f"crawl {site}",
                              coalesce=True, max_instances=1, misfire_grace_time=sched.misfire_grace_time,
                              next_run_time=self._first_run(sched, now))
        scheduler.add_job(self.maintain, "interval", seconds=self.heartbeat, id="__maintenance__",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        scheduler.add_job(self.obey, "interval", seconds=self.control_every, id="__controls__",
                          coalesce=True, max_instances=1, misfire_grace_time=None)
        scheduler.add_listener(self.on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        scheduler.start()
        log.info("cqnews daemon started (pid %d): %d site(s) from %s", os.getpid(), len(sites), self.config.source)
        self._log_jobs()
        try:
            while True:
                self._wake.wait(3600)
                self._wake.clear()
                if self.stopping.is_set():
                    break
                if self._reload_wanted.is_set():
                    self._reload_wanted.clear()
                    self.reload()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("stopping: no new crawls; stopping the running ones (up to %ss)", self.stop_timeout)
        scheduler.pause()
        self._stop_children()
        scheduler.shutdown(wait=True)
        log.info("cqnews daemon stopped")
        return 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        """SIGTERM/SIGINT stop the daemon, SIGHUP reloads its schedules; the main thread does the work."""
        log.info("received %s", signal.Signals(signum).name)
        (self._reload_wanted if signum == signal.SIGHUP else self.stopping).set()
        self._wake.set()

    def _log_jobs(self) -> None:
        assert self.scheduler is not None
        sites = self.config.sites
        for job in self.scheduler.get_jobs():
            if job.id in sites:
                log.info("  %s: %s%s, next run %s", job.id, sites[job.id].description,
                         ", distributed" if sites[job.id].distributed else "",
                         shown(job.next_run_time) if job.next_run_time else "never")

    def reload(self) -> None:
        """SIGHUP: read the schedule file again and put it in force; running crawls go on. A file that cannot be
        used is refused with its reason in one log line, and the schedules in force stay."""
        if self.loader is None:
            log.warning("SIGHUP: no schedule file to read again; carrying on")
            return
        try:
            config = self.loader()
            if not config.sites:
                raise ScheduleError(f"no site is scheduled (schedules from {config.source})")
        except ScheduleError as exc:
            log.error("SIGHUP: schedules not reloaded, keeping those in force: %s", exc)
            return
        assert self.scheduler is not None
        now = datetime.now(UTC)
        with self._guard:
            for site in set(self.config.sites) - set(config.sites):
                self.scheduler.remove_job(site)
            self.config = config
            self.notifier = Notifier(config.notify, self.engine, self.words)
            for site, sched in config.sites.items():
                self.scheduler.add_job(self.crawl, sched.trigger, args=[site], id=site, name=f"crawl {site}",
                                       coalesce=True, max_instances=1, misfire_grace_time=sched.misfire_grace_time,
                                       next_run_time=sched.next_run(runs.last_started(self.engine, site), now),
                                       replace_existing=True)
        self.info = config_record(config) | {"heartbeat_seconds": self.heartbeat}
        try:
            runs.acquire(self.engine, runs.DAEMON, self.holder, self.lease, info=self.info)  # status sees it now
        except SQLAlchemyError as exc:
            log.error("cannot reach the archive: %s", str(exc).splitlines()[0])
        log.info("schedules reloaded: %d site(s) from %s", len(config.sites), config.source)
        self._log_jobs()

    def _first_run(self, sched: SiteSchedule, now: datetime) -> datetime | None:
        """Catch up at start: run now what fell due while the daemon was down, or record it missed."""
        last = runs.last_started(self.engine, sched.site)
        if last is None:
            return sched.next_run(None, now)
        due = sched.due_after(last)
        if due is None or due > now:
            return sched.next_run(last, now)
        late = (now - due).total_seconds()
        if late <= sched.misfire_grace_time:
            log.info("%s: a crawl was due %s (%.0fs ago): running it now", sched.site, shown(due), late)
            return now
        if runs.missed_recorded(self.engine, sched.site, due):  # as a misfire, before the daemon went down
            log.info("%s: the crawl due %s was missed (already recorded)", sched.site, shown(due))
        else:
            log.warning("%s: the crawl due %s was missed while the daemon was not running", sched.site,
                        shown(due))
            runs.record_run(self.engine, sched.site, RunStatus.MISSED, FinishReason.DAEMON_NOT_RUNNING, due,
                            {"late_by_seconds": round(late)})
        fire = sched.trigger.get_next_fire_time(None, now)
        return fire if sched.interval is None else now + sched.interval

    # -- jobs ----------------------------------------------------------------------------------------------

    def maintain(self) -> None:
        """Keep the daemon's lease, and mark failed the runs whose crawl died (their lock expired)."""
        try:
            if not runs.acquire(self.engine, runs.DAEMON, self.holder, self.lease, info=self.info):
                log.error("the daemon lock was taken over by another daemon: stopping")
                self.stopping.set()
                self._wake.set()
                return
            self._close_orphans()
        except SQLAlchemyError as exc:  # the archive is down for a while: crawls will say so in their logs
            log.error("cannot reach the archive: %s", str(exc).splitlines()[0])

    def _close_orphans(self) -> None:
        """Fail the runs whose crawl died: at once when its process is gone from this host (its lock is given
        back too), else once no live lock names it."""
        for run_id in runs.release_dead_holders(self.engine):
            log.warning("run %s was left running by a crawl process that is gone: marked failed, lock released",
                        run_id)
        for run_id in runs.fail_stale_runs(self.engine, self.lease):
            log.warning("run %s was left running by a crawl that died: marked failed", run_id)

    def obey(self) -> None:
        """The operators' requests (db/controls.py): start the crawls asked for, log pauses as they change."""
        try:
            found = controls.pending(self.engine)  # one query when idle
            asked = controls.take_run_requests(self.engine, found.asked)
            paused = set(found.paused)
        except SQLAlchemyError as exc:
            log.error("cannot read the operators' requests: %s", str(exc).splitlines()[0])
            return
        for site in sorted(paused - self._paused):
            log.info("%s: paused by an operator: no scheduled crawl starts until `cqnews resume %s`", site, site)
        for site in sorted(self._paused - paused):
            log.info("%s: resumed by an operator", site)
        self._paused = paused
        assert self.scheduler is not None
        for site in asked:
            if site not in self.config.sites and site not in self.config.entries:
                log.warning("%s: a crawl was asked for, but the daemon's config does not list the site: ignored", site)
                continue
            log.info("%s: a crawl was asked for (cqnews run): starting it now", site)
            self.scheduler.add_job(self.crawl, args=[site, True], id=f"__run__:{site}", name=f"crawl {site} now",
                                   misfire_grace_time=None, replace_existing=True)
        self._enforce_cancels()

    def _enforce_cancels(self) -> None:
        """A crawl of ours still running CQNEWS_CANCEL_GRACE_SECONDS after ``cqnews cancel`` (its progress updates,
        which read the request, are off or stuck) gets SIGTERM to its process group, then SIGKILL."""
        with self._guard:
            ours = {c.pid: c for c in self._children.values() if c.pid not in self._stopped}
        if not ours:  # no crawl of ours runs (the idle daemon): no query
            return
        now = datetime.now(UTC)
        try:
            overdue = [r for r in runs.running_runs(self.engine) if r.cancel_requested_at is not None
                       and (now - r.cancel_requested_at).total_seconds() >= self.cancel_grace]
        except SQLAlchemyError as exc:
            log.error("cannot read the cancel requests: %s", str(exc).splitlines()[0])
            return
        assert self.scheduler is not None
        for run in overdue:
            child = ours.get(run.pid or -1)
            if child is None:
                continue
            log.warning("%s: run %s still running %ss after it was cancelled: SIGTERM to its processes", run.site,
                        run.id, self.cancel_grace)
            self.scheduler.add_job(self._stop, args=[child, FinishReason.CANCELLED, True], id=f"__cancel__:{run.id}",
                                   misfire_grace_time=None, replace_existing=True)

    def crawl(self, site: str, asked: bool = False) -> None:
        """One crawl of ``site`` in a child process (scheduled, or ``asked`` for by an operator); returns when it
        has ended. A paused site's scheduled crawl is recorded ``skipped`` instead."""
        sched = self.config.sites.get(site)
        how = sched or (self.config.entries.get(site) if asked else None)  # `run SITE` of an unscheduled site
        if how is None:  # unscheduled by a reload as it fell due
            return
        started = datetime.now(UTC)
        try:
            if not asked and site in controls.paused(self.engine):
                log.info("%s: paused: the scheduled crawl is not started", site)
                runs.record_run(self.engine, site, RunStatus.SKIPPED, FinishReason.PAUSED, started)
                return
        except SQLAlchemyError as exc:
            log.error("%s: cannot read whether the site is paused: %s", site, str(exc).splitlines()[0])
        with self._guard:
            if self.stopping.is_set():
                return
            try:
                log_path = self._log_path(site, started)
                with open(log_path, "ab") as out:
                    child = subprocess.Popen(crawl_command(site, how, self.overrides, log_path), stdout=out,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True)  # our signals, not the terminal's, stop it
            except OSError as exc:
                log.error("%s: cannot start a crawl: %s", site, exc)
                self._notify(self.notifier.crawl_start, site, str(exc))
                return
            self._children[site] = child
        log.info("%s: %scrawl started (pid %d), log %s", site, "distributed " if how.distributed else "",
                 child.pid, log_path)
        self._notify(self.notifier.crawl_start, site, None)
        try:
            if not exited(child, how.timeout):
                log.error("%s: crawl still running after %ss: stopping it", site, how.timeout)
                self._stop(child, FinishReason.TIMEOUT)
        finally:
            end_group(child, self._reaping)
            with self._guard:
                self._children.pop(site, None)
        try:
            self._after(site, child, started, self._stopped.pop(child.pid, FinishReason.KILLED))
            problems = health.judge(runs.recent_runs(self.engine, site, health.runs_to_judge(self.limits)), sched,
                                    datetime.now(UTC), self.limits)
        except SQLAlchemyError as exc:
            log.error("%s: cannot read or mark the crawl's run in the archive: %s", site, exc)
        else:
            self._notify(self.notifier.site_health, site, problems)
        self._prune_logs(site)

    def _notify(self, notice: Callable[[str, Any], None], site: str, what: Any) -> None:
        """Send a notice; the archive (where sent notices are recorded) may be down: then say so and go on."""
        try:
            notice(site, what)
        except SQLAlchemyError as exc:
            log.error("%s: cannot record a notice in the archive: %s", site, str(exc).splitlines()[0])

    def _after(self, site: str, child: subprocess.Popen[bytes], started: datetime, why: str) -> None:
        """Log how the crawl ended, from its crawl_runs row; a crawl killed before closing is marked failed."""
        row = runs.fail_if_running(self.engine, site, child.pid, started, why)
        if row is not None and why == FinishReason.CANCELLED and runs.mark_cancelled(self.engine, row.id or 0):
            row = replace(row, finish_reason=FinishReason.CANCELLED)  # it closed as SIGTERMed crawls do: shutdown
        if row is None:
            log.error("%s: crawl process exited %s without recording a run (see its log)", site, child.returncode)
        elif row.status == RunStatus.RUNNING:
            log.error("%s: run %s was %s (exit %s): marked failed", site, row.id, why, child.returncode)
        else:
            log.info("%s: run %s %s (%s): %d pages, %d new, %d new versions, %d errors", site, row.id, row.status,
                     row.finish_reason, row.pages_fetched, row.articles_new, row.articles_updated, row.errors)

    def on_event(self, event: JobEvent) -> None:
        """Misfires and overlaps become visible crawl_runs rows, not just log lines."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED

        if event.job_id not in self.config.sites:
            return
        site = event.job_id
        if event.code == EVENT_JOB_MISSED:
            when = event.scheduled_run_time  # type: ignore[attr-defined]
            late = (datetime.now(UTC) - when).total_seconds()
            log.warning("%s: the crawl due %s was missed (%.0fs late)", site, shown(when), late)
            runs.record_run(self.engine, site, RunStatus.MISSED, FinishReason.MISFIRE, when.astimezone(UTC),
                            {"late_by_seconds": round(late)})
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            times = [shown(t) for t in event.scheduled_run_times]  # type: ignore[attr-defined]
            log.warning("%s: the previous scheduled crawl is still running: skipping %s", site, ", ".join(times))
            runs.record_run(self.engine, site, RunStatus.SKIPPED, FinishReason.STILL_RUNNING, datetime.now(UTC),
                            {"scheduled_for": times})
        elif event.code == EVENT_JOB_ERROR:
            log.error("%s: the scheduled crawl could not run: %r", site, event.exception)  # type: ignore[attr-defined]

    # -- stopping --------------------------------------------------------------------------------------------

    def _stop(self, child: subprocess.Popen[bytes], why: str, group: bool = False) -> None:
        """SIGTERM once (Scrapy closes the spider and records the run) to the crawl, or to its whole process
        ``group`` (a cancel it did not obey), then SIGKILL after CQNEWS_STOP_TIMEOUT."""
        with self._guard:
            first = child.pid not in self._stopped
            self._stopped.setdefault(child.pid, why)
        if first and not exited(child, 0):  # not Popen.send_signal: it would reap the crawl (see exited)
            with self._reaping, contextlib.suppress(ProcessLookupError):  # unreaped, its pid is its group's id
                if child.returncode is None and group:
                    os.killpg(child.pid, signal.SIGTERM)
                elif child.returncode is None:
                    os.kill(child.pid, signal.SIGTERM)  # the crawl alone: it stops its own pool as Scrapy closes
        if not exited(child, self.stop_timeout):
            log.error("crawl pid %d did not stop in %ss: killing it and its processes", child.pid, self.stop_timeout)
            end_group(child, self._reaping)

    def _stop_children(self) -> None:
        with self._guard:
            children = list(self._children.values())
        threads = [threading.Thread(target=self._stop, args=(c, FinishReason.SHUTDOWN)) for c in children]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # -- logs ----------------------------------------------------------------------------------------------

    def _log_path(self, site: str, started: datetime) -> Path:
        folder = self.log_dir / site
        folder.mkdir(parents=True, exist_ok=True)
        stamp = started.astimezone(self.config.timezone).strftime("%Y%m%d-%H%M%S")
        path = folder / f"{stamp}.log"
        n = 1
        while path.exists():
            n += 1
            path = folder / f"{stamp}-{n}.log"
        return path.resolve()

    def _prune_logs(self, site: str) -> None:
        logs = sorted((self.log_dir / site).glob("*.log"), key=lambda p: p.stat().st_mtime)
        for old in logs[: max(len(logs) - self.log_keep, 0)]:
            old.unlink(missing_ok=True)

"""Subcommands that operate the archive and its daemon: daemon, status, db, reindex, runs, pause/resume/run/cancel."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cqnews.cli.common import CliError, engine_of, known_site_or_error, ready_engine, settings_of
from cqnews.cli.render import (
    LogFormatter,
    daemon_text,
    iso_time,
    json_text,
    local_time,
    print_table,
    problem_text,
    say,
    verdict,
)


def _load(args: argparse.Namespace, settings: Any) -> Any:
    """The schedules (``--config`` or the default file); ScheduleError if they cannot be used."""
    from cqnews.runner import spider_names
    from cqnews.scheduler import load_config

    return load_config(settings, spider_names(settings), args.config)


def schedules(args: argparse.Namespace, settings: Any) -> Any:
    """The schedules as the daemon would load them (:func:`_load`); a one-line CliError (exit 2) if unusable."""
    from cqnews.scheduler import ScheduleError

    try:
        return _load(args, settings)
    except ScheduleError as exc:
        raise CliError(str(exc), 2) from None


def cmd_daemon(args: argparse.Namespace) -> int:
    import logging

    from cqnews.scheduler import Daemon, DaemonError

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=args.log_level or "INFO", handlers=[handler])
    for noisy in ("alembic", "apscheduler.executors"):  # every job start and end; the daemon logs crawls itself
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = settings_of(args)
    engine = ready_engine(args)
    config = schedules(args, settings)
    if not config.sites:
        raise CliError(f"no site is scheduled (schedules from {config.source}; see CQNEWS_SCHEDULE)", 2)
    if args.check:  # what a start would check, and no more: no lock taken, nothing scheduled
        engine.dispose()
        say(f"{config.source}: ok; a daemon would run {len(config.sites)} site(s):")
        for site, schedule in sorted(config.sites.items()):
            say(f"  {site}: {schedule.description}{' (distributed)' if schedule.distributed else ''}")
        return 0
    try:
        return Daemon(config, settings, engine, list(args.set or []), loader=lambda: _load(args, settings),
                      words=verdict).run()
    except DaemonError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()


def health_report(args: argparse.Namespace, settings: Any, engine: Any, now: datetime) -> tuple[Any, ...]:
    """What `cqnews status` judges, as of ``now`` (the web reader's sites page judges the same): the daemon's
    lock and its liveness, the schedules used (the running daemon's, else ``--config`` or the default file),
    every scheduled or crawled site's ``health.SiteHealth``, and the paused sites (site -> since when)."""
    from cqnews.db import controls, runs
    from cqnews.health import daemon_liveness, runs_to_judge, site_health, thresholds_from

    daemon = runs.current(engine, runs.DAEMON)
    liveness = daemon_liveness(daemon, daemon is not None and runs.holder_is_dead(daemon.holder), now)
    config = _daemon_schedules(daemon) if daemon and daemon.info and not args.config else None
    config = config or schedules(args, settings)
    limits = thresholds_from(settings)
    paused = controls.paused(engine)
    sites = sorted(set(config.sites) | set(runs.sites_with_runs(engine)))
    health = [site_health(site, runs.recent_runs(engine, site, runs_to_judge(limits)), config.sites.get(site),
                          limits, now) for site in sites]
    return daemon, liveness, config, health, paused


@dataclass(frozen=True)
class StatusReport:
    """What `cqnews status` found, as of ``now``: its table, its JSON and its exit code come from this alone, and so
    does the web reader's ``/api/status`` (the same JSON; 503 where status exits 1)."""

    daemon: Any
    liveness: Any
    config: Any
    health: list[Any]
    paused: dict[str, datetime]
    unheld: list[str]  # scheduled sites that no live daemon crawls
    now: datetime

    @property
    def unhealthy(self) -> list[Any]:
        return [h for h in self.health if not h.ok]

    @property
    def failing(self) -> bool:
        """Exit 1: a site is unhealthy, or a scheduled site has no live daemon to crawl it."""
        return bool(self.unhealthy or self.unheld)

    def json(self) -> str:
        from cqnews.health import DaemonAlive

        daemon, now = self.daemon, self.now
        return json_text({
            "daemon": None if daemon is None else {
                "running": isinstance(self.liveness, DaemonAlive), "holder": daemon.holder, "host": daemon.host,
                "pid": daemon.pid, "since": iso_time(daemon.acquired_at), "last_seen": iso_time(daemon.last_seen),
                "lease_until": iso_time(daemon.expires_at), "text": daemon_text(self.liveness)},
            "healthy": not self.unhealthy,
            "unattended": self.unheld,
            "sites": [{"site": h.site, "ok": h.ok, "verdict": verdict(h.problems), "paused": h.site in self.paused,
                       "problems": [problem_text(p) for p in h.problems],
                       "schedule": h.schedule, "next_run": iso_time(h.next_run),
                       "runs": [{"id": r.id, "trigger": r.trigger, "status": r.status, "reason": r.finish_reason,
                                 "started": iso_time(r.started_at), "finished": iso_time(r.finished_at),
                                 "pages": r.pages_fetched, "pages_per_minute": r.pages_per_minute(now),
                                 "new": r.articles_new, "errors": r.errors}
                                for r in h.runs]} for h in self.health],
        }, indent=1)


def status_report(args: argparse.Namespace, settings: Any, engine: Any, now: datetime) -> StatusReport:
    from cqnews.db import runs

    daemon, liveness, config, health, paused = health_report(args, settings, engine, now)
    unheld = unheld_sites(config, daemon, liveness, runs.scheduled_ever(engine))
    return StatusReport(daemon, liveness, config, health, paused, unheld, now)


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC

    from cqnews.db import runs
    from cqnews.health import DaemonDead

    settings = settings_of(args)
    engine = ready_engine(args)
    now = datetime.now(UTC)
    report = status_report(args, settings, engine, now)
    if args.format == "json":
        say(report.json())
        return 1 if report.failing else 0
    liveness, config, health, paused = report.liveness, report.config, report.health, report.paused
    unhealthy, unheld = report.unhealthy, report.unheld
    dead = isinstance(liveness, DaemonDead)  # a daemon that died holding the archive: its schedules run no more
    say(daemon_text(liveness))
    say(f"schedules: {config.source}")
    for site, at in sorted(paused.items()):
        say(f"paused: {site} since {local_time(at)} (`cqnews resume {site}`)")
    for r in runs.running_runs(engine):
        say(f"running: {r.site} run {r.id} since {local_time(r.started_at)}: {r.pages_fetched} pages so far "
            f"({rate(r, now)}/min), {r.articles_new} new, {r.errors} errors")
    say()
    print_table([[h.site, verdict(h.problems), h.schedule or "not scheduled",
                  "paused" if h.site in paused else local_time(h.next_run)] for h in health],
                 ["site", "verdict", "schedule", "next run"])
    for h in health:
        say(f"\n{h.site}: last {len(h.runs)} run(s)")
        print_table([[str(r.id), r.trigger, local_time(r.started_at), r.status, r.finish_reason or "-",
                       str(r.pages_fetched), str(r.articles_new), str(r.articles_updated), str(r.articles_rejected),
                       str(r.errors)] for r in h.runs],
                     ["run", "trigger", "started", "status", "reason", "pages", "new", "updated", "rejected",
                      "errors"])
    if dead:
        say(f"cqnews: {daemon_text(liveness)}", file=sys.stderr)
    if unheld:
        say(f"cqnews: no running daemon crawls the scheduled site(s) {', '.join(unheld)} "
            f"(schedules: {config.source}; start one with `cqnews daemon`)", file=sys.stderr)
    for h in unhealthy:
        say(f"cqnews: {h.site}: {verdict(h.problems)}", file=sys.stderr)
    return 1 if report.failing else 0


def unheld_sites(config: Any, daemon: Any, liveness: Any, scheduled_ever: bool) -> list[str]:
    """The scheduled sites (of the schedules `status` judges against) that no live daemon crawls: all of them when
    no daemon runs (none ever ran, it stopped, or it died), those missing from its schedule when one does.
    None when no daemon ever ran on this archive and no schedule file exists: the built-in default schedule is
    only what a daemon would run, and an archive crawled by hand (``cqnews demo``, ``cqnews crawl``) is not
    neglected."""
    from cqnews.health import DaemonAlive

    if daemon is None and not config.chosen and not scheduled_ever:
        return []
    held = set((daemon.info.get("sites") or {}) if isinstance(liveness, DaemonAlive) else ())
    return sorted(set(config.sites) - held)


def _daemon_schedules(daemon: Any) -> Any:
    """The schedules the daemon recorded when it started (None if unreadable: then the local config is used)."""
    from cqnews.scheduler import ScheduleError, config_from_record

    try:
        return config_from_record(daemon.info)
    except ScheduleError:
        return None


def cmd_db(args: argparse.Namespace) -> int:
    from alembic import command as alembic_command

    from cqnews.db import migrate
    from cqnews.db.session import ArchiveMissing, checkpoint, sqlite_file

    if args.db_command == "upgrade":
        migrate.require_revision(args.revision)  # a mistyped revision creates no archive
    try:
        engine = engine_of(args, create=args.db_command == "upgrade")
    except ArchiveMissing:
        if args.db_command != "current":
            raise
        say(f"{sqlite_file(settings_of(args)['CQNEWS_DATABASE_URL'])}: no archive yet (create it with "
            "`cqnews db upgrade`)")
        return 1
    shown = engine.url.render_as_string(hide_password=True)
    if args.db_command == "upgrade":
        migrate.upgrade(engine, args.revision)
        say(f"{shown}: at revision {migrate.current_revision(engine)}")
        if migrate.current_revision(engine) == migrate.head_revision():
            from cqnews.db.fulltext import missing, stale
            from cqnews.db.session import make_sessionmaker

            with make_sessionmaker(engine)() as session:
                unindexed, old = missing(session), stale(session)
            if unindexed:
                say(f"cqnews: {unindexed:,} article(s) are not in the search index yet: run `cqnews reindex`",
                    file=sys.stderr)
            if old:
                say(f"cqnews: {old:,} article(s) were indexed by another version of the segmentation: "
                    "run `cqnews reindex`", file=sys.stderr)
    elif args.db_command == "downgrade":
        migrate.require_known(engine)
        if migrate.current_revision(engine) is None:
            raise CliError(f"{shown} is at base (no schema): there is nothing to downgrade", 2)
        confirm(f"downgrading {shown} to {args.revision} drops the tables and columns of the later revisions, "
                "and the data in them" + (" (base: the whole archive)" if args.revision == "base" else ""),
                args.yes)
        migrate.downgrade(engine, args.revision)
        say(f"{shown}: at revision {migrate.current_revision(engine) or 'base (empty)'}")
    elif args.db_command == "current":
        current, head = migrate.current_revision(engine), migrate.head_revision()
        if not migrate.is_known(current):
            raise CliError(str(migrate.DatabaseFromTheFuture(str(current), head)))
        state = "up to date" if current == head else f"behind: head is {head}, run `cqnews db upgrade`"
        say(f"{shown}: revision {current or 'none (empty database)'} ({state})")
        return 0 if current == head else 1
    elif args.db_command == "check":
        migrate.require_head(engine)
        alembic_command.check(migrate.alembic_config(engine))
    elif args.db_command == "backup":
        return _backup(engine, args.file)
    if args.db_command in ("upgrade", "downgrade"):
        checkpoint(engine)
    engine.dispose()
    return 0


def _backup(engine: Any, file: str) -> int:
    import sqlite3
    from pathlib import Path

    from cqnews.db.backup import BackupError, backup_sqlite

    try:
        verdict = backup_sqlite(engine, Path(file))
    except BackupError as exc:
        raise CliError(str(exc), 2) from None
    except OSError as exc:
        raise CliError(f"cannot write {file}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise CliError(f"the backup to {file} failed: {exc}") from None
    finally:
        engine.dispose()
    if verdict != "ok":
        raise CliError(f"the copy in {file} fails PRAGMA integrity_check: {verdict}")
    say(f"backed up {engine.url.render_as_string(hide_password=True)} to {file} (integrity_check: ok)")
    return 0


def confirm(what: str, yes: bool) -> None:
    """Go on only if the user agrees to ``what``: --yes, or "y" typed at a terminal; else a usage error."""
    if yes:
        return
    interactive = False
    try:
        interactive = sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        pass
    if interactive:
        say(f"cqnews: {what}. Go on? [y/N] ", end="", file=sys.stderr, flush=True)
        if sys.stdin.readline().strip().lower() in ("y", "yes"):
            return
        raise CliError("nothing changed", 1)
    raise CliError(f"{what}: add --yes to go on", 2)


def cmd_reindex(args: argparse.Namespace) -> int:
    import time as clock

    from cqnews.db.fulltext import rebuild
    from cqnews.db.session import checkpoint

    engine = ready_engine(args)
    started = clock.monotonic()

    def progress(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        rate = done / max(clock.monotonic() - started, 1e-6)
        eta = (total - done) / rate if rate else 0
        say(f"indexing [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
              f"{rate:,.0f}/s, {eta:,.0f} s left ", end="", file=sys.stderr, flush=True,
            start="\r")

    count = rebuild(engine, batch=args.batch, workers=args.workers, progress=progress)
    checkpoint(engine)
    say(file=sys.stderr)
    say(f"indexed {count:,} article(s) in {clock.monotonic() - started:.1f} s")
    return 0


def rate(run: Any, now: datetime) -> str:
    """A run's pages per minute (so far, if it runs), or ``-`` too early to tell."""
    per_minute = run.pages_per_minute(now)
    return "-" if per_minute is None else f"{per_minute:,.1f}"


def _runs_table(runs: list[Any], now: datetime) -> None:
    print_table([[str(r.id), r.site, local_time(r.started_at), local_time(r.finished_at), r.status,
                  r.finish_reason or "-", str(r.pages_fetched), rate(r, now), str(r.articles_new),
                  str(r.articles_updated), str(r.articles_unchanged), str(r.articles_duplicate),
                  str(r.articles_rejected), str(r.errors)] for r in runs],
                ["run", "site", "started", "finished", "status", "reason", "pages", "pages/min", "new", "updated",
                 "unchanged", "dup", "rejected", "errors"])


def cmd_runs(args: argparse.Namespace) -> int:
    from datetime import UTC

    from cqnews.db.runs import recent_runs

    known_site_or_error(settings_of(args), args.site)
    engine = ready_engine(args)
    if args.follow:
        return _follow(engine, args.site, args.interval)
    _runs_table(recent_runs(engine, args.site, args.limit), datetime.now(UTC))
    return 0


def _follow(engine: Any, site: str | None, interval: float) -> int:
    """``runs --follow``: the running crawls (counters as they last wrote them), every ``interval`` seconds, until
    none runs or Ctrl-C."""
    import time
    from datetime import UTC

    from cqnews.db.runs import running_runs

    try:
        while True:
            now = datetime.now(UTC)
            running = [r for r in running_runs(engine) if site is None or r.site == site]
            if not running:
                say(f"{local_time(now)}: no crawl running")
                return 0
            say(f"{local_time(now)}: {len(running)} crawl(s) running")
            _runs_table(running, now)
            say(flush=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


def cmd_pause(args: argparse.Namespace) -> int:
    from cqnews.db import controls

    site = known_site_or_error(settings_of(args), args.site)
    assert site is not None
    engine = ready_engine(args)
    if args.command == "pause":
        controls.pause(engine, site)
        say(f"{site}: paused: the daemon starts no scheduled crawl of it until `cqnews resume {site}` "
            "(a running crawl goes on; `cqnews cancel RUN` stops it)")
    elif controls.resume(engine, site):
        say(f"{site}: resumed: its scheduled crawls start again")
    else:
        say(f"{site}: was not paused")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Ask the daemon to crawl a site now, as its config's entry says (scheduled or not); exit 1 if no live daemon
    will."""
    from datetime import UTC

    from cqnews.db import controls, runs
    from cqnews.health import DaemonAlive, daemon_liveness

    site = known_site_or_error(settings_of(args), args.site)
    assert site is not None
    engine = ready_engine(args)
    daemon = runs.current(engine, runs.DAEMON)
    liveness = daemon_liveness(daemon, daemon is not None and runs.holder_is_dead(daemon.holder), datetime.now(UTC))
    info = daemon.info if daemon is not None else {}
    known = set(info.get("sites") or {}) | set(info.get("entries") or [])  # scheduled, or listed unscheduled
    if isinstance(liveness, DaemonAlive) and site not in known:
        raise CliError(f"the running daemon's config does not list {site}: crawl it with `cqnews crawl {site}`", 2)
    controls.request_run(engine, site)
    if not isinstance(liveness, DaemonAlive):
        raise CliError(f"{site}: crawl asked for, but no daemon runs on this archive ({daemon_text(liveness)}): "
                       "it starts when one does")
    say(f"{site}: crawl asked for: the daemon (pid {liveness.pid}) starts it within seconds; "
        "`cqnews runs --follow` shows it")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from cqnews.db import runs

    engine = ready_engine(args)
    run = runs.request_cancel(engine, args.run)
    if run is None:
        raise CliError(f"no run {args.run} (see `cqnews runs`)", 2)
    if run.status != runs.RunStatus.RUNNING:
        raise CliError(f"run {args.run} ({run.site}) is not running: it is {run.status}")
    say(f"run {run.id} ({run.site}): cancel asked; the crawl stops at its next progress update "
        f"(every CQNEWS_PROGRESS_SECONDS); a daemon's crawl that has not stopped CQNEWS_CANCEL_GRACE_SECONDS later "
        f"gets SIGTERM")
    return 0

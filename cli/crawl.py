"""Subcommands that crawl: crawl, worker, demo, sites; and the per-crawl summary they print."""
from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cqnews.cli.common import CliError, engine_of, known_site_or_error, ready_engine, settings_of
from cqnews.cli.render import json_text, print_table, say
from cqnews.commands import cqnews_command


def _report(engine: Any, results: list[Any]) -> int:
    """Print one summary row per crawl from its crawl_runs row; 1 if any crawl failed or fetched nothing, or a
    demo crawl had an error its site does not make on purpose."""
    from cqnews.db.runs import FinishReason, RunStatus, get_run
    from cqnews.health import found_no_work, unexpected_errors
    from cqnews.stats import INCREMENTAL_NOT_DUE, LOCK_HELD_BY_RUN, count

    rows, problems, notes = [], [], []
    for result in results:
        run = get_run(engine, result.run_id) if result.run_id else None
        if run is None:
            rows.append([result.site, "not recorded"] + ["-"] * 8)
            why = f"it failed: {result.error}" if result.error else "see the log above"
            problems.append(f"{result.site}: the crawl was not recorded in the archive ({why})")
            continue
        not_due = count(run.stats, INCREMENTAL_NOT_DUE)
        rows.append([run.site, f"{run.status} ({run.finish_reason})", str(run.pages_fetched),
                     str(run.articles_new), str(run.articles_updated), str(run.articles_unchanged),
                     str(run.articles_duplicate), str(run.articles_rejected), str(not_due), str(run.errors)])
        if losses := _losses(run.stats):
            notes.append(f"{run.site}: {losses}")
        if (faults := unexpected_errors(run)) is not None:
            deliberate = run.errors - faults
            if deliberate:
                share = "all" if not faults else f"{deliberate} of them"
                notes.append(f"{run.site}: {run.errors} error(s), {share} on pages the demo site breaks on purpose")
            if faults:
                problems.append(f"{run.site}: {faults} error(s) the demo site does not make on purpose: a fault"
                                " (see them with --verbose)")
        if found_no_work(run):
            notes.append(_NO_WORK.format(site=run.site))
        elif run.status == RunStatus.SKIPPED and run.finish_reason == FinishReason.LOCKED:
            holder = run.stats.get(LOCK_HELD_BY_RUN)
            problems.append(f"{run.site}: crawl refused: another crawl of this site is running (run {holder});"
                            f" recorded as run {run.id}, skipped")
        elif run.status != RunStatus.FINISHED:
            problems.append(f"{run.site}: crawl {run.status} ({run.finish_reason})")
        elif run.pages_fetched == 0:
            problems.append(f"{run.site}: no page could be fetched ({run.errors} errors); is the site reachable?")
    print_table(rows, ["site", "status", "pages", "new", "updated", "unchanged", "duplicate", "rejected",
                        "not_due", "errors"])
    for line in notes + problems:
        say(f"cqnews: {line}", file=sys.stderr)
    return 1 if problems else 0


def _losses(stats: dict[str, Any]) -> str:
    """What a crawl lost that its counters do not show: a redirect off the site or to a URL too long, a gzip bomb,
    a page too deep."""
    from cqnews.stats import (
        EXTRACT_DEPTH_LIMIT,
        FETCH_DECOMPRESSED_TOO_LARGE,
        FETCH_OFFSITE_REDIRECT,
        FETCH_REDIRECT_TOO_LONG,
        count,
    )

    said = {FETCH_OFFSITE_REDIRECT: "redirected to another site (not followed)",
            FETCH_REDIRECT_TOO_LONG: "redirected to a URL longer than URLLENGTH_LIMIT (not followed)",
            FETCH_DECOMPRESSED_TOO_LARGE: "dropped: larger than DOWNLOAD_MAXSIZE once decompressed",
            EXTRACT_DEPTH_LIMIT: "rejected: nested deeper than the HTML parser reads (text cut)"}
    return "; ".join(f"{count(stats, key)} {words}" for key, words in said.items() if count(stats, key))


_NO_WORK = "worker: the distributed crawl of {site} had no work left for this worker"


# Loggers whose INFO records are Scrapy's start-up and closing report (versions, overridden settings, enabled
# components, "Spider opened", LogStats every minute, the stats dump) and Alembic's context lines: at --verbose only.
_CHATTER = ("scrapy.utils.log", "scrapy.addons", "scrapy.middleware", "scrapy.crawler", "scrapy.core.engine",
            "scrapy.extensions.logstats", "scrapy.statscollectors", "scrapy.extensions.telnet",
            "alembic.runtime.migration")


# Loggers whose errors already say what failed in their message (a site that cannot be reached): their traceback
# is Twisted's and Scrapy's call stack, for --verbose only.
_TRACEBACK_ONLY_VERBOSE = ("scrapy.downloadermiddlewares.robotstxt",)


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _without_traceback(record: logging.LogRecord) -> bool:
    record.exc_info = record.exc_text = None
    return True


def _console(args: argparse.Namespace, settings: Any) -> None:
    """The crawl's console: the progress line (``--progress``, else at a terminal or with CQNEWS_PROGRESS) and
    Scrapy's chatter (``--verbose`` or DEBUG). Filters, unlike levels, survive Scrapy's logging set-up."""
    progress = args.progress if getattr(args, "progress", None) is not None else \
        settings.getbool("CQNEWS_PROGRESS") or sys.stderr.isatty()
    settings.set("CQNEWS_PROGRESS", progress, priority="cmdline")
    if getattr(args, "verbose", False) or settings.get("LOG_LEVEL") == "DEBUG":
        return
    # Scrapy's versions line would be filtered out below; not made at all, it costs no `uname -p` child
    # (platform.platform()) and no package-metadata look-ups at every start.
    settings.set("LOG_VERSIONS", [], priority="cmdline")
    for name in _CHATTER:
        logging.getLogger(name).addFilter(_below_warning)
    for name in _TRACEBACK_ONLY_VERBOSE:
        logging.getLogger(name).addFilter(_without_traceback)


def _crawl_and_report(args: argparse.Namespace, sites: list[str], spider_args: dict[str, dict[str, str]],
                      settings: Any, engine: Any) -> int:
    """Run the crawls on ``engine`` (the command's one engine, checked at the schema head: the crawls reuse its
    connections instead of opening the archive again), report them from it, then dispose it."""
    from cqnews.db.session import checkpoint
    from cqnews.runner import run_crawls

    _console(args, settings)
    say(f"crawling {', '.join(sites)} into {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
    results = run_crawls(settings, sites, spider_args, engine=engine)
    code = _report(engine, results)
    checkpoint(engine)  # the archive file alone holds the crawl (its connections never close: gc.freeze below)
    engine.dispose()
    # The process ends with its crawls (Twisted's reactor cannot restart). Frozen, the heap is left out of the
    # interpreter's last full collection at exit, which otherwise walks every object the crawl imported and built
    # (~0.4 s, a sixth of an unchanged re-crawl); atexit handlers and reference counting still close what is open.
    gc.freeze()
    return code


def cmd_crawl(args: argparse.Namespace) -> int:
    from cqnews.runner import spider_names

    settings = settings_of(args)
    settings.set("LOG_LEVEL", args.log_level or settings.get("LOG_LEVEL"), priority="cmdline")
    known = spider_names(settings)
    sites = known if args.all else args.sites
    if not sites:
        raise CliError("name at least one site, or --all (cqnews sites lists them)", 2)
    for site in sites:
        known_site_or_error(settings, site)
    spider_args = {s: {"base_url": args.base_url} for s in sites} if args.base_url else {}
    if getattr(args, "distributed", False) and len(sites) != 1:
        raise CliError("--distributed crawls one site: name exactly one", 2)
    if not args.no_config:
        spider_args = _config_entries(args, settings, sites) | spider_args
    engine = ready_engine(args)  # refuse an archive not at head before any work (Redis included)
    if getattr(args, "distributed", False):
        _join_distributed(settings, sites[0], worker=False)
    return _crawl_and_report(args, sites, spider_args, settings, engine)


# Above the spider's own custom_settings ("spider", 30), as the daemon's -s are; below the command line's -s (40).
_ENTRY_PRIORITY = 35


def _config_entries(args: argparse.Namespace, settings: Any, sites: list[str]) -> dict[str, dict[str, str]]:
    """Apply the sites' entries in the schedule file (read as the daemon reads it) under the command line's flags:
    their settings, in place, and their base_url, as the spider arguments returned. Crawls of several sites share
    one process and so one settings object: their entries' settings apply only if they agree."""
    from cqnews.cli.ops import schedules
    from cqnews.config import ConfigError, setting_name, validate

    config = schedules(args, settings)
    entries = {site: config.entries[site] for site in sites if site in config.entries}
    overlays = {tuple(sorted(entries[s].settings.items())) if s in entries else () for s in sites}
    if len(overlays) > 1:
        say(f"cqnews: the settings of {', '.join(s for s in entries if entries[s].settings)} in {config.source} "
            "are not applied: sites crawled together share one set of settings (crawl each alone)", file=sys.stderr)
    elif overlays:
        for key, value in overlays.pop():
            settings.set(setting_name(key), value, priority=_ENTRY_PRIORITY)
        try:
            validate(settings)
        except ConfigError as exc:
            raise CliError(f"{config.source}: {exc}", 2) from None
    if entries:
        say(f"crawling {', '.join(entries)} as {config.source} says", file=sys.stderr)
    return {site: {"base_url": e.base_url} for site, e in entries.items() if e.base_url}


def _join_distributed(settings: Any, site: str, worker: bool, crawl_id: str | None = None) -> str | None:
    """Make this crawl a worker of the site's distributed crawl in Redis: a new one (seeding), or the running one
    (``crawl_id``: only that one). Returns the crawl's id; None if crawl ``crawl_id`` is no longer under way."""
    from cqnews import distributed
    url = settings["CQNEWS_REDIS_URL"]
    keys = distributed.Keys(settings["CQNEWS_REDIS_PREFIX"], site)
    client = _redis(url)
    try:
        if worker and crawl_id is not None:
            if distributed.current_crawl(client, keys) != crawl_id:
                client.close()
                return None
        elif worker:
            idle = settings.getfloat("CQNEWS_WORKER_IDLE_SECONDS")
            crawl_id = distributed.wait_for_crawl(client, keys, idle)
            if crawl_id is None:
                raise CliError(f"no distributed crawl of {site} began within {idle:g}s; start one with "
                               f"`cqnews crawl {site} --distributed`")
        else:
            crawl_id = distributed.begin(client, keys)
        client.close()
    except distributed.RedisError as exc:
        raise CliError(f"Redis cannot be reached at {distributed.safe_url(url)} (CQNEWS_REDIS_URL): {exc}") from None
    except distributed.CrawlInProgress as exc:
        raise CliError(str(exc)) from None
    distributed.configure(settings, crawl_id, worker=worker)
    say(f"{'joining' if worker else 'starting'} distributed crawl {crawl_id} of {site} "
          f"(queue in {distributed.safe_url(url)})", file=sys.stderr)
    return crawl_id


def _redis(url: str) -> Any:
    """A client on the Redis server at ``url`` that answered, else one line: a bad URL (2) or no server (1)."""
    from cqnews import distributed

    try:
        return distributed.connect(url)
    except ValueError as exc:  # redis-py's word for a URL it cannot read
        raise CliError(f"CQNEWS_REDIS_URL={distributed.safe_url(url)!r} is not a Redis URL: {exc}", 2) from None
    except distributed.RedisError as exc:
        raise CliError(f"Redis cannot be reached at {distributed.safe_url(url)} (CQNEWS_REDIS_URL): {exc}") from None


def cmd_worker(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    settings.set("LOG_LEVEL", args.log_level or settings.get("LOG_LEVEL"), priority="cmdline")
    if args.idle_timeout is not None:
        settings.set("CQNEWS_WORKER_IDLE_SECONDS", args.idle_timeout, priority="cmdline")
    known_site_or_error(settings, args.site)
    engine = ready_engine(args)
    if args.forever:
        engine.dispose()  # each crawl it joins is a process of its own, with its own engine
        return _work_forever(args, settings)
    if _join_distributed(settings, args.site, worker=True, crawl_id=args.crawl_id) is None:
        engine.dispose()
        say(f"cqnews: {_NO_WORK.format(site=args.site)} (crawl {args.crawl_id} has ended)", file=sys.stderr)
        return 0
    spider_args = {args.site: {"base_url": args.base_url}} if args.base_url else {}
    return _crawl_and_report(args, [args.site], spider_args, settings, engine)


def _work_forever(args: argparse.Namespace, settings: Any) -> int:
    """``worker --forever``: a service joining every distributed crawl of the site until SIGTERM/SIGINT."""
    import logging

    from cqnews import distributed, startup
    startup.resume()  # a service, not a crawl: its crawls are its children (cqnews/startup.py)
    logging.basicConfig(level=args.log_level or "INFO", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = settings["CQNEWS_REDIS_URL"]
    client = _redis(url)
    say(f"worker for {args.site}: joining each distributed crawl of it (queue in {distributed.safe_url(url)}) "
          f"until SIGTERM/SIGINT", file=sys.stderr)
    keys = distributed.Keys(settings["CQNEWS_REDIS_PREFIX"], args.site)
    service = distributed.StandingWorker(client, keys, lambda crawl_id: _worker_command(args, crawl_id),
                                         stop_timeout=settings.getfloat("CQNEWS_STOP_TIMEOUT", 60))
    try:
        return service.run()
    finally:
        client.close()


def _worker_command(args: argparse.Namespace, crawl_id: str) -> list[str]:
    """The command line of one worker of crawl ``crawl_id``, with this worker's options (the archive and other
    settings come with the environment, which the child inherits)."""
    command = cqnews_command("worker", args.site, "--crawl-id", crawl_id)
    if args.base_url:
        command += ["--base-url", args.base_url]
    if args.idle_timeout is not None:
        command += ["--idle-timeout", str(args.idle_timeout)]
    if args.log_level:
        command += ["--log-level", args.log_level]
    for pair in args.set or []:
        command += ["-s", pair]
    return command


def cmd_demo(args: argparse.Namespace) -> int:
    from cqnews.db import migrate
    from cqnews.demo import deliberate_errors
    from cqnews.runner import spider_names

    settings = settings_of(args)
    settings.set("LOG_LEVEL", args.log_level or ("INFO" if args.verbose else "WARNING"), priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    fixtures = Path(args.fixtures)
    sites = [s for s in spider_names(settings) if (fixtures / s).is_dir()]
    if not sites:
        raise CliError(f"no fixture sites under {fixtures}", 2)
    engine = engine_of(args, create=True)
    if migrate.current_revision(engine) != migrate.head_revision():
        say("migrating the archive to the current schema (alembic upgrade head)", file=sys.stderr)
        migrate.upgrade(engine)
    with ExitStack() as stack:
        # Stable ports, so that a second demo run sees the same URLs (and reports them unchanged).
        ports = [args.port + i if args.port else 0 for i in range(len(sites))]
        servers = {s: stack.enter_context(_fixture_site(fixtures / s, port))
                   for s, port in zip(sites, ports, strict=True)}
        broken = {s: deliberate_errors(fixtures / s) for s in sites}
        for site, server in servers.items():
            say(f"serving the reconstructed {site} site at {server.base_url}{_broken_text(broken[site])}",
                file=sys.stderr)
        if any(broken.values()):
            say("the demo sites break the pages listed above on purpose: their errors below (Scrapy logs the 500"
                " it gave up retrying as an ERROR) are expected, and health does not count them", file=sys.stderr)
        spider_args = {s: {"base_url": server.base_url, **_deliberate_arg(broken[s])} for s, server in servers.items()}
        return _crawl_and_report(args, sites, spider_args, settings, engine)


def _broken_text(broken: dict[str, int] | None) -> str:
    """The pages of a demo site that answer an error on purpose, for the line that says where it is served."""
    if not broken:
        return ""
    pages = ", ".join(f"{status} {path}" for path, status in broken.items())
    return f" (broken on purpose: {pages})"


def _deliberate_arg(broken: dict[str, int] | None) -> dict[str, str]:
    """The spider argument naming a demo site's deliberately broken pages (a string, as Scrapy's ``-a`` are)."""
    return {} if broken is None else {"deliberate_errors": json.dumps(broken)}


def _fixture_site(root: Path, port: int) -> Any:
    from cqnews.demo.server import FixtureSite

    try:
        return FixtureSite(root, port=port)
    except OSError:  # port taken: any free one will do, at the cost of new URLs
        return FixtureSite(root, port=0)


def cmd_record(args: argparse.Namespace) -> int:
    """Fetch URLs of a site politely into a fixture folder that `cqnews demo --fixtures` serves (demo/record.py)."""
    from cqnews.demo.record import RecordError, record
    from cqnews.runner import spider_class

    settings = settings_of(args)
    site = known_site_or_error(settings, args.site)
    assert site is not None
    hosts = tuple(spider_class(settings, site).allowed_domains)
    folder = Path(args.out) / site
    delay = args.delay if args.delay is not None else settings.getfloat("DOWNLOAD_DELAY")
    try:
        recording = record(folder, args.urls, hosts, {"USER_AGENT": settings["USER_AGENT"], "DOWNLOAD_DELAY": delay},
                           base_url=args.base_url)
    except RecordError as exc:
        raise CliError(str(exc), 2) from None
    for path in dict.fromkeys(recording.merged):
        say(f"cqnews: {path}: recorded more than once (URLs differing only in their query); the last fetch is kept",
            file=sys.stderr)
    for url, why in recording.failed:
        say(f"cqnews: not recorded: {url} ({why})", file=sys.stderr)
    say(f"recorded {len(set(recording.stored))} of {len(args.urls)} URLs into {folder}")
    return 1 if recording.failed else 0


def cmd_sites(args: argparse.Namespace) -> int:
    from cqnews.runner import spider_class, spider_names

    settings = settings_of(args)
    sites = []
    for name in spider_names(settings):
        cls = spider_class(settings, name)
        sites.append({"site": name, "title": cls.site_title, "domains": list(cls.allowed_domains),
                      "listing_pages": list(cls.start_urls), "sitemaps": list(cls.sitemap_urls),
                      "feeds": list(cls.feed_urls)})
    if args.format == "json":
        for site in sites:
            say(json_text(site))
        return 0
    for site in sites:
        say(f"{site['site']}  {site['title']}  ({', '.join(site['domains'])})")
        for kind in ("listing_pages", "sitemaps", "feeds"):
            for url in site[kind]:
                say(f"    {kind.replace('_', ' ')[:-1]:<13} {url}")
    return 0



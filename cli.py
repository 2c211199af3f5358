"""cqnews: crawl Chongqing news sites into a versioned archive, and query it.

Every subcommand reads configuration from settings.py (CQNEWS_* environment variables). Errors are one
line on stderr and a non-zero exit: 1 for a failed job, 2 for bad usage or an archive that is not ready.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURES = Path(__file__).resolve().parent / "tests" / "fixtures"

EPILOG = """\
examples:
  cqnews demo                          crawl the bundled fixture sites offline into ./data/archive.db
  cqnews db upgrade                    create or migrate the archive (Alembic upgrade head)
  cqnews crawl cq_people cbg           crawl the live sites (cqnews sites lists them)
  cqnews search 渝北 --since 2020-05-01  find articles (Chinese full text; 經濟 finds 经济)
  cqnews diff 12                       what changed between the last two versions of article 12
  cqnews export --format warc -o cq.warc.gz --site cq_people
  cqnews show 12                       one article: metadata, text, versions
  cqnews history http://cq.people.com.cn/n2/2020/0508/c365401-33998868.html
  cqnews extract page.html --format jsonl
  cqnews daemon                        crawl on the schedules of cqnews.toml until stopped
  cqnews crawl cbg --distributed       crawl cbg from a queue in Redis; `cqnews worker cbg` on more machines
  cqnews worker cbg --forever          a service: join every distributed crawl of cbg until SIGTERM
  cqnews status                        per site: next run, last runs, verdict (exit 1 if unhealthy)

configuration (environment):
  CQNEWS_DATABASE_URL   archive location (default sqlite:///data/archive.db;
                        PostgreSQL: postgresql+psycopg://user@host:5432/dbname)
  CQNEWS_CONTACT, CQNEWS_USER_AGENT, CQNEWS_MAX_PAGES, CQNEWS_LOG_LEVEL ... see settings.py and README
"""


class CliError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# -- helpers -----------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Any:
    from runner import project_settings

    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None):
        overrides["CQNEWS_DATABASE_URL"] = args.database_url
    for pair in getattr(args, "set", None) or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"-s expects KEY=VALUE, got {pair!r}", 2)
        overrides[key] = value
    return project_settings(overrides)


def _engine(args: argparse.Namespace) -> Any:
    from db.session import make_engine

    return make_engine(_settings(args)["CQNEWS_DATABASE_URL"])


def _ready_engine(args: argparse.Namespace) -> Any:
    """An engine on an archive that answers and is at the schema head."""
    from db.migrate import require_head

    engine = _engine(args)
    require_head(engine)
    return engine


def _local(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "-"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def _day(text: str) -> datetime:
    """A --since/--until value: YYYY-MM-DD (Asia/Shanghai midnight) or a full ISO timestamp."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), SHANGHAI)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in [headers] + rows:
        print("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())


# -- crawling -----------------------------------------------------------------------------------------


def _report(engine: Any, results: list[Any]) -> int:
    """Print one summary row per crawl from its crawl_runs row; 1 if any crawl failed or fetched nothing."""
    from db.models import CrawlRun
    from db.session import make_sessionmaker

    rows, problems, notes = [], [], []
    with make_sessionmaker(engine)() as session:
        for result in results:
            run = session.get(CrawlRun, result.run_id) if result.run_id else None
            if run is None:
                rows.append([result.site, "not recorded"] + ["-"] * 8)
                problems.append(f"{result.site}: the crawl was not recorded in the archive (see the log above)")
                continue
            not_due = int((run.stats or {}).get("cqnews/incremental/not_due", 0))
            rows.append([run.site, f"{run.status} ({run.finish_reason})", str(run.pages_fetched),
                         str(run.articles_new), str(run.articles_updated), str(run.articles_unchanged),
                         str(run.articles_duplicate), str(run.articles_rejected), str(not_due), str(run.errors)])
            if _had_no_work(run):
                notes.append(_NO_WORK.format(site=run.site))
            elif run.status == "skipped" and run.finish_reason == "locked":
                holder = (run.stats or {}).get("cqnews/lock/held_by_run")
                problems.append(f"{run.site}: crawl refused: another crawl of this site is running (run {holder});"
                                f" recorded as run {run.id}, skipped")
            elif run.status != "finished":
                problems.append(f"{run.site}: crawl {run.status} ({run.finish_reason})")
            elif run.pages_fetched == 0:
                problems.append(f"{run.site}: no page could be fetched ({run.errors} errors); is the site reachable?")
    _print_table(rows, ["site", "status", "pages", "new", "updated", "unchanged", "duplicate", "rejected",
                        "not_due", "errors"])
    for line in notes + problems:
        print(f"cqnews: {line}", file=sys.stderr)
    return 1 if problems else 0


_NO_WORK = "worker: the distributed crawl of {site} had no work left for this worker"


def _had_no_work(run: Any) -> bool:
    """A worker of a distributed crawl that took no request, the others having drained the queue: a normal end,
    unlike a crawl that took requests and could fetch none of them (dead site, errors)."""
    stats = run.stats or {}
    ended_idle = (run.status, run.finish_reason) in {("finished", "finished"), ("skipped", "no_work_left")}
    return (ended_idle and bool(stats.get("cqnews/distributed/crawl")) and not stats.get("cqnews/distributed/dequeued")
            and run.pages_fetched == 0 and run.errors == 0)


def _crawl_and_report(args: argparse.Namespace, sites: list[str], spider_args: dict[str, dict[str, str]],
                      settings: Any) -> int:
    from runner import run_crawls

    engine = _ready_engine(args)
    print(f"crawling {', '.join(sites)} into {engine.url.render_as_string(hide_password=True)}", file=sys.stderr)
    results = run_crawls(settings, sites, spider_args)
    code = _report(engine, results)
    engine.dispose()
    # The process ends with its crawls (Twisted's reactor cannot restart). Frozen, the heap is left out of the
    # interpreter's last full collection at exit, which otherwise walks every object the crawl imported and built
    # (~0.4 s, a sixth of an unchanged re-crawl); atexit handlers and reference counting still close what is open.
    gc.freeze()
    return code


def cmd_crawl(args: argparse.Namespace) -> int:
    from runner import spider_names

    settings = _settings(args)
    settings.set("LOG_LEVEL", args.log_level or settings.get("LOG_LEVEL"), priority="cmdline")
    known = spider_names(settings)
    sites = known if args.all else args.sites
    if not sites:
        raise CliError("name at least one site, or --all (cqnews sites lists them)", 2)
    unknown = [s for s in sites if s not in known]
    if unknown:
        raise CliError(f"unknown site {', '.join(unknown)}; known: {', '.join(known)}", 2)
    spider_args = {s: {"base_url": args.base_url} for s in sites} if args.base_url else {}
    if getattr(args, "distributed", False):
        if len(sites) != 1:
            raise CliError("--distributed crawls one site: name exactly one", 2)
        _ready_engine(args).dispose()  # refuse an archive not at head before touching Redis
        _join_distributed(settings, sites[0], worker=False)
    return _crawl_and_report(args, sites, spider_args, settings)


def _join_distributed(settings: Any, site: str, worker: bool, crawl_id: str | None = None) -> str | None:
    """Make this crawl a worker of the site's distributed crawl in Redis: a new one (seeding), or the running one
    (``crawl_id``: only that one). Returns the crawl's id; None if crawl ``crawl_id`` is no longer under way."""
    import distributed

    url = settings["CQNEWS_REDIS_URL"]
    keys = distributed.Keys(settings["CQNEWS_REDIS_PREFIX"], site)
    try:
        client = distributed.connect(url)
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
    print(f"{'joining' if worker else 'starting'} distributed crawl {crawl_id} of {site} "
          f"(queue in {distributed.safe_url(url)})", file=sys.stderr)
    return crawl_id


def cmd_worker(args: argparse.Namespace) -> int:
    from runner import spider_names

    settings = _settings(args)
    settings.set("LOG_LEVEL", args.log_level or settings.get("LOG_LEVEL"), priority="cmdline")
    if args.idle_timeout is not None:
        settings.set("CQNEWS_WORKER_IDLE_SECONDS", args.idle_timeout, priority="cmdline")
    known = spider_names(settings)
    if args.site not in known:
        raise CliError(f"unknown site {args.site}; known: {', '.join(known)}", 2)
    _ready_engine(args).dispose()
    if args.forever:
        return _work_forever(args, settings)
    if _join_distributed(settings, args.site, worker=True, crawl_id=args.crawl_id) is None:
        print(f"cqnews: {_NO_WORK.format(site=args.site)} (crawl {args.crawl_id} has ended)", file=sys.stderr)
        return 0
    spider_args = {args.site: {"base_url": args.base_url}} if args.base_url else {}
    return _crawl_and_report(args, [args.site], spider_args, settings)


def _work_forever(args: argparse.Namespace, settings: Any) -> int:
    """``worker --forever``: a service joining every distributed crawl of the site until SIGTERM/SIGINT."""
    import logging

    import distributed

    logging.basicConfig(level=args.log_level or "INFO", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    url = settings["CQNEWS_REDIS_URL"]
    try:
        client = distributed.connect(url)
    except distributed.RedisError as exc:
        raise CliError(f"Redis cannot be reached at {distributed.safe_url(url)} (CQNEWS_REDIS_URL): {exc}") from None
    print(f"worker for {args.site}: joining each distributed crawl of it (queue in {distributed.safe_url(url)}) "
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
    command = [sys.executable, "-m", "cli", "worker", args.site, "--crawl-id", crawl_id]
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
    from db import migrate
    from runner import spider_names

    settings = _settings(args)
    settings.set("LOG_LEVEL", args.log_level or "WARNING", priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    fixtures = Path(args.fixtures)
    sites = [s for s in spider_names(settings) if (fixtures / s).is_dir()]
    if not sites:
        raise CliError(f"no fixture sites under {fixtures}", 2)
    engine = _engine(args)
    if migrate.current_revision(engine) != migrate.head_revision(engine):
        print("migrating the archive to the current schema (alembic upgrade head)", file=sys.stderr)
        migrate.upgrade(engine)
    with ExitStack() as stack:
        # Stable ports, so that a second demo run sees the same URLs (and reports them unchanged).
        servers = {s: stack.enter_context(_fixture_site(fixtures / s, args.port + i)) for i, s in enumerate(sites)}
        for site, server in servers.items():
            print(f"serving the recorded {site} site at {server.base_url}", file=sys.stderr)
        spider_args = {s: {"base_url": server.base_url} for s, server in servers.items()}
        return _crawl_and_report(args, sites, spider_args, settings)


def _fixture_site(root: Path, port: int) -> Any:
    from fixture_server import FixtureSite

    try:
        return FixtureSite(root, port=port)
    except OSError:  # port taken: any free one will do, at the cost of new URLs
        return FixtureSite(root, port=0)


def cmd_sites(args: argparse.Namespace) -> int:
    from runner import spider_class, spider_names

    settings = _settings(args)
    sites = []
    for name in spider_names(settings):
        cls = spider_class(settings, name)
        sites.append({"site": name, "title": cls.site_title, "domains": list(cls.allowed_domains),
                      "listing_pages": list(cls.start_urls), "sitemaps": list(cls.sitemap_urls),
                      "feeds": list(cls.feed_urls)})
    if args.format == "json":
        for site in sites:
            print(json.dumps(site, ensure_ascii=False))
        return 0
    for site in sites:
        print(f"{site['site']}  {site['title']}  ({', '.join(site['domains'])})")
        for kind in ("listing_pages", "sitemaps", "feeds"):
            for url in site[kind]:
                print(f"    {kind.replace('_', ' ')[:-1]:<13} {url}")
    return 0


# -- the daemon and health ---------------------------------------------------------------------------


def _schedules(args: argparse.Namespace, settings: Any) -> Any:
    from runner import spider_names
    from scheduler import ScheduleError, load_config

    try:
        return load_config(settings, spider_names(settings), args.config)
    except ScheduleError as exc:
        raise CliError(str(exc), 2) from None


def cmd_daemon(args: argparse.Namespace) -> int:
    import logging

    from scheduler import Daemon, DaemonError

    logging.basicConfig(level=args.log_level or "INFO", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("alembic", "apscheduler.executors"):  # every job start and end; the daemon logs crawls itself
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = _settings(args)
    engine = _ready_engine(args)
    config = _schedules(args, settings)
    if not config.sites:
        raise CliError(f"no site is scheduled (schedules from {config.source}; see CQNEWS_SCHEDULE)", 2)
    try:
        return Daemon(config, settings, engine, list(args.set or [])).run()
    except DaemonError as exc:
        raise CliError(str(exc)) from None
    finally:
        engine.dispose()


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC

    from db import locks
    from db.health import Thresholds, site_health, sites_with_runs
    from db.session import make_sessionmaker

    settings = _settings(args)
    engine = _ready_engine(args)
    config = _schedules(args, settings)
    limits = Thresholds.from_settings(settings)
    now = datetime.now(UTC)
    daemon = locks.current(engine, locks.DAEMON)
    with make_sessionmaker(engine)() as session:
        sites = sorted(set(config.sites) | set(sites_with_runs(session)))
        health = [site_health(session, site, config.sites.get(site), limits, now) for site in sites]
    unhealthy = [h for h in health if not h.ok]
    if args.format == "json":
        print(json.dumps({
            "daemon": ({"holder": daemon.holder, "lease_until": _iso(daemon.expires_at)}
                       if daemon and daemon.alive(now) else None),
            "healthy": not unhealthy,
            "sites": [{"site": h.site, "ok": h.ok, "verdict": h.verdict, "problems": h.problems,
                       "schedule": h.schedule, "next_run": _iso(h.next_run),
                       "runs": [{"id": r.id, "trigger": r.trigger, "status": r.status, "reason": r.finish_reason,
                                 "started": _iso(r.started_at), "finished": _iso(r.finished_at),
                                 "pages": r.pages_fetched, "new": r.articles_new, "errors": r.errors}
                                for r in h.runs]} for h in health],
        }, ensure_ascii=False, indent=1))
        return 1 if unhealthy else 0
    if daemon and daemon.alive(now):
        print(f"daemon: running ({daemon.holder}), since {_local(daemon.acquired_at)}")
    else:
        print("daemon: not running")
    print(f"schedules: {config.source}\n")
    _print_table([[h.site, h.verdict, h.schedule or "not scheduled", _local(h.next_run)] for h in health],
                 ["site", "verdict", "schedule", "next run"])
    for h in health:
        print(f"\n{h.site}: last {len(h.runs)} run(s)")
        _print_table([[str(r.id), r.trigger, _local(r.started_at), r.status, r.finish_reason or "-",
                       str(r.pages_fetched), str(r.articles_new), str(r.articles_updated), str(r.articles_rejected),
                       str(r.errors)] for r in h.runs],
                     ["run", "trigger", "started", "status", "reason", "pages", "new", "updated", "rejected",
                      "errors"])
    for h in unhealthy:
        print(f"cqnews: {h.site}: {h.verdict}", file=sys.stderr)
    return 1 if unhealthy else 0


# -- the archive ----------------------------------------------------------------------------------------


def cmd_db(args: argparse.Namespace) -> int:
    from alembic import command as alembic_command

    from db import migrate

    engine = _engine(args)
    shown = engine.url.render_as_string(hide_password=True)
    if args.db_command == "upgrade":
        migrate.upgrade(engine, args.revision)
        print(f"{shown}: at revision {migrate.current_revision(engine)}")
        if migrate.current_revision(engine) == migrate.head_revision(engine):
            from db.fulltext import missing, stale
            from db.session import make_sessionmaker

            with make_sessionmaker(engine)() as session:
                unindexed, old = missing(session), stale(session)
            if unindexed:
                print(f"cqnews: {unindexed:,} article(s) are not in the search index yet: run `cqnews reindex`",
                      file=sys.stderr)
            if old:
                print(f"cqnews: {old:,} article(s) were indexed by another version of the segmentation: "
                      "run `cqnews reindex`", file=sys.stderr)
    elif args.db_command == "downgrade":
        migrate.downgrade(engine, args.revision)
        print(f"{shown}: at revision {migrate.current_revision(engine) or 'base (empty)'}")
    elif args.db_command == "current":
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
        state = "up to date" if current == head else f"behind: head is {head}, run `cqnews db upgrade`"
        print(f"{shown}: revision {current or 'none (empty database)'} ({state})")
        return 0 if current == head else 1
    elif args.db_command == "check":
        migrate.require_head(engine)
        alembic_command.check(migrate.alembic_config(engine))
    return 0


def _filters(args: argparse.Namespace) -> Any:
    from db.search import Filters

    return Filters(site=args.site, since=args.since, until=args.until, dates=args.dates, author=args.author,
                   source=args.source)


def cmd_search(args: argparse.Namespace) -> int:
    import csv

    from db.fulltext import QuerySyntaxError, outdated
    from db.search import SearchIndexMissing, search
    from db.session import make_sessionmaker

    if args.limit < 1 or args.offset < 0 or args.page < 1:
        raise CliError("--limit and --page must be at least 1, --offset at least 0", 2)
    engine = _ready_engine(args)
    with make_sessionmaker(engine)() as session:
        try:
            hits = search(session, args.text, _filters(args), sort=args.sort, limit=args.limit,
                          offset=args.offset + (args.page - 1) * args.limit)
        except QuerySyntaxError as exc:
            raise CliError(f"bad query: {exc}", 2) from None
        except SearchIndexMissing as exc:
            raise CliError(str(exc), 2) from None
        if outdated(session):
            print("cqnews: the search index was made by another version of the segmentation (jieba, OpenCC or "
                  "the word list): results may miss articles until `cqnews reindex`", file=sys.stderr)
    records = [{"id": h.article_id, "site": h.site, "url": h.url, "title": h.title,
                "published_at": _iso(h.published_at), "archived_at": _iso(h.first_seen), "author": h.author,
                "source": h.source, "versions": h.version_count, "title_matches": h.score, "snippet": h.snippet}
               for h in hits]
    if args.format == "json":
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(records[0]) if records else ["id"])
        writer.writeheader()
        writer.writerows(records)
    else:
        _print_table([[str(h.article_id), _local(h.published_at), h.site, (h.title or "")[:40], h.url]
                      for h in hits], ["id", "published", "site", "title", "url"])
        print(f"{len(hits)} result(s)", file=sys.stderr)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    import time as clock

    from db.fulltext import rebuild

    engine = _ready_engine(args)
    started = clock.monotonic()

    def progress(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        rate = done / max(clock.monotonic() - started, 1e-6)
        eta = (total - done) / rate if rate else 0
        print(f"\rindexing [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} "
              f"{rate:,.0f}/s, {eta:,.0f} s left ", end="", file=sys.stderr, flush=True)

    count = rebuild(engine, batch=args.batch, workers=args.workers, progress=progress)
    print(file=sys.stderr)
    print(f"indexed {count:,} article(s) in {clock.monotonic() - started:.1f} s")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from db.search import get_article, paragraph_diff, version_pair
    from db.session import make_sessionmaker

    if (args.v1 is None) != (args.v2 is None):
        raise CliError("give two versions to compare (V1 V2), or none for the last two", 2)
    engine = _ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = get_article(session, args.id)
        if article is None or not article.versions:
            raise CliError(f"no article with id {args.id}")
        try:
            old, new = version_pair(article, args.v1, args.v2)
        except KeyError as exc:
            raise CliError(str(exc.args[0])) from None
        fields = [(f, getattr(old, f), getattr(new, f)) for f in ("title", "published_at", "author", "source",
                                                                  "editor") if getattr(old, f) != getattr(new, f)]
        lines = paragraph_diff(old.text, new.text, context=args.context)
        if args.format == "json":
            print(json.dumps({"id": article.id, "url": article.url, "from": _version_dict(old),
                              "to": _version_dict(new),
                              "fields": {f: [_iso(a) if isinstance(a, datetime) else a,
                                             _iso(b) if isinstance(b, datetime) else b] for f, a, b in fields},
                              "paragraphs": [{"kind": x.kind, "text": x.text} for x in lines]},
                             ensure_ascii=False, indent=1))
            return 0
        print(f"article {article.id}: {article.url}")
        print(f"--- v{old.version_no}  {_local(old.first_seen)}  {old.content_hash[:12]}")
        print(f"+++ v{new.version_no}  {_local(new.first_seen)}  {new.content_hash[:12]}")
        for name, a, b in fields:
            show = _local if name == "published_at" else (lambda v: v or "-")
            print(f"{name}: {show(a)} → {show(b)}")
        if old.version_no == new.version_no:
            print(f"(article {article.id} has one version: nothing to compare)")
        elif not any(x.kind != " " for x in lines):
            print("(the text is the same)")
        else:
            for line in lines:
                print(f"{line.kind} {line.text}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from db import export
    from db.fulltext import QuerySyntaxError
    from db.search import SearchIndexMissing, select_articles
    from db.session import make_sessionmaker

    filters = _filters(args)
    engine = _ready_engine(args)
    target = Path(args.output)
    if not target.parent.is_dir():
        raise CliError(f"{target.parent}: no such folder", 2)
    with make_sessionmaker(engine)() as session:
        try:
            ids = select_articles(session, filters, args.query)
        except QuerySyntaxError as exc:
            raise CliError(f"bad query: {exc}", 2) from None
        except SearchIndexMissing as exc:
            raise CliError(str(exc), 2) from None
        unfiltered = not args.query and filters == type(filters)()
        if args.format == "warc":
            pages = export.page_ids(session, None if unfiltered else ids)
            with target.open("wb") as out:
                count = export.write_warc(session, pages, out, gzip=target.suffix == ".gz", filename=target.name)
            what = "response record(s)"
        else:
            with target.open("w", encoding="utf-8", newline="") as out:
                write = export.write_jsonl if args.format == "jsonl" else export.write_csv
                count = write(session, ids, out)
            what = "article(s)"
    print(f"wrote {count:,} {what} to {target}", file=sys.stderr)
    return 0


def _version_dict(v: Any) -> dict[str, Any]:
    return {"version": v.version_no, "title": v.title, "published_at": _iso(v.published_at), "author": v.author,
            "source": v.source, "editor": v.editor, "content_hash": v.content_hash, "chars": v.text_length,
            "first_seen": _iso(v.first_seen), "last_seen": _iso(v.last_seen), "seen": v.seen_count,
            "extractor": v.extractor_version}


def cmd_show(args: argparse.Namespace) -> int:
    from db.search import get_article
    from db.session import make_sessionmaker

    engine = _ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = get_article(session, args.id)
        if article is None:
            raise CliError(f"no article with id {args.id}")
        latest = article.versions[-1]
        if args.format == "json":
            print(json.dumps({"id": article.id, "site": article.site.name, "url": article.url,
                              "aliases": [a.url for a in article.aliases], "duplicate_of": article.duplicate_of,
                              "text": latest.text,
                              "versions": [_version_dict(v) for v in article.versions]},
                             ensure_ascii=False, indent=1))
            return 0
        print(f"# {latest.title or '(untitled)'}")
        print(f"id {article.id} · {article.site.name} · {article.url}")
        for alias in article.aliases:
            print(f"also at {alias.url}")
        if article.duplicate_of:
            print(f"near-duplicate of article {article.duplicate_of} (the same story, first archived there)")
        print(f"published {_local(latest.published_at)} · author {latest.author or '-'} · "
              f"source {latest.source or '-'} · editor {latest.editor or '-'}")
        print(f"archived {_local(article.first_seen)} · last seen {_local(article.last_seen)} · "
              f"{article.version_count} version(s)\n")
        print(latest.text)
        print()
        for v in article.versions:
            print(f"v{v.version_no}  {_local(v.first_seen)} → {_local(v.last_seen)}  {v.text_length} chars  "
                  f"{v.content_hash[:12]}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from db.search import find_article_by_url, history
    from db.session import make_sessionmaker

    engine = _ready_engine(args)
    with make_sessionmaker(engine)() as session:
        article = find_article_by_url(session, args.url)
        if article is None:
            raise CliError(f"{args.url} is not in the archive")
        changes = history(article)
        if args.format == "json":
            for c in changes:
                print(json.dumps(_version_dict(c.version) | {"changed": c.changed_fields,
                                 "paragraphs_added": c.paragraphs_added,
                                 "paragraphs_removed": c.paragraphs_removed}, ensure_ascii=False))
            return 0
        print(f"article {article.id}: {article.url}")
        rows = []
        for c in changes:
            what = "first capture" if c.version.version_no == 1 else (
                f"{', '.join(c.changed_fields) or 'metadata'}: +{c.paragraphs_added}/-{c.paragraphs_removed} ¶")
            rows.append([f"v{c.version.version_no}", _local(c.version.first_seen), _local(c.version.last_seen),
                         str(c.version.seen_count), c.version.content_hash[:12], str(c.version.text_length), what])
        _print_table(rows, ["version", "first seen", "last seen", "seen", "hash", "chars", "changed"])
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from db.search import recent_runs
    from db.session import make_sessionmaker

    engine = _ready_engine(args)
    with make_sessionmaker(engine)() as session:
        runs = recent_runs(session, args.site, args.limit)
    _print_table([[str(r.id), r.site, _local(r.started_at), _local(r.finished_at), r.status, r.finish_reason or "-",
                   str(r.pages_fetched), str(r.articles_new), str(r.articles_updated), str(r.articles_unchanged),
                   str(r.articles_duplicate), str(r.articles_rejected), str(r.errors)] for r in runs],
                 ["run", "site", "started", "finished", "status", "reason", "pages", "new", "updated",
                  "unchanged", "dup", "rejected", "errors"])
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from pipelines.article import extract_file

    failed = 0
    for path in args.files:
        if not Path(path).is_file():
            print(f"cqnews: {path}: no such file", file=sys.stderr)
            failed += 1
            continue
        record = extract_file(path)
        if args.format == "jsonl":
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(f"== {path}\ntitle: {record.get('title')}\npublished: {record.get('published_at')}\n"
                  f"author: {record.get('author')}  source: {record.get('source')}  "
                  f"editor: {record.get('editor')}\n\n{record.get('text') or record.get('error')}\n")
    return 1 if failed else 0


# -- parser ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cqnews", description=__doc__.splitlines()[0], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", metavar="URL",
                        help="archive database (default: $CQNEWS_DATABASE_URL or sqlite:///data/archive.db)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("demo", cmd_demo, "serve the bundled fixture sites on 127.0.0.1 and crawl them into the archive")
    p.add_argument("--fixtures", default=str(FIXTURES), help="folder of fixture sites (default: %(default)s)")
    p.add_argument("--port", type=int, default=18400, help="first port to serve the sites on (default: %(default)s)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("crawl", cmd_crawl, "crawl sites now and store what changed; prints a summary per site")
    p.add_argument("sites", nargs="*", metavar="SITE", help="spider names (see `cqnews sites`)")
    p.add_argument("--all", action="store_true", help="crawl every site")
    p.add_argument("--base-url", metavar="URL", help="fetch from this mirror (e.g. a recorded copy on 127.0.0.1)")
    p.add_argument("--distributed", action="store_true",
                   help="start a distributed crawl of one site: its queue in Redis ($CQNEWS_REDIS_URL), seeded with "
                        "its start pages; crawl as one worker while `cqnews worker SITE` processes join")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("worker", cmd_worker, "join the distributed crawl of SITE (see crawl --distributed) and work its queue "
            "until no work is left")
    p.add_argument("site", metavar="SITE", help="spider name (see `cqnews sites`)")
    p.add_argument("--base-url", metavar="URL", help="fetch from this mirror (as crawl --base-url)")
    p.add_argument("--idle-timeout", type=float, metavar="S",
                   help="wait this long for a crawl to begin, and leave a crawl once no work has been left for this "
                        "long (default: $CQNEWS_WORKER_IDLE_SECONDS or 30)")
    once = p.add_mutually_exclusive_group()
    once.add_argument("--forever", action="store_true",
                      help="run as a service: wait for each distributed crawl of SITE (as the daemon starts them), "
                           "work it, then wait for the next; stop cleanly on SIGTERM/SIGINT (exit 0)")
    once.add_argument("--crawl-id", help=argparse.SUPPRESS)  # --forever's children: join this crawl or none
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("sites", cmd_sites, "list the sites cqnews can crawl, with where each one announces its articles")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("db", cmd_db, "create, migrate or check the archive's schema (Alembic)")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate back to REVISION ('base' empties the archive)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="show the schema revision; exit 1 if not at head")
    db_sub.add_parser("check", help="fail if the models and migrations disagree")

    p = add("daemon", cmd_daemon, "run the crawl schedules in the foreground until SIGTERM/SIGINT (logs to stderr)")
    p.add_argument("--config", metavar="FILE", help="schedule file (default: $CQNEWS_SCHEDULE_FILE or cqnews.toml)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE",
                   help="override a setting, for the daemon and every crawl it starts")

    p = add("status", cmd_status, "per site: next scheduled run, last runs and a verdict; exit 1 if any is unhealthy")
    p.add_argument("--config", metavar="FILE", help="schedule file (default: $CQNEWS_SCHEDULE_FILE or cqnews.toml)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a setting")

    def add_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--site", help="only this site (see `cqnews sites`)")
        p.add_argument("--since", type=_day, metavar="DATE", help="on or after DATE (YYYY-MM-DD, Asia/Shanghai)")
        p.add_argument("--until", type=_day, metavar="DATE", help="before DATE")
        p.add_argument("--dates", choices=["published", "archived"], default="published",
                       help="which date --since/--until (and --sort date) use (default: %(default)s)")
        p.add_argument("--author", help="author contains this (traditional or simplified)")
        p.add_argument("--source", help="source contains this (traditional or simplified)")

    p = add("search", cmd_search, "full-text search of the latest version of every article (Chinese words, "
            "traditional or simplified)")
    p.add_argument("text", help='words, all required; "a b" one word; A OR B; -word excludes')
    add_filters(p)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance",
                   help="relevance: query words in the title first, then newest; date: newest first")
    p.add_argument("--limit", type=int, default=20, help="results per page (default: %(default)s)")
    p.add_argument("--page", type=int, default=1, help="page number, from 1")
    p.add_argument("--offset", type=int, default=0, help="skip this many results first")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")

    p = add("reindex", cmd_reindex, "rebuild the full-text search index from the latest versions (progress on stderr)")
    p.add_argument("--batch", type=int, default=500, help="articles per transaction (default: %(default)s)")
    p.add_argument("--workers", type=int, default=1, help="processes that segment text (default: %(default)s)")

    p = add("diff", cmd_diff, "what changed between two versions of an article, by paragraph (default: the last two)")
    p.add_argument("id", type=int)
    p.add_argument("v1", type=int, nargs="?", metavar="V1")
    p.add_argument("v2", type=int, nargs="?", metavar="V2")
    p.add_argument("--context", type=int, default=1, help="unchanged paragraphs shown around changes")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("export", cmd_export, "write articles (JSONL, CSV) or their stored responses (WARC) to a file")
    p.add_argument("--format", choices=["jsonl", "csv", "warc"], required=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE (WARC: gzipped if it ends in .gz)")
    p.add_argument("--query", metavar="TEXT", help="only the articles a search for TEXT finds")
    add_filters(p)

    p = add("show", cmd_show, "one article: metadata, latest text and its versions")
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("history", cmd_history, "every version of the article at URL: when, hash, size, what changed")
    p.add_argument("url")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = add("runs", cmd_runs, "recent crawl runs with their counts")
    p.add_argument("--site")
    p.add_argument("--limit", type=int, default=20)

    p = add("extract", cmd_extract, "extract article text and metadata from saved HTML files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["jsonl", "text"], default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["CQNEWS_DATABASE_URL"] = args.database_url
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from db.migrate import DatabaseNotAtHead
    from db.session import ArchiveConfigError

    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"cqnews: {exc}", file=sys.stderr)
        return exc.code
    except DatabaseNotAtHead as exc:
        print(f"cqnews: {exc}", file=sys.stderr)
        return 2
    except ArchiveConfigError as exc:
        print(f"cqnews: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"cqnews: the archive database cannot be reached: {reason}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"cqnews: database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cqnews: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The command line: every subcommand, its options and its help."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from cqnews import demo
from cqnews.cli import crawl, ops, query, serve
from cqnews.cli.common import MAX_COUNT, MAX_ID, MAX_PAGE, http_url, int_in, parse_day, seconds_in

DESCRIPTION = "cqnews: crawl Chongqing news sites into a versioned archive, and query it."

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
  cqnews serve                         read the archive in a browser at http://127.0.0.1:8765/

configuration (environment):
  CQNEWS_DATABASE_URL   archive location (default sqlite:///data/archive.db;
                        PostgreSQL: postgresql+psycopg://user@host:5432/dbname)
  CQNEWS_CONTACT, CQNEWS_USER_AGENT, CQNEWS_MAX_PAGES, CQNEWS_LOG_LEVEL ... see settings.py and README
"""

SEARCH_EPILOG = """\
query:
  Each word is a piece of text the title or the body must hold exactly as written, anywhere: 近平 finds
  习近平, 渝 finds 渝北 and 成渝, GDP finds GDP1.5%, 《决定》 finds the quoted title; traditional and
  simplified, full-width and half-width, upper and lower case are the same (經濟 finds 经济).
  words separated by spaces   all required (AND may be written: 重庆 AND 渝北)
  A OR B                      either (OR binds tighter than the spaces: 重庆 火锅 OR 小面)
  -word, NOT word             must not be there
  "several words"             one piece, spaces and punctuation included
  OR, AND and NOT are operators in capitals only; a query that cannot be read is an error (exit 2).

examples:
  cqnews search 渝北                       every article that mentions 渝北
  cqnews search '习近平 "高质量发展"'        both, the second exactly as quoted
  cqnews search '轻轨 OR 轨道交通 -招聘'      either word, and no 招聘
  cqnews search 重庆 --site cbg --since 2020-05-01 --sort date --page 2

Under the results: how many there are (counted up to 1,000, then "more than"; on PostgreSQL a query in
many articles may show "more than 100" instead of counting), the page shown and the command for the next page.
"""


class Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (the usage itself is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")

    def _parse_optional(self, arg_string: str) -> Any:
        """``-重庆`` is a query's excluded word, never an option: every option name is ASCII after its dash, so
        ``cqnews search -渝北…`` needs no ``--`` (a Latin ``-word`` still does, as in any command line)."""
        if len(arg_string) > 1 and arg_string[0] == "-" and not arg_string[1].isascii():
            return None
        return super()._parse_optional(arg_string)


def _debug_flag(parser: argparse.ArgumentParser) -> None:
    """--debug after the subcommand too (``cqnews search x --debug``); SUPPRESS keeps the top level's value."""
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _crawl_output_flags(parser: argparse.ArgumentParser) -> None:
    """How a crawl talks at the console: Scrapy's start-up and closing chatter, the live progress line."""
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also print Scrapy's start-up report (versions, settings, components) and final stats")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="a progress line on stderr (pages, articles, rate); default: when stderr is a terminal")


class _Version(argparse.Action):
    """``--version``: argparse's own action, but the version read only when asked for (``cqnews.__version__``)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show the program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> NoReturn:
        import cqnews

        print(f"cqnews {cqnews.__version__}")  # on standard output, as argparse's version action prints it
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cqnews", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--debug", action="store_true", help="on an unexpected error, print its traceback")
    parser.add_argument("--database-url", metavar="URL",
                        help="archive database (default: $CQNEWS_DATABASE_URL or sqlite:///data/archive.db)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        _debug_flag(p)
        return p

    p = add("demo", crawl.cmd_demo,
            "serve the bundled fixture sites on 127.0.0.1 and crawl them into the archive")
    p.set_defaults(starts_crawl=True)  # its start-up lasts until the reactor starts (cqnews/startup.py)
    p.add_argument("--fixtures", default=str(demo.SITES), help="folder of fixture sites (default: %(default)s)")
    p.add_argument("--port", type=int_in(0, 65535), default=18400,
                   help="first port to serve the sites on; 0: any free ports (default: %(default)s)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    _crawl_output_flags(p)
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("crawl", crawl.cmd_crawl,
            "crawl sites now and store what changed; prints a summary per site")
    p.set_defaults(starts_crawl=True)  # its start-up lasts until the reactor starts (cqnews/startup.py)
    p.add_argument("sites", nargs="*", metavar="SITE", help="spider names (see `cqnews sites`)")
    p.add_argument("--all", action="store_true", help="crawl every site")
    p.add_argument("--base-url", type=http_url, metavar="URL",
                   help="fetch from this mirror (e.g. the demo sites on 127.0.0.1)")
    p.add_argument("--distributed", action="store_true",
                   help="start a distributed crawl of one site: its queue in Redis ($CQNEWS_REDIS_URL), seeded with "
                        "its start pages; crawl as one worker while `cqnews worker SITE` processes join")
    config = p.add_mutually_exclusive_group()
    config.add_argument("--config", metavar="FILE",
                        help="crawl each site as its entry in this schedule file says (base_url, settings), under "
                             "these flags (default: $CQNEWS_SCHEDULE_FILE or cqnews.toml, if present)")
    config.add_argument("--no-config", action="store_true",
                        help="ignore the schedule file (the daemon passes a site's entry as flags)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    _crawl_output_flags(p)
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("worker", crawl.cmd_worker,
            "join the distributed crawl of SITE (see crawl --distributed) and work its queue "
            "until no work is left")
    p.set_defaults(starts_crawl=True)  # its start-up lasts until the reactor starts (cqnews/startup.py)
    p.add_argument("site", metavar="SITE", help="spider name (see `cqnews sites`)")
    p.add_argument("--base-url", type=http_url, metavar="URL", help="fetch from this mirror (as crawl --base-url)")
    p.add_argument("--idle-timeout", type=seconds_in(0, 86400), metavar="S",
                   help="wait this long for a crawl to begin, or to be seeded (a crawl with no work left once seeded "
                        "is left at once) (default: $CQNEWS_WORKER_IDLE_SECONDS or 30)")
    once = p.add_mutually_exclusive_group()
    once.add_argument("--forever", action="store_true",
                      help="run as a service: wait for each distributed crawl of SITE (as the daemon starts them), "
                           "work it, then wait for the next; stop cleanly on SIGTERM/SIGINT (exit 0)")
    once.add_argument("--crawl-id", help=argparse.SUPPRESS)  # --forever's children: join this crawl or none
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    _crawl_output_flags(p)
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a Scrapy setting")

    p = add("record", crawl.cmd_record,
            "fetch pages of SITE politely (robots.txt, delay) into a fixture folder that `cqnews demo` serves")
    p.add_argument("site", metavar="SITE", help="spider name (see `cqnews sites`): its hosts are the ones recorded")
    p.add_argument("urls", nargs="+", metavar="URL", help="pages to record, as they are linked on the site")
    p.add_argument("--out", default="recorded", help="the folder SITE/ is written under (default: %(default)s)")
    p.add_argument("--delay", type=seconds_in(0, 3600), metavar="S",
                   help="seconds between requests (default: $CQNEWS_DOWNLOAD_DELAY)")
    p.add_argument("--base-url", type=http_url, metavar="URL",
                   help="fetch the same paths from this mirror (as crawl --base-url)")

    p = add("sites", crawl.cmd_sites,
            "list the sites cqnews can crawl, with where each one announces its articles")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("db", ops.cmd_db,
            "create, migrate or check the archive's schema (Alembic)")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (or REVISION)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate back to REVISION ('base' empties the archive); "
                                               "asks first, unless --yes")
    down.add_argument("revision")
    down.add_argument("-y", "--yes", action="store_true", help="do not ask: the data the downgrade drops is lost")
    current = db_sub.add_parser("current", help="show the schema revision; exit 1 if not at head")
    check = db_sub.add_parser("check", help="fail if the models and migrations disagree")
    backup = db_sub.add_parser("backup", help="copy the SQLite archive into the new FILE, consistent even while "
                                              "a crawl writes (SQLite's online backup); PostgreSQL: use pg_dump")
    backup.add_argument("file", metavar="FILE")
    for action in (up, down, current, check, backup):
        _debug_flag(action)

    p = add("daemon", ops.cmd_daemon,
            "run the crawl schedules in the foreground until SIGTERM/SIGINT (logs to stderr)")
    p.add_argument("--config", metavar="FILE", help="schedule file (default: $CQNEWS_SCHEDULE_FILE or cqnews.toml)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE",
                   help="override a setting, for the daemon and every crawl it starts")
    p.add_argument("--check", action="store_true",
                   help="validate the schedule file, the settings and the archive as a start would, print what "
                        "would run, and exit (0: it would start; 2: the reason it would not)")

    p = add("status", ops.cmd_status,
            "the daemon, and per site: next scheduled run, last runs and a verdict; exit 1 if any site is "
            "unhealthy or the daemon died")
    p.add_argument("--config", metavar="FILE", help="schedule file (default: the running daemon's, else "
                   "$CQNEWS_SCHEDULE_FILE or cqnews.toml)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a setting")

    def add_filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--site", help="only this site (see `cqnews sites`)")
        p.add_argument("--since", type=parse_day, metavar="DATE", help="on or after DATE (YYYY-MM-DD, Asia/Shanghai)")
        p.add_argument("--until", type=parse_day, metavar="DATE", help="before DATE")
        p.add_argument("--dates", choices=["published", "archived"], default="published",
                       help="which date --since/--until (and --sort date) use (default: %(default)s)")
        p.add_argument("--author", help="author contains this (traditional or simplified)")
        p.add_argument("--source", help="source contains this (traditional or simplified)")

    p = add("search", query.cmd_search,
            "find the articles whose latest version holds the given text, like Ctrl-F over the archive "
            "(traditional or simplified alike)")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = SEARCH_EPILOG
    p.set_defaults(archive_only=True)  # needs only the archive: starts without loading Scrapy (cli.main)
    p.add_argument("text", help='the query: pieces of text, all required; A OR B; -word or NOT word excludes; '
                                '"quoted words" one piece (see below)')
    add_filters(p)
    p.add_argument("--sort", choices=["relevance", "date"], default="relevance",
                   help="relevance: query words in the title first, then newest; date: newest first")
    p.add_argument("--limit", type=int_in(1, MAX_COUNT), default=20, help="results per page (default: %(default)s)")
    p.add_argument("--page", type=int_in(1, MAX_PAGE), default=1, help="page number, from 1")
    p.add_argument("--offset", type=int_in(0, MAX_PAGE), default=0, help="skip this many results first")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")

    p = add("reindex", ops.cmd_reindex,
            "rebuild the full-text search index from the latest versions (progress on stderr)")
    p.add_argument("--batch", type=int_in(1, MAX_COUNT), default=500,
                   help="articles per transaction (default: %(default)s)")
    p.add_argument("--workers", type=int_in(1, 256), default=1,
                   help="processes that segment text (default: %(default)s)")

    p = add("diff", query.cmd_diff,
            "what changed between two versions of an article, by paragraph (default: the last two)")
    p.add_argument("id", type=int_in(1, MAX_ID))
    p.add_argument("v1", type=int_in(1, MAX_ID), nargs="?", metavar="V1")
    p.add_argument("v2", type=int_in(1, MAX_ID), nargs="?", metavar="V2")
    p.add_argument("--context", type=int_in(0, MAX_COUNT), default=1,
                   help="unchanged paragraphs shown around changes")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("export", query.cmd_export,
            "write articles (JSONL, CSV) or their stored responses (WARC) to a file")
    p.add_argument("--format", choices=["jsonl", "csv", "warc"], required=True)
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="FILE, or - for standard output (WARC: gzipped if it ends in .gz)")
    p.add_argument("--escape-formulas", action=argparse.BooleanOptionalAction, default=True,
                   help="CSV: put ' before a cell that starts with = + - @ (or a tab or carriage return), so a "
                        "spreadsheet shows it instead of running it as a formula (default: on)")
    p.add_argument("--query", metavar="TEXT", help="only the articles a search for TEXT finds")
    add_filters(p)

    p = add("show", query.cmd_show,
            "one article: metadata, latest text and its versions")
    p.add_argument("id", type=int_in(1, MAX_ID))
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = add("history", query.cmd_history,
            "every version of the article at URL: when, hash, size, what changed")
    p.add_argument("url")
    p.add_argument("--format", choices=["table", "json"], default="table")

    p = add("runs", ops.cmd_runs,
            "recent crawl runs with their counts")
    p.add_argument("--site", help="only this site (see `cqnews sites`)")
    p.add_argument("--limit", type=int_in(1, MAX_COUNT), default=20, help="runs shown (default: %(default)s)")
    p.add_argument("--follow", action="store_true",
                   help="show the running crawls with their progress until none runs (or Ctrl-C)")
    p.add_argument("--interval", type=int_in(1, 3600), default=2, help="--follow: seconds between updates")

    for name, what in (("pause", "the daemon starts no scheduled crawl of SITE until `cqnews resume SITE`"),
                       ("resume", "undo `cqnews pause SITE`"),
                       ("run", "ask the running daemon to crawl SITE now, with its schedule's settings")):
        p = add(name, ops.cmd_run if name == "run" else ops.cmd_pause, what)
        p.add_argument("site", metavar="SITE", help="a site (see `cqnews sites`)")
    p = add("cancel", ops.cmd_cancel, "stop a running crawl (RUN: its id in `cqnews runs`), from any host")
    p.add_argument("run", metavar="RUN", type=int_in(1, MAX_ID))

    p = add("serve", serve.cmd_serve,
            "serve a read-only web reader of the archive: search, articles and their diffs, sites, runs, "
            "a JSON API under /api/ and /metrics")
    p.add_argument("--host", default="127.0.0.1", help="address to bind; anything but loopback needs a token "
                                                       "(default: %(default)s)")
    p.add_argument("--port", type=int_in(0, 65535), default=8765, help="0: any free port (default: %(default)s)")
    p.add_argument("--token", help="every request must carry it (Authorization: Bearer, ?token= or its cookie); "
                                   "default: $CQNEWS_SERVE_TOKEN")
    p.add_argument("--config", metavar="FILE", help="schedule file for the sites' verdicts (as `cqnews status`)")
    p.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default="INFO")
    p.add_argument("-s", "--set", action="append", metavar="KEY=VALUE", help="override a setting")

    p = add("extract", query.cmd_extract,
            "extract article text and metadata from saved HTML files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["jsonl", "text"], default="text")
    return parser



"""What every subcommand shares: the one-line error, settings and engines from the command line, argument types."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from cqnews.cli.render import SHANGHAI


class CliError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code



def settings_of(args: argparse.Namespace) -> Any:
    """The command's Scrapy settings (environment, then ``-s``), checked by cqnews.config; built once per command
    (``main`` builds them before the command runs, so a bad setting stops it before any work)."""
    from cqnews.runner import project_settings

    cached = getattr(args, "_settings", None)
    if cached is not None:
        return cached
    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None) is not None:
        overrides["CQNEWS_DATABASE_URL"] = args.database_url
    for pair in getattr(args, "set", None) or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"-s expects KEY=VALUE, got {pair!r}", 2)
        overrides[key] = value
    args._settings = project_settings(overrides)
    return args._settings


def checked_settings(args: argparse.Namespace) -> Any:
    """The settings the command reads, checked once (``main`` calls this before the command runs): a command
    marked ``archive_only`` (a search) without ``-s`` gets the archive's settings alone, checked without loading
    Scrapy (``cqnews.config.archive_settings``); every other command the whole Scrapy settings."""
    if not getattr(args, "archive_only", False) or getattr(args, "set", None):
        return settings_of(args)
    cached = getattr(args, "_archive_settings", None)
    if cached is None:
        from cqnews.config import archive_settings

        cached = args._archive_settings = archive_settings()
    return cached


def engine_of(args: argparse.Namespace, create: bool = False) -> Any:
    """An engine on the configured archive; ``create`` only for the commands that make one (db upgrade, demo):
    any other command on a missing SQLite file is one line saying how to create it, and creates nothing."""
    from cqnews.db.session import settings_engine

    return settings_engine(checked_settings(args), create=create)


def ready_engine(args: argparse.Namespace) -> Any:
    """An engine on an archive that answers and is at the schema head."""
    from cqnews.db.migrate import require_head

    engine = engine_of(args)
    require_head(engine)
    return engine



def known_site_or_error(settings: Any, site: str | None) -> str | None:
    """``site`` itself if a spider of that name exists (None passes: no filter); else a usage error naming the
    known sites, so a mistyped ``--site`` is not an empty result."""
    from cqnews.runner import spider_names

    if site is None:
        return None
    known = spider_names(settings)
    if site not in known:
        raise CliError(f"unknown site {site}; known: {', '.join(known)}", 2)
    return site


def site_without_articles(args: argparse.Namespace, exc: Any) -> None:
    """After ``UnknownSite`` (a ``--site`` the archive has no article of): returns for a site a spider crawls
    (not crawled yet: nothing to show), else raises a usage error naming every known site, the spiders' and the
    archive's. Scrapy is loaded here, on this error path only, so that a search still starts without it."""
    from cqnews.runner import spider_names

    problem = exc.problem(spider_names(settings_of(args)))
    if problem is not None:
        raise CliError(problem, 2)


# Integer columns are 32-bit on PostgreSQL: a larger id cannot name a row, and would fail in the driver.
MAX_ID = 2**31 - 1
# Counts and pages: large enough for any real use, small enough that limit x page stays a 64-bit offset.
MAX_COUNT = 10**6
MAX_PAGE = 10**9


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], else one usage message saying the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {low} to {high}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its "invalid ... value" message
    return parse


def seconds_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number of seconds in [low, high] (not nan, not inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not low <= value <= high:  # also false for nan
            raise argparse.ArgumentTypeError(f"{text} is out of range: use {low:g} to {high:g} seconds")
        return value

    parse.__name__ = "seconds"
    return parse


def http_url(text: str) -> str:
    """An argparse type: an absolute http(s) URL with a host (--base-url)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {text!r} (e.g. http://127.0.0.1:8000)")
    try:
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in {text!r}") from None
    return text


# Dates that exist in every time zone and in both databases' timestamp types.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def parse_day(text: str) -> datetime:
    """A --since/--until value: YYYY-MM-DD (Asia/Shanghai midnight) or a full ISO timestamp, 1900 to 9998."""
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), time(), SHANGHAI)
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    value = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if not _FIRST_DAY <= value.date() <= _LAST_DAY:
        raise argparse.ArgumentTypeError(f"date out of range: {text!r} (use {_FIRST_DAY} to {_LAST_DAY})")
    return value



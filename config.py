"""Every setting cqnews reads, converted and checked once, before any work.

``settings.py`` takes the CQNEWS_* environment as strings and ``-s KEY=VALUE`` adds strings too; Scrapy would
convert them only where a component reads them, deep in a crawl (where an error in ``from_crawler`` was lost).
:func:`validate` converts each listed setting to its type in place, at its own priority, or raises
:class:`ConfigError` with one line naming where the value came from (the variable or ``-s KEY``), the value
and what is allowed. A new setting: one line in ``settings.py`` and one :class:`Option` in :data:`OPTIONS`.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy.settings import Settings



class ConfigError(Exception):
    """A setting has a value cqnews cannot use; the message is one line for the user."""


Parse = Callable[[Any], Any]


@dataclass(frozen=True)
class Option:
    """One setting: its Scrapy name, the CQNEWS_* variable it comes from (if any), how to read it."""

    setting: str
    env: str | None
    parse: Parse
    allowed: str


def integer(low: int, high: int | None = None) -> tuple[Parse, str]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        number = int(value)
        if number < low or (high is not None and number > high):
            raise ValueError
        return number

    return parse, f"an integer from {low}" + (f" to {high}" if high is not None else " up")


def number(low: float, high: float | None = None, *, above: bool = False) -> tuple[Parse, str]:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        result = float(value)
        if not math.isfinite(result) or result < low or (above and result == low) or \
                (high is not None and result > high):
            raise ValueError
        return result

    bound = f"above {low:g}" if above else f"from {low:g}"
    return parse, f"a number {bound}" + (f" to {high:g}" if high is not None else "")


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def boolean() -> tuple[Parse, str]:
    def parse(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError

    return parse, "1 or 0 (also true/false, yes/no, on/off)"


def text(*, empty: bool = True) -> tuple[Parse, str]:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()) or "\n" in value or "\r" in value:
            raise ValueError
        return value

    return parse, "one line of text" if empty else "a non-empty line of text"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level() -> tuple[Parse, str]:
    def parse(value: Any) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError
        return level

    return parse, "one of " + ", ".join(LOG_LEVELS)


def ladder() -> tuple[Parse, str]:
    def parse(value: Any) -> str:
        from cqnews.db.revisit import parse_ladder

        if not isinstance(value, str):
            raise ValueError
        parse_ladder(value)  # kept as text: the store parses it (a spider may override it)
        return value

    return parse, "intervals like 1h,6h,1d,3d (units s, m, h, d, w)"


def timezone() -> tuple[Parse, str]:
    def parse(value: Any) -> str:
        from zoneinfo import ZoneInfo

        if not isinstance(value, str):
            raise ValueError
        if value:
            try:
                ZoneInfo(value)
            except (KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
                raise ValueError from None
        return value

    return parse, "empty or an IANA time zone such as Asia/Shanghai"


def _option(setting: str, env: str | None, kind: tuple[Parse, str]) -> Option:
    return Option(setting, env, kind[0], kind[1])


OPTIONS: tuple[Option, ...] = (
    _option("CQNEWS_DATABASE_URL", "CQNEWS_DATABASE_URL", text(empty=False)),
    _option("CQNEWS_DB_CONNECT_TIMEOUT", "CQNEWS_DB_CONNECT_TIMEOUT", number(0, 3600, above=True)),
    _option("CQNEWS_DB_BUSY_TIMEOUT", "CQNEWS_DB_BUSY_TIMEOUT", number(0, 3600)),
    _option("CQNEWS_DB_STATEMENT_TIMEOUT", "CQNEWS_DB_STATEMENT_TIMEOUT", number(0, 86_400)),
    _option("USER_AGENT", "CQNEWS_USER_AGENT", text(empty=False)),
    _option("ROBOTSTXT_OBEY", "CQNEWS_ROBOTSTXT_OBEY", boolean()),
    _option("CONCURRENT_REQUESTS", "CQNEWS_CONCURRENT_REQUESTS", integer(1, 10_000)),
    _option("CONCURRENT_REQUESTS_PER_DOMAIN", "CQNEWS_CONCURRENCY_PER_DOMAIN", integer(1, 10_000)),
    _option("DOWNLOAD_DELAY", "CQNEWS_DOWNLOAD_DELAY", number(0, 86_400)),
    _option("AUTOTHROTTLE_ENABLED", "CQNEWS_AUTOTHROTTLE", boolean()),
    _option("AUTOTHROTTLE_START_DELAY", "CQNEWS_DOWNLOAD_DELAY", number(0, 86_400)),
    _option("DOWNLOAD_TIMEOUT", "CQNEWS_DOWNLOAD_TIMEOUT", number(0, 86_400, above=True)),
    _option("DOWNLOAD_MAXSIZE", "CQNEWS_DOWNLOAD_MAXSIZE", integer(0)),
    _option("RETRY_TIMES", "CQNEWS_RETRY_TIMES", integer(0, 100)),
    _option("CQNEWS_LISTING_DEPTH", "CQNEWS_LISTING_DEPTH", integer(0, 10_000)),
    _option("CLOSESPIDER_PAGECOUNT", "CQNEWS_MAX_PAGES", integer(0)),
    _option("CLOSESPIDER_TIMEOUT", "CQNEWS_MAX_SECONDS", number(0)),
    _option("DEPTH_LIMIT", "CQNEWS_DEPTH_LIMIT", integer(0, 10_000)),
    _option("CQNEWS_ARCHIVE", "CQNEWS_ARCHIVE", boolean()),
    _option("CQNEWS_EXTRACT", "CQNEWS_EXTRACT", boolean()),
    _option("CQNEWS_INCREMENTAL", "CQNEWS_INCREMENTAL", boolean()),
    _option("CQNEWS_REVISIT_LADDER", "CQNEWS_REVISIT_LADDER", ladder()),
    _option("CQNEWS_REVISIT_MAX_AGE_DAYS", "CQNEWS_REVISIT_MAX_AGE_DAYS", number(0, 100_000)),
    _option("CQNEWS_MIN_TEXT_CHARS", "CQNEWS_MIN_TEXT_CHARS", integer(0)),
    _option("CQNEWS_EXTRACT_PROCESSES", "CQNEWS_EXTRACT_PROCESSES", integer(0, 256)),
    _option("CQNEWS_STORE_BATCH", "CQNEWS_STORE_BATCH", integer(1, 100_000)),
    _option("CQNEWS_STORE_WAIT", "CQNEWS_STORE_WAIT", number(0, 60)),
    _option("CQNEWS_SCHEDULE_FILE", "CQNEWS_SCHEDULE_FILE", text()),
    _option("CQNEWS_SCHEDULE", "CQNEWS_SCHEDULE", text()),
    _option("CQNEWS_TIMEZONE", "CQNEWS_TIMEZONE", timezone()),
    _option("CQNEWS_MISFIRE_GRACE_SECONDS", "CQNEWS_MISFIRE_GRACE_SECONDS", integer(0)),
    _option("CQNEWS_CRAWL_TIMEOUT", "CQNEWS_CRAWL_TIMEOUT", integer(1)),
    _option("CQNEWS_STOP_TIMEOUT", "CQNEWS_STOP_TIMEOUT", integer(0)),
    _option("CQNEWS_LOG_DIR", "CQNEWS_LOG_DIR", text(empty=False)),
    _option("CQNEWS_LOG_KEEP", "CQNEWS_LOG_KEEP", integer(1)),
    _option("CQNEWS_LOCK_LEASE_SECONDS", "CQNEWS_LOCK_LEASE_SECONDS", integer(1)),
    _option("CQNEWS_LOCK_RENEW_SECONDS", "CQNEWS_LOCK_RENEW_SECONDS", number(0, above=True)),
    _option("CQNEWS_PROGRESS_SECONDS", "CQNEWS_PROGRESS_SECONDS", number(0)),
    _option("CQNEWS_CONTROL_SECONDS", "CQNEWS_CONTROL_SECONDS", number(0, above=True)),
    _option("CQNEWS_CANCEL_GRACE_SECONDS", "CQNEWS_CANCEL_GRACE_SECONDS", number(0)),
    _option("CQNEWS_HEALTH_RUNS", "CQNEWS_HEALTH_RUNS", integer(1, 10_000)),
    _option("CQNEWS_HEALTH_ZERO_NEW_RUNS", "CQNEWS_HEALTH_ZERO_NEW_RUNS", integer(1, 10_000)),
    _option("CQNEWS_HEALTH_EMPTY_RATE", "CQNEWS_HEALTH_EMPTY_RATE", number(0, 1)),
    _option("CQNEWS_HEALTH_ERROR_RATE", "CQNEWS_HEALTH_ERROR_RATE", number(0, 1)),
    _option("CQNEWS_HEALTH_OVERDUE_SLACK", "CQNEWS_HEALTH_OVERDUE_SLACK", integer(0)),
    _option("CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED", "CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED", integer(1, 10_000)),
    _option("CQNEWS_HEALTH_DRIFT_RUNS", "CQNEWS_HEALTH_DRIFT_RUNS", integer(1, 10_000)),
    _option("CQNEWS_SERVE_TOKEN", "CQNEWS_SERVE_TOKEN", text()),
    _option("CQNEWS_REDIS_URL", "CQNEWS_REDIS_URL", text()),
    _option("CQNEWS_REDIS_PREFIX", "CQNEWS_REDIS_PREFIX", text(empty=False)),
    _option("CQNEWS_WORKER_LEASE_SECONDS", "CQNEWS_WORKER_LEASE_SECONDS", number(0, above=True)),
    _option("CQNEWS_WORKER_IDLE_SECONDS", "CQNEWS_WORKER_IDLE_SECONDS", number(0)),
    _option("LOG_LEVEL", "CQNEWS_LOG_LEVEL", log_level()),
    _option("CQNEWS_PROGRESS", "CQNEWS_PROGRESS", boolean()),
)

# `-s CQNEWS_MAX_PAGES=50` means what the variable means: the setting it feeds (CLOSESPIDER_PAGECOUNT).
ALIASES: dict[str, str] = {o.env: o.setting for o in OPTIONS if o.env and o.env != o.setting
                           and o.setting != "AUTOTHROTTLE_START_DELAY"}

_CMDLINE = 40  # scrapy.settings.SETTINGS_PRIORITIES["cmdline"], without importing Scrapy


def setting_name(key: str) -> str:
    """The setting a ``-s KEY`` names: KEY itself, or the setting its CQNEWS_* variable feeds."""
    return ALIASES.get(key, key)


def _given(settings: Settings, option: Option, value: Any) -> str:
    """The value as the user gave it: ``CQNEWS_X='abc'``, ``-s KEY='abc'`` or ``--database-url ''``."""
    if (settings.getpriority(option.setting) or 0) >= _CMDLINE:
        if option.setting == "CQNEWS_DATABASE_URL":
            return f"--database-url {value!r}"
        if ALIASES.get(option.env or "") == option.setting:  # either name may have been typed: say both
            return f"-s {option.setting}={value!r} (-s {option.env})"
        return f"-s {option.setting}={value!r}"
    if option.env and option.env in os.environ:
        return f"{option.env}={value!r}"
    return f"{option.setting}={value!r}"


# What a command that only reads the archive (``cqnews search``) needs, checked without Scrapy's settings, with
# the defaults settings.py takes from here too (so both paths start from the same values).
ARCHIVE_DEFAULTS = {"CQNEWS_DATABASE_URL": "sqlite:///data/archive.db", "CQNEWS_DB_CONNECT_TIMEOUT": "10",
                     "CQNEWS_DB_BUSY_TIMEOUT": "30", "CQNEWS_DB_STATEMENT_TIMEOUT": "60", "LOG_LEVEL": "INFO"}


def archive_settings(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, Any]:
    """The archive's settings from the environment alone, converted and checked like :func:`validate` (the same
    options, the same one-line errors), for the commands that must start without loading Scrapy."""
    options = {option.setting: option for option in OPTIONS if option.setting in ARCHIVE_DEFAULTS}
    result: dict[str, Any] = {}
    for setting, option in options.items():
        value = environ.get(option.env or setting, ARCHIVE_DEFAULTS[setting])
        try:
            result[setting] = option.parse(value)
        except ValueError:
            raise ConfigError(f"{option.env or setting}={value!r} is not allowed: use {option.allowed}") from None
    return result


def validate(settings: Settings) -> Settings:
    """Convert every setting of :data:`OPTIONS` in ``settings`` to its type, in place; raise ConfigError."""
    for option in OPTIONS:
        if option.setting not in settings:
            continue
        value = settings[option.setting]
        try:
            converted = option.parse(value)
        except ValueError:
            raise ConfigError(f"{_given(settings, option, value)} is not allowed: use {option.allowed}") from None
        if converted != value or type(converted) is not type(value):
            settings.set(option.setting, converted, priority=settings.getpriority(option.setting) or "project")
    return settings

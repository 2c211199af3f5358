"""What every subcommand shares: the one-line error, settings and engines from the command line, argument types."""
from __future__ import annotations

import argparse
from datetime import date, datetime, time
from typing import Any

from cqnews.cli.render import SHANGHAI


class CliError(Exception):
    """A problem the user can fix; printed as one line."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code



def settings_of(args: argparse.Namespace) -> Any:
    from cqnews.runner import project_settings

    overrides: dict[str, Any] = {}
    if getattr(args, "database_url", None):
        overrides["CQNEWS_DATABASE_URL"] = args.database_url
    for pair in getattr(args, "set", None) or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"-s expects KEY=VALUE, got {pair!r}", 2)
        overrides[key] = value
    return project_settings(overrides)


def engine_of(args: argparse.Namespace) -> Any:
    from cqnews.db.session import make_engine

    return make_engine(settings_of(args)["CQNEWS_DATABASE_URL"])


def ready_engine(args: argparse.Namespace) -> Any:
    """An engine on an archive that answers and is at the schema head."""
    from cqnews.db.migrate import require_head

    engine = engine_of(args)
    require_head(engine)
    return engine



def parse_day(text: str) -> datetime:
    """A --since/--until value: YYYY-MM-DD (Asia/Shanghai midnight) or a full ISO timestamp."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), SHANGHAI)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)



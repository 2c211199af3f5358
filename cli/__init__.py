"""cqnews: crawl Chongqing news sites into a versioned archive, and query it.

Every subcommand reads configuration from settings.py (CQNEWS_* environment variables), checked by
``cqnews.config`` before any work. :func:`main` is the one error boundary: an expected failure is one line on
stderr and exit 1 (a failed job: database unreachable, file not writable) or 2 (bad usage, a bad setting, an
archive that is not ready); anything else is one line that says to run with ``--debug`` for the traceback.
Output cut short by its reader (``cqnews ... | head``) ends quietly.
"""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from cqnews import startup
from cqnews.cli.common import CliError, checked_settings
from cqnews.cli.parser import build_parser
from cqnews.cli.render import clean
from cqnews.commands import SAFE_PATH_ENV

__all__ = ["build_parser", "main"]

INTERNAL_ERROR = "run with --debug for the traceback"


def main(argv: Sequence[str] | None = None) -> int:
    startup.pause()  # until the command's work begins (startup.py)
    try:
        return _main(argv)
    finally:
        startup.resume()  # never left paused, even by a crawl command that ended before its crawl (or in-process)


def _main(argv: Sequence[str] | None) -> int:
    os.environ.update(SAFE_PATH_ENV)  # children Python starts with -c (the extraction forkserver) skip the cwd too
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database_url is not None:  # even empty: that is a mistake to report, not to replace by the default
        os.environ["CQNEWS_DATABASE_URL"] = args.database_url
    try:
        checked_settings(args)  # every setting the command reads checked before any work
        if not getattr(args, "starts_crawl", False):
            startup.resume()  # a crawl's start-up goes on until its reactor starts (runner.run_crawls)
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the boundary, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001  the boundary: every failure becomes one line
        message, code = expected_failure(exc)
        if message is None:
            debug = getattr(args, "debug", False)
            if debug:
                traceback.print_exc()
            message = f"unexpected error: {_first_line(exc)}" + ("" if debug else f" ({INTERNAL_ERROR})")
        _error(message)
        return code


def expected_failure(exc: BaseException) -> tuple[str | None, int]:
    """The one line and exit code of a failure the user can act on; (None, 1) for a bug."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from cqnews.config import ConfigError
    from cqnews.db.migrate import DatabaseNotAtHead
    from cqnews.db.session import QUERY_CANCELED, ArchiveConfigError

    if isinstance(exc, CliError):
        return str(exc), exc.code
    if isinstance(exc, ConfigError | DatabaseNotAtHead | ArchiveConfigError):
        return str(exc), 2
    if isinstance(exc, CommandError):  # Alembic: an unknown revision, a relative step past base or head
        return f"{str(exc).strip().splitlines()[0]} (`cqnews db current` shows where the archive is)", 2
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return ("the archive is locked by another process (a crawl writing?) for longer than "
                "CQNEWS_DB_BUSY_TIMEOUT allows; try again later"), 1
    if isinstance(exc, OperationalError) and getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED:
        return ("the archive database did not finish a statement within CQNEWS_DB_STATEMENT_TIMEOUT (a lock "
                "another session holds?); try again later"), 1
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig and str(exc.orig).strip() else _first_line(exc)
        return f"the archive database cannot be reached: {reason}", 1
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {_first_line(exc)}", 1
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}", 1
    return None, 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text.splitlines()[0]}" if text else exc.__class__.__name__


def _error(message: str) -> None:
    print(f"cqnews: {clean(message)}", file=sys.stderr)


def _silence_stdout() -> None:
    """The Python docs' recipe for SIGPIPE: point stdout at devnull, so the interpreter's final flush of what is
    still buffered does not raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (captured in tests)
        pass

"""cqnews: crawl Chongqing news sites into a versioned archive, and query it.

Every subcommand reads configuration from settings.py (CQNEWS_* environment variables). Errors are one
line on stderr and a non-zero exit: 1 for a failed job, 2 for bad usage or an archive that is not ready.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from cqnews.cli.common import CliError
from cqnews.cli.parser import build_parser
from cqnews.commands import SAFE_PATH_ENV

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.update(SAFE_PATH_ENV)  # children Python starts with -c (the extraction forkserver) skip the cwd too
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.database_url:
        os.environ["CQNEWS_DATABASE_URL"] = args.database_url
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from cqnews.db.migrate import DatabaseNotAtHead
    from cqnews.db.session import ArchiveConfigError

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



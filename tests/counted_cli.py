"""Run ``cqnews ARGS`` in a process of its own and count how it connected to databases.

``python -P tests/counted_cli.py COUNTS.json ARGS...`` runs ``cqnews.cli.main(ARGS)`` as the ``cqnews`` command
does, with listeners on every SQLAlchemy pool of the process, then writes ``{"pools": N, "connections": M}`` to
COUNTS.json and exits with the command's code. ``pools`` counts the pools (engines) that opened a database
(SQLAlchemy's ``first_connect`` event: once per pool), ``connections`` every DBAPI connection they opened
(``connect``). A crawl that reuses the engine its command opened adds no pool. A crawl needs a fresh process
(Twisted's reactor cannot restart), hence a script rather than an in-process test.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool


def main(argv: list[str]) -> int:
    counts = {"pools": 0, "connections": 0}

    def first_connect(_dbapi_connection: Any, _record: Any) -> None:
        counts["pools"] += 1

    def connect(_dbapi_connection: Any, _record: Any) -> None:
        counts["connections"] += 1

    event.listen(Pool, "first_connect", first_connect)
    event.listen(Pool, "connect", connect)
    from cqnews.cli import main as cqnews

    try:
        code = cqnews(argv[2:])
    finally:
        Path(argv[1]).write_text(json.dumps(counts))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""``python -P -m cqnews``: how cqnews starts its own children (crawls, workers), never shadowed by the cwd."""
from __future__ import annotations

import sys

from cqnews.cli import main

if __name__ == "__main__":
    sys.exit(main())

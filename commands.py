"""The command line that starts cqnews in a child process: a scheduled crawl, a worker of a distributed crawl.

``-P`` keeps the working folder off ``sys.path``: a daemon whose ``WorkingDirectory=`` holds a stray
``settings.py``, ``cli.py`` or ``cqnews/`` must still run cqnews, not them. ``SAFE_PATH_ENV`` does the same for
children that Python starts itself with ``-c`` (the extraction pool's forkserver).
"""
from __future__ import annotations

import sys

SAFE_PATH_ENV = {"PYTHONSAFEPATH": "1"}


def cqnews_command(*args: str) -> list[str]:
    """``python -P -m cqnews ARGS``, with the interpreter running this process."""
    return [sys.executable, "-P", "-m", "cqnews", *args]

"""cqnews: scheduled crawls of Chongqing news into a versioned archive.

The repository root is this package (``package-dir`` in pyproject.toml), so the design card's folders
(``spiders/ pipelines/ db/ migrations/ scheduler.py``) stay at the top of the repository and install as
``cqnews.spiders``, ``cqnews.db`` ... under one name that cannot collide with other packages.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cqnews")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

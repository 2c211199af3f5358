"""cqnews: scheduled crawls of Chongqing news into a versioned archive.

The repository root is this package (``package-dir`` in pyproject.toml), so the design card's folders
(``spiders/ pipelines/ db/ migrations/ scheduler.py``) stay at the top of the repository and install as
``cqnews.spiders``, ``cqnews.db`` ... under one name that cannot collide with other packages.
"""
from __future__ import annotations


def __getattr__(name: str) -> str:
    """``cqnews.__version__``, read from the installed package's metadata when first asked for: importing
    ``importlib.metadata`` would cost every command's start (a search's most) ~30 ms of CPU."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cqnews")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"

"""The extractor's version, stored with every article version: read without importing trafilatura.

Kept apart from ``extraction.article`` because the crawl's main process names it for every article while the
extraction itself runs in worker processes: importing the extractor there only for this string cost the
reactor ~0.1 s of CPU at a first crawl's first article.
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _trafilatura_version() -> str:
    try:
        return version("trafilatura")
    except PackageNotFoundError:  # pragma: no cover - vendored or odd installs
        import trafilatura

        return getattr(trafilatura, "__version__", "unknown")


# Bump the leading number whenever the rules of extraction.article change what is extracted from the same bytes.
EXTRACTOR_VERSION = f"cqnews-extract/10+trafilatura-{_trafilatura_version()}"

"""``cqnews demo``: reconstructed copies of the six sites, served on 127.0.0.1 and crawled by the real spiders.

The sites under ``sites/`` ship with the package, so an installed cqnews can show itself offline. Their URL
schemes, templates and encodings follow the real sites; their articles, reporters and ids are invented (one
article of 人民网 is rebuilt from a real page: see ``sites/README.md``). The tests crawl the same sites.
"""
from __future__ import annotations

from pathlib import Path

SITES = Path(__file__).resolve().parent / "sites"


def site_folder(name: str) -> Path:
    """The folder of one demo site (named after its spider)."""
    return SITES / name

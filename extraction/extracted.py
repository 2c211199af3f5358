"""What extraction makes of a page: the one type the extractor returns and the pipelines carry on.

Kept apart from ``extraction.article`` so that naming the type (in ``items``, in the pipelines) never imports
trafilatura: a re-crawl that finds nothing new must not pay for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Extracted:
    """The article a page holds, as extraction understood it."""

    text: str
    title: str | None = None
    author: str | None = None
    source: str | None = None
    editor: str | None = None
    published_at: datetime | None = None  # timezone-aware
    language: str | None = None
    encoding: str = "utf-8"
    encoding_declared: str | None = None
    encoding_overridden: bool = False
    replacement_chars: int = 0

"""What the archive is given to write: plain records, whoever fetched and extracted them.

The archive's write side (``db.archive``) takes these and nothing of the crawl: no Scrapy item, no HTTP
rules. Deciding what a response means (a 304, the same bytes again, a page worth extracting) is the caller's
job (the store pipeline); the archive only knows "a new capture of an article" and "a visit that found an
archived page unchanged".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Capture:
    """One response as the archive keeps it: its bytes once (content-addressed), a row for each URL holding them."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)  # logs must not print whole pages
    fetched_at: datetime  # timezone-aware
    encoding: str | None = None  # the text encoding the body was read in; None if it was never decoded
    encoding_overridden: bool = False  # that encoding is not the one the page declared


@dataclass(frozen=True)
class ArticleRecord:
    """One extracted article with the captures it came from; fingerprints as ``cqnews.fingerprints`` makes them."""

    site: str
    canonical_url: str
    capture: Capture  # the page at the article's URL; its fetch time is when the article was seen
    text: str
    content_hash: str  # title + text + publication date: a change makes a new version
    text_hash: str  # the text alone: the same text under another URL is an alias
    extractor_version: str
    title: str | None = None
    author: str | None = None
    source: str | None = None
    editor: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    simhash: int | None = None  # links a repost to the first archived copy of its story
    parts: tuple[Capture, ...] = ()  # the further pages of a multi-page article, in order

    @property
    def seen_at(self) -> datetime:
        return self.capture.fetched_at


@dataclass(frozen=True)
class UnchangedVisit:
    """A visit that found an archived page unchanged: the article is seen again, nothing new is stored.

    ``capture`` is what was fetched, if anything was (the same bytes again count as one more fetch of the
    stored capture); None when the visit fetched no body.
    """

    site: str
    url: str
    seen_at: datetime
    capture: Capture | None = None

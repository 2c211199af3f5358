"""What flows through the pipelines: a RawPage (what a spider saw) becomes an Article (what extraction made).

Spiders only fetch, so they yield RawPage; ExtractPipeline turns it into Article (holding the extraction
library's ``Extracted``) or drops it with a reason; DedupPipeline fills the hashes; StorePipeline converts it to
the archive's records and writes them. Plain dataclasses keep the contract typed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from cqnews.extraction.extracted import Extracted


@dataclass
class RawPage:
    """One HTTP response as the spider received it, before any parsing."""

    site: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes = field(repr=False)  # logs of dropped items must not print whole pages
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    requested_url: str | None = None
    body_selector: str | None = None  # a site's hint for where the article body is, if it declares one
    # The archive already holds this exact page (HTTP 304, or the same bytes): nothing to extract.
    not_modified: bool = False
    # Further pages of a multi-page article, in order: (url, body).
    parts: list[tuple[str, bytes]] = field(default_factory=list, repr=False)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


@dataclass
class Article:
    """An extracted article together with the page it came from; hashes are set by DedupPipeline."""

    page: RawPage
    extracted: Extracted = field(repr=False)
    canonical_url: str
    extractor_version: str
    content_hash: str = ""
    text_hash: str = ""
    simhash: int | None = None  # near-duplicate fingerprint of the text (fingerprints.simhash)
    extra: dict[str, str] = field(default_factory=dict)

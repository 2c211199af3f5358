"""The stored captures (``pages`` + ``raw_blobs``) as a reader downloads them: one response's bytes as fetched."""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cqnews.db.models import Page, RawBlob


@dataclass(frozen=True)
class RawPage:
    url: str
    status: int
    headers: dict[str, Any]
    body: bytes


def raw_page(session: Session, page_id: int) -> RawPage | None:
    """The capture ``page_id`` with its body decompressed; None if there is no such capture."""
    row = session.execute(select(Page, RawBlob).join(RawBlob, RawBlob.sha256 == Page.blob_sha256)
                          .where(Page.id == page_id)).first()
    if row is None:
        return None
    page, blob = row
    return RawPage(page.url, page.status, dict(page.headers or {}), blob_bytes(blob))


def blob_bytes(blob: RawBlob) -> bytes:
    """A stored response body as it was fetched (blobs are zlib-compressed unless marked otherwise)."""
    return zlib.decompress(blob.data) if blob.compression == "zlib" else bytes(blob.data)

"""Linking reposts: an article whose text is a near-duplicate of an archived one gets ``duplicate_of``.

The fingerprint and the distance come from ``cqnews.fingerprints``; this module stores them and looks candidates
up by band equality (indexed), then keeps those within ``MAX_DISTANCE`` bits. A cluster points at its first
archived article, so ``duplicate_of`` never chains. Articles are linked, never dropped or merged: each outlet's
version stays in the archive.
"""
from __future__ import annotations

from collections.abc import Container
from typing import cast

from sqlalchemy import Connection, Table, bindparam, or_, select
from sqlalchemy.orm import Session

from cqnews.db.models import Article
from cqnews.fingerprints import BANDS, MAX_DISTANCE, bands, distance, from_signed, to_signed

MIN_CHARS = 200  # shorter texts (briefs, captions) share too many 3-grams by chance
MAX_CANDIDATES = 200


_ARTICLES = cast(Table, Article.__table__)
# built once (issue 19): which archived articles share a band with a fingerprint, oldest first
_CANDIDATES = (select(_ARTICLES.c.id, _ARTICLES.c.simhash, _ARTICLES.c.duplicate_of)
               .where(or_(*(_ARTICLES.c[f"sim_band{i}"] == bindparam(f"band{i}") for i in range(BANDS))))
               .where(_ARTICLES.c.id != bindparam("article_id"), _ARTICLES.c.simhash.is_not(None))
               .order_by(_ARTICLES.c.id)
               .limit(MAX_CANDIDATES))


def fingerprint_columns(fingerprint: int) -> dict[str, int]:
    """The article's columns that store its fingerprint: the SimHash (signed) and its bands, the lookup keys."""
    return {"simhash": to_signed(fingerprint)} | {f"sim_band{i}": band for i, band in enumerate(bands(fingerprint))}


def story_of(conn: Connection, article_id: int, fingerprint: int, text_length: int,
             ignore: Container[int] = ()) -> int | None:
    """The story an article with this fingerprint reposts: the id of its first archived article, or None.

    The caller links the article to it (``duplicate_of``) if it is not linked yet. ``ignore``: articles not to
    count (a batch written at once passes the ones after this article, which one-by-one writes had not yet
    stored; their ids are the highest, so the candidates before them are the same)."""
    if text_length < MIN_CHARS:
        return None
    keys = {f"band{i}": band for i, band in enumerate(bands(fingerprint))}
    for candidate_id, simhash, root in conn.execute(_CANDIDATES, {"article_id": article_id, **keys}).all():
        if candidate_id in ignore:
            continue
        if simhash is not None and distance(fingerprint, from_signed(simhash)) <= MAX_DISTANCE:
            return int(root or candidate_id)
    return None


def copies_of(session: Session, article: Article) -> list[Article]:
    """The other articles of the same story (its cluster: the first archived one and every repost of it),
    oldest first: what a reader links to as the other outlets' copies."""
    root = article.duplicate_of or article.id
    return list(session.scalars(select(Article).where(or_(Article.id == root, Article.duplicate_of == root),
                                                      Article.id != article.id).order_by(Article.id)))

"""Linking reposts: an article whose text is a near-duplicate of an archived one gets ``duplicate_of``.

The fingerprint and the distance come from ``cqnews.fingerprints``; this module stores them and looks candidates
up by band equality (indexed), then keeps those within ``MAX_DISTANCE`` bits. A cluster points at its first
archived article, so ``duplicate_of`` never chains. Articles are linked, never dropped or merged: each outlet's
version stays in the archive.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cqnews.db.models import Article
from cqnews.fingerprints import MAX_DISTANCE, bands, distance, from_signed, to_signed

MIN_CHARS = 200  # shorter texts (briefs, captions) share too many 3-grams by chance
MAX_CANDIDATES = 200


def fingerprint_article(session: Session, article: Article, fingerprint: int, text_length: int) -> int | None:
    """Store the article's fingerprint; link it to the story it reposts, if any. Returns that article's id."""
    article.simhash = to_signed(fingerprint)
    article.sim_band0, article.sim_band1, article.sim_band2, article.sim_band3 = bands(fingerprint)
    if text_length < MIN_CHARS or article.duplicate_of is not None:
        return article.duplicate_of
    keys = bands(fingerprint)
    columns = (Article.sim_band0, Article.sim_band1, Article.sim_band2, Article.sim_band3)
    candidates = session.execute(
        select(Article.id, Article.simhash, Article.duplicate_of)
        .where(or_(*(column == key for column, key in zip(columns, keys, strict=True))))
        .where(Article.id != article.id, Article.simhash.is_not(None))
        .order_by(Article.id)
        .limit(MAX_CANDIDATES)
    ).all()
    for candidate_id, simhash, root in candidates:
        if simhash is not None and distance(fingerprint, from_signed(simhash)) <= MAX_DISTANCE:
            article.duplicate_of = root or candidate_id
            return article.duplicate_of
    return None


def copies_of(session: Session, article: Article) -> list[Article]:
    """The other articles of the same story (its cluster: the first archived one and every repost of it),
    oldest first: what a reader links to as the other outlets' copies."""
    root = article.duplicate_of or article.id
    return list(session.scalars(select(Article).where(or_(Article.id == root, Article.duplicate_of == root),
                                                      Article.id != article.id).order_by(Article.id)))

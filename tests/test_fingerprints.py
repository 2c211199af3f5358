"""The fingerprints keep their values when their code gets faster: archived SimHashes are compared with new ones.

The reference is the SimHash as first written (one Python step per bit per 3-gram), kept here unchanged, and a
few values it gave, written down before the vectorised version replaced it (issue 19).
"""
from __future__ import annotations

import hashlib
import random

import pytest
from lxml import html

from cqnews.demo import SITES
from cqnews.fingerprints import BITS, normalise, shingles, simhash

# computed with the implementation below (the one in cqnews/fingerprints.py before issue 19), on normalise(text)
KNOWN = {
    "重庆市委召开常委会议，传达学习全国两会精神。": 5203560332372174155,
    "两江新区2026年GDP增长5.5%，数字经济项目落地": 2959997467082486562,
    "abc": 15617099051652453721,
    "Chongqing news: 9 new metro lines": 4010687334584976946,
}


def reference_simhash(text: str) -> int:
    weights = [0] * BITS
    for gram in shingles(text):
        h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(BITS):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(BITS) if weights[bit] > 0)


def _fixture_texts() -> list[str]:
    """The visible text of every page of the reconstructed demo sites, and slices of it of every length class."""
    texts = []
    for page in sorted(SITES.glob("*/**/*.htm*")):
        texts.append(normalise(html.fromstring(page.read_bytes()).text_content()))
    rng = random.Random(19)
    texts += [t[: rng.randrange(0, 12)] for t in texts[:40]]  # too short for a 3-gram, and barely long enough
    return texts


@pytest.mark.parametrize(("text", "value"), KNOWN.items())
def test_simhash_keeps_the_values_it_had(text: str, value: int) -> None:
    assert simhash(normalise(text)) == value == reference_simhash(normalise(text))


def test_simhash_equals_the_reference_on_every_fixture_page() -> None:
    texts = _fixture_texts()
    assert len(texts) > 80
    assert [simhash(t) for t in texts] == [reference_simhash(t) for t in texts]
    assert simhash("") == simhash("ab") == 0


def test_the_three_fingerprints_at_once_are_the_three_alone() -> None:
    """``fingerprints`` normalises the text once for all three: the values are those of the functions alone."""
    from datetime import UTC, datetime

    from cqnews.fingerprints import content_fingerprint, fingerprints, text_fingerprint

    raw = [html.fromstring(page.read_bytes()).text_content() for page in sorted(SITES.glob("*/**/*.htm*"))]
    assert len(raw) > 40
    for i, text in enumerate(raw):
        title, published = (text[:20], datetime(2020, 5, 8, 10, 43, tzinfo=UTC)) if i % 2 else (None, None)
        made = fingerprints(title, text, published)
        assert made.text_hash == text_fingerprint(text)
        assert made.content_hash == content_fingerprint(title, text, published)
        assert made.simhash == simhash(normalise(text))

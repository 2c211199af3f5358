"""Article links found by their shape, not by a site's declared patterns: the early warning of a new URL scheme.

Site URL schemes change every few years, and a spider that knows only today's regexes silently stops finding
news. On a listing page an article link has a shape of its own, whatever the CMS: it sits in a block repeated
down the page (one ``li``/``div`` per headline), its path carries a date (``/2026-05-20/``, ``/20/0802/``,
``/20200704/``) or a long id (``content_969413280746201088``, ``FJ1P0UTC0001899O``), and its anchor text reads
like a headline (a line of Chinese prose, not 首页 or 更多). Links with all three are article candidates. Plain
lxml, no Scrapy: the spider decides what to do with them (spiders/base.py).
"""
from __future__ import annotations

import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml.html import HtmlElement

# a date in the path: 2026-05-20, 2026/05/20, 20260520, 2022-04/28, 202604, and 163's /YY/MMDD/
_DATE = re.compile(
    r"(?<![0-9])(?:19|20)\d{2}(?:[-_/]?(?:0[1-9]|1[0-2]))(?:[-_/]?(?:0[1-9]|[12]\d|3[01]))?(?![0-9])"
    r"|/\d{2}/(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])/"
)
# a long id in the last path segment: 6+ digits, or a 10+ character token holding 4+ digits
_LONG_DIGITS = re.compile(r"\d{6,}")
_TOKEN = re.compile(r"[0-9A-Za-z]{10,}")
_PAGE_EXTENSIONS = {"", ".html", ".htm", ".shtml", ".shtm", ".php", ".asp", ".aspx", ".jsp"}
_CJK = re.compile(r"[\u4e00-\u9fff]")
MIN_HEADLINE_CJK = 6  # 无缘清华北大的江苏文科第一名 reads as a headline; 国内, 更多新闻, 新版反馈 do not
MAX_HEADLINE_CHARS = 80
MIN_REPEATS = 3  # a headline block is one of at least this many siblings of the same shape


@dataclass(frozen=True)
class Candidate:
    """An article-like link: its absolute URL (no fragment) and its best anchor text."""

    url: str
    text: str


def has_article_path(url: str) -> bool:
    """Whether a URL's path looks like an article's: a page (not an asset) with a date or a long id."""
    path = urlsplit(url).path
    stem, ext = posixpath.splitext(posixpath.basename(path))
    if ext.lower() not in _PAGE_EXTENSIONS:
        return False
    if _DATE.search(path):
        return True
    if not ext:  # an id alone in a bare path is as often an author, user or tag page (/omn/author/5082585)
        return False
    if _LONG_DIGITS.search(stem):
        return True
    return any(sum(c.isdigit() for c in token) >= 4 for token in _TOKEN.findall(stem))


def reads_like_headline(text: str) -> bool:
    """Anchor text of a headline: a short line with enough Chinese to be a sentence, not a menu word."""
    return len(text) <= MAX_HEADLINE_CHARS and len(_CJK.findall(text)) >= MIN_HEADLINE_CJK


def article_like_links(root: HtmlElement, base_url: str, hosts: Collection[str]) -> list[Candidate]:
    """The links of a listing page, on one of ``hosts``, that have an article's shape, in page order."""
    texts: dict[str, str] = {}
    blocks: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(base_url, href))[0]
        if urlsplit(url).hostname not in hosts:
            continue
        text = " ".join(anchor.text_content().split())
        if len(text) > len(texts.get(url, "")) or url not in texts:
            texts[url] = text
        blocks[url].add(_block_shape(anchor))
    shape_counts = Counter(shape for url_shapes in blocks.values() for shape in url_shapes)
    return [
        Candidate(url, text) for url, text in texts.items()
        if has_article_path(url) and reads_like_headline(text)
        and any(shape_counts[shape] >= MIN_REPEATS for shape in blocks[url])
    ]


def _block_shape(anchor: HtmlElement) -> tuple[str, ...]:
    """Tags of the anchor's three nearest ancestors: the same for every item of a headline list.

    Classes are left out: real lists mark items ``li.twoli``, ``li.cell cell_qsyk`` or ``h2.top_news_title``
    among plain siblings.
    """
    shape: list[str] = []
    node = anchor.getparent()
    while node is not None and len(shape) < 3:
        shape.append(str(node.tag))
        node = node.getparent()
    return tuple(shape)

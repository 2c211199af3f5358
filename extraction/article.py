"""Page bytes -> Extracted article: verified decoding, trafilatura for the body, Chinese rules for the rest.

``extract_article`` is the one entry point the pipeline calls; it either returns an ``Extracted`` or raises
``NotAnArticle`` with a short reason that becomes a stats key. It never raises anything else, whatever bytes
it is given. ``extract_file`` wraps it for ``cqnews extract FILE --format jsonl``.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import chain, pairwise
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement

from cqnews.extraction import byline as bylines
from cqnews.extraction import chinese, person
from cqnews.extraction.decode import decode_html
from cqnews.extraction.extracted import Extracted

logger = logging.getLogger(__name__)

# Bump EXTRACTOR_VERSION (extraction/version.py) whenever the rules here change what is extracted from the same bytes.

# Pages beyond this are cut before parsing: no article needs it and lxml time grows with size.
MAX_BODY_BYTES = 6 * 1024 * 1024
# A decode where more than this share of non-ASCII characters became U+FFFD is not text we can trust.
MAX_REPLACEMENT_SHARE = 0.05

# A page whose extracted text is at least this share link text (by CJK bigrams) is navigation: homepages,
# listings and rankings measure 0.9-1.0, articles up to about 0.2 on our dev pages.
MAX_LINK_SHARE = 0.6

_HTML_TYPES = {"text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain", ""}
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BM", b"RIFF",
                 b"\x00\x00\x01\x00", b"OggS", b"ID3", b"\x7fELF", b"Rar!", b"7z\xbc\xaf")
_HTML_SNIFF_RE = re.compile(rb"<\s*(!doctype\s+html|html|head|body|meta|title|div|p|table|article)\b", re.I)
_PARSER = lxml.html.HTMLParser(
    encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False
)
_BLOCK_TAGS = {
    "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "dd", "dt", "dl", "form",
    "center", "hr", "tbody", "thead", "main", "figure", "figcaption", "address",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "select", "option"}
# Form controls: their option labels and default values are menus (site lists, "please choose"), never text.
_FORM_CONTROLS = ("select", "datalist", "textarea")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


class NotAnArticle(Exception):
    """The page holds no article; ``reason`` is a short snake_case word used as a stats key."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def extract_article(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    body_selector: str | None = None,
    min_chars: int = 60,
    lap: Callable[[str], None] | None = None,
) -> Extracted:
    """Extract the article from page bytes, or raise NotAnArticle (and nothing else) saying why not.

    ``lap``, if given, is called with "decode" and then "body" as those stages end (the crawl's CPU accounting,
    cqnews.cputime; what follows is the Chinese rules); it changes nothing extracted."""
    try:
        return _extract(body, url, content_type, body_selector, min_chars, lap)[0]
    except NotAnArticle:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, LookupError, lxml.etree.LxmlError) as exc:
        logger.warning("extraction failed on %s: %r", url, exc)
        raise NotAnArticle("extract_failed", repr(exc)) from exc


def extract_file(path: str) -> dict[str, Any]:
    """The JSON record ``cqnews extract`` prints for one HTML file (``error`` holds the reason for a non-article)."""
    record: dict[str, Any] = {
        "path": path, "url": None, "title": None, "author": None, "source": None, "editor": None,
        "published_at": None, "text": "", "language": None, "encoding": None, "encoding_overridden": False,
    }
    try:
        with open(path, "rb") as fh:
            body = fh.read(MAX_BODY_BYTES)
    except OSError as exc:
        record["error"] = "unreadable"
        logger.warning("cannot read %s: %s", path, exc)
        return record
    try:
        extracted, page_url = _extract(body, None, None, None, 60)
    except NotAnArticle as exc:
        record["error"] = exc.reason
        return record
    except (RecursionError, MemoryError, ValueError, TypeError, LookupError, lxml.etree.LxmlError) as exc:
        logger.warning("extraction failed on %s: %r", path, exc)
        record["error"] = "extract_failed"
        return record
    record.update(
        url=page_url,
        title=extracted.title,
        author=extracted.author,
        source=extracted.source,
        editor=extracted.editor,
        published_at=extracted.published_at.astimezone(chinese.SHANGHAI).isoformat()
        if extracted.published_at else None,
        text=extracted.text,
        language=extracted.language,
        encoding=extracted.encoding,
        encoding_overridden=extracted.encoding_overridden,
    )
    return record


# ------------------------------------------------------------------------------------------- internals


def _extract(
    body: bytes, url: str | None, content_type: str | None, body_selector: str | None, min_chars: int,
    lap: Callable[[str], None] | None = None,
) -> tuple[Extracted, str | None]:
    if not isinstance(body, (bytes, bytearray)) or not body.strip():
        raise NotAnArticle("empty")
    body = bytes(body[:MAX_BODY_BYTES])
    _check_html(body, content_type)

    decoded = decode_html(body, content_type)
    non_ascii = len(decoded.text) - len(decoded.text.encode("ascii", "ignore"))
    if decoded.replacement_chars > max(20, MAX_REPLACEMENT_SHARE * non_ascii):
        raise NotAnArticle("undecodable", f"{decoded.replacement_chars} replacement characters")

    tree = _parse(decoded.text)
    page_url = _page_url(tree) or url
    page_text = visible_text(tree)  # hidden metadata (a search-engine byline block) still names the author
    _drop_unseen(tree)
    if lap:
        lap("decode")

    raw_text = _with_dropped_paragraphs(tree, _body_text(tree, url or page_url, body_selector))
    if lap:
        lap("body")
    text = chinese.first_post(chinese.strip_boilerplate(raw_text))
    if not text.strip():
        raise NotAnArticle("empty")
    if len(_squeezed(text)) < min_chars:
        raise NotAnArticle("too_short")
    if _prose_chars(text) < min_chars:
        raise NotAnArticle("no_prose")  # headlines, dates and link labels only: a listing page
    labels = _link_labels(tree)
    links = _link_bigrams(labels)
    # judged without the feed that ends it: a short report above a long related-story feed is an article
    cut = _cut_link_tail(text, links)
    if _link_share(cut, links) >= MAX_LINK_SHARE or cut is not text and (
        _prose_chars(cut) < min_chars and _link_share(text, links) >= MAX_LINK_SHARE
    ):
        raise NotAnArticle("no_article", "mostly link text")  # a homepage or listing, whatever its length
    text = cut

    headings = [_norm(h.text_content()) for h in tree.iterfind(".//h1")] + [
        _norm(h.text_content()) for h in tree.iterfind(".//h2")
    ]
    # many Chinese CMS print the headline in a <div class="title"> rather than a heading element
    title_boxes = [_norm(el.text_content()) for el in tree.xpath('//*[@class="title"]')]
    title = chinese.clean_title(_raw_title(tree), headings + [t for t in title_boxes if len(t) <= 80]) or (
        _heading_above_body(page_text, headings, text)
    )
    # a metadata title that a heading continues was cut by the page's own markup (an unescaped '"' in og:title)
    title = next((h for h in headings if title and len(title) >= 8 and h.startswith(title)), title)

    anchor, body_start, body_end = _anchors(page_text, title, text)
    published = _published(tree, page_text, anchor, page_url or url, body_start)
    byline = _byline(page_text, anchor, body_start, body_end, raw_text, set(labels))
    raw_title = _raw_title(tree) or ""
    first_lines = "\n".join(text.splitlines()[:3])
    header = page_text[max(0, anchor, body_start - 1500) : body_start] if body_start > anchor else ""
    closing = page_text[max(body_start, body_end - 300) : body_end + 200] if body_end >= 0 else ""
    candidates: tuple[Callable[[], str | None], ...] = (
        lambda: byline.author,
        lambda: bylines.post_author(header),
        lambda: bylines.name_and_outlet(header),
        lambda: chinese.dateline_author(first_lines),
        lambda: bylines.closing_report(raw_text) or bylines.closing_report(closing),
        lambda: chinese.signature(raw_text),
        lambda: _signature_in_page(page_text, body_start, body_end),
        lambda: _name_before_body(page_text, body_start, text, raw_title),
        lambda: _name_under_title(page_text, title, body_start, raw_title),
        lambda: chinese.author_from_metadata(tree),
        lambda: bylines.blog_owner(raw_title),
        lambda: bylines.sidebar_owner(page_text),
        lambda: bylines.copyright_owner(page_text),
        lambda: byline.photographer,
        lambda: byline.editor,
    )
    # Every candidate must read as a person; an outlet found on the way is the source when none was named.
    # Many Chinese news pages credit only the 责任编辑 (reposts, government sites): the editor is then the one
    # person the page credits and becomes the author too, as a photographer does; with any other credit the
    # editor stays the editor only.
    author, source = None, byline.source
    for candidate in candidates:
        verdict = person.check_author(candidate(), title)
        if verdict.outlet and not source:
            source = verdict.outlet
        if verdict.author:
            author = verdict.author
            break
    source = source or chinese.outlet_from_metadata(tree)
    title = _without_source_suffix(title, source)

    text = _without_side_cells(_without_headline(text, title, min_chars), links, page_text)

    extracted = Extracted(
        text=text,
        title=title,
        author=author,
        source=source,
        editor=byline.editor,
        published_at=published,
        language=_language(tree, text),
        encoding=decoded.encoding,
        encoding_declared=decoded.declared,
        encoding_overridden=decoded.overridden,
        replacement_chars=decoded.replacement_chars,
    )
    return _without_controls(extracted), page_url


def _squeezed(text: str) -> str:
    """``text`` without any whitespace: what lengths and comparisons of Chinese text count."""
    return re.sub(r"\s", "", text)


def _without_headline(text: str, title: str | None, min_chars: int) -> str:
    """The body without the headline trafilatura keeps as its first line (a short report's ``<h1>`` inside
    the article element): the title is its own field, and ``show`` and the web reader print it above the text,
    so kept it would be read twice. Only a first line that is the title, whitespace and a table cell's pipes
    aside, or the title's last part after a column's name, goes (with the credit a table layout prints in the
    same cell: "标题 来源于：东区办事处"), and only
    when what is left still has ``min_chars``: which pages are articles does not change."""
    if not title:
        return text
    text = _without_glued_headline(text, title, min_chars)
    head, sep, rest = text.lstrip().partition("\n")
    head, title = _squeezed(head.strip(" |")), _squeezed(title)
    # "法国报纸摘要 - 马克龙星期一在莫斯科与普京会面" over a first line "马克龙星期一…": the headline is the title's
    # last part, after the column's name
    tail = len(head) >= 6 and title.endswith(head) and chinese.title_separator_ends(title[: -len(head)])
    if not sep or not tail and (
        not head.startswith(title) or head != title and not chinese.is_credit_line(head[len(title) :])
    ):
        return text
    rest = rest.strip()
    return rest if len(_squeezed(rest)) >= min_chars else text


def _without_glued_headline(text: str, title: str, min_chars: int) -> str:
    """The body without the date and headline that a table layout prints in the article's cell, which
    trafilatura renders as one row with the paragraphs after them ("| | Saturday, … 10:56 am 标题 每个人都…"):
    the row keeps its paragraphs only. Nothing changes unless the row's first filled cell opens with the title,
    after at most a date without Han characters, and still holds ``min_chars`` after it."""
    head, sep, rest = text.lstrip().partition("\n")
    if not head.startswith("|"):
        return text
    cell = len(head) - len(head.lstrip("| \t\u3000\xa0"))
    title_re = r"\s*".join(map(re.escape, _squeezed(title)))
    glued = re.compile(rf"(?P<date>[^\u4e00-\u9fff]{{0,60}}?){title_re}").match(head, cell)
    if glued is None or glued["date"].strip() and not re.search(r"\d", glued["date"]):
        return text
    body = head[glued.end() :].lstrip()
    if len(_squeezed(body.strip("| "))) < min_chars:
        return text
    return f"{head[:cell]}{body}{sep}{rest}"


def _without_source_suffix(title: str | None, source: str | None) -> str | None:
    """The title without the source a CMS printed after it ("标题 东区办事处_中山网" on a page crediting
    来源于：东区办事处): like a site name, it is not the headline."""
    if not title or not source or not title.endswith(source):
        return title
    head = title[: -len(source)]
    if not head[-1:].isspace() and not chinese.title_separator_ends(head):
        return title
    head = head.rstrip(" \t\u3000_|｜-—–·")
    return head if len(head) >= 4 else title


def _without_controls(extracted: Extracted) -> Extracted:
    """Every text field of ``extracted`` without C0/C1 control characters: a page's ESC or BEL must not
    reach the terminal of whoever runs ``show``, ``search`` or ``extract`` on the archive."""
    for name in ("text", "title", "author", "source", "editor"):
        value = getattr(extracted, name)
        if value:
            setattr(extracted, name, person.strip_controls(value) or (None if name != "text" else ""))
    return extracted


# Sentence punctuation of Chinese prose (and the ASCII forms old pages type); headline links rarely carry it.
_PROSE_PUNCT_RE = re.compile(r"[，。！？；：,.!?;、“”]")


def _prose_chars(text: str) -> int:
    """Characters in lines that read as sentences (punctuated, or long) rather than as link labels."""
    total = 0
    for line in text.splitlines():
        line = line.strip()
        if len(line) >= 40 or (len(line) >= 12 and len(_PROSE_PUNCT_RE.findall(line)) >= 1):
            total += len(_squeezed(line))
    return total


def _check_html(body: bytes, content_type: str | None) -> None:
    """Reject binary and non-HTML bodies; a wrong Content-Type is overruled by bytes that are plainly HTML."""
    head = body[:4096]
    if head.startswith(_BINARY_MAGIC) or head.count(b"\x00") > 8:
        raise NotAnArticle("not_html", "binary content")
    mime = (content_type or "").split(";")[0].strip().lower()
    looks_html = bool(_HTML_SNIFF_RE.search(head) or _HTML_SNIFF_RE.search(body[:65536]))
    if not looks_html:
        raise NotAnArticle("not_html", mime or "no markup")
    if mime and mime not in _HTML_TYPES and not mime.startswith("text/"):
        logger.debug("content-type %s overruled by HTML bytes", mime)


def _parse(text: str) -> HtmlElement:
    try:
        tree = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotAnArticle("not_html", str(exc)) from exc
    if tree is None or tree.find(".//body") is None and len(tree) == 0:
        raise NotAnArticle("not_html", "no document")
    return tree


def _drop_unseen(tree: HtmlElement) -> None:
    """Remove what a reader never sees as text, before trafilatura and the prose rules look at the page:
    hidden elements (``display:none``, ``visibility:hidden``, ``hidden``; a government CMS parks lists of URLs
    in hidden ``<li>``) and form controls (``<select>`` menus of sister sites). A hidden element holding most of
    the page's text is kept: some pages hide the article until a script reveals it."""
    body = tree.find(".//body")
    total = len(body.text_content()) if body is not None else 0
    unseen = [el for el in tree.iter(*_FORM_CONTROLS)]
    unseen += [el for el in tree.xpath("//body//*[@style or @hidden]")
               if el.get("hidden") is not None or _HIDDEN_STYLE_RE.search(el.get("style") or "")]
    for el in unseen:
        if el.getparent() is None or len(el.text_content()) * 2 > total:
            continue
        el.drop_tree()  # keeps its tail, which is the visible text after it


def visible_text(tree: HtmlElement, whole: bool = False) -> str:
    """The page's rendered text with one line per block element (byline labels stay with their values);
    ``whole`` renders ``tree`` itself rather than the <body> inside it."""
    parts: list[str] = []
    root = None if whole else tree.find(".//body")
    if root is None:
        root = tree
    for event, el in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIP_TAGS:
                # skip the subtree but keep its tail
                if el.tail:
                    parts.append(el.tail)
                continue
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.text and not _in_skipped(el):
                parts.append(el.text)
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.tail and el is not root and tag not in _SKIP_TAGS and not _in_skipped(el.getparent()):
                parts.append(el.tail)
    text = "".join(parts).replace("\r", "")
    text = re.sub(r"[ \t\u3000\xa0]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def _in_skipped(el: HtmlElement | None) -> bool:
    while el is not None:
        if isinstance(el.tag, str) and el.tag in _SKIP_TAGS:
            return True
        el = el.getparent()
    return False


def _body_text(tree: HtmlElement, url: str | None, body_selector: str | None) -> str:
    if body_selector:
        text = _selected_text(tree, body_selector, url)
        if text:
            return text
    text = _trafilatura(tree, url)
    block = _prose_block(tree)
    if block is not None:
        candidate = _block_text(block)
        if _prefer_block(candidate, text, tree):
            return candidate
    return text


# Elements that hold paragraphs (the text inside inline tags belongs to the nearest one of these).
_CONTAINER_TAGS = _BLOCK_TAGS - {"br", "hr", "tr", "tbody", "thead", "ul", "ol", "dl", "form"}


def _prose_block(tree: HtmlElement) -> HtmlElement | None:
    """The element holding the most Chinese prose, readability-style: each text run scores its sentence
    punctuation to its nearest container, 0.9 of it to that container's parent container and 0.45 to the
    grandparent, so a cell or div of many paragraphs beats both a single paragraph and the layout table
    around it; link text scores nothing. Used to check trafilatura on old table layouts, where it returns
    the whole layout table (nav, ads and related-story lists included)."""
    root = tree.find(".//body")
    if root is None:
        return None
    scores: dict[HtmlElement, float] = {}
    containers: dict[HtmlElement, HtmlElement | None] = {}

    def container_of(el: HtmlElement | None) -> HtmlElement | None:
        while el is not None and not (isinstance(el.tag, str) and el.tag in _CONTAINER_TAGS):
            el = el.getparent()
        return el

    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or tag in _SKIP_TAGS:
            continue
        pieces = [el.text or ""] + [c.tail or "" for c in el if not (isinstance(c.tag, str) and c.tag in _SKIP_TAGS)]
        own = "".join(pieces)
        if len(own) < 10:
            continue
        points = len(_PROSE_PUNCT_RE.findall(own))
        if not points:
            continue
        if any(a.tag == "a" for a in el.iterancestors("a")) or tag == "a":
            continue
        box = container_of(el)
        for share in (1.0, 0.9, 0.45):
            if box is None:
                break
            scores[box] = scores.get(box, 0.0) + share * points
            if box not in containers:
                containers[box] = container_of(box.getparent())
            box = containers[box]
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= 8 else None


def _block_text(block: HtmlElement) -> str:
    """The prose of one element: the best run of its children (paragraphs, subheadings and captions
    between them), so that lists, share bars and related-story tables in the same cell stay out. Text and
    inline children (a keyword link inside a sentence) between two block children are one paragraph."""
    units: list[tuple[str, float]] = []  # (text, score); score < 0 breaks a run
    inline: list[str] = []
    inline_links = 0

    def flush() -> None:
        nonlocal inline_links
        text = "".join(inline)
        if text.strip():
            units.append((text, _unit_score(text, inline_links)))
        inline.clear()
        inline_links = 0

    inline.append(block.text or "")
    for child in block:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag and tag not in _SKIP_TAGS and tag not in _BLOCK_TAGS:
            text = child.text_content()
            inline.append(text)
            inline_links += len(text) if tag == "a" else sum(len(a.text_content()) for a in child.iter("a"))
        elif tag in _BLOCK_TAGS:
            flush()
            text = _element_text(child)
            if text.strip():
                units.append((text, _unit_score(text, sum(len(a.text_content()) for a in child.iter("a")))))
        inline.append(child.tail or "")
    flush()
    best: tuple[float, int, int] = (0.0, 0, 0)
    start, total = 0, 0.0
    for i, (_, score) in enumerate(units):
        if score < 0:
            start, total = i + 1, 0.0
            continue
        total += score
        if total > best[0]:
            best = (total, start, i + 1)
    end = best[2] + _closing_units([t for t, _ in units[best[2] : best[2] + 2]])
    kept = units[best[1] : end]
    if best[1] >= 2 and units[best[1] - 1][1] < 0 and _is_lead_in(*units[best[1] - 2]):
        kept.insert(0, units[best[1] - 2])  # the lead above an ad box inside the article
    text = "\n".join(t.strip() for t, _ in kept)
    return chinese.strip_boilerplate(re.sub(r"[ \t\u3000\xa0]+", " ", text))


def _is_lead_in(text: str, score: float) -> bool:
    """A paragraph of prose ending in a colon ("…让我们回顾一下众明星被打事件："): it introduces what follows,
    so the run of prose after a box of links below it (an ad inside the article) is what it leads into."""
    return score >= 3 and _norm(text).endswith((":", "："))


def _closing_units(after: list[str]) -> int:
    """How many of the two lines ``after`` the last paragraph are a letter's or notice's closing: the signatory
    and the date ("中关村上市公司协会" over "2015年7月3日"), or the date alone. Short lines without punctuation add
    nothing to a run of prose, so the run would end before them."""
    lines = [_norm(t) for t in after]
    if len(lines) == 2 and 0 < len(lines[0]) <= 30 and not _punct(lines[0]) and _is_date_line(lines[1]):
        return 2
    return 1 if lines and _is_date_line(lines[0]) else 0


def _is_date_line(line: str) -> bool:
    """A line that is a date and nothing else ("2015年7月3日", "二〇一五年七月三日" is not read)."""
    hits = chinese.find_dates(line)
    return len(line) <= 20 and bool(hits) and not re.sub(r"[\d\s年月日号:：/.\-]", "", line)


# A finished sentence this much of which is link text is still the article's: portals link its keywords
# ("<a>期指</a><a>恶意做空</a>成<a>A股</a>大跌新的风暴点。"); a related story's row is a link all through.
MAX_LINKED_SENTENCE_SHARE = 0.75


def _unit_score(text: str, link_chars: int) -> float:
    """Sentence punctuation of a paragraph; 0 for short neutral lines (subheadings, captions) and for a sentence
    whose keywords are links; -1 for link lists and long unpunctuated runs (menus, tag clouds), which end a run
    of prose."""
    size = len(_squeezed(text))
    if size and link_chars / size > 0.4:
        linked_sentence = link_chars / size <= MAX_LINKED_SENTENCE_SHARE and _SENTENCE_END_RE.search(text.strip())
        return 0.0 if linked_sentence else -1.0
    points = _punct(text) - _punct(text) * link_chars / max(size, 1)
    if points >= 1:
        return points
    return 0.0 if size <= 40 else -1.0


def _element_text(el: HtmlElement) -> str:
    """Rendered text of one element (without its tail), one line per block."""
    return visible_text(el, whole=True)


def _punct(text: str) -> int:
    return len(_PROSE_PUNCT_RE.findall(text))


_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
_SENTENCE_END_RE = re.compile(r"[。！？!?；;…”」』]$")


def _bigram_iter(text: str) -> Iterator[str]:
    """The CJK bigrams of ``text`` in order (none across a non-CJK character), made by C-level maps: these
    run over every link label of every page (issue 19)."""
    return chain.from_iterable(map(str.__add__, run, run[1:]) for run in _CJK_RUN_RE.findall(text))


def _bigrams(text: str) -> Counter[str]:
    return Counter(_bigram_iter(text))


def _prefer_block(block_text: str, text: str, tree: HtmlElement) -> bool:
    """Take the densest block over trafilatura's text when trafilatura's text holds much more, and what
    it holds beyond the block is mostly link text (navigation, related-story lists, ads) rather than prose
    the block missed."""
    if not block_text.strip():
        return False
    trafilatura_text = chinese.strip_boilerplate(text)
    ours, theirs = _bigrams(block_text), _bigrams(trafilatura_text)
    if not theirs:
        return bool(ours)
    if sum(ours.values()) > sum(theirs.values()):
        return False
    extra = theirs - ours
    if sum(extra.values()) <= 0.05 * sum(theirs.values()):
        return True  # the same text, but from one element rather than a layout table's rows
    links = Counter(chain.from_iterable(_bigram_iter(a.text_content()) for a in tree.iter("a")))
    in_links = sum(min(n, links[k]) for k, n in extra.items())
    return in_links >= 0.5 * sum(extra.values())


def _link_labels(tree: HtmlElement) -> list[str]:
    """The text of every link on the page, whitespace-normalised. A picture link's label is its ``title`` or
    its image's ``alt``: picture lists print that headline as a caption beside the link (a ``<p>`` outside the
    ``<a>``), and such a caption after the body is the related feed, not the article."""
    labels = []
    for a in tree.iter("a"):
        label = _norm(a.text_content())
        if not label:
            label = _norm(a.get("title") or next((i.get("alt") for i in a.iter("img") if i.get("alt")), ""))
        labels.append(label)
    return labels


def _link_bigrams(labels: list[str]) -> Counter[str]:
    """The CJK bigrams of every link label on the page."""
    return Counter(chain.from_iterable(map(_bigram_iter, labels)))  # counted once, not label by label


def _link_share(text: str, links: Counter[str]) -> float:
    """The share of ``text`` (CJK bigrams) that the page also prints as link text."""
    ours = _bigrams(text)
    total = sum(ours.values())
    if not total:
        return 0.0
    return sum(min(n, links[k]) for k, n in ours.items()) / total


def _with_dropped_paragraphs(tree: HtmlElement, text: str) -> str:
    """``text`` with the paragraphs trafilatura dropped between two paragraphs that ``text`` holds as two lines
    one after the other: a subheading that is one short link (the subhead of a news round-up, linking to that
    story in full), and a paragraph of prose that a longer line above already quotes (a 摘要 or 编者按 box
    repeating the body's paragraph word for word: trafilatura keeps one copy, the box's). A run of linked
    paragraphs (a related list inside the body) has links for neighbours and stays out."""
    lines = text.split("\n")
    at_line: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        at_line.setdefault(_squeezed(line), []).append(i)
    whole = "\n".join(at_line)
    inserts: dict[int, str] = {}
    for p in tree.iter("p"):
        before, after = p.getprevious(), p.getnext()
        if before is None or after is None or before.tag != "p" or after.tag != "p":
            continue
        label = _linked_subhead(p)
        if label is None:
            label = _quoted_paragraph(p, at_line, whole)
        if label is None or _linked_only(before) or _linked_only(after):
            continue
        above = _squeezed(before.text_content())
        for at in at_line.get(_squeezed(after.text_content()), ()):
            if at and _squeezed(lines[at - 1]) == above:
                inserts[at] = label
    if not inserts:
        return text
    return "\n".join(chain.from_iterable(
        (inserts[i], line) if i in inserts else (line,) for i, line in enumerate(lines)
    ))


def _linked_subhead(p: HtmlElement) -> str | None:
    """The label of a paragraph that is one short link and nothing else, not a sentence: a subheading."""
    link = p.find("a")
    if link is None or len(p) != 1 or (p.text or "").strip() or (link.tail or "").strip():
        return None
    label = _norm(link.text_content())
    return label if 4 <= len(label) <= 40 and not _SENTENCE_END_RE.search(label) else None


# A quoted paragraph this short could be a phrase any line repeats; a summary box quotes whole paragraphs.
MIN_QUOTED_PARAGRAPH_CHARS = 30


def _quoted_paragraph(p: HtmlElement, at_line: dict[str, list[int]], whole: str) -> str | None:
    """The text of a paragraph of prose that ``text`` (its squeezed lines ``at_line``, joined in ``whole``) holds
    only inside a longer line."""
    label = _norm(p.text_content())
    if len(label) < MIN_QUOTED_PARAGRAPH_CHARS or not _SENTENCE_END_RE.search(label):
        return None
    squeezed = _squeezed(label)
    return label if squeezed not in at_line and squeezed in whole else None


def _linked_only(el: HtmlElement) -> bool:
    """Is all of ``el``'s text link text (or is it empty)?"""
    return len(_squeezed(el.text_content())) <= sum(len(_squeezed(a.text_content())) for a in el.iter("a"))


def _cut_link_tail(text: str, links: Counter[str]) -> str:
    """The text without the related-story feed that ends it: the trailing run of lines that are mostly
    link text (headlines, "headline + teaser" rows) or a copyright row, with the empty and tiny lines and a
    comment box's counters and notices between them. Two linked lines at least, so that an article ending in one
    linked phrase keeps it. A comment box's counters and notices ending the text go in any case: they are the
    page's UI, never the article's last line."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or chinese.is_comment_ui_line(lines[-1])):
        lines.pop()
    if len(lines) < len(text.split("\n")):
        text = "\n".join(lines)
    end, linked = len(lines), 0
    while end > 0:
        line = lines[end - 1]
        size = len(_CJK_RUN_RE.findall(line) and "".join(_CJK_RUN_RE.findall(line)))
        if size <= 6 or chinese.is_comment_ui_line(line):  # a comment box's counter does not end a feed
            end -= 1
            continue
        if chinese.is_copyright_line(line.strip(" |")):
            linked += 2  # a table layout's copyright row closing the page: never the article's
            end -= 1
            continue
        share = _link_share(line, links)
        ended = _SENTENCE_END_RE.search(line.strip(" |"))
        # a headline link, or a linked headline with a teaser cut off mid-sentence; a finished sentence of
        # several clauses is the article's unless nearly all of it is link text (the feed repeats its words)
        if share < (0.8 if ended and re.search(r"[，,]", line) else 0.5) and not (share >= 0.15 and not ended):
            break
        linked += 1
        end -= 1
    if linked < 2 or end == 0:
        return text
    kept = lines[:end]
    # the tiny lines skipped above the feed's first headline: a lead-in ending in a colon ("以下为公告：" over a
    # picture of the notice) is the article's last line, not the feed's
    for line in lines[end:]:
        if line.strip() and not (line.strip().endswith((":", "：")) and _link_share(line, links) < 0.5):
            break
        kept.append(line)
    return "\n".join(kept).rstrip()


_CELL_SPLIT_RE = re.compile(r"(?:^|\s)\|(?:\s|$)")
# The article's cell of a layout row holds at least this many characters and this share of the row.
MIN_ARTICLE_CELL_CHARS, MIN_ARTICLE_CELL_SHARE = 200, 0.8


def _without_side_cells(text: str, links: Counter[str], page_text: str = "") -> str:
    """The text with each layout row that holds the article in one cell reduced to that cell, in the paragraphs
    the page prints it in: trafilatura renders a table layout's row as one line, paragraph breaks lost, and the
    cells beside the article's are the author box, the archive menu, the blog's links ("| … 发表评论 | | 太小心
    [作者简介] [太小心]存档目录 … |"). Only cells that are mostly link text or runs of labels go; a row of data
    keeps its cells and its one line."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in _CELL_SPLIT_RE.split(line.strip())]
        sizes = [len(_squeezed(c)) for c in cells]
        widest = max(range(len(cells)), key=sizes.__getitem__)
        if sizes[widest] < max(MIN_ARTICLE_CELL_CHARS, MIN_ARTICLE_CELL_SHARE * sum(sizes)):
            continue
        side = [c for j, c in enumerate(cells) if c and j != widest]
        if not side or all(_link_share(c, links) >= 0.5 or _is_label_run(c) for c in side):
            paragraphs = _as_printed(cells[widest], page_text)
            lines[i] = chinese.strip_boilerplate("\n".join(paragraphs)) if len(paragraphs) > 1 else cells[widest]
    return "\n".join(lines)


def _as_printed(cell: str, page_text: str) -> list[str]:
    """``cell`` cut where the page's rendered text (one line per block and ``<br>``) breaks it: the lines of
    ``page_text`` from where the cell starts, as long as each is the next stretch of the cell (whitespace aside).
    What no line matches stays with the last piece; a cell the page does not print as it is stays whole."""
    squeezed = _squeezed(cell)
    start = _find_loose(page_text, squeezed)
    if start < 0:
        return [cell]
    ends: list[int] = []  # where each printed line ends, in ``squeezed``
    at = 0
    for line in page_text[start:].split("\n"):
        piece = _squeezed(line)
        if not piece:
            continue
        if not squeezed.startswith(piece, at):
            break
        at += len(piece)
        ends.append(at)
        if at == len(squeezed):
            break
    if len(ends) < 2:
        return [cell]
    # the same cuts in ``cell``: the position after its ``end``-th non-blank character
    solid = [k for k, ch in enumerate(cell) if not ch.isspace()]
    cuts = [0] + [solid[end - 1] + 1 for end in ends[:-1]] + [len(cell)]
    if ends[-1] < len(squeezed):
        cuts[-1:] = [solid[ends[-1] - 1] + 1, len(cell)]
    return [cell[a:b].strip() for a, b in pairwise(cuts) if cell[a:b].strip()]


def _is_label_run(cell: str) -> bool:
    """A cell of many labels and no sentence ("[作者简介] (个人情况保密) [太小心]个人类别 [太小心]存档目录"): a
    menu, not a datum (a year, a figure, a name) of a row."""
    return len(_squeezed(cell)) >= 20 and not _PROSE_PUNCT_RE.search(cell)


def _trafilatura(tree: HtmlElement, url: str | None, **kwargs: Any) -> str:
    params: dict[str, Any] = dict(
        url=url, include_comments=False, include_tables=True, deduplicate=False, with_metadata=False,
    )
    params.update(kwargs)
    try:
        doc = trafilatura.bare_extraction(tree, **params)
    except (ValueError, TypeError, AttributeError, lxml.etree.LxmlError) as exc:
        logger.debug("trafilatura failed: %r", exc)
        return ""
    if doc is None:
        return ""
    return getattr(doc, "text", None) or ""


def _selected_text(tree: HtmlElement, selector: str, url: str | None) -> str:
    """Text of the one element a site's body selector names (trafilatura inside it, raw text as fallback).

    A selector may match several copies of one body (华龙网: desktop ``#main_text`` and mobile ``#_h5_content``,
    nested or side by side): the longest is the body, and copies are never joined.
    """
    try:
        found = tree.cssselect(selector)
    except Exception as exc:  # cssselect raises its own SelectorError family on a bad selector
        logger.warning("bad body selector %r: %s", selector, exc)
        return ""
    if not found:
        return ""
    body = max(found, key=lambda el: len(el.text_content()))
    wrapper = lxml.html.document_fromstring("<html><body><div></div></body></html>")
    wrapper.find(".//div").append(lxml.html.fromstring(lxml.html.tostring(body, encoding="unicode")))
    text = _trafilatura(wrapper, url, favor_recall=True)
    raw = visible_text(wrapper)
    return text if len(text) >= 0.6 * len(raw) else raw


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _raw_title(tree: HtmlElement) -> str | None:
    for el in tree.iterfind(".//meta"):
        if (el.get("property") or el.get("name") or "").lower() in {"og:title", "twitter:title"}:
            if _norm(el.get("content")):
                return _norm(el.get("content"))
    el = tree.find(".//title")
    if el is not None and _norm(el.text_content()):
        return _norm(el.text_content())
    return None


def _page_url(tree: HtmlElement) -> str | None:
    for el in tree.iterfind(".//link"):
        if (el.get("rel") or "").lower() == "canonical" and (el.get("href") or "").startswith("http"):
            return str(el.get("href")).strip()
    for el in tree.iterfind(".//meta"):
        if (el.get("property") or el.get("name") or "").lower() == "og:url":
            href = (el.get("content") or "").strip()
            if href.startswith("http"):
                return href
    return None


def _find_loose(haystack: str, needle: str, start: int = 0) -> int:
    """Position of ``needle`` in ``haystack`` ignoring whitespace differences, or -1."""
    needle = re.sub(r"\s+", "", needle)[:20]
    if len(needle) < 4:
        return -1
    pattern = r"\s*".join(re.escape(ch) for ch in needle)
    m = re.compile(pattern).search(haystack, max(start, 0))
    return m.start() if m else -1


def _anchors(page_text: str, title: str | None, text: str) -> tuple[int, int, int]:
    """Where the title, the body's start and the body's end sit in the page text (-1 when not found)."""
    # table rows come out of trafilatura as "| cell | cell |": search for cells, not rows
    cells = [c.strip() for ln in text.splitlines() for c in re.split(r"(?:^|\s)\|(?:\s|$)", ln)]
    lines = [c for c in cells if len(_squeezed(c)) >= 8]
    body_start = _find_loose(page_text, lines[0]) if lines else -1
    body_end = -1
    if lines:
        last = re.sub(r"\s+", "", lines[-1])[-20:]
        body_end = _find_loose(page_text, last, max(body_start, 0))
        if body_end >= 0:
            body_end += len(last)
    anchor = -1
    if title:
        # the title occurrence closest before the body (the first is often the site's <h1> or breadcrumb)
        pos = _find_loose(page_text, title)
        while pos >= 0 and (body_start < 0 or pos < body_start):
            anchor = pos
            pos = _find_loose(page_text, title, pos + 1)
    if anchor < 0:
        anchor = max(0, body_start - 400) if body_start >= 0 else 0
    return anchor, body_start, body_end


_TIME_RE = re.compile(r"(?P<H>[01]?\d|2[0-3])\s*[:：]\s*(?P<M>[0-5]\d)(?:\s*[:：]\s*(?P<S>[0-5]\d))?(?!\d)")


def _published(tree: HtmlElement, page_text: str, anchor: int, url: str | None, body_start: int = -1
               ) -> datetime | None:
    value = chinese.date_from_metadata(tree)
    if value is None:
        value = chinese.date_from_text(page_text, anchor)
    if value is None:
        value = chinese.date_from_url(url)
    if value is None:
        return _htmldate(tree, url)
    if (value.hour, value.minute, value.second) == (0, 0, 0) and 0 <= anchor < body_start:
        # a day without a time (a date-only <meta>, the URL): the time printed between title and body,
        # as templates that split "2017 | 12/10 | 14:32:16" into separate elements show it
        m = _TIME_RE.search(page_text[anchor : min(body_start, anchor + 400)])
        if m:
            value = value.replace(hour=int(m["H"]), minute=int(m["M"]), second=int(m["S"] or 0))
    return value


def _htmldate(tree: HtmlElement, url: str | None) -> datetime | None:
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception as exc:  # htmldate is a heuristic on arbitrary markup; no answer is an answer
        logger.debug("htmldate failed: %r", exc)
        return None
    return chinese.parse_date_string(found) if found else None


def _byline(page_text: str, anchor: int, body_start: int, body_end: int, text: str, link_labels: set[str]
            ) -> chinese.Byline:
    """Byline fields from the lines between the title and the body, then the body's own first and last lines,
    then the lines right after the body. A line that is one whole link is navigation (a forum's board named
    "记者江湖"), never a byline: a byline may link the name, not its label."""
    regions: list[str] = []
    if body_start > anchor:
        regions.append(page_text[max(anchor, body_start - 1500) : body_start])
    else:
        regions.append(page_text[anchor : anchor + 300])
    body_lines = text.splitlines()
    first = body_lines[0] if body_lines else ""
    if len(body_lines) > 1 and body_start >= 0 and len(first) <= 60 and not _SENTENCE_END_RE.search(first):
        # the headline kept as the body's first line: the byline printed under it is in the page text between
        # that line and the next one the body kept ("发表于…| 来源CSDN| 作者魏星")
        after_heading = body_start + len(body_lines[0])
        next_line = page_text.find(body_lines[1].strip()[:20], after_heading)
        if next_line > after_heading:
            regions.append(page_text[after_heading:next_line][:600])
    regions.append("\n".join(body_lines[:3] + body_lines[-4:]))
    if body_end >= 0:
        regions.append(page_text[body_end : body_end + 400])
    # then any short line of the extracted text ("来源：…", "作者：…" printed between paragraphs)
    regions.append("\n".join(ln for ln in body_lines if len(ln.strip()) <= 60))
    lines = [ln for region in regions for ln in region.splitlines()]
    return chinese.find_byline(lines, link_labels)


def _heading_above_body(page_text: str, headings: list[str], text: str) -> str | None:
    """The title of a page without <title>: the heading printed nearest above the body (a blog's <h1> is the
    blog's name, the post's own <h2> sits on the body), else the first heading."""
    _, body_start, _ = _anchors(page_text, None, text)
    best, best_pos = None, -1
    for heading in (h for h in headings if h):
        pos = _find_loose(page_text, heading)
        while 0 <= pos <= body_start:
            if pos > best_pos:
                best, best_pos = heading, pos
            pos = _find_loose(page_text, heading, pos + 1)
    return best or next((h for h in headings if h), None)


def _signature_in_page(page_text: str, body_start: int, body_end: int) -> str | None:
    """A closing "（袁源）" at the end of the body's last paragraph or on its own line right after it, when
    the extracted text lost it."""
    if body_start < 0 or body_end < 0:
        return None
    window = page_text[max(body_start, body_end - 300) : body_end + 120].split("\n")
    for line in window:
        line = line.strip()
        if line.endswith(("）", ")")) and (len(line) >= 30 or chinese.signature(line) and len(line) <= 16):
            name = chinese.signature(line)
            if name:
                return name
    return None


def _name_before_body(page_text: str, body_start: int, text: str, raw_title: str) -> str | None:
    """An author printed alone on one of the two lines just above the first paragraph of prose (under
    a title or a subtitle); a pen name counts when the page's header also uses it ("茉莉：标题")."""
    cells = (c.strip() for ln in text.splitlines() for c in re.split(r"(?:^|\s)\|(?:\s|$)", ln))
    first = next((c for c in cells if len(c) >= 20 and _PROSE_PUNCT_RE.search(c)), "")
    pos = _find_loose(page_text, first.strip(), max(body_start, 0)) if first else -1
    if pos < 0:
        pos = body_start
    if pos <= 0:
        return None
    head = page_text[max(0, pos - 600) : pos].split("\n")
    above = head[-3:-1] if head and head[-1].strip() == "" else head[-2:]
    for line in reversed(above):
        name = chinese.bare_name(line, "\n".join([raw_title, *(ln for ln in head if ln != line)]))
        if name:
            return name
    return None


def _name_under_title(page_text: str, title: str | None, body_start: int, raw_title: str = "") -> str | None:
    """An author printed alone on a line right under the title (essays, blogs, columns); the title
    occurrence nearest the body is tried first."""
    if not title:
        return None
    positions: list[int] = []
    pos = _find_loose(page_text, title)
    while pos >= 0 and (body_start < 0 or pos <= body_start):
        positions.append(pos)
        pos = _find_loose(page_text, title, pos + 1)
    for pos in reversed(positions):
        for line in page_text[pos:].split("\n")[1:4]:
            name = chinese.bare_name(line, raw_title)
            if name:
                return name
    return None


def _language(tree: HtmlElement, text: str) -> str | None:
    share = chinese.cjk_share(text[:3000])
    if share > 0.5:
        return "zh"
    lang = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    if lang:
        return lang.split("-")[0] or None
    return "en" if share < 0.05 and re.search(r"[A-Za-z]{3,}", text) else None

"""Page bytes -> Extracted article: verified decoding, trafilatura for the body, Chinese rules for the rest.

``extract_article`` is the one entry point the pipeline calls; it either returns an ``Extracted`` or raises
``NotAnArticle`` with a short reason that becomes a stats key. It never raises anything else, whatever bytes
it is given. ``extract_file`` wraps it for ``cqnews extract FILE --format jsonl``.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement

from items import Extracted
from pipelines import chinese
from pipelines.decode import decode_html

logger = logging.getLogger(__name__)


def _trafilatura_version() -> str:
    try:
        return version("trafilatura")
    except PackageNotFoundError:  # pragma: no cover - vendored or odd installs
        return getattr(trafilatura, "__version__", "unknown")


# Bump the leading number whenever the rules here change what is extracted from the same bytes.
EXTRACTOR_VERSION = f"cqnews-extract/1+trafilatura-{_trafilatura_version()}"

# Pages beyond this are cut before parsing: no article needs it and lxml time grows with size.
MAX_BODY_BYTES = 6 * 1024 * 1024
# A decode where more than this share of non-ASCII characters became U+FFFD is not text we can trust.
MAX_REPLACEMENT_SHARE = 0.05

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
) -> Extracted:
    """Extract the article from page bytes, or raise NotAnArticle (and nothing else) saying why not."""
    try:
        return _extract(body, url, content_type, body_selector, min_chars)[0]
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
    body: bytes, url: str | None, content_type: str | None, body_selector: str | None, min_chars: int
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
    page_text = visible_text(tree)

    raw_text = _body_text(tree, url or page_url, body_selector)
    text = chinese.strip_boilerplate(raw_text)
    if not text.strip():
        raise NotAnArticle("empty")
    if len(re.sub(r"\s", "", text)) < min_chars:
        raise NotAnArticle("too_short")
    if _prose_chars(text) < min_chars:
        raise NotAnArticle("no_prose")  # headlines, dates and link labels only: a listing page

    headings = [_norm(h.text_content()) for h in tree.iterfind(".//h1")] + [
        _norm(h.text_content()) for h in tree.iterfind(".//h2")
    ]
    title = chinese.clean_title(_raw_title(tree), headings) or next((h for h in headings if h), None)

    anchor, body_start, body_end = _anchors(page_text, title, text)
    published = _published(tree, page_text, anchor, page_url or url)
    byline = _byline(page_text, anchor, body_start, body_end, raw_text)
    author = (
        byline.author
        or chinese.signature(raw_text)
        or _signature_in_page(page_text, anchor)
        or _name_under_title(page_text, title, body_start)
        or chinese.author_from_metadata(tree)
        # Many Chinese news pages credit only the 责任编辑; the editor is then the page's byline.
        or byline.editor
    )

    extracted = Extracted(
        text=text,
        title=title,
        author=author,
        source=byline.source,
        editor=byline.editor,
        published_at=published,
        language=_language(tree, text),
        encoding=decoded.encoding,
        encoding_declared=decoded.declared,
        encoding_overridden=decoded.overridden,
        replacement_chars=decoded.replacement_chars,
    )
    return extracted, page_url


_PROSE_PUNCT_RE = re.compile(r"[，。！？；：,.!?;、“”]")


def _prose_chars(text: str) -> int:
    """Characters in lines that read as sentences (punctuated, or long) rather than as link labels."""
    total = 0
    for line in text.splitlines():
        line = line.strip()
        if len(line) >= 40 or (len(line) >= 12 and len(_PROSE_PUNCT_RE.findall(line)) >= 1):
            total += len(re.sub(r"\s", "", line))
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


def visible_text(tree: HtmlElement) -> str:
    """The page's rendered text with one line per block element (byline labels stay with their values)."""
    parts: list[str] = []
    root = tree.find(".//body")
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
            if el.tail and tag not in _SKIP_TAGS and not _in_skipped(el.getparent()):
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
    doc = _trafilatura(tree, url)
    text = doc or ""
    return text


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
    """Text of the elements a site's body selector names (trafilatura inside them, raw text as fallback)."""
    try:
        found = tree.cssselect(selector)
    except Exception as exc:  # cssselect raises its own SelectorError family on a bad selector
        logger.warning("bad body selector %r: %s", selector, exc)
        return ""
    if not found:
        return ""
    wrapper = lxml.html.document_fromstring("<html><body><div></div></body></html>")
    div = wrapper.find(".//div")
    for el in found:
        div.append(lxml.html.fromstring(lxml.html.tostring(el, encoding="unicode")))
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
    lines = [ln.strip() for ln in text.splitlines() if len(re.sub(r"\s", "", ln)) >= 8]
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


def _published(tree: HtmlElement, page_text: str, anchor: int, url: str | None) -> datetime | None:
    value = chinese.date_from_metadata(tree)
    if value is not None:
        return value
    value = chinese.date_from_text(page_text, anchor)
    if value is not None:
        return value
    value = chinese.date_from_url(url)
    if value is not None:
        return value
    return _htmldate(tree, url)


def _htmldate(tree: HtmlElement, url: str | None) -> datetime | None:
    try:
        from htmldate import find_date

        found = find_date(tree, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception as exc:  # htmldate is a heuristic on arbitrary markup; no answer is an answer
        logger.debug("htmldate failed: %r", exc)
        return None
    return chinese.parse_date_string(found) if found else None


def _byline(page_text: str, anchor: int, body_start: int, body_end: int, text: str) -> chinese.Byline:
    """Byline fields from the lines between the title and the body, then the body's own first and last lines,
    then the lines right after the body."""
    regions: list[str] = []
    if body_start > anchor:
        regions.append(page_text[max(anchor, body_start - 1500) : body_start])
    else:
        regions.append(page_text[anchor : anchor + 300])
    body_lines = text.splitlines()
    regions.append("\n".join(body_lines[:3] + body_lines[-4:]))
    if body_end >= 0:
        regions.append(page_text[body_end : body_end + 400])
    # then any short line of the extracted text ("来源：…", "作者：…" printed between paragraphs)
    regions.append("\n".join(ln for ln in body_lines if len(ln.strip()) <= 60))
    lines = [ln for region in regions for ln in region.splitlines()]
    return chinese.find_byline(lines)


def _signature_in_page(page_text: str, anchor: int) -> str | None:
    """A closing "（袁源）" on a paragraph of the page after the title, when the extracted text lost it."""
    for line in page_text[anchor:].split("\n"):
        if len(line) >= 30 and line.rstrip().endswith(("）", ")")):
            name = chinese.signature(line)
            if name:
                return name
    return None


def _name_under_title(page_text: str, title: str | None, body_start: int) -> str | None:
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
            name = chinese.bare_name(line)
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

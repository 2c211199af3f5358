"""Turn page bytes into text, trusting a declared charset only after the bytes agree with it.

Chinese sites often declare gb2312 and serve UTF-8 (after a CMS migration) or the reverse, and servers add a
default ``charset=utf-8`` header to GBK pages. Order: BOM -> HTTP header -> <meta>/XML declaration, each
verified by a strict decode; a clean strict UTF-8 decode wins over any non-UTF-8 declaration (GB bytes
practically never form valid UTF-8); the GB family is always decoded as gb18030 (superset of gb2312/gbk);
charset-normalizer is the last resort.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# The GB family: decoding any of them as gb18030 loses nothing and accepts the characters outside gb2312
# that pages declared "gb2312" use anyway (e.g. 镕, 喆).
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "x-gbk", "euc-cn", "euc_cn", "csgb2312", "gb_2312-80", "ms936"}
_BIG5_FAMILY = {"big5", "big5hkscs", "big5-hkscs", "cp950", "x-x-big5"}
# Declarations that servers emit by default and that say nothing about a Chinese page.
_WEAK = {"latin-1", "iso8859-1", "cp1252", "ascii"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_META_CHARSET_RE = re.compile(rb"<meta\b[^>]{0,400}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9_.:\-]+)", re.I)
# How far into the page a <meta charset> may appear (HTML says 1024 bytes; real pages put it later).
_META_SCAN_BYTES = 16384
# Share of replacement characters among non-ASCII characters tolerated for a declared charset (a page
# truncated mid-character or holding one stray byte is still in its declared encoding).
_TOLERATED_ERRORS = 0.002


@dataclass(frozen=True)
class Decoded:
    """The text of a page and how it was obtained."""

    text: str
    encoding: str  # the codec actually used, normalised ("utf-8", "gb18030", "big5"...)
    declared: str | None  # what the page or server claimed (header first, then <meta>), normalised
    overridden: bool  # True when the bytes contradicted the declaration and another codec was used
    replacement_chars: int  # U+FFFD characters in the text


def normalize_charset(label: str | None) -> str | None:
    """Map a charset label to the codec we decode with (GB family -> gb18030), or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _GB_FAMILY or label.startswith("gb"):
        try:
            codecs.lookup(label)
        except LookupError:
            if label not in _GB_FAMILY:
                return None
        return "gb18030"
    if label in _BIG5_FAMILY:
        return "big5hkscs"
    if label in {"utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8"}:
        return "utf-8"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in {"utf-16", "utf-32"}:  # a <meta> saying utf-16 in a byte-readable page is a lie (WHATWG)
        return "utf-8"
    return {"iso8859-1": "cp1252", "big5": "big5hkscs"}.get(name, name)


def header_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, normalised."""
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    return normalize_charset(m.group(1)) if m else None


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in its XML declaration or <meta> tags, normalised."""
    head = body[:_META_SCAN_BYTES]
    m = _XML_DECL_RE.search(head) or _META_CHARSET_RE.search(head)
    if not m:
        return None
    return normalize_charset(m.group(1).decode("ascii", "replace"))


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _tolerant(body: bytes, encoding: str) -> tuple[str, float] | None:
    """Decode with replacement; return the text and its error share among non-ASCII characters."""
    try:
        text = body.decode(encoding, errors="replace")
    except LookupError:
        return None
    non_ascii = (len(text) - len(text.encode("ascii", "ignore"))) or 1
    return text, text.count("\ufffd") / non_ascii


_CJK_RE = re.compile("[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")


def _cjk_share(text: str) -> float:
    """Share of CJK characters and punctuation among the non-ASCII characters of a decode."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return len(_CJK_RE.findall(text)) / non_ascii if non_ascii else 0.0


def _guess(body: bytes) -> str | None:
    """charset-normalizer's best guess, mapped onto our codec names."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
    except Exception:  # the detector is a heuristic; failing to guess is an answer
        return None
    return normalize_charset(best.encoding) if best is not None else None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode page bytes; never raises (the worst case is a latin-1 decode with the declaration noted)."""
    from_header = header_charset(content_type)
    from_meta = meta_charset(body)
    declared = from_header or from_meta

    for bom, enc in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(enc, errors="replace")
            return _result(text, enc, declared)

    if not any(b > 127 for b in body[:1_000_000]) and b"\x00" not in body[:4096]:
        # Pure ASCII: every ASCII-compatible declaration agrees; report the declared one.
        enc = declared if declared and declared not in {"utf-16-le", "utf-16-be"} else "utf-8"
        return _result(body.decode("ascii", errors="replace"), enc, declared, overridden=False)

    # 1. A clean UTF-8 decode is decisive: legacy CJK bytes almost never happen to be valid UTF-8.
    strict = _strict(body, "utf-8")
    if strict is not None:
        return _result(strict, "utf-8", declared)

    # 2. The declarations, header first, each verified (strictly, or with a tiny share of bad bytes).
    for enc in dict.fromkeys(e for e in (from_header, from_meta) if e and e != "utf-8" and e not in _WEAK):
        got = _tolerant(body, enc)
        if got is not None and got[1] <= _TOLERATED_ERRORS:
            return _result(got[0], enc, declared)

    # 3. Undeclared or wrongly declared: the GB family first (Chinese web), then Big5, then the detector.
    for enc in ("gb18030", "big5hkscs"):
        got = _tolerant(body, enc)
        if got is not None and got[1] <= _TOLERATED_ERRORS and _cjk_share(got[0]) > 0.5:
            if enc == "gb18030" and _looks_big5(body, got[0]):
                continue
            return _result(got[0], enc, declared)
    guess = _guess(body)
    if guess:
        got = _tolerant(body, guess)
        if got is not None and got[1] <= 0.05:
            return _result(got[0], guess, declared)

    # 4. Nothing verified: the least damaged of the candidates.
    candidates = [e for e in (declared, "gb18030", "utf-8") if e]
    best: tuple[str, float, str] | None = None
    for enc in dict.fromkeys(candidates):
        got = _tolerant(body, enc)
        if got is not None and (best is None or got[1] < best[1]):
            best = (got[0], got[1], enc)
    if best is None:
        return _result(body.decode("cp1252", errors="replace"), "cp1252", declared)
    return _result(best[0], best[2], declared)


def _looks_big5(body: bytes, gb_text: str) -> bool:
    """Big5 bytes often decode "cleanly" as gb18030 into rare characters; prefer Big5 when it reads better."""
    big5 = _tolerant(body, "big5hkscs")
    if big5 is None or big5[1] > _TOLERATED_ERRORS:
        return False
    return _common_share(big5[0]) > _common_share(gb_text) + 0.1


# The most frequent characters of Chinese prose in both scripts; real text has a high share of them,
# text decoded with the wrong double-byte codec does not.
_COMMON = set(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "計這個們來說時會對於過後裡與發經動現學問當沒種為從無還進點體實開關長門見間頭兩機業將應戰氣題"
)


def _common_share(text: str) -> float:
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not cjk:
        return 0.0
    return sum(1 for ch in cjk if ch in _COMMON) / len(cjk)


def _result(text: str, encoding: str, declared: str | None, overridden: bool | None = None) -> Decoded:
    if overridden is None:
        overridden = declared is not None and declared != encoding
    return Decoded(
        text=text,
        encoding=encoding,
        declared=declared,
        overridden=overridden,
        replacement_chars=text.count("\ufffd"),
    )

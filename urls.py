"""Canonical URLs: one article, one address, however a site or a share button spelled the link.

``canonical_url`` is the address we keep and show (tracking parameters and fragments dropped, host
lower-cased, query sorted: courlan + w3lib). ``url_key`` is what we compare: it also forgets the scheme and
a trailing ``index.html``, because http/https and ``/`` vs ``/index.html`` serve the same page on the sites we
crawl.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import canonicalize_url, url_query_cleaner

# Share-button parameters of the Chinese web (WeChat, Weibo, app shells) that courlan's tracker list lacks.
_SHARE_PARAMS = ("from", "spm", "isappinstalled", "scene", "clicktime", "enterid", "share_token", "wxshare_count")
_INDEX_PAGE = re.compile(r"/(?:index|default)\.(?:s?html?|php|aspx?)$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """The URL to store for a page: normalised, without tracking parameters or fragment.

    Memoised (a pure function of the string): a crawled article's URL is made canonical by the spider, then again
    by the extraction, the duplicate filter and the archive's keys, ~25 us of courlan and w3lib each time."""
    try:
        cleaned = normalize_url(url.strip())
    except ValueError:  # courlan refuses what it cannot parse; w3lib still normalises it
        cleaned = url.strip()
    cleaned = url_query_cleaner(cleaned, _SHARE_PARAMS, remove=True, keep_fragments=False)
    return canonicalize_url(cleaned, keep_fragments=False)


def url_key(url: str) -> str:
    """The comparison key of a URL: canonical, scheme-less, without a trailing index page."""
    parts = urlsplit(canonical_url(url))
    path = _INDEX_PAGE.sub("/", parts.path) or "/"
    return urlunsplit(("", parts.netloc, path, parts.query, ""))

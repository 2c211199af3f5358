"""The names of cqnews's crawl stats: every ``cqnews/...`` key that a component counts or sets, in one place.

The keys are written by the spiders, middlewares, pipelines, extensions and the distributed scheduler into
Scrapy's stats collector, stored with each crawl in ``crawl_runs.stats`` (JSON) and read back by the crawl
summary and the health verdicts. They are stored data and documented in the README, so a key's spelling never
changes; a component names a key through this module, never by writing the string itself. Keys with a variable
last part (an HTTP status, an exception class, a rejection reason) are built by the functions below.

Nothing here imports Scrapy: readers of stored runs (``health``, ``cli``) use it too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "cqnews/"

# -- Scrapy's own keys that cqnews reads -----------------------------------------------------------------
RESPONSES = "response_received_count"
REQUESTS = "downloader/request_count"  # every request sent, retries included
RETRIES = "retry/count"  # the retries among them (RetryMiddleware)
SPIDER_EXCEPTIONS = "spider_exceptions/count"
ITEMS_SCRAPED = "item_scraped_count"  # items every pipeline passed: here, articles the archive recorded

# -- discovery (spiders/base.py) --------------------------------------------------------------------------
LISTING_FETCHED = "cqnews/listing/fetched"
LISTING_NOT_HTML = "cqnews/listing/not_html"
SITEMAP_FETCHED = "cqnews/sitemap/fetched"
SITEMAP_UNREADABLE = "cqnews/sitemap/unreadable"
SITEMAP_ARTICLES = "cqnews/sitemap/articles"
FEED_FETCHED = "cqnews/feed/fetched"
FEED_UNREADABLE = "cqnews/feed/unreadable"
FEED_ARTICLES = "cqnews/feed/articles"
ARTICLE_FETCHED = "cqnews/article/fetched"
ARTICLE_MULTIPAGE = "cqnews/article/multipage"
ARTICLE_PART_MISSING = "cqnews/article/part_missing"
# links of listing pages: those the declared article patterns matched, and those they did not match but that
# have an article's shape (spiders/discovery.py), with a few of the latter as examples (a list of URLs)
DISCOVER_MATCHED = "cqnews/discover/matched_articles"
DISCOVER_UNMATCHED = "cqnews/discover/unmatched_article_like"
DISCOVER_UNMATCHED_EXAMPLES = "cqnews/discover/unmatched_article_like_examples"

# -- fetching (spiders/base.py, middlewares.py) -----------------------------------------------------------
FETCH_IGNORED = "cqnews/fetch/ignored"
FETCH_ERRORS = "cqnews/fetch/errors"  # every failed fetch, whatever the cause
# the failed fetches among them that the site was told to expect: a demo site's deliberately broken pages (the
# spider's ``deliberate_errors``); still errors, but no sign of a fault, so health does not count them
FETCH_DELIBERATE = "cqnews/fetch/deliberate"
FETCH_REDIRECT_LOOP = "cqnews/fetch/failed/redirect_loop"
# losses Scrapy counts only among others (offsite/filtered, fetch/ignored) or not at all (extensions.LossCounter,
# middlewares.DecompressionLimitMiddleware): a redirect to another site, not followed; a response whose body grew
# past DOWNLOAD_MAXSIZE while being decompressed (a gzip bomb), dropped
FETCH_OFFSITE_REDIRECT = "cqnews/fetch/offsite_redirect"
FETCH_DECOMPRESSED_TOO_LARGE = "cqnews/fetch/decompressed_too_large"
# a redirect to a URL longer than URLLENGTH_LIMIT, not followed (middlewares.LongRedirectFilter)
FETCH_REDIRECT_TOO_LONG = "cqnews/fetch/redirect_url_too_long"


def http_error(status: int) -> str:
    """A fetch answered with an HTTP error status."""
    return f"cqnews/fetch/http_error/{status}"


def fetch_failed(error: str) -> str:
    """A fetch that failed without an answer (``error``: the exception class, e.g. ``TCPTimedOutError``)."""
    return f"cqnews/fetch/failed/{error}"


# -- incremental crawling (middlewares.py) ----------------------------------------------------------------
INCREMENTAL_NOT_DUE = "cqnews/incremental/not_due"
INCREMENTAL_REVISIT = "cqnews/incremental/revisit"
INCREMENTAL_NOT_MODIFIED = "cqnews/incremental/not_modified_304"
INCREMENTAL_SAME_BODY = "cqnews/incremental/same_body"

# -- extraction (pipelines/extract.py) --------------------------------------------------------------------
EXTRACT_OK = "cqnews/extract/ok"
EXTRACT_REJECTED = "cqnews/extract/rejected"  # all rejections; per reason below
EXTRACT_REJECTED_NOT_HTML = "cqnews/extract/rejected/not_html"
EXTRACT_SKIPPED_NOT_MODIFIED = "cqnews/extract/skipped_not_modified"
EXTRACT_ENCODING_OVERRIDDEN = "cqnews/extract/encoding_overridden"
EXTRACT_REPLACEMENT_CHARS = "cqnews/extract/replacement_chars"
EXTRACT_PAGES_WITH_REPLACEMENT_CHARS = "cqnews/extract/pages_with_replacement_chars"
EXTRACT_PREFIX = "cqnews/extract/"
# a rejected page nested deeper than libxml2 parses (256 levels, e.g. 85 nested tables): its text was cut there
EXTRACT_DEPTH_LIMIT = "cqnews/extract/lost_to_depth_limit"


def extract_rejected(reason: str) -> str:
    """An article page that extracted to no article, by reason (``empty``, ``too_short``, ``not_html``...)."""
    return f"cqnews/extract/rejected/{reason}"


def extract_part_rejected(reason: str) -> str:
    """One page of a multi-page article that extracted to nothing, by reason."""
    return f"cqnews/extract/part_rejected/{reason}"


# -- dedup and storage (pipelines/dedup.py, pipelines/store.py) -------------------------------------------
DEDUP_REPEAT_IN_CRAWL = "cqnews/dedup/repeat_in_crawl"
STORE_FAILED = "cqnews/store/failed"
STORE_BATCHES = "cqnews/store/batches"
STORE_LARGEST_BATCH = "cqnews/store/largest_batch"
STORE_INDEXED_BY_TITLE_ONLY = "cqnews/store/indexed_by_title_only"  # PostgreSQL's tsvector limit; text still checked


def store_outcome(outcome: str) -> str:
    """An item the archive recorded, by outcome (``db.archive.Outcome``: new, new_version, unchanged...)."""
    return f"cqnews/store/{outcome}"


STORE_NEW = store_outcome("new")
STORE_NEW_VERSION = store_outcome("new_version")
STORE_UNCHANGED = store_outcome("unchanged")
STORE_NOT_MODIFIED = store_outcome("not_modified")
STORE_DUPLICATE = store_outcome("duplicate")

# -- CPU time by stage, in ms (cputime.py; the thread that did the work) -----------------------------------
CPU_PREFIX = "cqnews/cpu/"
CPU_LINKS = "links"  # spiders: links read from listing pages, sitemaps and feeds
CPU_DECODE = "decode"  # extraction: bytes checked, decoded and parsed into a tree
CPU_BODY = "body"  # extraction: the body text (trafilatura, or the site's body selector)
CPU_RULES = "rules"  # extraction: Chinese rules (boilerplate, title, date, author...)
CPU_FINGERPRINTS = "fingerprints"  # SimHash, text and content hashes
CPU_TRANSFER = "transfer"  # pickling pages to the extraction workers and their outcomes back, both sides
CPU_INDEX = "index"  # search index: terms of the text and their rows (SQLite's FTS5 tokenising included)
CPU_COMPRESSION = "compression"  # the raw page compressed for the archive
CPU_STORE = "store"  # the rest of writing a batch to the archive
CPU_STAGES = (CPU_LINKS, CPU_DECODE, CPU_BODY, CPU_RULES, CPU_FINGERPRINTS, CPU_TRANSFER, CPU_INDEX,
              CPU_COMPRESSION, CPU_STORE)


def cpu_key(stage: str) -> str:
    """The CPU milliseconds a crawl spent in one stage (one of ``CPU_STAGES``)."""
    return f"{CPU_PREFIX}{stage}"


def count_cpu(collector: Any, ms: Mapping[str, float]) -> None:
    """Add CPU ms by stage (``cputime.StageTimes``) to a stats collector (anything with ``inc_value``)."""
    for stage, value in ms.items():
        collector.inc_value(cpu_key(stage), value)


# -- the run and its lock (extensions.py) -----------------------------------------------------------------
ITEM_ERRORS = "cqnews/item_errors"


def item_error(error: str) -> str:
    """A pipeline raised something other than DropItem, by exception class."""
    return f"cqnews/item_errors/{error}"


CRAWL_RUN_ID = "cqnews/crawl_run_id"  # the crawl_runs row of this crawl
LOCK_HOLDER = "cqnews/lock/holder"
LOCK_HELD_BY = "cqnews/lock/held_by"  # a refused crawl: who held the site's lock
LOCK_HELD_BY_RUN = "cqnews/lock/held_by_run"
LOCK_EXPIRES_AT = "cqnews/lock/expires_at"

# -- distributed crawls (distributed.py) ------------------------------------------------------------------
DISTRIBUTED_CRAWL = "cqnews/distributed/crawl"  # the distributed crawl a run took part in
DISTRIBUTED_WORKER = "cqnews/distributed/worker"


def distributed_event(event: str) -> str:
    """A request counted by the distributed scheduler: enqueued, filtered, dequeued, acked, requeued."""
    return f"cqnews/distributed/{event}"


DISTRIBUTED_DEQUEUED = distributed_event("dequeued")
DISTRIBUTED_POLITE_WAIT_MS = distributed_event("polite_wait_ms")  # waited for the site's shared request turns


def count(stats: Mapping[str, Any], key: str) -> int:
    """A counter from a stats dict (a live collector's or a stored run's): 0 when never counted."""
    return int(stats.get(key, 0) or 0)


def attempted(stats: Mapping[str, Any]) -> int:
    """Requests of a crawl counted once each, however often they were retried: what an error rate divides by
    (errors are counted once per request that finally failed)."""
    return max(count(stats, REQUESTS) - count(stats, RETRIES), 0)


def run_counters(stats: Mapping[str, Any]) -> dict[str, int]:
    """The counter columns of a crawl's ``crawl_runs`` row, from its stats."""
    return {
        "pages_fetched": count(stats, RESPONSES),
        "articles_new": count(stats, STORE_NEW),
        "articles_updated": count(stats, STORE_NEW_VERSION),
        "articles_unchanged": count(stats, STORE_UNCHANGED) + count(stats, STORE_NOT_MODIFIED),
        "articles_duplicate": count(stats, STORE_DUPLICATE),
        "articles_rejected": count(stats, EXTRACT_REJECTED),
        # Counted per crawl, not from log_count/ERROR: crawls sharing a process share the logging root.
        "errors": count(stats, FETCH_ERRORS) + count(stats, ITEM_ERRORS) + count(stats, SPIDER_EXCEPTIONS),
    }

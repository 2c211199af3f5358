"""The one Scrapy settings module. Every CQNEWS_* environment variable is read here, one line each.

Everything else (pipelines, the CLI, the scheduler) reads configuration from these settings, so a deployment
changes behaviour through the environment without touching code. Values are taken as the strings they are:
``cqnews.config`` converts and checks every one (with the ``-s`` overrides) before any work, so a bad value is
one line naming the variable, not a traceback at import. A new setting: one line here, one ``Option`` there.
"""
from __future__ import annotations

import os

from scrapy.settings import default_settings as _scrapy_defaults

from cqnews.config import ARCHIVE_DEFAULTS

BOT_NAME = "cqnews"
SPIDER_MODULES = ["cqnews.spiders"]
NEWSPIDER_MODULE = "cqnews.spiders"

# -- where the archive lives -----------------------------------------------------------------------
CQNEWS_DATABASE_URL = os.environ.get("CQNEWS_DATABASE_URL", ARCHIVE_DEFAULTS["CQNEWS_DATABASE_URL"])
# A server that accepts the connection but never answers: give up after this many seconds (PostgreSQL).
CQNEWS_DB_CONNECT_TIMEOUT = os.environ.get("CQNEWS_DB_CONNECT_TIMEOUT", ARCHIVE_DEFAULTS["CQNEWS_DB_CONNECT_TIMEOUT"])
# SQLite: how long a command waits for a lock another process (a crawl) holds, then fails in one line.
CQNEWS_DB_BUSY_TIMEOUT = os.environ.get("CQNEWS_DB_BUSY_TIMEOUT", ARCHIVE_DEFAULTS["CQNEWS_DB_BUSY_TIMEOUT"])
# PostgreSQL: most seconds one statement may take (a lock another session holds), then it fails in one line; 0: none.
CQNEWS_DB_STATEMENT_TIMEOUT = os.environ.get("CQNEWS_DB_STATEMENT_TIMEOUT",
                                             ARCHIVE_DEFAULTS["CQNEWS_DB_STATEMENT_TIMEOUT"])
# Off: a crawl that only fetches (archive engine, run recorder, incremental middlewares, dedup and store not there).
CQNEWS_ARCHIVE = os.environ.get("CQNEWS_ARCHIVE", "1")

# -- politeness -------------------------------------------------------------------------------------
CQNEWS_CONTACT = os.environ.get("CQNEWS_CONTACT", "https://github.com/cqnews/cqnews")
USER_AGENT = os.environ.get("CQNEWS_USER_AGENT", f"cqnews/0.1 (news archive; +{CQNEWS_CONTACT})")
ROBOTSTXT_OBEY = os.environ.get("CQNEWS_ROBOTSTXT_OBEY", "1")
CONCURRENT_REQUESTS = os.environ.get("CQNEWS_CONCURRENT_REQUESTS", "8")
CONCURRENT_REQUESTS_PER_DOMAIN = os.environ.get("CQNEWS_CONCURRENCY_PER_DOMAIN", "2")
DOWNLOAD_DELAY = os.environ.get("CQNEWS_DOWNLOAD_DELAY", "0.5")
AUTOTHROTTLE_ENABLED = os.environ.get("CQNEWS_AUTOTHROTTLE", "1")
AUTOTHROTTLE_START_DELAY = DOWNLOAD_DELAY
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Scrapy starts this many tasks for the output of *every* response, whatever it holds (its default, 100, cost ~0.9 ms
# of the reactor's CPU per article page): a cqnews callback yields one item or a listing's requests, which need no
# concurrency of their own. Items of different responses still go through the pipelines together.
CONCURRENT_ITEMS = 4
DOWNLOAD_TIMEOUT = os.environ.get("CQNEWS_DOWNLOAD_TIMEOUT", "30")
DOWNLOAD_MAXSIZE = os.environ.get("CQNEWS_DOWNLOAD_MAXSIZE", str(10 * 1024 * 1024))
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = os.environ.get("CQNEWS_RETRY_TIMES", "2")
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
REDIRECT_MAX_TIMES = 5

# -- bounds: a crawl always ends ---------------------------------------------------------------------
CQNEWS_LISTING_DEPTH = os.environ.get("CQNEWS_LISTING_DEPTH", "2")
CLOSESPIDER_PAGECOUNT = os.environ.get("CQNEWS_MAX_PAGES", "2000")
CLOSESPIDER_TIMEOUT = os.environ.get("CQNEWS_MAX_SECONDS", "3600")
DEPTH_LIMIT = os.environ.get("CQNEWS_DEPTH_LIMIT", "5")

# -- incremental crawling: archived articles are revisited on a ladder, then left alone -----------------
CQNEWS_INCREMENTAL = os.environ.get("CQNEWS_INCREMENTAL", "1")
CQNEWS_REVISIT_LADDER = os.environ.get("CQNEWS_REVISIT_LADDER", "1h,6h,1d,3d")  # a spider may override it
CQNEWS_REVISIT_MAX_AGE_DAYS = os.environ.get("CQNEWS_REVISIT_MAX_AGE_DAYS", "30")
DOWNLOADER_MIDDLEWARES = {
    "cqnews.middlewares.IncrementalMiddleware": 560,  # after robots.txt, before retries and redirects
    "cqnews.middlewares.RedirectLoopMiddleware": 610,  # sees a 3xx before RedirectMiddleware (600) follows it
    "cqnews.middlewares.LongRedirectFilter": 611,  # drops a redirect to a URL past URLLENGTH_LIMIT, once counted
    # Scrapy's, counting a body dropped for decompressing past DOWNLOAD_MAXSIZE under a key of its own
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "cqnews.middlewares.DecompressionLimitMiddleware": 590,
}
SPIDER_MIDDLEWARES = {
    "cqnews.middlewares.NotDueFilter": 950,  # next to the spider: a not-due article link is dropped before all else
}

# -- extraction ---------------------------------------------------------------------------------------
CQNEWS_EXTRACT = os.environ.get("CQNEWS_EXTRACT", "1")  # off: pages are not extracted (ExtractPipeline off)
CQNEWS_MIN_TEXT_CHARS = os.environ.get("CQNEWS_MIN_TEXT_CHARS", "60")
CQNEWS_EXTRACT_PROCESSES = os.environ.get("CQNEWS_EXTRACT_PROCESSES", str(os.cpu_count() or 1))  # 0/1: in-process
# At most this many articles per store transaction (what arrives while a batch is written makes the next one).
CQNEWS_STORE_BATCH = os.environ.get("CQNEWS_STORE_BATCH", "100")
# Seconds a batch that is not full waits for more articles before it is written (fewer, larger transactions).
CQNEWS_STORE_WAIT = os.environ.get("CQNEWS_STORE_WAIT", "0.5")

# -- the daemon, locks and health (scheduler.py, db/runs.py, health.py) ------------------------------
CQNEWS_SCHEDULE_FILE = os.environ.get("CQNEWS_SCHEDULE_FILE", "cqnews.toml")  # per-site schedules (TOML); optional
CQNEWS_SCHEDULE = os.environ.get("CQNEWS_SCHEDULE", "cron: 7 */3 * * *")  # for sites the file does not list
CQNEWS_TIMEZONE = os.environ.get("CQNEWS_TIMEZONE", "")  # of cron schedules; empty: the file's, else Asia/Shanghai
CQNEWS_MISFIRE_GRACE_SECONDS = os.environ.get("CQNEWS_MISFIRE_GRACE_SECONDS", "3600")  # later: "missed"
CQNEWS_CRAWL_TIMEOUT = os.environ.get("CQNEWS_CRAWL_TIMEOUT", "5400")  # kill a crawl process after this
CQNEWS_STOP_TIMEOUT = os.environ.get("CQNEWS_STOP_TIMEOUT", "60")  # on SIGTERM, wait this long for a crawl
CQNEWS_LOG_DIR = os.environ.get("CQNEWS_LOG_DIR", "data/logs")  # one log file per scheduled crawl, per site
CQNEWS_LOG_KEEP = os.environ.get("CQNEWS_LOG_KEEP", "500")  # crawl log files kept per site
CQNEWS_LOCK_LEASE_SECONDS = os.environ.get("CQNEWS_LOCK_LEASE_SECONDS", "300")  # a dead crawl's lock expires
CQNEWS_LOCK_RENEW_SECONDS = os.environ.get("CQNEWS_LOCK_RENEW_SECONDS", "60")  # a live crawl renews it
CQNEWS_PROGRESS_SECONDS = os.environ.get("CQNEWS_PROGRESS_SECONDS", "5")  # a crawl writes its counters; 0: off
CQNEWS_CONTROL_SECONDS = os.environ.get("CQNEWS_CONTROL_SECONDS", "5")  # the daemon reads pause/run requests
CQNEWS_CANCEL_GRACE_SECONDS = os.environ.get("CQNEWS_CANCEL_GRACE_SECONDS", "30")  # then cancel is a SIGTERM
CQNEWS_RUN_TRIGGER = "manual"  # crawl_runs.trigger; the daemon passes -s CQNEWS_RUN_TRIGGER=scheduled
CQNEWS_RUN_LOG_PATH = ""  # crawl_runs.log_path; the daemon passes the run's log file
CQNEWS_HEALTH_RUNS = os.environ.get("CQNEWS_HEALTH_RUNS", "5")  # runs shown and judged per site
CQNEWS_HEALTH_ZERO_NEW_RUNS = os.environ.get("CQNEWS_HEALTH_ZERO_NEW_RUNS", "3")  # this many: unhealthy
CQNEWS_HEALTH_EMPTY_RATE = os.environ.get("CQNEWS_HEALTH_EMPTY_RATE", "0.5")  # rejected / extracted
CQNEWS_HEALTH_ERROR_RATE = os.environ.get("CQNEWS_HEALTH_ERROR_RATE", "0.2")  # errors / requests
CQNEWS_HEALTH_OVERDUE_SLACK = os.environ.get("CQNEWS_HEALTH_OVERDUE_SLACK", "900")  # beyond the grace
CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED = os.environ.get("CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED", "3")  # fewer: noise
CQNEWS_HEALTH_DRIFT_RUNS = os.environ.get("CQNEWS_HEALTH_DRIFT_RUNS", "3")  # runs matching nothing: drift
CQNEWS_SERVE_TOKEN = os.environ.get("CQNEWS_SERVE_TOKEN", "")  # `cqnews serve`: required on a non-loopback bind

# -- distributed mode (distributed.py): `cqnews crawl SITE --distributed`, `cqnews worker SITE` -------------
CQNEWS_REDIS_URL = os.environ.get("CQNEWS_REDIS_URL", "redis://127.0.0.1:6379/0")  # shared queue and seen requests
CQNEWS_REDIS_PREFIX = os.environ.get("CQNEWS_REDIS_PREFIX", "cqnews")  # keys PREFIX:SITE:...; one per deployment
CQNEWS_WORKER_LEASE_SECONDS = os.environ.get("CQNEWS_WORKER_LEASE_SECONDS", "30")  # dead worker's work requeued
CQNEWS_WORKER_IDLE_SECONDS = os.environ.get("CQNEWS_WORKER_IDLE_SECONDS", "30")  # wait for a crawl/its seed
CQNEWS_LOCK_HOLDER = ""  # set by distributed mode: the crawl_locks holder the workers of one distributed crawl share

# -- the pipeline: extract -> dedup -> store ---------------------------------------------------------
ITEM_PIPELINES = {
    "cqnews.pipelines.extract.ExtractPipeline": 100,
    "cqnews.pipelines.dedup.DedupPipeline": 200,
    "cqnews.pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    "cqnews.archive_engine.ArchiveEngine": 100,  # the crawl's one database engine, which the others ask for
    "cqnews.extensions.CrawlRunRecorder": 500,
    "cqnews.progress.CrawlProgress": 510,  # live counters in the run's row (after the recorder inserts it)
    "cqnews.extensions.LossCounter": 515,  # offsite redirects, pages cut by the parser's depth limit
    "cqnews.extensions.ProgressLine": 520,  # the live line on a terminal (CQNEWS_PROGRESS)
}
# Scrapy's RemoteControl extension (an HTTP server that runs Python code sent to it) is no more wanted in an
# unattended archiver than the telnet console. It is left out of the base list rather than set to None in
# EXTENSIONS, because Scrapy imports every key of that dict, and its module imports aiohttp (~0.15 s a crawl).
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {k: v for k, v in _scrapy_defaults.EXTENSIONS_BASE.items() if not k.endswith(".RemoteControl")}

LOG_LEVEL = os.environ.get("CQNEWS_LOG_LEVEL", ARCHIVE_DEFAULTS["LOG_LEVEL"])
CQNEWS_PROGRESS = os.environ.get("CQNEWS_PROGRESS", "0")  # a progress line on stderr; the CLI: on at a terminal
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

"""The shared test helpers (the one module of them: no test module imports another).

- running the real `cqnews` command against the reconstructed demo sites served on 127.0.0.1, as a user would;
- records to fill a test archive with, all synthetic (invented articles in the style of the real outlets):
  :func:`make_record`, one 人民网重庆频道 article (``URL``, ``BODY``) GB-encoded like the real site, for the
  versioning, store and migration tests; ``CORPUS`` with :func:`corpus_record` and :func:`fill`, six short
  articles of two sites, simplified and traditional, for search, diff and export.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from cqnews import settings as settings_module
from cqnews.cli import main
from cqnews.commands import cqnews_command
from cqnews.db.archive import Archive
from cqnews.db.models import CrawlRun
from cqnews.db.records import ArticleRecord, Capture
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES
from cqnews.fingerprints import content_fingerprint, normalise, simhash, text_fingerprint
from cqnews.urls import canonical_url

FIXTURES = SITES  # the demo sites: reconstructed copies of the six sites (cqnews/demo/sites/README.md)


PG_ADMIN_URL = os.environ.get("CQNEWS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


def postgres_database() -> Iterator[str]:
    """A freshly created PostgreSQL database of its own, dropped afterwards (a generator for fixtures)."""
    if os.environ.get("CQNEWS_TEST_SKIP_PG") == "1":
        pytest.skip("CQNEWS_TEST_SKIP_PG=1: PostgreSQL tests skipped")
    name = f"cqnews_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Commands that start Twisted's reactor (which cannot restart inside pytest) or run until signalled: always a
# fresh process. Every other command runs in this process, through the same `cqnews.cli.main`.
NEEDS_A_PROCESS = {"crawl", "demo", "worker", "daemon"}


def cqnews(args: list[str], database_url: str, cwd: Path, timeout: int = 240,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, with the archive at ``database_url``; returns its exit code and output."""
    full_env = {
        "CQNEWS_DATABASE_URL": database_url,
        "CQNEWS_DOWNLOAD_DELAY": "0",
        "CQNEWS_AUTOTHROTTLE": "0",
        "CQNEWS_RETRY_TIMES": "0",
        "CQNEWS_LOG_LEVEL": "INFO",
    } | (env or {})
    if NEEDS_A_PROCESS & set(args[:1]):
        return subprocess.run(cqnews_command(*args), cwd=cwd, env=dict(os.environ) | full_env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return in_process(args, cwd, full_env)


def in_process(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``cqnews ARGS`` through ``cqnews.cli.main`` in this process: its environment, working folder and settings
    module as a fresh process would have them, restored afterwards; stdout and stderr captured."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        importlib.reload(settings_module)  # it reads the CQNEWS_* environment when imported
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse: bad usage (2), --help, --version (0)
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        importlib.reload(settings_module)
    return subprocess.CompletedProcess(["cqnews", *args], code, out.getvalue(), err.getvalue())


CRAWL_FIXTURE = Path(__file__).resolve().parent / "crawl_fixture.py"


def crawl_fixture(site: str, base_url: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Crawl ``site`` at ``base_url`` with tests/crawl_fixture.py (in its own process: Twisted's reactor cannot
    restart) and return what it printed: pages, stats, enabled components, engines created."""
    result = subprocess.run([sys.executable, "-P", str(CRAWL_FIXTURE), site, base_url, *args],
                            capture_output=True, text=True, timeout=180, check=False,
                            env=dict(os.environ) | (env or {}), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout))


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive loopback ports that are free now (for a command run twice on the same
    ports, such as two demo runs that must see the same URLs), away from the ephemeral range other tests use."""
    for _ in range(50):
        first = random.randrange(20000, 30000 - count)
        try:
            with contextlib.ExitStack() as stack:
                for port in range(first, first + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports found")


def kill_with_its_children(process: subprocess.Popen[Any]) -> None:
    """SIGKILL a crawl, and then the extraction pool it started (forkserver, workers, resource tracker).

    The pool dies with its crawl by itself (tests/test_orphans.py proves it); killing it here too keeps a test
    that kills crawls from leaving ~250 MB of processes behind should that ever break."""
    below = descendants(process.pid)
    process.kill()
    process.wait()
    for pid in below:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def copy_site(name: str, tmp_path: Path) -> Path:
    """A private copy of a fixture site, so a test may edit it between crawls."""
    target = tmp_path / "sites" / name
    shutil.copytree(FIXTURES / name, target)
    return target


def expected(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name / "expected.json").read_text("utf-8")))


def expected_articles(name: str) -> list[dict[str, Any]]:
    """Every fixture page that holds a real article (including pages with mislabelled encodings)."""
    spec = expected(name)
    return list(spec["articles"]) + [b for b in spec.get("bad_inputs", []) if "title" in b]


def runs(database_url: str) -> list[CrawlRun]:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    finally:
        engine.dispose()


def text_record(url: str, title: str | None, text_: str, published_at: Any, fetched_at: Any,
                site: str = "cq_people", author: str | None = None, source: str | None = None) -> ArticleRecord:
    """An ArticleRecord of a given title and text, as the crawl's store hands it to ``Archive.record``
    (search tests: what matters is the text; its page is a minimal UTF-8 HTML wrapper of it)."""
    capture = Capture(url=url, status=200, headers={"content-type": "text/html; charset=utf-8"},
                      body=f"<html><title>{title or ''}</title><body>{text_}</body></html>".encode(),
                      fetched_at=fetched_at, encoding="utf-8")
    return ArticleRecord(site=site, canonical_url=canonical_url(url), capture=capture, text=text_, title=title,
                         author=author, source=source, published_at=published_at,
                         content_hash=content_fingerprint(title, text_, published_at),
                         text_hash=text_fingerprint(text_), extractor_version="test")


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The CLI's error contract: exit ``code``, no traceback, exactly one line on stderr, from cqnews; returns it."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("cqnews"), lines[0]
    return lines[0]


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never answers (a hung database server)."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


# -- records to fill a test archive with ---------------------------------------------------------------

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

# -- one article, as the versioning tests write it again and again -----------------------------------------

URL = "http://cq.people.com.cn/n2/2020/0508/c365401-33998868.html"
BODY = "人民网重庆5月8日电 渝北区将对标“两中心两地”战略目标。\n\n据了解，渝北区作为重庆主城北大门。"
PUBLISHED = datetime(2020, 5, 8, 18, 43, tzinfo=SH)
HEADERS = {"content-type": "text/html; charset=GB2312"}


def page_html(title: str, text: str) -> bytes:
    """A minimal page holding ``text``, in the site's encoding."""
    return f"<html><title>{title}</title><body>{text}</body></html>".encode("gb18030")


def make_record(url: str, text: str = BODY, title: str = "渝北:努力成为新动力源", at: datetime = T0,
                html: bytes | None = None, site: str = "cq_people", parts: tuple[Capture, ...] = ()) -> ArticleRecord:
    """The archive's record of an article at ``url`` captured at ``at``, fingerprints computed as the crawl does."""
    capture = Capture(url=url, status=200, headers=HEADERS, body=html if html is not None else page_html(title, text),
                      fetched_at=at, encoding="gb18030")
    return ArticleRecord(site=site, canonical_url=canonical_url(url), capture=capture, text=text, title=title,
                         author="胡虹", source="人民网-重庆频道", published_at=PUBLISHED,
                         content_hash=content_fingerprint(title, text, PUBLISHED), text_hash=text_fingerprint(text),
                         extractor_version="test", simhash=simhash(normalise(text)), parts=parts)


def count(engine: Engine, model: Any) -> int:
    """How many rows the table of ``model`` holds."""
    with make_sessionmaker(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- a small corpus for search, diff and export ------------------------------------------------------------

# (site, path, title, text, published day, author, source)
CORPUS = [
    ("cq_people", "a1", "渝北:努力成为新动力源",
     "渝北区将对标“两中心两地”战略目标。\n\n据了解，渝北区作为重庆主城北大门。",
     "2020-05-08", "胡虹", "人民网-重庆频道"),
    ("cq_people", "a2", "成渝地区双城经济圈建设提速",
     "推动成渝地区双城经济圈建设，川渝两地签署合作协议。\n\n重庆市经济发展稳中向好。",
     "2020-05-10", "王新", "人民网-重庆频道"),
    ("cbg", "b1", "雙城經濟圈：重慶與成都攜手", "成渝地區雙城經濟圈建設加快推進，經濟總量再上台階。",
     "2020-05-12", "張偉", "視界網"),
    ("cbg", "b2", "沙坪坝大学城迎来新生", "沙坪坝区大学城各高校迎来新生报到，重庆大学新生超过一万人。",
     "2020-05-20", "李静", "视界网"),
    ("cbg", "b3", "解放碑夜间经济火热", "解放碑步行街夜间经济持续升温，火锅店排起长队。重庆夜景吸引游客。",
     "2020-06-01", None, "视界网"),
    ("cq_people", "a3", "轻轨3号线延长段开通", "轨道交通3号线北延伸段开通运营，渝北区市民出行更便捷。",
     "2020-06-03", "胡虹", "人民网-重庆频道"),
]


def corpus_record(site: str, path: str, title: str, body: str, day: str, author: str | None, source: str,
                  at: datetime = T0) -> ArticleRecord:
    """The record of one row of ``CORPUS`` (UTF-8 page at ``http://SITE.example.cn/PATH.html``)."""
    published = datetime.fromisoformat(day).replace(hour=9, tzinfo=SH)
    return text_record(f"http://{site}.example.cn/{path}.html", title, body, published, at, site, author, source)


def fill(engine: Engine) -> None:
    """Archive every row of ``CORPUS``, a day apart from ``T0`` on."""
    archive = Archive(engine)
    for n, row in enumerate(CORPUS):
        archive.record(corpus_record(*row, at=T0 + timedelta(days=n)), row[0])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` now (children, their children...), read from /proc."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            pending += children
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs: a zombie (ended, not yet reaped by whoever adopted it) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def adopt_orphans() -> None:
    """Make this process the subreaper of everything it starts: a process orphaned by a test (its parent
    killed) becomes our child instead of PID 1's, where :func:`stray_processes` finds it."""
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def own_pool_processes() -> set[int]:
    """This process's own multiprocessing helpers (a pool used in-process), which live as long as it does."""
    from multiprocessing import forkserver, resource_tracker

    own = {getattr(forkserver._forkserver, "_forkserver_pid", None),
           getattr(resource_tracker._resource_tracker, "_pid", None)}
    return {pid for pid in own if pid} | {d for pid in own if pid for d in descendants(pid)}


def stray_processes(grace: float) -> dict[int, str]:
    """Processes still running below this one (orphans included, see :func:`adopt_orphans`) after up to
    ``grace`` seconds, but for our own pool helpers; ended ones are reaped on the way."""
    import time

    deadline = time.monotonic() + grace
    while True:
        own = own_pool_processes()
        left = {}
        for pid in descendants(os.getpid()):
            if pid in own:
                continue
            if not alive(pid):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)  # an adopted orphan that ended: ours to reap
                continue
            left[pid] = command_line(pid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


REALPAGES = Path(__file__).parent / "fixtures" / "realpages"


def realpage_labels() -> list[dict[str, Any]]:
    """Our hand labels of the real article pages in fixtures/realpages (labels.jsonl, one page a line)."""
    lines = (REALPAGES / "labels.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def dev_pages() -> list[Path]:
    """Every page of every dev set: our labelled real pages, plus gzipped copies of the shared eval dev sets
    (fixtures/realpages/devsets/<set>/<id>.html.gz), so that no test reads outside the repository."""
    pages = [REALPAGES / label["page"] for label in realpage_labels()]
    return pages + sorted((REALPAGES / "devsets").rglob("*.html.gz"))


# -- an archive for the web reader: the corpus, a second version, a hostile title, runs ----------------------

HOSTILE_TITLE = "<script>alert(1)</script>重庆轻轨夜间加开班次"
CHANGED_BODY = ("渝北区将对标“两中心两地”战略目标，加快建设临空经济示范区。\n\n据了解，渝北区作为重庆主城北大门。"
                "\n\n记者从渝北区获悉，新区规划已获批复。")


def web_archive(engine: Engine) -> dict[str, int]:
    """Fill a migrated archive for the web reader's tests (all synthetic): ``CORPUS``; a second version of its
    first article (changed text, published the same day), archived now; an article whose title holds a script
    tag; a finished, a failed and a running crawl run. Returns the ids of the changed and the hostile article."""
    from cqnews.db import runs as run_rows
    from cqnews.stats import REQUESTS

    fill(engine)
    archive = Archive(engine)
    site, path, title, _, day, author, source = CORPUS[0]
    changed = archive.record(corpus_record(site, path, title + "（更新）", CHANGED_BODY, day, author, source,
                                           at=datetime.now(UTC) - timedelta(hours=1)), site)
    hostile_text = "重庆轨道交通夜间加开班次，<b>市民</b>出行更方便。&lt;img src=x onerror=alert(2)&gt;"
    hostile = archive.record(corpus_record("cbg", "x1", HOSTILE_TITLE, hostile_text, "2020-06-05", None, "视界网",
                                           at=datetime.now(UTC) - timedelta(days=2)), "cbg")
    done = run_rows.start_run(engine, "cq_people", run_rows.RunTrigger.SCHEDULED, os.getpid())
    run_rows.finish_run(engine, done, run_rows.RunStatus.FINISHED, "finished",
                        {"pages_fetched": 12, "articles_new": 3, "articles_updated": 1, "errors": 1}, {REQUESTS: 13})
    failed = run_rows.start_run(engine, "cbg", run_rows.RunTrigger.MANUAL, os.getpid())
    run_rows.finish_run(engine, failed, run_rows.RunStatus.FAILED, "killed", {"pages_fetched": 2, "errors": 8},
                        {REQUESTS: 10})
    run_rows.start_run(engine, "cbg", run_rows.RunTrigger.MANUAL, os.getpid())
    return {"changed": changed.article_id, "hostile": hostile.article_id}


@contextlib.contextmanager
def web_database(backend: str, folder: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A database on ``backend`` ("sqlite": a file in ``folder``), migrated and filled by :func:`web_archive`:
    its URL and the ids that function returns; a PostgreSQL database is dropped afterwards."""
    from cqnews.db.migrate import upgrade

    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            database = f"sqlite:///{folder / 'archive.db'}"
        else:
            database = stack.enter_context(contextlib.contextmanager(postgres_database)())
        engine = make_engine(database)
        upgrade(engine)
        ids = web_archive(engine)
        engine.dispose()
        yield database, ids


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local webhook on 127.0.0.1 (port 0) that records the JSON bodies POSTed to it: an apprise
    ``json://`` URL for it, and the list of messages received so far."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()

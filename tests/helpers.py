"""Running the real `cqnews` command against the reconstructed demo sites served on 127.0.0.1, as a user would."""
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
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from cqnews import settings as settings_module
from cqnews.cli import main
from cqnews.commands import cqnews_command
from cqnews.db.models import CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES

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

    A SIGKILLed crawl leaves its pool running under PID 1 (the known orphan problem, an open issue); the tests
    that kill crawls must not leave ~250 MB of such processes behind them on the machine."""
    descendants: list[int] = []
    pending = [process.pid]
    while pending:
        pid = pending.pop()
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            descendants += children
            pending += children
    process.kill()
    process.wait()
    for pid in descendants:
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


REALPAGES = Path(__file__).parent / "fixtures" / "realpages"


def realpage_labels() -> list[dict[str, Any]]:
    """Our hand labels of the real article pages in fixtures/realpages (labels.jsonl, one page a line)."""
    lines = (REALPAGES / "labels.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def dev_pages() -> list[Path]:
    """Every page of every dev set: our labelled real pages, plus the pages of each dataset folder named in
    CQNEWS_DEV_DATASETS (separated by os.pathsep), since the shared eval sets are not in the repository."""
    pages = [REALPAGES / label["page"] for label in realpage_labels()]
    for folder in filter(None, os.environ.get("CQNEWS_DEV_DATASETS", "").split(os.pathsep)):
        pages += sorted(Path(folder).rglob("*.htm*"))
    return pages

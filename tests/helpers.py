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

"""A crawl's processes end with it, however it ends: no extraction pool is left running under PID 1."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cqnews.commands import cqnews_command
from cqnews.demo.server import FixtureSite

from helpers import alive, command_line, copy_site, descendants


def _pool_of(crawl: subprocess.Popen[bytes], deadline: float) -> list[int]:
    """The crawl's extraction pool once it works: resource tracker, forkserver and at least one worker."""
    while time.monotonic() < deadline and crawl.poll() is None:
        pool = descendants(crawl.pid)
        lines = [command_line(pid) for pid in pool]
        servers = [line for line in lines if "multiprocessing.forkserver" in line]
        if len(servers) >= 2 and any("resource_tracker" in line for line in lines):  # the server and a worker
            return pool
        time.sleep(0.05)
    raise AssertionError("the crawl never started its extraction pool")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_crawl_killed_with_sigkill_mid_extraction_takes_its_whole_pool_with_it(
        archive_url: str, tmp_path: Path) -> None:
    env = os.environ | {"CQNEWS_DATABASE_URL": archive_url, "CQNEWS_EXTRACT_PROCESSES": "2",
                        "CQNEWS_DOWNLOAD_DELAY": "0.3", "CQNEWS_AUTOTHROTTLE": "0",
                        "CQNEWS_CONCURRENCY_PER_DOMAIN": "1", "CQNEWS_RETRY_TIMES": "0"}
    with FixtureSite(copy_site("cq_people", tmp_path)) as site:
        crawl = subprocess.Popen(cqnews_command("crawl", "cq_people", "--base-url", site.base_url), cwd=tmp_path,
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL)
        try:
            pool = _pool_of(crawl, time.monotonic() + 120)
        finally:
            crawl.kill()  # the crawl only: its pool must go by itself
            crawl.wait()
        killed = time.monotonic()
        while any(alive(pid) for pid in pool) and time.monotonic() < killed + 5:
            time.sleep(0.05)
        left = {pid: command_line(pid) for pid in pool if alive(pid)}
        for pid in left:  # not on this machine for ever, even when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert not left, f"still running {time.monotonic() - killed:.1f} s after the crawl was killed: {left}"

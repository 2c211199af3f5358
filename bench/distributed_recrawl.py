"""Distributed against plain re-crawl of an unchanged site (issue 16: "within 2 x a plain re-crawl's wall time").

Serves the reconstructed demo site (cqnews/demo/sites/SITE) on 127.0.0.1, crawls it once into a fresh SQLite
archive, then re-crawls the unchanged site ``--rounds`` times each way, alternating: ``cqnews crawl SITE`` and
``cqnews crawl SITE --distributed`` (one worker, the seeding crawl, its queue in Redis under a fresh key prefix).
Prints wall seconds and CPU seconds (user + system of the crawl process and its children, from
``resource.getrusage(RUSAGE_CHILDREN)``) per run, and the medians.

Usage: python bench/distributed_recrawl.py [--site cq_people] [--rounds 3] [--redis redis://127.0.0.1:6379/0]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cqnews.commands import cqnews_command
from cqnews.demo import SITES
from cqnews.demo.server import FixtureSite


def timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``cqnews`` command (which must exit 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(cqnews_command(*args), cwd=cwd, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", default="cq_people")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FixtureSite(SITES / args.site) as server:
        folder = Path(tmp)
        env = dict(os.environ, CQNEWS_DATABASE_URL=f"sqlite:///{folder / 'archive.db'}", CQNEWS_DOWNLOAD_DELAY="0",
                   CQNEWS_AUTOTHROTTLE="0", CQNEWS_REDIS_URL=args.redis,
                   CQNEWS_REDIS_PREFIX=f"cqnews-bench-{uuid.uuid4().hex[:8]}")
        subprocess.run(cqnews_command("db", "upgrade"), cwd=folder, env=env, check=True, capture_output=True)
        crawl = ["crawl", args.site, "--base-url", server.base_url, "--no-config"]
        timed(crawl, env, folder)  # the first crawl: every page new
        figures: dict[str, list[tuple[float, float]]] = {"plain": [], "distributed": []}
        for _ in range(args.rounds):
            figures["plain"].append(timed(crawl, env, folder))
            figures["distributed"].append(timed([*crawl, "--distributed"], env, folder))
    for kind, runs in figures.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{kind:12} wall s {' '.join(f'{w:5.2f}' for w in walls)}  CPU s {' '.join(f'{c:5.2f}' for c in cpus)}"
              f"  median wall {statistics.median(walls):.2f} CPU {statistics.median(cpus):.2f}")
    ratio = statistics.median(w for w, _ in figures["distributed"]) / statistics.median(w for w, _ in figures["plain"])
    print(f"distributed / plain wall (medians): {ratio:.2f} x")


if __name__ == "__main__":
    main()

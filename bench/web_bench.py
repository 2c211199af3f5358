"""Response times of the web reader (`cqnews serve`): the median (and worst) of N requests per page.

Usage: python bench/web_bench.py [--database-url URL] [--rounds 20]

Without ``--database-url`` it builds the demo archive first, as a user would (`cqnews demo --port 0` into a
SQLite file in a temporary folder: the reconstructed demo sites crawled by the real spiders). It then starts
`cqnews serve --port 0` on the archive as its own process, requests every page once to warm up, then each page
``--rounds`` times in turn over HTTP on 127.0.0.1 and prints the median and the slowest, in ms, wall time as
the client sees it (connection included). Then, page by page, ``--rounds`` requests in a row again and the CPU
time the server process spent on them (user + system from /proc, so other jobs on a shared machine do not count;
PostgreSQL's own processes are not included), as ms per request. The target of issue 18: a median of at most
200 ms per page on the demo archive (500 ms for search and article pages on a 1,000,000-article archive).
"""
from __future__ import annotations

import argparse
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from cqnews.commands import cqnews_command
from cqnews.db.models import Article, Site
from cqnews.db.session import make_engine, make_sessionmaker


def demo_archive(folder: Path) -> str:
    url = f"sqlite:///{folder / 'archive.db'}"
    subprocess.run(cqnews_command("demo", "--port", "0"), cwd=folder, check=True, env=dict(os.environ) | {
        "CQNEWS_DATABASE_URL": url, "CQNEWS_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL)
    return url


def serve(database: str, folder: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(cqnews_command("serve", "--port", "0"), cwd=folder, text=True,
                               env=dict(os.environ) | {"CQNEWS_DATABASE_URL": database},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr or []], daemon=True).start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            found = re.search(r"serving the archive at (http://127\.0\.0\.1:\d+)", lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if found:
            return process, found.group(1)
    process.kill()
    raise SystemExit("cqnews serve did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pages(database: str) -> dict[str, str]:
    """The pages timed: searches, the article with the most versions, its diff, sites, runs, metrics, the API."""
    engine = make_engine(database, create=False)
    with make_sessionmaker(engine)() as session:
        print(f"{session.scalar(select(func.count()).select_from(Article)):,} articles", file=sys.stderr)
        article = session.execute(select(Article.id, Site.name).join(Site, Site.id == Article.site_id)
                                  .order_by(Article.version_count.desc(), Article.id).limit(1)).first()
    engine.dispose()
    if article is None:
        raise SystemExit("the archive has no article")
    article_id, site = article
    word = urllib.parse.quote("重庆")
    return {"search 重庆": f"/search?q={word}", "search 重庆, one site": f"/search?q={word}&site={site}",
            "search 重庆, page 2": f"/search?q={word}&page=2", "article": f"/article/{article_id}",
            "diff (last two versions)": f"/article/{article_id}/diff", "sites": "/sites", "runs": "/runs",
            "metrics": "/metrics", "api/search": f"/api/search?q={word}", "api/article": f"/api/article/{article_id}",
            "api/sites": "/api/sites"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the archive (default: build the demo archive first)")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        database = args.database_url or demo_archive(folder)
        if not args.database_url:
            print(f"demo archive built in {time.monotonic() - started:.1f} s", file=sys.stderr)
        timed = pages(database)
        process, base = serve(database, folder)
        try:
            times: dict[str, list[float]] = {name: [] for name in timed}
            for path in timed.values():
                urllib.request.urlopen(base + path, timeout=60).read()  # warm-up
            for _ in range(args.rounds):
                for name, path in timed.items():
                    start = time.perf_counter()
                    with urllib.request.urlopen(base + path, timeout=60) as response:
                        response.read()
                    times[name].append((time.perf_counter() - start) * 1000)
            cpu: dict[str, float] = {}
            for name, path in timed.items():
                before = cpu_seconds(process.pid)
                for _ in range(args.rounds):
                    urllib.request.urlopen(base + path, timeout=60).read()
                cpu[name] = (cpu_seconds(process.pid) - before) * 1000 / args.rounds
        finally:
            process.terminate()
            process.wait(10)
    print(f"{'page':28} {'median ms':>10} {'max ms':>8} {'CPU ms':>7}   ({args.rounds} requests each, "
          f"{'given archive' if args.database_url else 'demo archive'}; CPU: the server process, per request)")
    for name, samples in times.items():
        print(f"{name:28} {statistics.median(samples):10.1f} {max(samples):8.1f} {cpu[name]:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

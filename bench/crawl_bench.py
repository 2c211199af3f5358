"""The crawl benchmark: one command, one run, every figure of the scale issue.

1. serves N generated ~70 KB article pages on 127.0.0.1 (bench/newsite.py);
2. measures trafilatura alone on those pages, with as many processes as the crawl uses;
3. runs a full ``cqnews crawl`` of the site into a fresh SQLite file and a fresh PostgreSQL database;
4. crawls the unchanged site again;
and prints pages/s, CPU ms/page, peak RSS (the crawl's whole process tree) and the ratios the floors are
about: full crawl >= 0.90 x extraction alone; unchanged re-crawl >= 10 x faster than the first.
5. with ``--scale-to N``: a first crawl of an N-page site into SQLite, and how much its peak RSS grew over
   the first SQLite crawl of ``--pages`` pages (floor: less than 20% from 2,000 to 20,000 pages).

Usage: python bench/crawl_bench.py [--pages 2000] [--processes 2] [--backends sqlite,postgresql]
                                   [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                   [--scale-to 20000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from newsite import GeneratedSite  # noqa: E402


def _extract_chunk(bodies: list[bytes]) -> float:
    import trafilatura

    start = time.process_time()
    for body in bodies:
        trafilatura.extract(body)
    return time.process_time() - start


def extraction_alone(site: GeneratedSite, processes: int) -> tuple[float, float]:
    """pages/s and CPU ms/page of bare trafilatura.extract over every article, in `processes` workers."""
    bodies = [site.article(i) for i in range(site.articles)]
    chunks = [bodies[i::processes * 8] for i in range(processes * 8)]
    with ProcessPoolExecutor(processes, initializer=_extract_chunk, initargs=([bodies[0]],)) as pool:
        list(pool.map(_extract_chunk, [[bodies[0]]] * processes))  # every worker started and warm
        start = time.perf_counter()
        cpu = sum(pool.map(_extract_chunk, chunks))
        wall = time.perf_counter() - start
    return len(bodies) / wall, cpu * 1000 / len(bodies)


def simhash_cost(site: GeneratedSite, sample: int = 500) -> float:
    """CPU ms per article of the SimHash the dedup pipeline computes (on the extracted text)."""
    from cqnews.extraction.article import extract_article
    from cqnews.fingerprints import normalise, simhash

    texts = [normalise(extract_article(site.article(i)).text) for i in range(min(sample, site.articles))]
    start = time.process_time()
    for text in texts:
        simhash(text)
    return (time.process_time() - start) * 1000 / len(texts)


def sample_tree(pid: int, cpu_ticks: dict[int, int]) -> int:
    """Resident memory (KiB) of a process and all its descendants; records each one's CPU ticks so far.

    The extraction workers are grandchildren that the benchmark never waits for, so their CPU time is read
    from /proc while they run rather than from getrusage.
    """
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu_ticks[p] = max(cpu_ticks.get(p, 0), int(fields[11]) + int(fields[12]))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, StopIteration, ProcessLookupError, ValueError, IndexError):
            continue
    return total


def crawl(site: GeneratedSite, database_url: str, processes: int, workdir: Path) -> dict[str, float]:
    env = os.environ | {
        "CQNEWS_DATABASE_URL": database_url, "CQNEWS_DOWNLOAD_DELAY": "0", "CQNEWS_AUTOTHROTTLE": "0",
        "CQNEWS_CONCURRENT_REQUESTS": "32", "CQNEWS_CONCURRENCY_PER_DOMAIN": "32", "CQNEWS_LOG_LEVEL": "WARNING",
        "CQNEWS_MAX_PAGES": str(site.articles * 2 + 100), "CQNEWS_MAX_SECONDS": "7200",
        "CQNEWS_EXTRACT_PROCESSES": str(processes), "CQNEWS_RETRY_TIMES": "0",
    }
    cqnews = str(Path(sys.executable).with_name("cqnews"))
    requests_before = site.requests
    start = time.perf_counter()
    proc = subprocess.Popen([cqnews, "crawl", "cq_people", "--base-url", site.base_url], env=env, cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, ticks = 0, {}  # type: ignore[var-annotated]
    while proc.poll() is None:
        peak = max(peak, sample_tree(proc.pid, ticks))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}):\n{out}\n{err[-3000:]}")
    cpu = sum(ticks.values()) / os.sysconf("SC_CLK_TCK")  # the crawl and its workers, up to their last sample
    return {"wall": wall, "cpu": cpu, "peak_rss_mib": peak / 1024, "requests": site.requests - requests_before,
            "summary": out.strip().splitlines()[-1]}  # type: ignore[dict-item]


def fresh_database(backend: str, pg_url: str, workdir: Path) -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:6]}.db'}", None
    name = f"cqnews_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(pg_url).set(database=name).render_as_string(hide_password=False), (admin, name)


def drop_database(handle: object) -> None:
    if handle is None:
        return
    from sqlalchemy import text

    admin, name = handle  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--scale-to", type=int, default=0, metavar="N",
                        help="also crawl an N-page site into SQLite and compare peak RSS with the --pages crawl")
    args = parser.parse_args()

    from cqnews.db.migrate import upgrade
    from cqnews.db.session import make_engine

    peaks: dict[str, float] = {}
    with GeneratedSite(args.pages) as site, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        alone_rate, alone_cpu = extraction_alone(site, args.processes)
        print(f"pages={args.pages} processes={args.processes} page_kb={len(site.article(0)) / 1024:.0f}")
        print(f"extraction alone (trafilatura): {alone_rate:.1f} pages/s, {alone_cpu:.1f} CPU ms/page")
        print(f"near-duplicate fingerprint (SimHash): {simhash_cost(site):.2f} CPU ms/page")
        print(f"{'backend':<11}{'run':<8}{'pages/s':>9}{'CPU ms/pg':>11}{'peak RSS MiB':>14}{'requests':>10}"
              f"{'vs alone':>10}{'speed-up':>10}")
        for backend in args.backends.split(","):
            url, handle = fresh_database(backend, args.pg_url, workdir)
            try:
                engine = make_engine(url)
                upgrade(engine)
                engine.dispose()
                first = crawl(site, url, args.processes, workdir)
                second = crawl(site, url, args.processes, workdir)
            finally:
                drop_database(handle)
            rate = args.pages / first["wall"]
            print(f"{backend:<11}{'first':<8}{rate:>9.1f}{first['cpu'] * 1000 / args.pages:>11.1f}"
                  f"{first['peak_rss_mib']:>14.0f}{first['requests']:>10.0f}{rate / alone_rate:>10.2f}{'':>10}")
            print(f"{backend:<11}{'again':<8}{args.pages / second['wall']:>9.1f}"
                  f"{second['cpu'] * 1000 / args.pages:>11.1f}{second['peak_rss_mib']:>14.0f}"
                  f"{second['requests']:>10.0f}{'':>10}{first['wall'] / second['wall']:>10.1f}")
            print(f"  first crawl summary: {first['summary']}")
            peaks[backend] = first["peak_rss_mib"]
    if args.scale_to:
        with GeneratedSite(args.scale_to) as big, tempfile.TemporaryDirectory() as tmp:
            url, _ = fresh_database("sqlite", args.pg_url, Path(tmp))
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            large = crawl(big, url, args.processes, Path(tmp))
        base = peaks.get("sqlite")
        growth = f", {(large['peak_rss_mib'] / base - 1) * 100:+.1f}% over {args.pages} pages" if base else ""
        print(f"sqlite     {args.scale_to} pages: {args.scale_to / large['wall']:.1f} pages/s, "
              f"peak RSS {large['peak_rss_mib']:.0f} MiB{growth}")
        print(f"  summary: {large['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

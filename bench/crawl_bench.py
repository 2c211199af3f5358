"""The crawl benchmark: one command, one run, every figure of the speed issues (#19 and the scale issue).

On each site, the generated one (N ~70 KB pages, bench/newsite.py) and one of real pages (bench/realsite.py):
1. bare Scrapy fetches the site and follows its links (bench/bare_scrapy.py): the fetch CPU per page;
2. the same ``extract_article`` call the crawl makes (the ``cq_people`` spider's body selector, the same
   ``min_chars``) runs alone on the same bytes, in as many processes as the crawl uses;
3. a full ``cqnews crawl`` of the site into a fresh SQLite file and a fresh PostgreSQL database, then again
   over the unchanged site;
and prints pages/s, CPU ms/page (the crawl and all its children, read from /proc while they run), peak RSS
of the whole process tree, the crawl's own CPU breakdown by stage (its ``cqnews/cpu/<stage>`` stats, stored
with the run) and by thread (which tells what the stages leave out, "other", apart), and the ratio
``crawl CPU per page / (bare fetch CPU + extract_article alone)`` per page (goal: <= 1.25); an unchanged
re-crawl should be >= 20 x faster than the first. The crawls run with Python's bytecode cache, as an installed
cqnews has it (pip compiles it): ``PYTHONDONTWRITEBYTECODE`` (this machine sets it) is dropped for them, so the
first crawl writes the cache and the re-crawl does not compile cqnews's sources again (~0.05 s).
With ``--scale-to N``: a first crawl of an N-page generated site into SQLite, and how its peak RSS compares.

Usage: python bench/crawl_bench.py [--pages 1000] [--processes 2] [--backends sqlite,postgresql] [--rounds 1]
                                   [--sites generated,real] [--shared ../shared]
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
from statistics import median
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
DATA = BENCH / "data"  # the bench's generated data (copied real pages, peers' virtualenvs): not committed
sys.path.insert(0, str(BENCH))

from newsite import GeneratedSite  # noqa: E402
from realsite import RealPageSite, copy_real_pages  # noqa: E402

SPIDER = "cq_people"  # the sites are served in its URL patterns


def _extract_chunk(pages: list[tuple[bytes, str, str]]) -> float:
    """CPU seconds of the crawl's extract_article call over these (body, url, content type) pages."""
    from cqnews.extraction.article import NotAnArticle, extract_article
    from cqnews.settings import CQNEWS_MIN_TEXT_CHARS
    from cqnews.spiders.cq_people import CqPeopleSpider

    start = time.process_time()
    for body, url, content_type in pages:
        try:
            extract_article(body, url=url, content_type=content_type, body_selector=CqPeopleSpider.body_selector,
                            min_chars=int(CQNEWS_MIN_TEXT_CHARS))
        except NotAnArticle:
            pass
    return time.process_time() - start


def extraction_alone(site: GeneratedSite, processes: int) -> tuple[float, float]:
    """pages/s and CPU ms/page of the crawl's extract_article call alone over every article, in `processes`
    workers (each started and warm before the clock starts)."""
    path = "/n2/2020/0508/c365401-{}.html"
    pages = [(site.article(i), site.base_url + path.format(i), site.content_type(path.format(i)))
             for i in range(site.articles)]
    chunks = [pages[i::processes * 8] for i in range(processes * 8)]
    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_extract_chunk, [pages[:1]] * processes * 2))
        start = time.perf_counter()
        cpu = sum(pool.map(_extract_chunk, chunks))
        wall = time.perf_counter() - start
    return len(pages) / wall, cpu * 1000 / len(pages)


def _ticks(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def sample_tree(pid: int, cpu_ticks: dict[int, int], roles: dict[str, dict[int, int]] | None = None) -> int:
    """Resident memory (KiB) of a process and all its descendants; records each one's CPU ticks so far, and in
    ``roles`` (if given) the ticks of each thread by what it is: the root's main thread (``reactor``), its
    other threads (``threads``: the store's writer, the pool's feeder and manager), its descendants'
    (``children``: extraction workers, their forkserver).

    The extraction workers are grandchildren that the benchmark never waits for, so their CPU time is read
    from /proc while they run rather than from getrusage.
    """
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            cpu_ticks[p] = max(cpu_ticks.get(p, 0), _ticks(Path(f"/proc/{p}/stat")))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
                if roles is not None:
                    tid = int(task.name)
                    role = roles.setdefault("children" if p != pid else "reactor" if tid == pid else "threads", {})
                    role[tid] = max(role.get(tid, 0), _ticks(task / "stat"))
        except (FileNotFoundError, StopIteration, ProcessLookupError, ValueError, IndexError):
            continue
    return total


def watched(command: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run a command; its wall time, CPU time (it and every descendant, sampled from /proc every 0.1 s) and
    peak RSS of the whole tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, ticks, roles = 0, {}, {}  # type: ignore[var-annotated]
    while proc.poll() is None:
        peak = max(peak, sample_tree(proc.pid, ticks, roles))
        try:  # not sleep(0.1): the wall time would round up by up to 0.1 s, an eighth of a re-crawl
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
    wall = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{command[:2]} failed ({proc.returncode}):\n{out}\n{err[-3000:]}")
    tick = os.sysconf("SC_CLK_TCK")
    cpu = sum(ticks.values()) / tick  # up to each process's last sample
    by_role = {role: sum(threads.values()) / tick for role, threads in roles.items()}
    return {"wall": wall, "cpu": cpu, "peak_rss_mib": peak / 1024, "out": out, "roles": by_role}


def bare_fetch(site: GeneratedSite, workdir: Path, concurrent_items: int) -> dict[str, Any]:
    """Bare Scrapy over the site (bench/bare_scrapy.py): wall and CPU of fetching it."""
    return watched([sys.executable, "-P", str(BENCH / "bare_scrapy.py"), site.base_url, str(concurrent_items)],
                   dict(os.environ), workdir)


def crawl(site: GeneratedSite, database_url: str, processes: int, workdir: Path) -> dict[str, Any]:
    """A ``cqnews crawl`` of the site; with the run's stats as the crawl stored them."""
    from cqnews.db.runs import recent_runs
    from cqnews.db.session import make_engine

    env = os.environ | {
        "CQNEWS_DATABASE_URL": database_url, "CQNEWS_DOWNLOAD_DELAY": "0", "CQNEWS_AUTOTHROTTLE": "0",
        "CQNEWS_CONCURRENT_REQUESTS": "32", "CQNEWS_CONCURRENCY_PER_DOMAIN": "32", "CQNEWS_LOG_LEVEL": "WARNING",
        "CQNEWS_MAX_PAGES": str(site.articles * 2 + 100), "CQNEWS_MAX_SECONDS": "7200",
        "CQNEWS_EXTRACT_PROCESSES": str(processes), "CQNEWS_RETRY_TIMES": "0",
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed (pip compiles): the first crawl writes the cache
    requests_before = site.requests
    result = watched([str(Path(sys.executable).with_name("cqnews")), "crawl", SPIDER, "--base-url", site.base_url],
                     env, workdir)
    engine = make_engine(database_url)
    try:
        result["stats"] = recent_runs(engine, SPIDER, limit=1)[0].stats
    finally:
        engine.dispose()
    result["requests"] = site.requests - requests_before
    result["summary"] = result.pop("out").strip().splitlines()[-1]
    return result


def breakdown(stats: dict[str, Any], cpu_s: float, pages: int) -> str:
    """The crawl's CPU ms per page by stage, and what no stage accounts for (Scrapy, the reactor, imports)."""
    from cqnews.stats import CPU_STAGES, cpu_key

    spent = {stage: float(stats.get(cpu_key(stage), 0) or 0) for stage in CPU_STAGES}
    spent["other"] = cpu_s * 1000 - sum(spent.values())
    return "  ".join(f"{stage} {ms / pages:.2f}" for stage, ms in spent.items())


def store_batches(stats: dict[str, Any]) -> str:
    """How the store grouped the crawl's items: the batch size decides how much a batch's statements are shared."""
    from cqnews.stats import STORE_BATCHES, STORE_LARGEST_BATCH

    batches = int(stats.get(STORE_BATCHES, 0) or 0)
    return f"{batches} batches, largest {int(stats.get(STORE_LARGEST_BATCH, 0) or 0)}"


def by_thread(result: dict[str, Any], pages: int) -> str:
    """Where the CPU went by thread, to attribute "other": the reactor thread (Scrapy, middlewares, pipelines'
    plumbing, start-up), the crawl's other threads (the store's writer: store + index + compression), and
    the child processes (extraction workers: decode + body + rules + fingerprints; the forkserver's imports)."""
    return "  ".join(f"{role} {seconds * 1000 / pages:.2f}" for role, seconds in sorted(result["roles"].items()))


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


def fresh_archive(backend: str, pg_url: str, workdir: Path) -> tuple[str, object]:
    from cqnews.db.migrate import upgrade
    from cqnews.db.session import make_engine

    url, handle = fresh_database(backend, pg_url, workdir)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, handle


def bench_site(label: str, site: GeneratedSite, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    """Every figure of one site, ``args.rounds`` times (each round measures its own floor just before its
    crawls: the floor moves by up to 15 % between runs a minute apart on this VM); with several rounds, the median ratio
    and re-crawl speed-up per backend. Returns the peak RSS of each backend's first crawl (the last round's)."""
    pages = site.articles
    size_kb = sum(len(site.article(i)) for i in range(pages)) / pages / 1024
    print(f"\n== {label}: {pages} article pages, {size_kb:.0f} KB/page on average; {args.processes} processes")
    ratios: dict[str, list[float]] = {}
    speedups: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}
    for round_no in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"-- round {round_no} of {args.rounds}")
        floor = floor_cpu(site, args, workdir, pages)
        print(f"{'backend':<11}{'run':<8}{'pages/s':>9}{'CPU ms/pg':>11}{'peak RSS MiB':>14}{'requests':>10}"
              f"{'ratio':>8}{'speed-up':>10}")
        for backend in args.backends.split(","):
            first, second = crawl_twice(site, backend, args, workdir)
            cpu = first["cpu"] * 1000 / pages
            ratios.setdefault(backend, []).append(cpu / floor)
            speedups.setdefault(backend, []).append(first["wall"] / second["wall"])
            print(f"{backend:<11}{'first':<8}{pages / first['wall']:>9.1f}{cpu:>11.1f}{first['peak_rss_mib']:>14.0f}"
                  f"{first['requests']:>10.0f}{cpu / floor:>8.2f}{'':>10}")
            print(f"{backend:<11}{'again':<8}{pages / second['wall']:>9.1f}{second['cpu'] * 1000 / pages:>11.1f}"
                  f"{second['peak_rss_mib']:>14.0f}{second['requests']:>10.0f}{'':>8}"
                  f"{first['wall'] / second['wall']:>10.1f}")
            print(f"  CPU ms/page by stage: {breakdown(first['stats'], first['cpu'], pages)}")
            print(f"  CPU ms/page by thread: {by_thread(first, pages)}")
            print(f"  store: {store_batches(first['stats'])}")
            print(f"  first crawl summary: {first['summary']}")
            peaks[backend] = first["peak_rss_mib"]
    if args.rounds > 1:
        for backend in ratios:
            print(f"{backend}: ratio {median(ratios[backend]):.2f} median of "
                  f"{', '.join(f'{r:.2f}' for r in ratios[backend])}; re-crawl speed-up "
                  f"{median(speedups[backend]):.1f} x median of {', '.join(f'{x:.1f}' for x in speedups[backend])}")
    return peaks


def floor_cpu(site: GeneratedSite, args: argparse.Namespace, workdir: Path, pages: int) -> float:
    """The ratio's floor, CPU ms per page: bare Scrapy fetching the site (as the crawl does, with its
    CONCURRENT_ITEMS; also at Scrapy's default, for reference) plus ``extract_article`` alone; printed."""
    from cqnews import settings as cqnews_settings

    items = getattr(cqnews_settings, "CONCURRENT_ITEMS", 100)  # Scrapy's default where settings.py sets none
    bare = bare_fetch(site, workdir, items)
    default_bare = bare_fetch(site, workdir, 100)
    alone_rate, alone_cpu = extraction_alone(site, args.processes)
    bare_cpu = bare["cpu"] * 1000 / pages
    print(f"bare Scrapy fetch: {bare_cpu:.1f} CPU ms/page ({bare['wall']:.1f} s wall) with cqnews's CONCURRENT_ITEMS "
          f"({items}); {default_bare['cpu'] * 1000 / pages:.1f} at Scrapy's default (100)")
    print(f"extract_article alone (body selector {SPIDER}'s): {alone_cpu:.1f} CPU ms/page, {alone_rate:.1f} pages/s")
    return bare_cpu + alone_cpu


def crawl_twice(site: GeneratedSite, backend: str, args: argparse.Namespace,
                workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first crawl into a fresh archive of ``backend`` and an unchanged re-crawl."""
    url, handle = fresh_archive(backend, args.pg_url, workdir)
    try:
        return crawl(site, url, args.processes, workdir), crawl(site, url, args.processes, workdir)
    finally:
        drop_database(handle)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000, help="article pages of the generated site")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure floor and crawls this many times per site and print the median ratio")
    parser.add_argument("--sites", default="generated,real")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="the shared folder holding realpages/ and eval/datasets/")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--scale-to", type=int, default=0, metavar="N",
                        help="also crawl an N-page site into SQLite and compare peak RSS with the --pages crawl")
    args = parser.parse_args()
    sites = args.sites.split(",")
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "generated" in sites:
            with GeneratedSite(args.pages) as site:
                peaks = bench_site("generated site", site, args, Path(tmp))
        if "real" in sites:
            copies = copy_real_pages(args.shared, DATA / "realpages")
            with RealPageSite(copies) as real:
                bench_site(f"real pages (copied to {(DATA / 'realpages').relative_to(REPO)}, origins in "
                           "ORIGINS.tsv)", real, args, Path(tmp))
    if args.scale_to:
        with GeneratedSite(args.scale_to) as big, tempfile.TemporaryDirectory() as tmp:
            url, _ = fresh_archive("sqlite", args.pg_url, Path(tmp))
            large = crawl(big, url, args.processes, Path(tmp))
        base = peaks.get("sqlite")
        growth = f", {(large['peak_rss_mib'] / base - 1) * 100:+.1f}% over {args.pages} pages" if base else ""
        print(f"sqlite     {args.scale_to} pages: {args.scale_to / large['wall']:.1f} pages/s, "
              f"peak RSS {large['peak_rss_mib']:.0f} MiB{growth}")
        print(f"  CPU ms/page by stage: {breakdown(large['stats'], large['cpu'], args.scale_to)}")
        print(f"  CPU ms/page by thread: {by_thread(large, args.scale_to)}")
        print(f"  summary: {large['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

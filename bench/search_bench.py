"""Search latency and index size on a filled archive (see bench/generate_articles.py).

Usage: python bench/search_bench.py --database-url URL [--rounds 5] [--verbose] [--facets]

Runs typical queries of five kinds through ``db.search.search`` and ``db.search.count_matches`` as the CLI does
(first page of 20 and the total), each ``--rounds`` times after one warm-up, and prints p50/p95 in ms: the 20
word queries (1 to 4 words, some traditional, with and without filters), single characters, names and
fragments of words, quoted phrases with punctuation, letters and digits inside longer runs; then the size of
the search index (n-grams, and the folded text kept to verify pieces) against the size of the stored text.
The floors of the search issue: p95 <= 100 ms.
``--facets``: instead, the web reader's facet counts (``db.facets.facets``, its cap of 10,000 matches) of
``FACET_QUERIES``, with and without a site filter: median wall and CPU (this process's) per query.
The time of a whole ``cqnews search`` from the shell (process start included) is ``bench/search_start.py``'s.
Beside the wall times, CPU times: this process's, plus, for a PostgreSQL server on this machine, the time its
backend of this session spent on a CPU (``/proc/PID/schedstat``, nanoseconds): on a machine shared with other jobs,
the wall time includes waiting for a core, the CPU time does not.
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text  # noqa: E402

import cqnews.db.search as search_module  # noqa: E402
from cqnews.db.search import Filters, count_matches, search  # noqa: E402

# The total as the CLI asks for it on page 1 (an older tree's count_matches, compared by PYTHONPATH, has no floor)
TOTAL: dict[str, int] = {"floor": search_module.TOTAL_FLOOR} if hasattr(search_module, "TOTAL_FLOOR") else {}
from cqnews.db.session import make_engine, make_sessionmaker  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
QUERIES: list[tuple[str, Filters, str]] = [
    ("重庆", Filters(), "date"),
    ("渝北", Filters(), "relevance"),
    ("双城经济圈", Filters(), "relevance"),
    ("經濟", Filters(), "relevance"),
    ("乡村振兴 合川区", Filters(), "relevance"),
    ("轨道交通 建设", Filters(), "relevance"),
    ("数字经济 两江新区 项目", Filters(), "relevance"),
    ("中欧班列 物流枢纽 对外开放 西部陆海新通道", Filters(), "relevance"),
    ("火锅产业 OR 夜间经济", Filters(), "relevance"),
    ("科技创新 -疫情防控", Filters(), "relevance"),
    ("重庆", Filters(site="cbg"), "relevance"),
    ("渝北", Filters(since=datetime(2024, 1, 1, tzinfo=SH)), "date"),
    ("城市更新", Filters(site="cq_people", since=datetime(2022, 1, 1, tzinfo=SH),
                      until=datetime(2023, 1, 1, tzinfo=SH)), "relevance"),
    ("高质量发展 长江经济带", Filters(author="胡虹"), "relevance"),
    ("营商环境", Filters(source="华龙网"), "date"),
    ("老舊小區改造", Filters(site="cqnews"), "relevance"),
    ("养老服务 社区", Filters(dates="archived", since=datetime(2025, 6, 1, tzinfo=SH)), "relevance"),
    ("防汛抗旱 巫山县", Filters(site="xinhua_cq", author="张伟"), "relevance"),
    ("人才引进 高校 重庆大学", Filters(since=datetime(2020, 1, 1, tzinfo=SH),
                                  until=datetime(2021, 1, 1, tzinfo=SH)), "date"),
    ("垃圾分类 志愿者 街道 社区", Filters(site="cq_gov"), "relevance"),
]

# The other kinds, without filters: what only substring search answers (pieces that are not words).
KINDS: dict[str, list[str]] = {
    "single character": ["渝", "碚", "车", "港", "綦", "的"],
    "name / fragment": ["北区", "庆大", "城步", "科学城", "经济圈建", "沙坪", "西南大"],
    "phrase": ['"总投资"', '"，让市民"', '"负责人说，“我们将"', '"的重要平台，”"', '"重庆市委召开"'],
    "latin / digit": ["99个", "900亿", "2个项目", "5"],
}


FACET_QUERIES: list[tuple[str, Filters]] = [
    ("重庆", Filters()), ("重庆", Filters(site="cqnews")), ("渝北", Filters(site="cbg")),
    ("两江新区", Filters()), ("高质量发展", Filters(site="cq_gov")),
]


def facet_times(engine: Engine, rounds: int) -> None:
    """Median wall / CPU ms of the facets of each of ``FACET_QUERIES`` (after one warm-up)."""
    from cqnews.db.facets import facets

    print(f"facets (cap 10,000), backend {engine.dialect.name}, median of {rounds}:")
    with make_sessionmaker(engine)() as session:
        for query, filters in FACET_QUERIES:
            counted = facets(session, query, filters)
            walls, cpus = [], []
            for _ in range(rounds):
                t0, c0 = time.perf_counter(), time.process_time()
                facets(session, query, filters)
                walls.append((time.perf_counter() - t0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
            print(f"  {statistics.median(walls):8.1f} ms wall {statistics.median(cpus):6.1f} ms CPU  {query}  "
                  f"site={filters.site}  {sum(n for _, n in counted.sites):,} counted"
                  f"{' (partial)' if counted.partial else ''}")


class CpuClock:
    """CPU ms of this process and, when the database is a PostgreSQL server on this host, of its backend."""

    def __init__(self, session: Any) -> None:
        self.backend: Path | None = None
        if session.get_bind().dialect.name == "postgresql":
            path = Path(f"/proc/{session.execute(text('SELECT pg_backend_pid()')).scalar_one()}/schedstat")
            self.backend = path if path.exists() else None

    def __call__(self) -> float:
        ms = time.process_time() * 1000
        if self.backend is not None:
            ms += int(self.backend.read_text().split()[0]) / 1e6
        return ms

    @property
    def what(self) -> str:
        return "this process + its PostgreSQL backend" if self.backend else "this process"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def sizes(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            index = c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'")).scalar_one()
            docs = c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name IN "
                                  "(SELECT name FROM sqlite_master WHERE tbl_name = 'search_docs')")).scalar_one()
            text_bytes = c.execute(text("SELECT sum(length(CAST(coalesce(title, '') AS BLOB)) + "
                                        "length(CAST(text AS BLOB))) FROM latest_articles")).scalar_one()
            stored = c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name = 'article_versions'")).scalar_one()
            folded = c.execute(text("SELECT sum(pgsize) FROM dbstat WHERE name IN "
                                    "(SELECT name FROM sqlite_master WHERE tbl_name = 'search_text')")).scalar_one()
        else:
            index = c.execute(text("SELECT sum(pg_column_size(terms)) FROM search_docs")
                              ).scalar_one() + c.execute(text("SELECT pg_relation_size('ix_search_docs_terms')")
                                                         ).scalar_one()
            docs = c.execute(text("SELECT pg_total_relation_size('search_docs')")).scalar_one()
            text_bytes = c.execute(text("SELECT sum(octet_length(coalesce(title, '')) + octet_length(text)) "
                                        "FROM latest_articles")).scalar_one()
            stored = c.execute(text("SELECT pg_total_relation_size('article_versions')")).scalar_one()
            folded = c.execute(text("SELECT pg_total_relation_size('search_text')")).scalar_one()
        articles = c.execute(text("SELECT count(*) FROM articles")).scalar_one()
    return {"articles": int(articles), "index_bytes": int(index or 0), "search_docs_bytes": int(docs or 0),
            "text_bytes": int(text_bytes or 0), "article_versions_bytes": int(stored or 0),
            "search_text_bytes": int(folded or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="one line per query")
    parser.add_argument("--facets", action="store_true", help="time the facet counts instead")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    if args.facets:
        facet_times(engine, args.rounds)
        return
    timings: dict[int, list[float]] = {}
    cpu_timings: dict[int, list[float]] = {}
    with make_sessionmaker(engine)() as session:
        cpu = CpuClock(session)
        for i, (query, filters, sort) in enumerate(QUERIES):
            hits = search(session, query, filters, sort=sort)  # warm-up (and jieba's first load)
            timings[i], cpu_timings[i] = [], []
            for _ in range(args.rounds):
                t0, c0 = time.perf_counter(), cpu()
                search(session, query, filters, sort=sort)
                timings[i].append((time.perf_counter() - t0) * 1000)
                cpu_timings[i].append(cpu() - c0)
            if args.verbose:
                print(f"{statistics.median(timings[i]):8.1f} ms ({statistics.median(cpu_timings[i]):6.1f} CPU)  "
                      f"{len(hits):2d} hits  {query}  {filters}  {sort}")
        kinds: dict[str, tuple[list[float], list[float]]] = {}
        for kind, queries in KINDS.items():
            kinds[kind] = ([], [])
            for query in queries:
                hits = search(session, query)
                total = count_matches(session, query, **TOTAL)
                spent, spent_cpu = [], []
                for _ in range(args.rounds):
                    t0, c0 = time.perf_counter(), cpu()
                    search(session, query)
                    count_matches(session, query, **TOTAL)
                    spent.append((time.perf_counter() - t0) * 1000)
                    spent_cpu.append(cpu() - c0)
                kinds[kind][0].extend(spent)
                kinds[kind][1].extend(spent_cpu)
                if args.verbose:
                    print(f"{statistics.median(spent):8.1f} ms ({statistics.median(spent_cpu):6.1f} CPU)  "
                          f"{len(hits):2d} hits of {total.count:,}{'+' if total.more else ''}  {query}  ({kind})")

    def split(by_query: dict[int, list[float]], plain: bool) -> list[float]:
        return [t for i, ts in by_query.items() for t in ts if (QUERIES[i][1] == Filters()) == plain]

    size = sizes(engine)
    print(f"backend {engine.dialect.name}, {size['articles']:,} articles, "
          f"{args.rounds} rounds x {len(QUERIES)} queries; wall ms, then CPU ms ({cpu.what})")

    def line(name: str, wall: list[float], used: list[float], note: str = "") -> None:
        print(f"  {name:17s} p50 {percentile(wall, 50):7.1f} ms   p95 {percentile(wall, 95):7.1f} ms   "
              f"max {max(wall):7.1f} ms   CPU p50 {percentile(used, 50):7.1f} ms   p95 {percentile(used, 95):7.1f} ms"
              f"{note}")

    for name, plain in (("no filters", True), ("with filters", False)):
        line(name, split(timings, plain), split(cpu_timings, plain))
    line("all", split(timings, True) + split(timings, False), split(cpu_timings, True) + split(cpu_timings, False))
    for kind, (wall, used) in kinds.items():
        line(kind, wall, used, "  (page and total)")
    mib = 1024 * 1024
    print(f"  search index {size['index_bytes'] / mib:,.1f} MiB vs stored text {size['text_bytes'] / mib:,.1f} MiB "
          f"(ratio {size['index_bytes'] / max(size['text_bytes'], 1):.2f}); search_docs table with its indexes "
          f"{size['search_docs_bytes'] / mib:,.1f} MiB; folded text (search_text) "
          f"{size['search_text_bytes'] / mib:,.1f} MiB "
          f"(ratio {size['search_text_bytes'] / max(size['text_bytes'], 1):.2f}); "
          f"article_versions {size['article_versions_bytes'] / mib:,.1f} MiB")


if __name__ == "__main__":
    main()

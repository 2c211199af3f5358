"""The archive's write alone: CPU ms per article of ``Archive.record_batch`` (store + index + compression).

The crawl's store stage runs in a thread of the crawl process, so ``crawl_bench.py`` shows it only as a share
of the crawl. This writes N generated articles (bench/newsite.py's pages, extracted and fingerprinted as the
crawl does it, before the clock starts) into a fresh archive in batches of ``--batch`` (the crawl's
``CQNEWS_STORE_BATCH``), then writes them all again (the unchanged re-crawl's path), and prints the CPU time of
the writing thread per article, split as the crawl's stats split it (index, compression, the rest = store).

Usage: python bench/store_bench.py [--articles 300] [--batch 100] [--rounds 3]
                                   [--backends sqlite,postgresql]
                                   [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from newsite import GeneratedSite  # noqa: E402

from cqnews.db.archive import Archive  # noqa: E402
from cqnews.db.migrate import upgrade  # noqa: E402
from cqnews.db.records import ArticleRecord, Capture  # noqa: E402
from cqnews.db.session import make_engine  # noqa: E402
from cqnews.extraction.article import extract_article  # noqa: E402
from cqnews.fingerprints import fingerprints  # noqa: E402
from cqnews.spiders.cq_people import CqPeopleSpider  # noqa: E402

PATH = "/n2/2020/0508/c365401-{}.html"


def records(count: int) -> list[ArticleRecord]:
    """The generated site's first ``count`` articles as the store pipeline hands them to the archive."""
    site = GeneratedSite(count)
    fetched_at = datetime(2026, 12, 3, 12, tzinfo=UTC)
    made = []
    for i in range(count):
        url = "http://127.0.0.1:8000" + PATH.format(i)
        body = site.article(i)
        extracted = extract_article(body, url=url, content_type="text/html; charset=utf-8",
                                    body_selector=CqPeopleSpider.body_selector)
        prints = fingerprints(extracted.title, extracted.text, extracted.published_at)
        capture = Capture(url=url, status=200, headers={"Content-Type": "text/html"}, body=body,
                          fetched_at=fetched_at, encoding=extracted.encoding)
        made.append(ArticleRecord(site="cq_people", canonical_url=url, capture=capture, text=extracted.text,
                                  content_hash=prints.content_hash, text_hash=prints.text_hash,
                                  extractor_version="bench", title=extracted.title, author=extracted.author,
                                  source=extracted.source, editor=extracted.editor,
                                  published_at=extracted.published_at, language=extracted.language,
                                  simhash=prints.simhash))
    return made


def write_all(archive: Archive, items: list[ArticleRecord], batch: int) -> dict[str, float]:
    """CPU ms per article of writing ``items`` (this thread's time), and the archive's own split of it."""
    start = time.thread_time()
    for i in range(0, len(items), batch):
        for result in archive.record_batch(items[i:i + batch]):
            if isinstance(result, Exception):
                raise result
    total = (time.thread_time() - start) * 1000
    split = archive.cpu.take()
    split["store"] = total - sum(split.values())
    return {"total": total / len(items)} | {stage: ms / len(items) for stage, ms in split.items()}


def fresh_url(backend: str, pg_url: str, workdir: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / (uuid.uuid4().hex + '.db')}", None
    from sqlalchemy import create_engine, text

    name = "bench_store_" + uuid.uuid4().hex[:8]
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + "/" + name, name


def drop(pg_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fmt(figures: list[dict[str, float]]) -> str:
    stages = sorted({stage for f in figures for stage in f} - {"total"})
    median = {stage: statistics.median(f.get(stage, 0.0) for f in figures) for stage in ["total", *stages]}
    spread = ", ".join(f"{f['total']:.2f}" for f in figures)
    return (f"{median['total']:.2f} ms/article (median; rounds: {spread}) = "
            + " + ".join(f"{stage} {median[stage]:.2f}" for stage in stages))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    items = records(args.articles)
    print(f"{len(items)} generated articles, batches of {args.batch}, {args.rounds} rounds; CPU time of the "
          "writing thread (time.thread_time)")
    for backend in args.backends.split(","):
        first, again = [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as workdir:
                url, pg_name = fresh_url(backend, args.pg_url, Path(workdir))
                engine = make_engine(url)
                try:
                    upgrade(engine)
                    archive = Archive(engine)
                    archive.record_batch(items[:1])  # the site row, the statements' first compile: not timed
                    first.append(write_all(archive, items[1:], args.batch))
                    again.append(write_all(archive, items[1:], args.batch))
                finally:
                    engine.dispose()
                    if pg_name:
                        drop(args.pg_url, pg_name)
        print(f"{backend}: first write {fmt(first)}")
        print(f"{backend}: unchanged  {fmt(again)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fill an archive with N realistic (synthetic) Chongqing news articles, then build the search index.

Usage: python bench/generate_articles.py --database-url URL [--database-url URL2] --n 100000 [--workers 2]

Articles are written straight into ``sites``/``articles``/``article_versions`` (no raw pages: the search
benchmark does not need them) and indexed as ``cqnews reindex`` would (``db.fulltext``: empty the index,
segment, ``write_docs`` in batches, then build the GIN index / optimize FTS5). ``--workers`` processes write
and segment the articles; the main process only stores them. Given two database URLs (SQLite and
PostgreSQL), the same articles go to both, segmented once. Each
article is about one or two places and one to three topics (drawn with a Zipf-like skew: a few are in many
articles, most in few), written as Chinese news sentences with institutions, figures and quotes; 5% of
articles are in traditional characters. Prints
the time spent writing and indexing.
"""
from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from cqnews.db import fulltext, migrate  # noqa: E402
from cqnews.db.models import Article, Site  # noqa: E402
from cqnews.db.session import make_engine, make_sessionmaker  # noqa: E402

SITES = ["cq_people", "cbg", "cqnews", "cqcb", "xinhua_cq", "cq_gov"]
PLACES = ("重庆 重庆市 渝中区 渝北区 江北区 南岸区 九龙坡区 沙坪坝区 大渡口区 巴南区 北碚区 两江新区 万州区 涪陵区 "
          "永川区 江津区 合川区 綦江区 大足区 璧山区 铜梁区 潼南区 荣昌区 开州区 梁平区 武隆区 石柱县 秀山县 酉阳县 "
          "彭水县 奉节县 巫山县 云阳县 忠县 丰都县 垫江县 城口县 解放碑 观音桥 西部科学城 成都 四川 川渝").split()
ACTORS = ("市委 市政府 市人大常委会 市政协 市发展改革委 市经济信息委 市教委 市科技局 市交通局 市卫生健康委 "
          "市生态环境局 市文化旅游委 市商务委 市农业农村委 区委 区政府 街道 社区 企业 高校 重庆大学 西南大学 "
          "市民 游客 志愿者 村民 专家 工作人员").split()
TOPICS = ("成渝地区双城经济圈 高质量发展 乡村振兴 数字经济 智能制造 新能源汽车 轨道交通 城市更新 生态环境保护 "
          "长江经济带 西部陆海新通道 中欧班列 营商环境 科技创新 疫情防控 民生保障 就业创业 教育改革 医疗卫生 "
          "文化旅游 夜间经济 火锅产业 山城步道 防汛抗旱 安全生产 基层治理 老旧小区改造 消费市场 对外开放 "
          "招商引资 人才引进 养老服务 垃圾分类 交通拥堵 中心城区 物流枢纽 内陆开放高地 数字政府").split()
VERBS = ("召开 推进 部署 启动 举行 发布 开展 加快 实施 落实 建设 打造 提升 优化 完善 深化 推动 助力 聚焦 签约").split()
OBJECTS = ("会议 项目 工作 活动 方案 政策 行动 平台 工程 示范区 试点 产业园 服务中心 专项行动 合作协议 规划 "
           "重点任务 改革举措 基础设施 公共服务").split()
FILLER = ("据了解 记者获悉 据介绍 与此同时 下一步 截至目前 今年以来 近年来 此外 在此基础上 值得一提的是 "
          "据统计 会上 会议指出 会议强调 相关负责人表示 业内人士认为").split()
NUMBERS = ["一", "两", "三", "五", "十", "百", "千", "万", "亿"]


_CUM_WEIGHTS: dict[int, list[float]] = {}


def _zipf(items: list[str], rng: random.Random) -> str:
    """``rng.choices(items, [1/1, 1/2, ...])``, its cumulative weights computed once per list: the same draws
    (``choices`` accumulates the weights the same way), a quarter less of a worker's time."""
    cum = _CUM_WEIGHTS.get(id(items))
    if cum is None:
        cum = _CUM_WEIGHTS[id(items)] = list(itertools.accumulate(1 / (i + 1) for i in range(len(items))))
    return rng.choices(items, cum_weights=cum)[0]


def sentence(rng: random.Random, places: list[str], topics: list[str]) -> str:
    """A news sentence about the article's own places and topics (now and then another one)."""
    def place() -> str:
        return rng.choice(places) if rng.random() < 0.85 else _zipf(PLACES, rng)

    def topic() -> str:
        return rng.choice(topics) if rng.random() < 0.85 else _zipf(TOPICS, rng)

    kind = rng.random()
    if kind < 0.4:
        return f"{_zipf(FILLER, rng)}，{place()}{_zipf(ACTORS, rng)}{_zipf(VERBS, rng)}{topic()}{_zipf(OBJECTS, rng)}。"
    if kind < 0.7:
        return (f"{place()}将{_zipf(VERBS, rng)}{rng.randint(2, 99)}个{_zipf(OBJECTS, rng)}，"
                f"总投资{rng.randint(1, 900)}{rng.choice(NUMBERS)}元，进一步{_zipf(VERBS, rng)}{topic()}。")
    return (f"“{topic()}是{place()}的重要{_zipf(OBJECTS, rng)}，”{_zipf(ACTORS, rng)}"
            f"负责人说，“我们将{_zipf(VERBS, rng)}{topic()}，让{_zipf(ACTORS, rng)}有更多获得感。”")


def article(rng: random.Random, to_traditional: object | None) -> tuple[str, str]:
    """An article is about one or two places and one to three topics, like a real news story."""
    places = [_zipf(PLACES, rng) for _ in range(rng.randint(1, 2))]
    topics = [_zipf(TOPICS, rng) for _ in range(rng.randint(1, 3))]
    title = f"{places[0]}{_zipf(VERBS, rng)}{topics[0]}{_zipf(OBJECTS, rng)}"
    paragraphs = []
    for _ in range(rng.randint(3, 8)):
        paragraphs.append("".join(sentence(rng, places, topics) for _ in range(rng.randint(2, 5))))
    text = "\n\n".join(paragraphs)
    if to_traditional is not None:
        title, text = to_traditional.convert(title), to_traditional.convert(text)  # type: ignore[attr-defined]
    return title, text


@dataclass
class Target:
    engine: Engine
    sessions: sessionmaker[Session]
    site_ids: dict[str, int]


def open_target(url: str) -> Target:
    # No statement timeout (the default 60 s would cancel building the GIN index of a large archive at the very
    # end), and memory enough for PostgreSQL to build it in few passes.
    pg = url.startswith("postgresql")
    engine = make_engine(url, statement_timeout=0,
                         **({"connect_args": {"options": "-c maintenance_work_mem=1GB"}} if pg else {}))
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as session:
        for name in SITES:
            if session.scalar(select(Site.id).where(Site.name == name)) is None:
                session.add(Site(name=name, title=name))
    with sessions() as session:
        site_ids = {name: int(session.scalar(select(Site.id).where(Site.name == name)) or 0) for name in SITES}
        if session.scalar(select(func.count()).select_from(Article)):
            raise SystemExit(f"{engine.url.render_as_string()} already has articles: give an empty database")
    return Target(engine, sessions, site_ids)


Batch = tuple[list[dict[str, Any]], list[dict[str, Any]], list[fulltext.IndexDoc], int]


def make_batch(task: tuple[int, int, int]) -> Batch:
    """Articles ``first``..``last`` (ids given: article i has version i), written and segmented in a worker."""
    import opencc

    first, last, seed = task
    rng = random.Random(seed * 1_000_003 + first)
    s2t = opencc.OpenCC("s2t")
    epoch = datetime(2018, 1, 1, tzinfo=UTC)
    articles, versions, docs, chars = [], [], [], 0
    for i in range(first, last + 1):
        published = epoch + timedelta(minutes=rng.randint(0, 8 * 365 * 24 * 60))
        seen = published + timedelta(hours=rng.randint(1, 48))
        title, text = article(rng, s2t if rng.random() < 0.05 else None)
        chars += len(title) + len(text)
        site = rng.choice(SITES)
        author = rng.choice(["胡虹", "王新", "李静", "張偉", "陈曦", None])
        source = rng.choice(["人民网-重庆频道", "视界网", "华龙网", "上游新闻", "新華網"])
        articles.append({"id": i, "site": site, "url": f"http://bench.example/{i}.html",
                         "url_key": f"bench.example/{i}.html", "first_seen": seen, "last_seen": seen,
                         "version_count": 1, "revisit_step": 0})
        versions.append({"id": i, "article_id": i, "version_no": 1, "title": title, "text": text,
                         "published_at": published, "author": author, "source": source, "editor": None,
                         "language": "zh", "content_hash": f"{i:064x}", "text_hash": f"{i:064x}",
                         "text_length": len(text), "extractor_version": "bench", "first_seen": seen,
                         "last_seen": seen, "seen_count": 1})
        docs.append(fulltext.make_doc(i, i, site, title, text, published, seen, author, source))
    return articles, versions, docs, chars


class BulkWriter:
    """Writes a batch straight through the driver (no ORM, no statement compilation per row): the archive's
    tables as ``fulltext.write_docs`` fills them, into an emptied index. SQLite: ``executemany`` in one
    transaction per batch, journal off (a broken load is simply generated again); PostgreSQL: ``COPY``, the
    tsvector given as its text form (n-grams map quotes and backslashes to private-use characters, so every
    lexeme can be quoted as is)."""

    ARTICLE = ("id", "site_id", "url", "url_key", "first_seen", "last_seen", "version_count", "revisit_step")
    VERSION = ("id", "article_id", "version_no", "title", "text", "published_at", "author", "source", "editor",
               "language", "content_hash", "text_hash", "text_length", "extractor_version", "first_seen",
               "last_seen", "seen_count")
    DOC = ("article_id", "version_id", "site", "published_at", "archived_at", "author", "source", "segmenter")

    def __init__(self, target: Target) -> None:
        self.target = target
        self.postgresql = target.engine.dialect.name == "postgresql"
        self.connection = target.engine.raw_connection()
        if not self.postgresql:
            self.connection.execute("PRAGMA journal_mode=OFF")  # type: ignore[attr-defined]
            self.connection.execute("PRAGMA synchronous=OFF")  # type: ignore[attr-defined]
        else:
            with self.connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")

    def write(self, articles: list[dict[str, Any]], versions: list[dict[str, Any]],
              docs: list[fulltext.IndexDoc]) -> int:
        """Returns how many articles were indexed by their title only (PostgreSQL's tsvector limit)."""
        segmenter = fulltext.segmenter_id()
        site_ids = self.target.site_ids
        article_rows = [tuple(site_ids[a["site"]] if k == "site_id" else a[k] for k in self.ARTICLE)
                        for a in articles]
        version_rows = [tuple(v[k] for k in self.VERSION) for v in versions]
        doc_rows = [(d.article_id, d.version_id, d.site, d.published_at, d.archived_at, d.author, d.source,
                     segmenter) for d in docs]
        partial = 0
        if self.postgresql:
            lexemes = [fulltext.pg_terms(d) for d in docs]
            partial = sum(cut for _, cut in lexemes)
            tsvectors = [" ".join(f"'{t}'" for t in terms) for terms, _ in lexemes]
            with self.connection.cursor() as cursor:
                for name, columns, rows in (
                        ("articles", self.ARTICLE, article_rows), ("article_versions", self.VERSION, version_rows),
                        ("search_docs", (*self.DOC, "terms"),
                         [(*r, tv) for r, tv in zip(doc_rows, tsvectors, strict=True)]),
                        ("search_text", ("article_id", "title", "body", "partial"),
                         [(d.article_id, d.title, d.body, cut) for d, (_, cut) in zip(docs, lexemes, strict=True)])):
                    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                        for row in rows:
                            copy.write_row(row)
        else:
            def utc(row: tuple[Any, ...]) -> tuple[Any, ...]:
                return tuple(v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                             for v in row)

            def insert(name: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
                cursor.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
                                   f"({', '.join('?' * len(columns))})", [utc(r) for r in rows])

            cursor = self.connection.cursor()
            insert("articles", self.ARTICLE, article_rows)
            insert("article_versions", self.VERSION, version_rows)
            insert("search_docs", self.DOC, doc_rows)
            insert(fulltext.FTS_TABLE, ("rowid", "title", "body", "facets"),
                   [(d.version_id, " ".join(d.title_terms), " ".join(d.body_terms), " ".join(d.facets)) for d in docs])
            insert(fulltext.TITLE_FTS, ("rowid", "title"), [(d.version_id, " ".join(d.title_terms)) for d in docs])
            insert(fulltext.TEXT_TABLE, ("article_id", "title", "body", "partial"),
                   [(d.article_id, d.title, d.body, False) for d in docs])
            cursor.close()
        self.connection.commit()
        return partial

    def close(self) -> None:
        self.connection.close()


def generate(database_urls: list[str], n: int, seed: int, batch: int, workers: int) -> None:
    import multiprocessing

    targets = [open_target(url) for url in database_urls]
    for target in targets:
        with target.sessions.begin() as session:
            fulltext.empty_for_bulk_load(session)
    writers = [BulkWriter(target) for target in targets]
    tasks = [(first, min(first + batch - 1, n), seed) for first in range(1, n + 1, batch)]
    t0 = time.monotonic()
    done = chars = partial = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for articles, versions, docs, count in pool.imap(make_batch, tasks):
            for writer in writers:
                partial += writer.write(articles, versions, docs)
            done += len(articles)
            chars += count
            rate = done / max(time.monotonic() - t0, 1e-9)
            print(f"\rwritten and indexed {done:,}/{n:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    for writer in writers:
        writer.close()
    loaded = time.monotonic() - t0
    for target in targets:
        if target.engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequences past them
            with target.engine.begin() as connection:
                for table in ("articles", "article_versions"):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        fulltext.finish_bulk_load(target.engine)
    print(f"\n{n:,} articles ({chars:,} characters, {partial} indexed by title only) in {len(targets)} "
          f"database(s) in {time.monotonic() - t0:.0f} s ({loaded:.0f} s loading, then the index finished)",
          file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, action="append",
                        help="an empty archive; repeat to fill several with the same articles")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="processes that write and segment articles")
    args = parser.parse_args()
    generate(args.database_url, args.n, args.seed, args.batch, args.workers)


if __name__ == "__main__":
    main()

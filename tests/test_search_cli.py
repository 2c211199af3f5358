"""`cqnews search` as a user runs it: pages with their total and the next page's command, clear errors for bad
queries and unknown sites, its help, and a start that loads no crawler and no migration tool."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cqnews.db import migrate
from cqnews.db.archive import Archive
from cqnews.db.revision import archive_revision, code_head

from helpers import assert_one_line_error, cqnews, text_record

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def fill(engine: Engine, n: int = 23) -> None:
    archive = Archive(engine)
    for i in range(n):
        at = T0 + timedelta(days=i)
        body = f"第{i}条：重庆市民出行更便捷，轨道交通{i}号线开通。" + ("渝北区新闻。" if i % 2 else "")
        record = text_record(f"http://cq.example.cn/{i}.html", f"新闻{i}", body, at, at,
                             site=("cbg", "cq_people")[i % 2])
        archive.record(record, record.site)


@pytest.fixture
def url(archive_url: str, archive_engine: Engine) -> str:
    fill(archive_engine)
    return archive_url


def ids(stdout: str) -> list[int]:
    return [json.loads(line)["id"] for line in stdout.splitlines()]


def test_pages_say_the_total_and_the_command_for_the_next_page(url: str, tmp_path: Path) -> None:
    seen: list[int] = []
    args = ["search", "重庆", "--limit", "10", "--format", "json"]
    summaries = []
    while args:
        result = cqnews(args, url, tmp_path)
        assert result.returncode == 0, result.stderr
        seen += ids(result.stdout)
        summary = result.stderr.strip().splitlines()[-1]
        summaries.append(summary)
        assert "of 23" in summary
        args = shlex.split(summary.split("next page: ")[1])[1:] if "next page: " in summary else []
    assert len(seen) == len(set(seen)) == 23  # every match once, over three pages
    assert len(summaries) == 3 and "page 3 of 3" in summaries[-1] and "next page" not in summaries[-1]


def test_the_count_is_exact_with_filters_and_paging_past_the_end(url: str, tmp_path: Path) -> None:
    result = cqnews(["search", "渝北", "--site", "cq_people"], url, tmp_path)
    assert "of 11" in result.stderr and "next page" not in result.stderr
    result = cqnews(["search", "渝北", "--page", "9"], url, tmp_path)
    assert result.returncode == 0 and "no results on page 9" in result.stderr


def test_an_unknown_site_is_an_error_naming_the_known_ones(url: str, tmp_path: Path) -> None:
    result = cqnews(["search", "重庆", "--site", "nosuch"], url, tmp_path)
    line = assert_one_line_error(result, 2)
    # the archive holds cbg and cq_people; cq_gov and xinhua_cq are known as the spiders' sites
    assert line.startswith("cqnews: unknown site nosuch; known: ")
    assert all(site in line for site in ("cbg", "cq_people", "cq_gov", "xinhua_cq"))


def test_a_site_a_spider_crawls_but_the_archive_has_not_yet_is_an_empty_result(url: str, tmp_path: Path) -> None:
    result = cqnews(["search", "重庆", "--site", "cq_gov", "--format", "json"], url, tmp_path)
    assert result.returncode == 0 and result.stdout == ""
    assert "no results" in result.stderr


@pytest.mark.parametrize("query", ['"重庆', "重庆 AND", "OR 重庆", "重庆 NOT", "渝" * 5000, "-重庆"])
def test_bad_queries_are_one_line_errors_with_exit_2(url: str, tmp_path: Path, query: str) -> None:
    result = cqnews(["search", query], url, tmp_path)  # -重庆 too: a Chinese -word is never taken for an option
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "bad query" in result.stderr


def test_operators_typed_as_words_work_as_operators(url: str, tmp_path: Path) -> None:
    def found(query: str) -> set[int]:
        return set(ids(cqnews(["search", query, "--format", "json", "--limit", "50"], url, tmp_path).stdout))

    assert found("重庆 AND 渝北") == found("重庆 渝北") == found("渝北")
    assert found("渝北 OR 1号线") == found("渝北") | found("1号线")
    assert found("重庆 NOT 渝北") == found("重庆 -渝北") == found("重庆") - found("渝北")
    assert found('"市民出行更便捷，轨道"') == found("重庆")  # punctuation inside quotes is text to find


def test_help_explains_the_query_language_with_examples(tmp_path: Path) -> None:
    result = cqnews(["search", "--help"], "sqlite:///unused.db", tmp_path)
    assert result.returncode == 0
    for shown in ("OR", "NOT", '"several words"', "examples:", "cqnews search", "--page"):
        assert shown in result.stdout


def test_the_cheap_schema_check_agrees_with_alembic(archive_engine: Engine) -> None:
    assert code_head() == migrate.head_revision() == archive_revision(archive_engine)


def test_search_loads_neither_scrapy_nor_alembic_nor_jieba_nor_the_orm(url: str, tmp_path: Path) -> None:
    """A search in a fresh process imports only what a query needs: no Scrapy, Twisted, Alembic or jieba, and not
    SQLAlchemy's ORM nor the declarative models (it reads the Core tables of ``db.tables``)."""
    probe = ("import sys\nfrom cqnews.cli import main\ncode = main(['search', '重庆'])\n"
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'alembic', 'jieba'}), "
             "sorted({'sqlalchemy.orm', 'cqnews.db.models'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-P", "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env=dict(os.environ) | {"CQNEWS_DATABASE_URL": url}, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "0 [] []", result.stderr


def test_after_the_upgrade_to_ngrams_reindex_rebuilds_the_index_with_progress(url: str, archive_engine: Engine,
                                                                               tmp_path: Path) -> None:
    migrate.downgrade(archive_engine, "0005")
    upgraded = cqnews(["db", "upgrade"], url, tmp_path)
    assert upgraded.returncode == 0 and "cqnews reindex" in upgraded.stderr
    assert cqnews(["search", "重庆"], url, tmp_path).returncode == 2  # the index is empty: says to reindex
    rebuilt = cqnews(["reindex", "--batch", "5"], url, tmp_path)
    assert rebuilt.returncode == 0 and "indexed 23 article(s)" in rebuilt.stdout
    assert "23/23" in rebuilt.stderr  # progress
    assert "of 23" in cqnews(["search", "重庆"], url, tmp_path).stderr


def test_an_export_of_a_query_on_an_unknown_site_is_the_same_error(url: str, tmp_path: Path) -> None:
    result = cqnews(["export", "--format", "jsonl", "-o", str(tmp_path / "x.jsonl"), "--query", "重庆", "--site",
                     "nosuch"], url, tmp_path)
    line = assert_one_line_error(result, 2)
    assert "nosuch" in line and "cbg" in line and "cq_people" in line

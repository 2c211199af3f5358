"""One database engine per crawl, owned by ArchiveEngine; components switched off by their settings are not there.

Real crawls of a demo site served on 127.0.0.1 (tests/crawl_fixture.py, in a process of its own), which count
the SQLAlchemy engines built from the crawl's database URL; the switches are checked in-process on a crawler
built from the project settings, as Scrapy builds each component (``build_from_crawler``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from cqnews.archive_engine import ArchiveEngine
from cqnews.db.models import Article
from cqnews.db.runs import RunStatus
from cqnews.db.session import make_engine
from cqnews.demo.server import FixtureSite
from cqnews.extensions import CrawlRunRecorder
from cqnews.middlewares import IncrementalMiddleware, NotDueFilter, RedirectLoopMiddleware
from cqnews.pipelines.dedup import DedupPipeline
from cqnews.pipelines.extract import ExtractPipeline
from cqnews.pipelines.store import StorePipeline
from cqnews.runner import project_settings
from cqnews.stats import INCREMENTAL_NOT_DUE

from helpers import FIXTURES, count, crawl_fixture, expected_articles, runs

SITE = "cbg"
ARCHIVE = {"ArchiveEngine", "CrawlRunRecorder", "IncrementalMiddleware", "NotDueFilter", "DedupPipeline",
           "StorePipeline"}


def test_a_crawl_builds_one_engine_that_every_component_shares(archive_url: str) -> None:
    with FixtureSite(FIXTURES / SITE) as site:
        first = crawl_fixture(SITE, site.base_url, "--archive", archive_url)
        again = crawl_fixture(SITE, site.base_url, "--archive", archive_url)
    assert ARCHIVE | {"ExtractPipeline", "RedirectLoopMiddleware"} <= set(first["components"])
    assert first["engines_created"] == 1
    # the one engine served the recorder (two finished runs), the store (the articles) and, on the second crawl,
    # the incremental middleware (every archived article known, so none fetched again)
    assert [run.status for run in runs(archive_url)] == [RunStatus.FINISHED, RunStatus.FINISHED]
    engine = make_engine(archive_url)
    try:
        assert count(engine, Article) == len(expected_articles(SITE)) > 0
    finally:
        engine.dispose()
    assert again["engines_created"] == 1
    assert again["stats"].get(INCREMENTAL_NOT_DUE, 0) >= len(expected_articles(SITE))


def test_a_fetch_only_crawl_has_no_archive_and_touches_no_database(tmp_path: Path) -> None:
    untouched = tmp_path / "data" / "archive.db"
    with FixtureSite(FIXTURES / SITE) as site:
        out = crawl_fixture(SITE, site.base_url, env={"CQNEWS_DATABASE_URL": f"sqlite:///{untouched}"})
    assert out["pages"], "the crawl fetched no article"
    enabled = set(out["components"])
    assert not enabled & (ARCHIVE | {"ExtractPipeline"}) and "RedirectLoopMiddleware" in enabled
    assert out["engines_created"] == 0
    assert not untouched.parent.exists()


# -- the switches, component by component ------------------------------------------------------------------

COMPONENTS: list[type[Any]] = [ArchiveEngine, CrawlRunRecorder, IncrementalMiddleware, NotDueFilter, DedupPipeline,
                               StorePipeline, ExtractPipeline, RedirectLoopMiddleware]


def crawler_with(tmp_path: Path, **overrides: Any) -> Crawler:
    """A crawler with the project's CQNEWS_* settings and extensions, the archive in ``tmp_path``."""
    settings = project_settings()
    ours = {key: settings[key] for key in settings if key.startswith("CQNEWS_")}
    return get_crawler(settings_dict={**ours, "EXTENSIONS": settings.getdict("EXTENSIONS"),
                                      "CQNEWS_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.db'}", **overrides})


def enabled(crawler: Crawler) -> set[str]:
    """The components that Scrapy would build for ``crawler`` (the others raise NotConfigured)."""
    built = set()
    for cls in COMPONENTS:
        try:
            build_from_crawler(cls, crawler)
        except NotConfigured:
            continue
        built.add(cls.__name__)
    return built


@pytest.mark.parametrize(("overrides", "off"), [
    ({}, set()),
    ({"CQNEWS_ARCHIVE": "0"}, ARCHIVE),
    ({"CQNEWS_EXTRACT": "0"}, {"ExtractPipeline"}),
    ({"CQNEWS_INCREMENTAL": "0"}, {"IncrementalMiddleware", "NotDueFilter"}),
    ({"CQNEWS_ARCHIVE": "0", "CQNEWS_EXTRACT": "0"}, ARCHIVE | {"ExtractPipeline"}),
], ids=["defaults", "archive off", "extract off", "incremental off", "fetch only"])
def test_switched_off_components_are_not_configured(tmp_path: Path, overrides: dict[str, str], off: set[str]) -> None:
    assert enabled(crawler_with(tmp_path, **overrides)) == {cls.__name__ for cls in COMPONENTS} - off


def test_a_component_asking_for_a_missing_engine_is_told_why(tmp_path: Path) -> None:
    crawler = crawler_with(tmp_path, EXTENSIONS={"cqnews.archive_engine.ArchiveEngine": None})
    with pytest.raises(RuntimeError, match="no archive engine"):
        ArchiveEngine.of(crawler)

"""The shape finder (spiders/discovery.py): article links found by their shape on real listing pages, and a
real crawl of a site whose article URLs changed scheme, which still archives them and counts them as drift."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from cqnews.cli.render import problem_text
from cqnews.db.migrate import upgrade
from cqnews.db.runs import RunRecord, RunStatus
from cqnews.db.session import make_engine
from cqnews.demo.server import FixtureSite
from cqnews.health import Thresholds, discovery_drift, thresholds_from
from cqnews.runner import project_settings
from cqnews.spiders.discovery import article_like_links, has_article_path, reads_like_headline
from cqnews.stats import DISCOVER_MATCHED, DISCOVER_UNMATCHED, DISCOVER_UNMATCHED_EXAMPLES, LISTING_FETCHED

from helpers import copy_site, cqnews, expected_articles, runs

DRIFT_RUNS = Thresholds().drift_runs
REALPAGES = Path(__file__).resolve().parent / "fixtures" / "realpages"
LABELS: list[dict[str, Any]] = json.loads((REALPAGES / "listing_labels.json").read_text("utf-8"))["pages"]
MIN_RECALL, MIN_PRECISION = 0.9, 0.95


@pytest.mark.parametrize("page", LABELS, ids=[p["file"] for p in LABELS])
def test_shape_finder_on_hand_labelled_real_listing_pages(page: dict[str, Any]) -> None:
    root = lxml.html.fromstring((REALPAGES / page["file"]).read_bytes())
    found = {c.url for c in article_like_links(root, page["page_url"], page["hosts"])}
    labelled = set(page["article_urls"])
    hits = len(found & labelled)
    precision, recall = hits / max(len(found), 1), hits / len(labelled)
    print(f"{page['file']}: {len(labelled)} labelled, {len(found)} found, "
          f"precision {precision:.3f}, recall {recall:.3f}")
    assert recall >= MIN_RECALL, sorted(labelled - found)
    assert precision >= MIN_PRECISION, sorted(found - labelled)


@pytest.mark.parametrize(
    ("url", "article_like"),
    [
        ("https://www.cqcb.com/housing-market/2026-05-20/6143485_pc.html", True),
        ("http://www.cq.gov.cn/today/news/2017/5/5/1500624.shtml", True),
        ("https://news.163.com/20/0802/16/FJ1P0UTC0001899O.html", True),
        ("https://cq.cqnews.net/html/web/content_1507082492948443136.html", True),
        ("https://new.qq.com/omn/author/5082585", False),  # an id alone in a bare path: an author page
        ("https://cq.cqnews.net/images/2022-04/28/pic1.jpg", False),
        ("https://www.cbg.cn/list/705/2.html", False),
    ],
)
def test_article_path_shapes(url: str, article_like: bool) -> None:
    assert has_article_path(url) is article_like


def test_headline_text_is_a_line_of_prose_not_a_menu_word() -> None:
    assert reads_like_headline("三大战区海军演练")
    assert not reads_like_headline("更多新闻")
    assert not reads_like_headline("重庆" * 50)


def test_a_site_whose_article_urls_changed_scheme_is_still_archived_and_counted(tmp_path: Path) -> None:
    """The cbg demo site with its articles moved from /a/705/<date>/<hex>.html to /news/705/<date>/<hex>.html
    (synthetic: the scheme change is ours), so that the declared patterns match none of them."""
    root = copy_site("cbg", tmp_path)
    (root / "a").rename(root / "news")
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json"}:
            path.write_bytes(path.read_bytes().replace(b"/a/705/", b"/news/705/"))
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    with FixtureSite(root) as server:
        result = cqnews(["crawl", "cbg", "--base-url", server.base_url], database_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    run = runs(database_url)[-1]
    assert run.articles_new == len(expected_articles("cbg"))
    assert run.stats.get(DISCOVER_MATCHED, 0) == 0
    assert run.stats[DISCOVER_UNMATCHED] >= run.articles_new
    assert run.stats[DISCOVER_UNMATCHED_EXAMPLES]
    assert all("/news/705/" in url for url in run.stats[DISCOVER_UNMATCHED_EXAMPLES])
    status = cqnews(["status"], database_url, tmp_path)
    line = next(line for line in status.stdout.splitlines() if line.startswith("cbg "))
    assert "discovery drift" in line, status.stdout
    assert status.returncode == 1


NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def crawl_run(hours_ago: float, matched: int, unmatched: int) -> RunRecord:
    started = NOW - timedelta(hours=hours_ago)
    return RunRecord(site="cbg", started_at=started, finished_at=started + timedelta(minutes=2),
                     status=RunStatus.FINISHED, finish_reason="finished", articles_new=3, pages_fetched=20,
                     stats={LISTING_FETCHED: 2, DISCOVER_MATCHED: matched, DISCOVER_UNMATCHED: unmatched})


def test_discovery_drift_verdicts() -> None:
    assert discovery_drift([crawl_run(1, matched=40, unmatched=2)]) is None  # a few strays: no drift
    assert discovery_drift([crawl_run(1, matched=40, unmatched=12)]) is None  # mostly matched
    mostly_unmatched = discovery_drift([crawl_run(1, matched=3, unmatched=30), crawl_run(2, 40, 0)])
    assert mostly_unmatched is not None and "30 article-like links matched no pattern" in problem_text(
        mostly_unmatched)
    nothing = [crawl_run(h, matched=0, unmatched=0) for h in range(DRIFT_RUNS)]
    assert discovery_drift(nothing[:-1]) is None  # not yet N runs
    silent = discovery_drift(nothing)
    assert silent is not None and f"matched nothing for {DRIFT_RUNS} runs" in problem_text(silent)
    before = [replace(run, stats={LISTING_FETCHED: 2}) for run in nothing]
    assert discovery_drift(before) is None  # runs from before discovery was measured say nothing


def test_discovery_drift_thresholds_are_settings() -> None:
    """CQNEWS_HEALTH_DRIFT_RUNS / _MIN_UNMATCHED reach the verdict: a site that changes often may warn sooner."""
    settings = project_settings({"CQNEWS_HEALTH_DRIFT_RUNS": "1", "CQNEWS_HEALTH_DRIFT_MIN_UNMATCHED": "20"})
    limits = thresholds_from(settings)
    assert (limits.drift_runs, limits.drift_min_unmatched) == (1, 20)
    silent_once = discovery_drift([crawl_run(1, matched=0, unmatched=0)], limits)
    assert silent_once is not None and "matched nothing for 1 runs" in problem_text(silent_once)
    assert discovery_drift([crawl_run(1, matched=3, unmatched=12)], limits) is None  # 12 < 20: noise here
    assert discovery_drift([crawl_run(1, matched=3, unmatched=12)]) is not None  # the default (3) calls it drift

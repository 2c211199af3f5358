"""`cqnews demo` as a user meets it: the errors its sites make on purpose are said to be deliberate, and the health
verdicts after it account for them, while an error the sites do not make on purpose is still a fault."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cqnews.db.runs import RunRecord, RunStatus
from cqnews.demo import SITES, deliberate_errors
from cqnews.health import Thresholds, TooManyErrors, judge
from cqnews.stats import FETCH_DELIBERATE

from helpers import cqnews, runs

DEMO_SITES = sorted(p.name for p in SITES.iterdir() if (p / "expected.json").is_file())


@pytest.mark.parametrize("site", DEMO_SITES)
def test_the_deliberately_broken_pages_are_declared_once_and_served_as_declared(site: str) -> None:
    """expected.json's http_error bad inputs are the declaration; site.json's error routes must be exactly those."""
    declared = deliberate_errors(SITES / site)
    assert declared, f"{site}: no deliberately broken page declared"
    routes = json.loads((SITES / site / "site.json").read_text("utf-8"))["routes"]
    served = {path: int(route["status"]) for path, route in routes.items() if int(route.get("status", 200)) >= 400}
    assert served == declared


def test_a_recorded_copy_declares_nothing(tmp_path: Path) -> None:
    (tmp_path / "site.json").write_text('{"routes": {"/gone.html": {"status": 404}}}', "utf-8")
    assert deliberate_errors(tmp_path) is None  # no expected.json: its 404s are the real site's


def _demo(tmp_path: Path, fixtures: Path | None = None) -> tuple[Any, Any, str]:
    archive = f"sqlite:///{tmp_path / 'archive.db'}"
    extra = ["--fixtures", str(fixtures)] if fixtures else []
    demo = cqnews(["demo", "--port", "0", *extra], archive, tmp_path)
    status = cqnews(["status", "--format", "json"], archive, tmp_path)
    return demo, status, archive


def test_demo_then_status_is_healthy_when_only_the_deliberate_errors_happen(tmp_path: Path) -> None:
    demo, status, archive = _demo(tmp_path)
    assert demo.returncode == 0, demo.stderr[-3000:]
    for site in DEMO_SITES:
        for path, code in (deliberate_errors(SITES / site) or {}).items():
            assert f"{code} {path}" in demo.stderr  # said before the crawl, beside where the site is served
    crawled = {run.site: run for run in runs(archive)}
    assert set(crawled) == set(DEMO_SITES)
    for site, run in crawled.items():
        # the deliberate errors did happen (each declared page fetched once), and are the only ones
        assert run.errors == run.stats[FETCH_DELIBERATE] == len(deliberate_errors(SITES / site) or {}), site
        assert f"cqnews: {site}: {run.errors} error(s), all on pages the demo site breaks on purpose" in demo.stderr
    assert status.returncode == 0, status.stdout[-3000:] + status.stderr[-2000:]
    sites = {s["site"]: s for s in json.loads(status.stdout)["sites"]}
    assert {site: sites[site]["problems"] for site in DEMO_SITES} == {site: [] for site in DEMO_SITES}


def test_an_error_the_demo_sites_do_not_make_on_purpose_fails_demo_and_status(tmp_path: Path) -> None:
    """A listing page gone from the copy (as cqcb's /headline/ once was): its 404 is a fault, said by both."""
    fixtures = tmp_path / "sites"
    for site in ("cqcb", "cq_people"):
        shutil.copytree(SITES / site, fixtures / site)
    (fixtures / "cqcb" / "headline" / "index.html").unlink()
    demo, status, archive = _demo(tmp_path, fixtures)
    assert demo.returncode == 1, demo.stderr[-3000:]
    assert "cqnews: cqcb: 1 error(s) the demo site does not make on purpose" in demo.stderr
    assert "cqnews: cq_people: 2 error(s), all on pages the demo site breaks on purpose" in demo.stderr
    assert status.returncode == 1
    problems = {s["site"]: s["problems"] for s in json.loads(status.stdout)["sites"]}
    assert problems["cq_people"] == []
    assert len(problems["cqcb"]) == 1 and "error" in problems["cqcb"][0], problems  # 1 of 13 requests, yet a fault


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _run(errors: int, stats: dict[str, Any]) -> RunRecord:
    return RunRecord(site="cbg", started_at=NOW - timedelta(hours=1), finished_at=NOW, status=RunStatus.FINISHED,
                     finish_reason="finished", pages_fetched=40, articles_new=3, errors=errors,
                     stats={"downloader/request_count": 40, "cqnews/extract/ok": 10, **stats})


def test_health_forgives_deliberate_errors_only() -> None:
    limits = Thresholds()
    assert judge([_run(12, {FETCH_DELIBERATE: 12})], None, NOW, limits) == []  # 30 % of requests, all deliberate
    assert judge([_run(13, {FETCH_DELIBERATE: 12})], None, NOW, limits) == [TooManyErrors(1, 40)]
    assert judge([_run(1, {FETCH_DELIBERATE: 0})], None, NOW, limits) == [TooManyErrors(1, 40)]
    # a crawl told nothing of deliberate errors (any real site's) is judged by its error rate, as before
    assert judge([_run(1, {})], None, NOW, limits) == []
    assert judge([_run(12, {})], None, NOW, limits) == [TooManyErrors(12, 40)]

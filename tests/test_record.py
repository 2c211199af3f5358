"""`cqnews record` (demo/record.py): a real Scrapy fetch of a demo site served on 127.0.0.1 into a fixture folder,
which the fixture server then serves unchanged: same statuses, Content-Types and bytes as the original."""
from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cqnews.commands import cqnews_command
from cqnews.demo import SITES
from cqnews.demo.server import FixtureSite

from helpers import cqnews, expected

REAL = "https://www.cbg.cn"  # the cbg spider's host: the URLs as linked on the site, fetched from the mirror


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], subprocess.CompletedProcess[str]]:
    spec = expected("cbg")
    paths = [*spec["listing_paths"], spec["articles"][0]["path"],
             *(b["path"] for b in spec["bad_inputs"]),  # a 404 page and a 301
             "/search/?q=1"]  # robots.txt disallows /search/
    out = tmp_path_factory.mktemp("recorded")
    with FixtureSite(SITES / "cbg") as site:
        result = subprocess.run(
            cqnews_command("record", "cbg", *(REAL + p for p in paths), "--base-url", site.base_url,
                           "--out", str(out), "--delay", "0"),
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        hits = {path for _, path, _ in site.hits}
    assert "/robots.txt" in hits and not any(h.startswith("/search/") for h in hits)  # polite: robots.txt obeyed
    return out / "cbg", paths[:-1], result


def test_record_reports_what_it_stored_and_what_robots_txt_refused(
        recorded: tuple[Path, list[str], subprocess.CompletedProcess[str]]) -> None:
    _, paths, result = recorded
    assert result.returncode == 1, result.stderr  # one URL was not recorded
    assert f"recorded {len(paths)} of {len(paths) + 1} URLs" in result.stdout
    assert f"not recorded: {REAL}/search/?q=1" in result.stderr


def test_a_recording_is_served_exactly_as_the_site_served_it(
        recorded: tuple[Path, list[str], subprocess.CompletedProcess[str]]) -> None:
    folder, paths, _ = recorded
    with FixtureSite(SITES / "cbg") as original, FixtureSite(folder) as copy:
        for path in paths:
            status, headers, body = original.resolve(path)
            copy_status, copy_headers, copy_body = copy.resolve(path)
            assert (copy_status, copy_body) == (status, body), path
            assert copy_headers.get("Content-Type") == headers.get("Content-Type"), path
            assert copy_headers.get("Location") == headers.get("Location"), path


def test_a_recording_keeps_each_urls_headers_and_fetch_time(
        recorded: tuple[Path, list[str], subprocess.CompletedProcess[str]]) -> None:
    folder, paths, _ = recorded
    routes: dict[str, Any] = json.loads((folder / "site.json").read_text("utf-8"))["routes"]
    assert set(routes) == set(paths)
    article = routes[expected("cbg")["articles"][0]["path"]]
    assert article["url"].startswith(REAL + "/a/705/")
    assert datetime.fromisoformat(article["fetched_at"]).utcoffset() is not None
    assert article["headers"]["Content-Type"].startswith("text/html")
    assert "etag" in {name.lower() for name in article["headers"]}
    assert routes["/list/705/1.html"]["file"] == "list/705/1.html"


def test_a_url_of_another_host_is_one_clear_error_and_nothing_is_fetched(tmp_path: Path) -> None:
    result = cqnews(["record", "cbg", f"{REAL}/list/705/1.html", "https://sj.cbg.cn/a/1.html",
                     "--out", str(tmp_path)], "sqlite:///" + str(tmp_path / "unused.db"), tmp_path)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "sj.cbg.cn" in line and "not on this site" in line
    assert not (tmp_path / "cbg").exists()

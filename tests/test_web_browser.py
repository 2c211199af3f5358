"""The web reader in a real headless browser: Playwright driving Debian's Chromium (/usr/bin/chromium; .ci/run
installs it) against `cqnews serve --port 0` started as a user would, on an archive built once per backend
(tests/helpers.py ``web_archive``). A person searches 重庆, opens a result, compares its two versions, opens
the sites page and sees one plot per site; a title holding a script tag shows as text and opens no dialog.
Screenshots go to the test's temporary folder (and to $CQNEWS_WEB_SCREENSHOT, the README's, when set).

Chromium is required, not optional: without it these tests fail and say how to install it.
"""
from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cqnews.commands import cqnews_command

from helpers import BACKENDS, HOSTILE_TITLE, kill_with_its_children, web_database

CHROMIUM = Path("/usr/bin/chromium")


def started_server(database: str, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """`cqnews serve --port 0` in its own process, and the address it reports once it listens."""
    process = subprocess.Popen([*cqnews_command("serve", "--port", "0")], cwd=cwd, text=True,
                               env=dict(os.environ) | {"CQNEWS_DATABASE_URL": database}, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    seen, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(queue.Empty):
            line = lines.get(timeout=0.5)
            seen += line
            found = re.search(r"serving the archive at (http://127\.0\.0\.1:\d+)", line)
            if found:
                return process, found.group(1)
    kill_with_its_children(process)
    raise AssertionError(f"cqnews serve did not start: {seen[-2000:]}")


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("browser")
    with web_database(request.param, folder) as (database, ids):
        process, url = started_server(database, folder)
        try:
            yield {"url": url, **ids}
        finally:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
                    "(`apt-get install -y chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_search_read_compare_and_see_each_site_in_a_browser(served: dict[str, Any], browser: Any,
                                                            tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(served["url"] + "/")
    page.fill("input[name=q]", "重庆")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#total")
    assert page.inner_text("#total") == "results 1–6 of 6 · page 1 of 1"
    assert "q=%E9%87%8D%E5%BA%86" in page.url  # the search is in the address: it can be bookmarked
    assert page.locator("mark", has_text="重庆").count() >= 5
    assert page.locator(".hit .title", has_text=HOSTILE_TITLE).count() == 1  # shown as text
    page.screenshot(path=tmp_path / "search.png", full_page=True)
    if os.environ.get("CQNEWS_WEB_SCREENSHOT"):  # the README's picture, made by this very code
        shutil.copyfile(tmp_path / "search.png", os.environ["CQNEWS_WEB_SCREENSHOT"])

    page.click("a.title:has-text('渝北:努力成为新动力源（更新）')")
    assert page.inner_text("#title") == "渝北:努力成为新动力源（更新）"
    assert page.locator(".timeline li").count() == 2
    page.click("a.compare")
    page.wait_for_selector("#diff")
    assert page.locator("#diff ins").first.inner_text() == "，加快建设临空经济示范区"
    assert page.locator("#diff tr.added").count() == 1
    page.screenshot(path=tmp_path / "diff.png", full_page=True)
    page.click("#toggle-view")
    assert page.locator("#diff p.changed ins").first.inner_text() == "，加快建设临空经济示范区"

    page.click("nav >> text=sites")
    sites = page.locator("table.verdicts tr").count() - 1
    assert sites >= 2
    assert page.locator("section.site").count() == sites
    for section in page.locator("section.site").all():
        assert section.locator("svg.plot").count() == 2
    assert page.locator("section#site-cbg svg.plot rect.failed").count() == 1  # the failed run stands out
    page.screenshot(path=tmp_path / "sites.png", full_page=True)

    page.goto(f"{served['url']}/article/{served['hostile']}")
    assert page.inner_text("#title") == HOSTILE_TITLE
    assert "<b>市民</b>" in page.inner_text(".text")  # archived markup is text, not markup
    page.screenshot(path=tmp_path / "hostile.png")
    assert dialogs == []
    assert all((tmp_path / f"{name}.png").stat().st_size > 5000 for name in ("search", "diff", "sites"))
    page.close()

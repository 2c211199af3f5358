"""The web reader in a real headless browser: Playwright driving Debian's Chromium (/usr/bin/chromium; .ci/run
installs it) against `cqnews serve --port 0` started as a user would, on the demo archive (`cqnews demo`: the
reconstructed demo sites crawled by the real spiders) built once per backend and session, with a second version
of one article and a hostile title added. A person searches 重庆, opens a result, compares its two versions,
opens the sites page and sees the plots of each site; a title holding a script tag shows as text and opens no
dialog. Screenshots go to the test's temporary folder (and to $CQNEWS_WEB_SCREENSHOT, the README's, when set).

Chromium is required, not optional: without it these tests fail and say how to install it.
"""
from __future__ import annotations

import contextlib
import json
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
from cqnews.demo import SITES

from helpers import BACKENDS, HOSTILE_TITLE, cqnews, kill_with_its_children, postgres_database

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


ADDED_CLAUSE = "，记者当天从现场获悉"  # synthetic, as is the rest of the second version
ADDED_PARAGRAPH = "据悉，相关工作将于年底前全部完成。"
HOSTILE_TEXT = "重庆轨道交通夜间加开班次，<b>市民</b>出行更方便。&lt;img src=x onerror=alert(2)&gt;"


def add_to_the_demo(database: str) -> dict[str, Any]:
    """What the demo archive lacks, written through the store as a crawl would (synthetic): a second version of
    its first 人民网 article titled with 重庆 (title, first paragraph and a new paragraph changed) and an article
    on its 视界网 site whose title holds a script tag. The ids and titles."""
    from datetime import UTC, datetime, timedelta
    from urllib.parse import urljoin

    from sqlalchemy import select

    from cqnews.db.archive import Archive
    from cqnews.db.models import Article, ArticleVersion, Site
    from cqnews.db.session import make_engine, make_sessionmaker

    from helpers import text_record

    engine = make_engine(database, create=False)
    with make_sessionmaker(engine)() as session:
        def first(site: str, title_holds: str = "") -> tuple[Article, ArticleVersion]:
            article = session.scalars(select(Article).join(Site).join(ArticleVersion).where(
                Site.name == site, ArticleVersion.title.contains(title_holds)).order_by(Article.id).limit(1)).one()
            return article, article.versions[-1]

        article, old = first("cq_people", "重庆")
        cbg, _ = first("cbg")
        paragraphs = old.text.split("\n\n")
        paragraphs[0] = paragraphs[0].removesuffix("。") + ADDED_CLAUSE + "。"
        title = f"{old.title}（更新）"
        now = datetime.now(UTC)
        archive = Archive(engine)
        changed = archive.record(text_record(article.url, title, "\n\n".join([*paragraphs, ADDED_PARAGRAPH]),
                                             old.published_at, now - timedelta(hours=1), "cq_people", old.author,
                                             old.source), "cq_people")
        hostile = archive.record(text_record(urljoin(cbg.url, "/a/705/20201203/hostile.html"), HOSTILE_TITLE,
                                             HOSTILE_TEXT, now - timedelta(days=2), now - timedelta(days=2), "cbg",
                                             None, "视界网"), "cbg")
    engine.dispose()
    assert changed.article_id == article.id
    return {"changed": article.id, "old_title": old.title, "title": title, "hostile": hostile.article_id}


@pytest.fixture(scope="session", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`cqnews serve` on the demo archive, built once per backend and session by `cqnews demo` itself (the
    reconstructed demo sites crawled by the real spiders), with :func:`add_to_the_demo`'s two articles."""
    folder = tmp_path_factory.mktemp("demo-web")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            database = f"sqlite:///{folder / 'archive.db'}"
        else:
            database = stack.enter_context(contextlib.contextmanager(postgres_database)())
        built = cqnews(["demo", "--port", "0"], database, folder)
        assert built.returncode == 0, built.stderr[-3000:]
        added = add_to_the_demo(database)
        process, url = started_server(database, folder)
        try:
            yield {"url": url, "database": database, "folder": folder, **added}
        finally:
            process.terminate()
            process.wait(10)


def cli_search(served: dict[str, Any], query: str) -> list[dict[str, Any]]:
    """Every hit of `cqnews search QUERY` on the same archive, as the CLI prints them (JSON lines)."""
    result = cqnews(["search", query, "--format", "json", "--limit", "1000"], served["database"], served["folder"])
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


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
    expected = cli_search(served, "重庆")  # the same query language, matches and order as `cqnews search`
    assert len(expected) > 20
    assert page.inner_text("#total") == f"results 1–20 of {len(expected)} · page 1 of {-(-len(expected) // 20)}"
    shown = [int(link.get_attribute("href").rsplit("/", 1)[1]) for link in page.locator(".hit a.title").all()]
    assert shown == [hit["id"] for hit in expected[:20]]
    assert "q=%E9%87%8D%E5%BA%86" in page.url  # the search is in the address: it can be bookmarked
    assert page.locator(".hit mark", has_text="重庆").count() >= 10
    assert page.locator(".hit .title", has_text=HOSTILE_TITLE).count() == 1  # shown as text
    page.screenshot(path=tmp_path / "search.png", full_page=True)
    if os.environ.get("CQNEWS_WEB_SCREENSHOT"):  # the README's picture, made by this very code
        shutil.copyfile(tmp_path / "search.png", os.environ["CQNEWS_WEB_SCREENSHOT"])

    page.click(f"a.title:has-text('{served['title']}')")
    assert page.inner_text("#title") == served["title"]
    assert page.locator(".timeline li").count() == 2
    page.click("a.compare")
    page.wait_for_selector("#diff")
    assert page.locator("#title-diff ins").inner_text() == "（更新）"  # the title's added characters, marked
    assert page.locator("#title-diff del").count() == 0
    assert page.locator("#diff ins").first.inner_text() == ADDED_CLAUSE
    assert page.locator("#diff tr.added").inner_text().strip() == ADDED_PARAGRAPH
    page.screenshot(path=tmp_path / "diff.png", full_page=True)
    page.click("#toggle-view")
    assert page.locator("#diff p.changed ins").first.inner_text() == ADDED_CLAUSE

    page.click("nav >> text=sites")
    demo_sites = sorted(folder.name for folder in SITES.iterdir() if folder.is_dir())
    assert sorted(cell.inner_text() for cell in page.locator("table.verdicts td:first-child").all()) == demo_sites
    assert page.locator("section.site").count() == len(demo_sites)
    for section in page.locator("section.site").all():  # articles per day; pages fetched per run: the demo's
        assert section.locator("svg.plot").count() == 2
        assert section.locator("svg.plot rect.new").count() >= 1
        assert section.locator("svg.plot rect.pages, svg.plot rect.failed").count() >= 1
    page.screenshot(path=tmp_path / "sites.png", full_page=True)

    page.goto(f"{served['url']}/article/{served['hostile']}")
    assert page.inner_text("#title") == HOSTILE_TITLE
    assert "<b>市民</b>" in page.inner_text(".text")  # archived markup is text, not markup
    page.screenshot(path=tmp_path / "hostile.png")
    assert dialogs == []
    assert all((tmp_path / f"{name}.png").stat().st_size > 5000 for name in ("search", "diff", "sites"))
    page.close()

"""End to end: a real Scrapy crawl over HTTP of the reconstructed demo sites into a real archive, on both backends."""
from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from cqnews.db.models import Article, ArticleVersion, UrlAlias
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES as DEMO_SITES
from cqnews.demo.server import FixtureSite
from cqnews.stats import CPU_STAGES, cpu_key
from cqnews.urls import url_key

from helpers import copy_site, cqnews, expected, expected_articles, kill_with_its_children, runs

# Every demo site with its answers: adding a site adds it to these crawls.
SITES = sorted(p.parent.name for p in DEMO_SITES.glob("*/expected.json"))


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def latest_by_path(database_url: str, with_aliases: bool = True) -> dict[str, ArticleVersion]:
    """The latest version of each archived article, by URL path (alias URLs included unless told not to).

    Which of two URLs with the same text becomes the article and which the alias depends on fetch order.
    """
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(Article, ArticleVersion).join(
                ArticleVersion,
                (ArticleVersion.article_id == Article.id) & (ArticleVersion.version_no == Article.version_count),
            )
        ).all()
        out = {_path(a.url): v for a, v in rows}
        if with_aliases:
            by_id = {a.id: v for a, v in rows}
            out |= {_path(alias.url): by_id[alias.article_id] for alias in session.scalars(select(UrlAlias))}
    engine.dispose()
    return out


@pytest.mark.parametrize("site", SITES)
def test_crawl_archives_every_article_then_recrawl_adds_nothing(archive_url: str, tmp_path: Path, site: str) -> None:
    root = copy_site(site, tmp_path)
    articles = expected_articles(site)
    with FixtureSite(root) as server:
        first = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        stored = latest_by_path(archive_url)
        for art in articles:
            assert art["path"] in stored, f"{art['path']} not archived; got {sorted(stored)}"
            version = stored[art["path"]]
            assert version.title == art["title"]
            for phrase in art["must_contain"]:
                assert phrase in version.text, f"{art['path']}: body lacks {phrase!r}"
            joined = {p for mp in expected(site).get("multipage", []) if mp["first"] == art["path"]
                      for p in mp["must_contain_from_each_part"]}  # the later pages of a multi-page article
            for phrase in set(art["must_not_contain"]) - joined:
                assert phrase not in version.text, f"{art['path']}: boilerplate {phrase!r} kept"
        assert len(latest_by_path(archive_url, with_aliases=False)) == len(articles)  # only articles did
        run1 = runs(archive_url)[-1]
        assert (run1.status, run1.finish_reason) == ("finished", "finished")
        assert run1.articles_new == len(articles)
        assert run1.articles_duplicate == len(expected(site).get("duplicates", []))
        assert f"{site}" in first.stdout and str(run1.articles_new) in first.stdout
        # The run says where its CPU time went: every stage of the crawl, its extraction pool included.
        spent = {stage: run1.stats.get(cpu_key(stage), 0) for stage in CPU_STAGES}
        assert all(ms > 0 for ms in spent.values()), spent

        hits_before = len(server.hits)
        second = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        run2 = runs(archive_url)[-1]
        assert (run2.articles_new, run2.articles_updated, run2.articles_duplicate) == (0, 0, 0)
        # Archived articles are not due for a revisit yet: not one of them is requested again,
        # while the listing pages are.
        second_paths = {path for _, path, _ in server.hits[hits_before:]}
        assert not second_paths & set(stored), sorted(second_paths & set(stored))
        assert set(expected(site)["start_paths"]) <= second_paths
        assert run2.stats["cqnews/incremental/not_due"] == run1.articles_new + run1.articles_duplicate
        # They are dropped as the spider yields them: nothing is scheduled that is not then downloaded.
        assert run2.stats.get("scheduler/enqueued", 0) <= run2.stats["downloader/request_count"]
        assert run2.pages_fetched < run1.pages_fetched
        assert latest_by_path(archive_url).keys() == stored.keys()
        assert len(latest_by_path(archive_url, with_aliases=False)) == len(articles)
        assert all(v.version_no == 1 for v in latest_by_path(archive_url).values())


@pytest.mark.parametrize("site", SITES)
def test_changed_article_gets_exactly_one_new_version(archive_url: str, tmp_path: Path, site: str) -> None:
    root = copy_site(site, tmp_path)
    target = expected(site)["articles"][1]
    page = root / target["path"].lstrip("/")
    phrase = target["must_contain"][0]
    encoding = "gb18030" if expected(site)["encoding"] in ("gbk", "gb2312", "gb18030") else "utf-8"
    due_now = {"CQNEWS_REVISIT_LADDER": "0s,0s,0s"}  # every archived article is due again at once
    with FixtureSite(root) as server:
        first = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path, env=due_now)
        assert first.returncode == 0, first.stderr[-3000:]
        archived, aliases = runs(archive_url)[-1].articles_new, runs(archive_url)[-1].articles_duplicate
        html = page.read_bytes().decode(encoding)
        assert phrase in html
        page.write_bytes(html.replace(phrase, phrase + "（记者补充：数据已更新）").encode(encoding))
        hits_before = len(server.hits)
        third = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path, env=due_now)
        assert third.returncode == 0, third.stderr[-3000:]
        run = runs(archive_url)[-1]
        assert (run.articles_new, run.articles_updated) == (0, 1)
        # The others were revisited with validators: the server answered 304 and nothing was extracted.
        not_modified = [h for h in server.hits[hits_before:] if h[2] == 304]
        assert len(not_modified) == archived - 1
        assert run.stats["cqnews/store/not_modified"] == archived - 1
        assert run.stats["cqnews/extract/skipped_not_modified"] == archived - 1
        assert run.articles_unchanged == archived - 1 + aliases  # alias URLs carry no validators: re-read
        version = latest_by_path(archive_url)[target["path"]]
        assert version.version_no == 2 and "数据已更新" in version.text

        history = cqnews(["history", server.base_url + target["path"]], archive_url, tmp_path)
        assert history.returncode == 0, history.stderr
        assert "v1" in history.stdout and "v2" in history.stdout and "text" in history.stdout


def test_duplicate_page_under_another_url_becomes_an_alias(archive_url: str, tmp_path: Path) -> None:
    root = copy_site("cq_people", tmp_path)
    pair = expected("cq_people")["duplicates"][0]
    with FixtureSite(root) as server:
        assert cqnews(["crawl", "cq_people", "--base-url", server.base_url], archive_url, tmp_path).returncode == 0
        engine = make_engine(archive_url)
        with make_sessionmaker(engine)() as session:
            alias = session.scalars(select(UrlAlias)).one()
            article = session.scalars(select(Article).where(Article.id == alias.article_id)).one()
        engine.dispose()
        pair_keys = {url_key(server.base_url + pair["copy"]), url_key(server.base_url + pair["original"])}
        assert {alias.url_key, article.url_key} == pair_keys  # one article, the other URL its alias


def test_bad_inputs_are_counted_not_archived(archive_url: str, tmp_path: Path) -> None:
    root = copy_site("cq_people", tmp_path)
    spec = expected("cq_people")
    with FixtureSite(root) as server:
        result = cqnews(["crawl", "cq_people", "--base-url", server.base_url], archive_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = runs(archive_url)[-1].stats
    statuses = {b["status"] for b in spec["bad_inputs"] if b["outcome"] == "http_error"}
    for status in statuses:
        assert stats.get(f"cqnews/fetch/http_error/{status}", 0) >= 1, sorted(stats)
    assert stats.get("cqnews/extract/rejected/not_html", 0) == 1
    assert stats.get("cqnews/extract/rejected", 0) >= 2  # the PDF and the page without an article
    stored = latest_by_path(archive_url)
    for bad in spec["bad_inputs"]:
        if "title" not in bad:
            assert bad["path"] not in stored
    mislabelled = next(b for b in spec["bad_inputs"] if b["outcome"] == "mislabelled_encoding")
    assert "\ufffd" not in stored[mislabelled["path"]].text
    assert stored[mislabelled["path"]].title == mislabelled["title"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_site_is_recorded_with_a_clear_message(archive_url: str, tmp_path: Path) -> None:
    result = cqnews(["crawl", "cbg", "--base-url", f"http://127.0.0.1:{_closed_port()}"], archive_url, tmp_path)
    assert result.returncode == 1
    assert "could be fetched" in result.stderr
    assert "Traceback" not in result.stderr  # robots.txt's download error is one line without --verbose
    assert "Connection was refused" in result.stderr
    run = runs(archive_url)[-1]
    assert run.pages_fetched == 0 and run.errors >= 1 and run.articles_new == 0


COUNTED_CLI = Path(__file__).resolve().parent / "counted_cli.py"


def test_a_crawl_opens_the_archive_once(archive_url: str, tmp_path: Path) -> None:
    """The CLI opens the archive to check its schema; the crawl then works on that engine's connections instead
    of building an engine of its own and connecting again (counted over every pool of the crawl's process)."""
    import json
    import os
    import subprocess
    import sys

    counts = tmp_path / "counts.json"
    with FixtureSite(copy_site("cbg", tmp_path)) as server:
        result = subprocess.run([sys.executable, "-P", str(COUNTED_CLI), str(counts), "crawl", "cbg", "--base-url",
                                 server.base_url], cwd=tmp_path, capture_output=True, text=True, timeout=240,
                                stdin=subprocess.DEVNULL, env=dict(os.environ) | {
                                    "CQNEWS_DATABASE_URL": archive_url, "CQNEWS_DOWNLOAD_DELAY": "0",
                                    "CQNEWS_AUTOTHROTTLE": "0", "CQNEWS_RETRY_TIMES": "0"})
    assert result.returncode == 0, result.stderr[-3000:]
    run = runs(archive_url)[-1]
    assert (run.status, run.articles_new) == ("finished", len(expected_articles("cbg")))  # the crawl did write
    opened = json.loads(counts.read_text())
    assert opened["pools"] == 1, opened
    assert opened["connections"] <= 2, opened  # the crawl's thread and its store's writer thread, at most


# Scrapy's start-up and closing report, one line of each kind (cli.crawl shows them at --verbose only).
SCRAPY_CHATTER = ("[scrapy.utils.log] INFO: Scrapy ", "[scrapy.crawler] INFO: Overridden settings",
                  "[scrapy.middleware] INFO: Enabled extensions", "[scrapy.core.engine] INFO: Spider opened",
                  "[scrapy.statscollectors] INFO: Dumping Scrapy stats")
# The progress line as drawn: a carriage return (which reading stderr as text turns into a newline), the counts,
# and "erase to the end of the line".
PROGRESS_LINE = re.compile(r"[\r\n]cbg: (\d+) pages, \d+ articles \(\d+ new, \d+ updated\), [\d.]+ pages/s\x1b\[K")


def test_crawl_output_is_quiet_unless_verbose_and_shows_progress(archive_url: str, tmp_path: Path) -> None:
    """Without --verbose a crawl prints its summary and what went wrong, not Scrapy's report; --verbose adds the
    report; --progress (on by itself at a terminal) redraws one line with the counts, cleared before the summary."""
    with FixtureSite(copy_site("cbg", tmp_path)) as server:
        # a delay between requests makes the crawl last several of the line's 1 s redraws, on any machine
        verbose = cqnews(["crawl", "cbg", "--base-url", server.base_url, "--verbose", "--progress"], archive_url,
                         tmp_path, env={"CQNEWS_DOWNLOAD_DELAY": "0.6"})
        quiet = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path)
    assert quiet.returncode == 0 and verbose.returncode == 0, verbose.stderr[-2000:] + quiet.stderr[-2000:]
    for result in (quiet, verbose):
        assert "site  status" in result.stdout and "cbg   finished" in result.stdout  # the summary, as before
    assert not [line for line in SCRAPY_CHATTER if line in quiet.stderr], quiet.stderr[-3000:]
    assert "pages/s\x1b[K" not in quiet.stderr  # stderr is not a terminal: no progress line by default
    assert all(line in verbose.stderr for line in SCRAPY_CHATTER), verbose.stderr[-3000:]
    drawn = [int(pages) for pages in PROGRESS_LINE.findall(verbose.stderr)]
    assert drawn and max(drawn) > 0, repr(verbose.stderr[-2000:])
    assert drawn == sorted(drawn)  # the counts only grow
    after_the_last = verbose.stderr.rsplit("pages/s\x1b[K", 1)[1]
    assert re.match(r"[\r\n]\x1b\[K", after_the_last), repr(after_the_last[:200])  # cleared, not left in the way


def test_crawl_refuses_an_archive_not_at_head(database_url: str, tmp_path: Path) -> None:
    result = cqnews(["crawl", "cbg", "--base-url", "http://127.0.0.1:9"], database_url, tmp_path)
    assert result.returncode == 2
    assert "cqnews db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_database_down_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nowhere"
    result = cqnews(["crawl", "cbg"], url, tmp_path)
    assert result.returncode == 1
    assert "cannot be reached" in result.stderr and "Traceback" not in result.stderr


def test_crawl_killed_midway_leaves_a_consistent_archive(archive_url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from sqlalchemy import func, text

    root = copy_site("cq_people", tmp_path)
    slow = {"CQNEWS_DOWNLOAD_DELAY": "0.4", "CQNEWS_CONCURRENCY_PER_DOMAIN": "1",
            "CQNEWS_DATABASE_URL": archive_url, "CQNEWS_AUTOTHROTTLE": "0"}
    engine = make_engine(archive_url)
    with FixtureSite(root) as server:
        script = Path(sys.executable).with_name("cqnews")
        proc = subprocess.Popen([str(script), "crawl", "cq_people", "--base-url", server.base_url],
                                cwd=tmp_path, env=os.environ | slow, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        stored = 0
        while stored == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            with make_sessionmaker(engine)() as session:
                stored = session.scalar(select(func.count()).select_from(Article)) or 0
        kill_with_its_children(proc)
        assert stored >= 1, "the crawl stored nothing before it was killed"

        with make_sessionmaker(engine)() as session:
            for article in session.scalars(select(Article)):
                assert [v.version_no for v in article.versions] == list(range(1, article.version_count + 1))
            assert runs(archive_url)[-1].status == "running"  # visible as never finished
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"

        again = cqnews(["crawl", "cq_people", "--base-url", server.base_url], archive_url, tmp_path)
        assert again.returncode == 0, again.stderr[-3000:]
    articles = expected_articles("cq_people")
    assert {a["path"] for a in articles} <= set(latest_by_path(archive_url))
    assert len(latest_by_path(archive_url, with_aliases=False)) == len(articles)
    engine.dispose()


def test_new_listing_entry_is_found_on_the_next_run(archive_url: str, tmp_path: Path) -> None:
    root = copy_site("cbg", tmp_path)
    spec = expected("cbg")
    source = spec["articles"][1]
    listing = root / spec["start_paths"][0].lstrip("/")
    with FixtureSite(root) as server:
        assert cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path).returncode == 0
        new_path = source["path"].rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef.html"
        html = (root / source["path"].lstrip("/")).read_text("utf-8")
        phrase = source["must_contain"][0]
        follow_up = html.replace(phrase, "两江新区发布新政策，支持企业扩大投资。" + phrase + "（续报）")
        (root / new_path.lstrip("/")).write_text(follow_up, "utf-8")
        page = listing.read_text("utf-8")
        listing.write_text(page.replace("</ul>", f'<li><a href="{new_path}">新条目</a></li></ul>', 1), "utf-8")
        second = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
    run = runs(archive_url)[-1]
    assert run.articles_new == 1
    assert new_path in latest_by_path(archive_url, with_aliases=False)


def test_redirect_to_an_archived_article_not_due_is_not_followed(archive_url: str, tmp_path: Path) -> None:
    """The one way a not-due article reaches the downloader (a redirect, past the spider middlewares) is closed
    too, and the article is still counted once under not_due."""
    import json

    root = copy_site("cbg", tmp_path)
    spec = expected("cbg")
    target = spec["articles"][0]["path"]
    moved = target.rsplit("/", 1)[0] + "/" + "d" * 32 + ".html"
    listing = root / spec["start_paths"][0].lstrip("/")
    with FixtureSite(root) as server:
        assert cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path).returncode == 0
        run1 = runs(archive_url)[-1]
        manifest = json.loads((root / "site.json").read_text("utf-8"))
        manifest["routes"][moved] = {"status": 301, "location": target}
        (root / "site.json").write_text(json.dumps(manifest), "utf-8")
        page = listing.read_text("utf-8")
        listing.write_text(page.replace("</ul>", f'<li><a href="{moved}">旧地址</a></li></ul>', 1), "utf-8")
        hits_before = len(server.hits)
        second = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        paths = [path for _, path, _ in server.hits[hits_before:]]
    assert moved in paths and target not in paths
    run2 = runs(archive_url)[-1]
    assert run2.stats["cqnews/incremental/not_due"] == run1.articles_new + run1.articles_duplicate
    assert (run2.articles_new, run2.articles_updated) == (0, 0)


def test_robots_txt_disallow_is_obeyed(archive_url: str, tmp_path: Path) -> None:
    root = copy_site("cbg", tmp_path)
    spec = expected("cbg")
    forbidden = spec["articles"][0]["path"]
    robots = root / "robots.txt"
    robots.write_text(f"User-agent: *\nDisallow: {forbidden}\nDisallow: /search/\n", "utf-8")
    with FixtureSite(root) as server:
        result = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path)
        fetched = {path for _, path, _ in server.hits}
    assert result.returncode == 0, result.stderr[-3000:]
    assert forbidden not in fetched
    assert forbidden not in latest_by_path(archive_url)
    assert runs(archive_url)[-1].stats.get("robotstxt/forbidden", 0) >= 1


def _sites_declaring(key: str) -> list[str]:
    from helpers import FIXTURES

    return sorted(p.parent.name for p in FIXTURES.glob("*/expected.json") if expected(p.parent.name).get(key))


def test_fixture_sites_cover_every_discovery_path() -> None:
    """Guard for the parametrised tests below: each has at least one site to run on."""
    for key in ("multipage", "sitemap_only", "feed_only"):
        assert _sites_declaring(key), f"no fixture site declares {key!r} in expected.json"


@pytest.mark.parametrize("site", _sites_declaring("multipage"))
def test_multipage_article_is_archived_as_one(archive_url: str, tmp_path: Path, site: str) -> None:
    with FixtureSite(copy_site(site, tmp_path)) as server:
        result = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = latest_by_path(archive_url)
    for article in expected(site)["multipage"]:
        text = stored[article["first"]].text
        for phrase in article["must_contain_from_each_part"]:
            assert phrase in text
        for part in article["parts"]:
            if part != article["first"]:
                assert part not in stored  # a part is not an article of its own


@pytest.mark.parametrize("site", sorted(set(_sites_declaring("sitemap_only") + _sites_declaring("feed_only"))))
def test_articles_announced_only_by_sitemap_or_feed_are_found(archive_url: str, tmp_path: Path, site: str) -> None:
    with FixtureSite(copy_site(site, tmp_path)) as server:
        result = cqnews(["crawl", site, "--base-url", server.base_url], archive_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    stored = latest_by_path(archive_url)
    spec = expected(site)
    for path in spec.get("sitemap_only", []) + spec.get("feed_only", []):
        assert path in stored, f"{path} (announced only in a sitemap or feed) was not archived"


def test_redirect_loop_and_oversized_page_are_counted_not_fatal(archive_url: str, tmp_path: Path) -> None:
    import json

    root = copy_site("cbg", tmp_path)
    spec = expected("cbg")
    base = spec["articles"][0]["path"].rsplit("/", 1)[0]
    loop_a, loop_b, huge = (f"{base}/{c * 32}.html" for c in "abc")
    manifest = json.loads((root / "site.json").read_text("utf-8"))
    manifest["routes"].update({
        loop_a: {"status": 302, "location": loop_b},
        loop_b: {"status": 302, "location": loop_a},
        huge: {"file": "huge.html", "content_type": "text/html; charset=utf-8"},
    })
    # the same crawl meets three losses that have keys of their own: a redirect to another host, a gzip bomb and a
    # page nested deeper than libxml2 parses (its text cut, so rejected)
    offsite, bomb, deep = (f"{base}/{c * 32}.html" for c in "def")
    manifest["routes"].update({offsite: {"status": 302, "location": "http://elsewhere.invalid/a/1/20200101/e.html"},
                               deep: {"file": "deep.html", "content_type": "text/html; charset=utf-8"}})
    paragraph = "<p>" + "重庆市渝北区第一段新闻内容，记者在现场采访了许多市民和相关负责人。" * 4 + "</p>"
    (root / "deep.html").write_text("<html><head><title>深</title></head><body>" + "<table><tr><td>" * 90
                                    + paragraph * 3 + "</td></tr></table>" * 90 + "</body></html>", "utf-8")
    (root / "site.json").write_text(json.dumps(manifest), "utf-8")
    (root / "huge.html").write_bytes(b"<html><body>" + "<p>重庆新闻</p>".encode() * 200_000 + b"</body></html>")
    listing = root / spec["start_paths"][0].lstrip("/")
    links = "".join(f'<li><a href="{p}">x</a></li>' for p in (loop_a, huge, offsite, bomb, deep))
    listing.write_text(listing.read_text("utf-8").replace("</body>", f"<ul>{links}</ul></body>"), "utf-8")
    with GzipBombSite(root, bomb) as server:
        result = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path,
                        env={"CQNEWS_DOWNLOAD_MAXSIZE": str(1024 * 1024)})
    assert result.returncode == 0, result.stderr[-3000:]
    run = runs(archive_url)[-1]
    assert run.status == "finished"
    assert run.stats.get("cqnews/fetch/failed/redirect_loop") == 1
    assert run.stats.get("cqnews/fetch/failed/DownloadCancelledError") == 1  # over DOWNLOAD_MAXSIZE
    assert run.errors >= 3  # the loop and the oversized page, besides the fixture's own 404
    assert run.articles_new == len(expected_articles("cbg"))  # the rest of the site is archived all the same
    assert run.stats.get("cqnews/fetch/offsite_redirect") == 1
    assert run.stats.get("cqnews/fetch/decompressed_too_large") == 1
    assert run.stats.get("cqnews/extract/lost_to_depth_limit") == 1
    assert "cbg: 1 redirected to another site (not followed); 1 dropped: larger than DOWNLOAD_MAXSIZE once " \
           "decompressed; 1 rejected: nested deeper than the HTML parser reads (text cut)" in result.stderr


class GzipBombSite(FixtureSite):
    """The fixture site, with one path answering a small gzip body that inflates to 4 MiB (a gzip bomb)."""

    def __init__(self, root: Path, bomb: str) -> None:
        super().__init__(root)
        self.bomb = bomb

    def resolve(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if path != self.bomb:
            return super().resolve(path)
        import gzip

        body = gzip.compress(b"<html><body>" + b" " * 4 * 1024 * 1024 + b"</body></html>")
        return 200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, body



def test_a_redirect_to_a_url_longer_than_scrapy_fetches_is_counted_once(archive_url: str, tmp_path: Path) -> None:
    """Scrapy drops links longer than URLLENGTH_LIMIT (2,083 characters) as the spider yields them, but follows a
    redirect to one (on PostgreSQL a page at a URL of ~4,000 characters then failed to store, with a traceback, on
    every crawl). Such a redirect is counted under its own key with one log line and not followed; its page is
    lost once (not also an ignored or failed fetch, or a failed store); one to exactly 2,083 is followed, stored."""
    import json
    import random

    from cqnews.db.models import Page

    root = copy_site("cbg", tmp_path)
    spec = expected("cbg")
    base = spec["articles"][0]["path"].rsplit("/", 1)[0]
    manifest = json.loads((root / "site.json").read_text("utf-8"))
    listing = root / spec["start_paths"][0].lstrip("/")
    with FixtureSite(root) as server:
        def target(length: int) -> str:  # a path whose URL on this server is ``length`` characters, incompressible
            stem = f"{server.base_url}{base}/"
            return f"{base}/{random.Random(length).randbytes(length).hex()[:length - len(stem) - 5]}.html"

        too_long, far_too_long, at_limit = target(2084), target(4000), target(2083)
        redirects = {f"{base}/{'0' * 32}.html": too_long, f"{base}/{'1' * 32}.html": at_limit,
                     f"{base}/{'2' * 32}.html": far_too_long}
        for source, location in redirects.items():
            manifest["routes"][source] = {"status": 301, "location": location}
            manifest["routes"][location] = {"file": spec["articles"][0]["path"].lstrip("/")}  # a duplicate
        (root / "site.json").write_text(json.dumps(manifest), "utf-8")
        links = "".join(f'<a href="{source}">x</a>' for source in redirects)
        listing.write_text(listing.read_text("utf-8").replace("</body>", f"{links}</body>"), "utf-8")
        result = cqnews(["crawl", "cbg", "--base-url", server.base_url], archive_url, tmp_path)
        fetched = {path for _method, path, _status in server.hits}
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr, result.stderr[-3000:]
    assert len(server.base_url + too_long) == 2084 and len(server.base_url + at_limit) == 2083
    assert too_long not in fetched and far_too_long not in fetched and at_limit in fetched
    said = [line for line in result.stderr.splitlines() if "URLLENGTH_LIMIT" in line]
    assert len(said) == 3, said  # a log line each, and the summary's line of losses
    assert sorted(line.split(" [")[1].split(" not followed")[0] for line in said[:2]) == [
        "cqnews.middlewares] WARNING: redirect to a URL of 2084 characters (URLLENGTH_LIMIT: 2083)",
        "cqnews.middlewares] WARNING: redirect to a URL of 4000 characters (URLLENGTH_LIMIT: 2083)"]
    assert "cbg: 2 redirected to a URL longer than URLLENGTH_LIMIT (not followed)" in said[2]
    run = runs(archive_url)[-1]
    assert run.status == "finished" and run.articles_new == len(expected_articles("cbg"))
    assert run.stats.get("cqnews/fetch/redirect_url_too_long") == 2
    # lost once: not also ignored, failed (the fixture's own 404 is the one error) or a failed store
    assert "cqnews/fetch/ignored" not in run.stats and run.stats.get("cqnews/fetch/errors") == 1
    assert not [key for key in run.stats if key.startswith(("cqnews/store/failed", "cqnews/item_errors"))]
    assert run.articles_duplicate == 1  # the page at 2,083 characters, stored as a copy of the article it serves
    engine = make_engine(archive_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(select(Page.id).where(Page.url == server.base_url + at_limit)) is not None
    engine.dispose()

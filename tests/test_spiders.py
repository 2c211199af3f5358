"""Spiders: each site file is a well-formed declaration with a demo site, and a real crawl of that site
finds every article it holds. No database: the crawl runs with the archive and extraction switched off
(CQNEWS_ARCHIVE=0, CQNEWS_EXTRACT=0) and reports its RawPages. Sitemap reading is checked in-process.
"""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import cqnews.spiders
from cqnews.demo import SITES as FIXTURES
from cqnews.demo.server import FixtureSite
from cqnews.spiders.base import NewsSpider

from helpers import crawl_fixture

SPIDER_MODULES = sorted(p.stem for p in Path(cqnews.spiders.__file__).parent.glob("*.py")
                        if p.stem not in {"__init__", "base"})
# sites whose fixture folder says what a crawl must find
SITES_WITH_EXPECTATIONS = sorted(p.parent.name for p in FIXTURES.glob("*/expected.json"))
# outcomes of bad inputs that still answer 200 at an article URL, so the spider must fetch and yield them
YIELDED_OUTCOMES = {"not_html", "no_article", "mislabelled_encoding"}


def spider_classes(module_name: str) -> list[type[NewsSpider]]:
    module = importlib.import_module(f"cqnews.spiders.{module_name}")
    return [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, NewsSpider) and obj.__module__ == module.__name__
    ]


def spider_class(name: str) -> type[NewsSpider]:
    (cls,) = spider_classes(name)
    return cls


def expected(site: str) -> dict[str, Any]:
    return json.loads((FIXTURES / site / "expected.json").read_text("utf-8"))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def article_url_paths(exp: dict[str, Any]) -> list[str]:
    """Every path that is an article URL on the site, whatever it answers."""
    paths = [a["path"] for a in exp["articles"]]
    paths += [d["copy"] for d in exp.get("duplicates", [])]
    paths += [r["to"] for r in exp.get("redirects", [])]
    paths += [b["path"] for b in exp["bad_inputs"]]
    return paths


def fetched_paths(exp: dict[str, Any]) -> list[str]:
    """Paths whose responses a crawl must yield as RawPage (status 200 after redirects)."""
    paths = [a["path"] for a in exp["articles"]]
    paths += [d["copy"] for d in exp.get("duplicates", [])]
    paths += [r["to"] for r in exp.get("redirects", [])]
    paths += [b["path"] for b in exp["bad_inputs"] if b["outcome"] in YIELDED_OUTCOMES]
    return paths


# -- declarations ----------------------------------------------------------------------------------------


def test_there_are_spiders() -> None:
    assert SPIDER_MODULES, "no spider modules found in spiders/"


@pytest.mark.parametrize("module_name", SPIDER_MODULES)
def test_spider_module_declares_one_spider_named_after_its_file(module_name: str) -> None:
    classes = spider_classes(module_name)
    assert len(classes) == 1, f"spiders/{module_name}.py should declare one NewsSpider, found {classes}"
    assert classes[0].name == module_name


def test_spider_names_are_unique() -> None:
    names = [cls.name for module in SPIDER_MODULES for cls in spider_classes(module)]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize("module_name", SPIDER_MODULES)
def test_spider_has_a_fixture_site_named_after_it(module_name: str) -> None:
    folder = FIXTURES / spider_class(module_name).name
    assert folder.is_dir(), f"missing demo site {folder}"
    with FixtureSite(folder) as fixture:  # the folder is servable
        assert fixture.base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("module_name", SPIDER_MODULES)
def test_spider_declarations_are_path_patterns(module_name: str) -> None:
    cls = spider_class(module_name)
    assert cls.site_title and cls.allowed_domains and cls.start_urls
    assert cls.article_patterns, "a news spider without article patterns finds nothing"
    for pattern in (*cls.article_patterns, *cls.listing_patterns, *cls.deny_patterns):
        re.compile(pattern)
        assert "://" not in pattern, f"{pattern!r} mentions a scheme; match the path only"
        for domain in cls.allowed_domains:
            assert domain not in pattern and re.escape(domain) not in pattern, f"{pattern!r} names the host"
    for url in cls.start_urls:
        assert cls().classify(url) == "listing", f"start URL {url} is not a listing by the spider's patterns"


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_fixture_site_serves_the_spiders_start_pages(site: str) -> None:
    cls = spider_class(site)
    start_paths = [path_of(url) for url in cls.start_urls]
    assert start_paths == expected(site)["start_paths"]
    with FixtureSite(FIXTURES / site) as fixture:
        for path in start_paths:
            status, headers, body = fixture.resolve(path)
            assert status == 200 and headers["Content-Type"].startswith("text/html") and body


# -- classify ------------------------------------------------------------------------------------------


def _site_bases(site: str) -> list[tuple[NewsSpider, str]]:
    """The spider on the real host and the same spider pointed at a local copy."""
    cls = spider_class(site)
    real = urlsplit(cls.start_urls[0])
    local = "http://127.0.0.1:8123"
    return [(cls(), f"{real.scheme}://{real.netloc}"), (cls(base_url=local), local)]


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_labels_every_article_path_article(site: str) -> None:
    for spider, base in _site_bases(site):
        for path in article_url_paths(expected(site)):
            assert spider.classify(base + path) == "article", (base, path)


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_labels_listing_pages_listing(site: str) -> None:
    for spider, base in _site_bases(site):
        for path in expected(site)["listing_paths"]:
            assert spider.classify(base + path) == "listing", (base, path)


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_ignores_navigation_and_assets(site: str) -> None:
    for spider, base in _site_bases(site):
        for path in expected(site)["other_paths"]:
            assert spider.classify(base + path) is None, (base, path)


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_ignores_other_hosts(site: str) -> None:
    spider = spider_class(site)()
    path = expected(site)["articles"][0]["path"]
    assert spider.classify("http://www.example.com" + path) is None
    assert spider.classify("http://127.0.0.1:8123" + path) is None  # not own unless base_url says so


# -- a real crawl ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SITES_WITH_EXPECTATIONS)
def crawled(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], list[tuple[str, str, int]]]:
    site = request.param
    with FixtureSite(FIXTURES / site) as fixture:
        out = crawl_fixture(site, fixture.base_url)  # in its own process, fetching only
        hits = list(fixture.hits)
    return site, out, hits


def test_crawl_yields_every_article_of_the_site(crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, out, _ = crawled
    yielded = {path_of(p["url"]) for p in out["pages"]}
    missing = [p for p in fetched_paths(expected(site)) if p not in yielded]
    assert not missing, f"{site}: crawl did not yield {missing}; yielded {sorted(yielded)}"
    assert {p["site"] for p in out["pages"]} == {site}


def test_crawl_yields_only_article_urls_once_each(crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, out, _ = crawled
    spider = spider_class(site)(base_url="http://127.0.0.1:1")
    paths = [path_of(p["url"]) for p in out["pages"]]
    assert len(paths) == len(set(paths)), paths
    assert all(spider.classify("http://127.0.0.1:1" + p) == "article" for p in paths), paths
    assert out["stats"]["cqnews/article/fetched"] == len(paths)


def test_crawl_follows_pagination_and_obeys_robots(crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, _, hits = crawled
    requested = {path_of(path) for _, path, _ in hits}
    assert "/robots.txt" in requested
    for path in expected(site)["listing_paths"]:
        assert path in requested, f"{site}: listing page {path} never fetched"


def test_crawl_counts_http_errors_and_yields_nothing(crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, out, hits = crawled
    yielded = {path_of(p["url"]) for p in out["pages"]}
    for bad in expected(site)["bad_inputs"]:
        if bad["outcome"] != "http_error":
            continue
        assert bad["path"] not in yielded
        assert (bad["path"], bad["status"]) in {(path_of(p), s) for _, p, s in hits}
        assert out["stats"].get(f"cqnews/fetch/http_error/{bad['status']}", 0) >= 1


def test_crawl_keeps_raw_responses_as_served(crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, out, _ = crawled
    exp = expected(site)
    by_path = {path_of(p["url"]): p for p in out["pages"]}
    for bad in exp["bad_inputs"]:
        page = by_path.get(bad["path"])
        if bad["outcome"] == "not_html":
            assert page is not None and page["content_type"] == bad["content_type"]
        elif bad["outcome"] == "mislabelled_encoding":
            assert page is not None and f"charset={bad['header_charset']}" in page["content_type"].lower()
    for pair in exp.get("duplicates", []):
        original, copy = by_path[pair["original"]], by_path[pair["copy"]]
        assert original["body_bytes"] == copy["body_bytes"]
    for redirect in exp.get("redirects", []):
        page = by_path[redirect["to"]]
        assert page["requested_url"] is not None and path_of(page["requested_url"]) == redirect["from"]


# -- sitemaps, read by Scrapy's SitemapSpider (gzip, size limits) --------------------------------------------

NEWS_SITEMAP = (FIXTURES / "cqnews" / "sitemap" / "news.xml").read_bytes()  # reconstructed (demo site)


def sitemap_spider(**settings: Any) -> NewsSpider:
    """The cqnews spider as Scrapy builds it (from_crawler: SitemapSpider reads the size limits there)."""
    from scrapy.utils.test import get_crawler

    cls = spider_class("cqnews")
    return cls.from_crawler(get_crawler(cls, settings_dict=settings))


def sitemap_articles(spider: NewsSpider, url: str, body: bytes, response_class: type[Any] | None = None
                     ) -> list[str]:
    from scrapy.http import Response

    response = (response_class or Response)(url=url, body=body, request=spider.sitemap_request(url))
    return [r.url for r in spider.parse_sitemap(response)]


def test_a_gzipped_sitemap_is_read_like_the_plain_one() -> None:
    import gzip

    from scrapy.http import XmlResponse

    spider = sitemap_spider()
    plain = sitemap_articles(spider, "https://www.cqnews.net/sitemap/news.xml", NEWS_SITEMAP, XmlResponse)
    assert plain and all(spider.classify(url) == "article" for url in plain)
    assert sitemap_articles(spider, "https://www.cqnews.net/sitemap/news.xml.gz", gzip.compress(NEWS_SITEMAP)) == plain
    assert spider.crawler.stats is not None and spider.crawler.stats.get_value("cqnews/sitemap/unreadable") is None


def test_what_is_not_a_readable_sitemap_is_counted_and_yields_nothing() -> None:
    import gzip

    limit = len(NEWS_SITEMAP) // 2
    spider = sitemap_spider(DOWNLOAD_MAXSIZE=limit, DOWNLOAD_WARNSIZE=limit // 2)
    assert len(gzip.compress(NEWS_SITEMAP)) < limit  # small on the wire, too large once gunzipped
    not_sitemaps = {
        "https://www.cqnews.net/sitemap/news.xml.gz": gzip.compress(NEWS_SITEMAP),
        "https://www.cqnews.net/sitemap/broken.xml.gz": gzip.compress(NEWS_SITEMAP)[:20],
        "https://www.cqnews.net/sitemap/page.xml": b"<html><body><a href='/html/x.htm'>x</a></body></html>",
        "https://www.cqnews.net/sitemap/text.xml": "页面不存在".encode(),
        "https://www.cqnews.net/sitemap.php": NEWS_SITEMAP,  # neither XML by type nor by name
    }
    for url, body in not_sitemaps.items():
        assert sitemap_articles(spider, url, body) == [], url
    assert spider.crawler.stats is not None
    assert spider.crawler.stats.get_value("cqnews/sitemap/unreadable") == len(not_sitemaps)

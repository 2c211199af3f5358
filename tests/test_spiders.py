"""Spiders: each site file is a well-formed declaration with a demo site, and a real crawl of that site
finds every article it holds. The discovery crawls run with the archive and extraction switched off
(CQNEWS_ARCHIVE=0, CQNEWS_EXTRACT=0) and report their RawPages; only the body-selector test crawls into an
archive, because what it checks is the text stored. Sitemap reading is checked in-process.
"""
from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
from sqlalchemy import select
from w3lib.encoding import html_to_unicode

import cqnews.spiders
from cqnews.db.migrate import upgrade
from cqnews.db.models import Article, ArticleVersion, UrlAlias
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES as FIXTURES
from cqnews.demo.server import FixtureSite
from cqnews.extraction.article import extract_article
from cqnews.health import Thresholds
from cqnews.spiders.base import NewsSpider
from cqnews.stats import DISCOVER_MATCHED, DISCOVER_UNMATCHED

from helpers import copy_site, crawl_fixture, expected_articles
from helpers import cqnews as run_cli

SPIDER_MODULES = sorted(p.stem for p in Path(cqnews.spiders.__file__).parent.glob("*.py")
                        if p.stem not in {"__init__", "base", "discovery"})
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


# What a real page of the site's CMS family carries (tests/fixtures/dress_demo_sites.py builds the demo pages from
# real pages copied into tests/fixtures/realpages): a page of the web weighs this much, and extraction must cope.
MIN_PAGE_BYTES, MAX_PAGE_BYTES = 17_000, 80_000


@pytest.fixture(scope="module", params=SITES_WITH_EXPECTATIONS)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, FixtureSite]]:
    """A demo site's server, shared by the in-process checks of its pages (one server per site, not per test)."""
    with FixtureSite(FIXTURES / request.param) as fixture:
        yield request.param, fixture


def test_fixture_pages_carry_real_page_weight_that_extraction_drops(served: tuple[str, FixtureSite]) -> None:
    """Every article page holds inline scripts, CMS comments, a comment box and a related-story block; extracted
    as a crawl extracts it (the spider's body selector), it keeps its text and none of the related stories' titles."""
    site, fixture = served
    spec, selector = expected(site), spider_class(site).body_selector
    for article in expected_articles(site):
        _, headers, body = fixture.resolve(article["path"])
        root = lxml.html.document_fromstring(html_to_unicode(headers["Content-Type"], body)[1])
        assert MIN_PAGE_BYTES <= len(body) <= MAX_PAGE_BYTES, (article["path"], len(body))
        assert len(root.xpath("//script[not(@src)]")) >= 4 and len(root.xpath("//script[@src]")) >= 2
        assert len(root.xpath("//comment()")) >= 5, article["path"]
        assert root.xpath("//form[.//textarea]"), f"{article['path']}: no comment box"
        related = [a.text_content().strip() for block in root.cssselect(spec["related_block"])
                   for a in block.iter("a") if a.text_content().strip() not in ("", article["title"])]
        assert len(related) >= 6, article["path"]
        text = extract_article(body, url=fixture.base_url + article["path"],
                               content_type=headers["Content-Type"], body_selector=selector).text
        assert all(phrase in text for phrase in article["must_contain"]), article["path"]
        leaked = [title for title in related if title in text]
        assert not leaked, f"{site}{article['path']}: related-story titles in the body: {leaked}"


def test_listing_pages_link_articles_again_with_share_query_strings(served: tuple[str, FixtureSite]) -> None:
    """Real listing pages repeat headlines in 热点 blocks with ?spm=…/?from=…; the crawl must fetch each once
    (test_crawl_yields_only_article_urls_once_each), so the demo listings carry such copies."""
    site, fixture = served
    spider = spider_class(site)()
    _, headers, body = fixture.resolve(expected(site)["start_paths"][0])
    root = lxml.html.document_fromstring(html_to_unicode(headers["Content-Type"], body)[1])
    hrefs = [urljoin(spider.start_urls[0], h) for h in root.xpath("//a/@href")]
    tracked = [h for h in hrefs if "?" in h and spider.classify(h) == "article"]
    assert tracked and all(h.split("?")[0] in hrefs for h in tracked), tracked


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


# what share buttons, apps and cache-busters append to real article links (the bare hex is seen on
# cq.people.com.cn: ``…c365402-24808401.html?f41095c0``)
TRACKING_SUFFIXES = ("?spm=C73544894212.P59511941341.0.0", "?from=timeline&isappinstalled=0", "?f41095c0",
                     "?tofm=1", "#comments", "?spm=a.b#top")


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_ignores_query_strings_and_fragments(site: str) -> None:
    exp = expected(site)
    paths = [*article_url_paths(exp), *exp["listing_paths"], *exp["other_paths"]]
    for spider, base in _site_bases(site):
        for path in paths:
            bare = spider.classify(base + path)
            for suffix in TRACKING_SUFFIXES:
                joined = path + (suffix.replace("?", "&", 1) if "?" in path and suffix[0] == "?" else suffix)
                assert spider.classify(base + joined) == bare, (base, joined, bare)


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_ignores_other_hosts(site: str) -> None:
    spider = spider_class(site)()
    path = expected(site)["articles"][0]["path"]
    assert spider.classify("http://www.example.com" + path) is None
    assert spider.classify("http://127.0.0.1:8123" + path) is None  # not own unless base_url says so


@pytest.mark.parametrize("site", SITES_WITH_EXPECTATIONS)
def test_classify_takes_exactly_the_declared_hosts(site: str) -> None:
    cls = spider_class(site)
    spider, path = cls(), expected(site)["articles"][0]["path"]
    for host in cls.allowed_domains:
        assert spider.classify(f"https://{host}{path}") == "article", host
        assert spider.classify(f"https://dept.{host}{path}") is None, f"a subdomain of {host} is another site"


# hosts of a site and its neighbours, and real URL shapes the declared patterns once missed (each cited in
# its spider's docstring)
@pytest.mark.parametrize(
    ("site", "url", "kind"),
    [
        ("cbg", "https://cqwmsj.cbg.cn/a/705/20200510/ac545e012dae11478b5be49c69d39065.html", "article"),
        ("cbg", "https://sj.cbg.cn/a/705/20200510/ac545e012dae11478b5be49c69d39065.html", None),
        ("cq_gov", "https://cq.gov.cn/ywdt/jrcq/202604/t20260407_15591308.html", "article"),
        ("cq_gov", "https://rlsbj.cq.gov.cn/ywdt/jrcq/202604/t20260407_15591308.html", None),
        ("cqnews", "https://v.cqnews.net/html/2022-04/28/content_969413280746201088.html", None),
        ("cqcb", "https://www.cqcb.com/housing-market/2026-05-20/6143485_pc.html", "article"),
        ("cqcb", "https://www.cqcb.com/housing-market/", "listing"),
        ("cqcb", "https://www.cqcb.com/housing-market/-/2026-05-20/6143485_pc.html", None),
        ("cqnews", "https://cq.cqnews.net/cqqx/html/2023-03/14/content_1234567890123456789.htm", "article"),
        ("cqnews", "https://cq.cqnews.net/cqqx/html/web/content_1507082492948443136.html", "article"),
        ("cqnews", "https://cq.cqnews.net/cqztlm/2023-03/14/content_51336527.htm", "article"),
        ("cqnews", "http://cq.cqnews.net/cqztlm/sz/kxfzg/qgdt_kxfzg/200812/t20081222_2800937.htm", "article"),
        ("cqnews", "https://cq.cqnews.net/cqqx/html/col274243.htm", "listing"),
        ("cqnews", "https://cq.cqnews.net/cqztlm/images/2023-03/14/pic1.jpg", None),
        ("cq_gov", "http://www.cq.gov.cn/today/news/2017/5/5/1500624.shtml", "article"),
        ("cq_gov", "http://www.cq.gov.cn/today/news/default_1.shtml", "listing"),
        ("cq_gov", "http://www.cq.gov.cn/today/news/", "listing"),
        ("cq_gov", "https://cq.gov.cn/ywdt/jrcq/", "listing"),
    ],
)
def test_classify_real_url_shapes(site: str, url: str, kind: str | None) -> None:
    assert spider_class(site)().classify(url) == kind


def test_links_to_a_neighbour_host_are_not_pointed_at_the_fixture_server() -> None:
    spider = spider_class("cqnews")(base_url="http://127.0.0.1:8123")
    assert spider.localize("https://cq.cqnews.net/html/col35734.htm") == "http://127.0.0.1:8123/html/col35734.htm"
    assert spider.localize("https://v.cqnews.net/html/col1.htm") == "https://v.cqnews.net/html/col1.htm"


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
    """Each article is fetched once, although the listing pages also link it with ?spm=…/?from=… appended."""
    site, out, hits = crawled
    spider = spider_class(site)(base_url="http://127.0.0.1:1")
    paths = [path_of(p["url"]) for p in out["pages"]]
    assert len(paths) == len(set(paths)), paths
    requested = [urlsplit(path).path for method, path, _ in hits if method == "GET"]
    assert all(requested.count(p) == 1 for p in paths), sorted(p for p in requested if requested.count(p) > 1)
    assert all(spider.classify("http://127.0.0.1:1" + p) == "article" for p in paths), paths
    assert out["stats"]["cqnews/article/fetched"] == len(paths)


def test_crawl_of_an_unchanged_site_reports_no_discovery_drift(
        crawled: tuple[str, dict[str, Any], list[Any]]) -> None:
    site, out, _ = crawled
    stats = out["stats"]
    print(f"{site}: {stats.get(DISCOVER_MATCHED)} matched, {stats.get(DISCOVER_UNMATCHED, 0)} unmatched article-like")
    assert stats[DISCOVER_MATCHED] > 0
    assert stats.get(DISCOVER_UNMATCHED, 0) < Thresholds().drift_min_unmatched, stats.get(DISCOVER_UNMATCHED)


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


# -- a body selector picks one node ----------------------------------------------------------------------

SIDE_BY_SIDE = "/html/2022-04/28/content_969413280746201088.html"


def test_a_body_held_twice_on_the_page_is_stored_once(tmp_path: Path) -> None:
    """华龙网 pages hold the body in desktop ``#main_text`` and mobile ``#_h5_content``; the spider's selector
    names both. The demo site nests them; one page of this copy is rewritten (synthetic) to hold them side by
    side, as the real pages do. Each article's phrases must be stored once."""
    root = copy_site("cqnews", tmp_path)
    page = root / SIDE_BY_SIDE.lstrip("/")
    html = page.read_text("utf-8")
    start = html.index('<div id="main_text"')
    end = html.index("</div></div>", start) + len("</div></div>")
    body = html[html.index("<p", start):end - len("</div></div>")]
    page.write_text(html[:start] + f'<div id="main_text">{body}</div>'
                    f'<div id="_h5_content" style="display:none">{body}</div>' + html[end:], "utf-8")
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with FixtureSite(root) as server:
        result = run_cli(["crawl", "cqnews", "--base-url", server.base_url], database_url, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    with make_sessionmaker(engine)() as session:
        by_id = {article_id: (url, text) for article_id, url, text in session.execute(
            select(Article.id, Article.url, ArticleVersion.text).join(ArticleVersion,
                                                                      ArticleVersion.article_id == Article.id))}
        # the web and app copies of one story are one article, under whichever URL was fetched first
        aliases = session.execute(select(UrlAlias.url, UrlAlias.article_id)).all()
    engine.dispose()
    texts = {path_of(url): text for url, text in by_id.values()}
    texts |= {path_of(url): by_id[article_id][1] for url, article_id in aliases}
    assert SIDE_BY_SIDE in texts
    for article in expected("cqnews")["articles"]:
        for phrase in article["must_contain"]:
            assert texts[article["path"]].count(phrase) == 1, (article["path"], phrase)


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


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_an_articles_further_pages_are_found_in_any_encoding(encoding: str) -> None:
    """The parts of a paginated article (the reconstructed 新华网 page of the demo site) are found whatever the page's
    encoding: in UTF-8 and GB18030 by their ASCII bytes, without decoding the page in the reactor thread; in UTF-16,
    whose bytes are not ASCII, by its decoded text."""
    from scrapy.http import HtmlResponse, Request

    spider = spider_class("xinhua_cq")(base_url="http://127.0.0.1:1")
    url = "http://127.0.0.1:1/2017-12/10/c_1122087453.htm"
    text = (FIXTURES / "xinhua_cq" / "2017-12" / "10" / "c_1122087453.htm").read_bytes().decode("utf-8")
    response = HtmlResponse(url, body=text.encode(encoding), request=Request(url),
                            headers={"Content-Type": f"text/html; charset={encoding}"})
    assert spider.continuation_urls(response) == [url.replace(".htm", "_2.htm"), url.replace(".htm", "_3.htm")]


def test_an_articles_name_is_looked_for_as_the_regex_did() -> None:
    """continuation_urls's first look for "name then - _ or &" scans substrings instead of compiling a regex per
    article; it must say yes exactly where ``re.search(re.escape(name) + "[-_&]", ...)`` did, in text and in bytes,
    including repeated, overlapping and regex-special names and the empty name of a URL ending in "/"."""
    import random

    from cqnews.spiders.base import _followed_by

    rng = random.Random(19)
    alphabet = "ab1.-_&*+c"
    names = ["", "a", "ab", "a.b", "c_1122087453", "a*b", "aa", "1-"]
    checked = 0
    for _ in range(3000):
        haystack = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        for name in names:
            found = re.search(re.escape(name) + "[-_&]", haystack) is not None
            assert _followed_by(haystack, name, "-_&") is found, (haystack, name)
            assert _followed_by(haystack.encode(), name.encode(), b"-_&") is found, (haystack, name)
            checked += found
    assert checked > 1000  # the random haystacks had both answers often

"""`cqnews demo` as a user meets it: the errors its sites make on purpose are said to be deliberate, and the health
verdicts after it account for them, while an error the sites do not make on purpose is still a fault."""
from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
import pytest
from w3lib.encoding import html_to_unicode

from cqnews.db.runs import RunRecord, RunStatus
from cqnews.demo import SITES, deliberate_errors
from cqnews.extraction.article import extract_article
from cqnews.health import Thresholds, TooManyErrors, judge
from cqnews.runner import project_settings
from cqnews.runner import spider_class as project_spider
from cqnews.stats import FETCH_DELIBERATE

from helpers import cqnews, runs


def spider_class(site: str) -> Any:
    return project_spider(project_settings(), site)


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
    """`cqnews demo`, then `cqnews status --format json` on its archive, without schedules (the demo's crawls
    judged alone; test_demo_then_status_... also runs it as a user does, with the default schedules)."""
    archive = f"sqlite:///{tmp_path / 'archive.db'}"
    extra = ["--fixtures", str(fixtures)] if fixtures else []
    demo = cqnews(["demo", "--port", "0", *extra], archive, tmp_path)
    status = cqnews(["status", "--format", "json"], archive, tmp_path, env={"CQNEWS_SCHEDULE": "off"})
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
    # with the default schedules (no cqnews.toml), as a user runs it: no site verdict blames the demo's crawls
    # and no daemon is wanted: none ever ran on this archive and no schedule file asks for one -> exit 0
    plain = cqnews(["status", "--format", "json"], archive, tmp_path)
    as_is = json.loads(plain.stdout)
    assert [s["problems"] for s in as_is["sites"] if s["site"] in DEMO_SITES] == [[]] * len(DEMO_SITES)
    assert as_is["unattended"] == [] and plain.returncode == 0, plain.stderr[-2000:]


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


# -- the dressed pages: real chrome around our invented articles (tests/fixtures/dress_demo_sites.py) ----------------

SOURCES = Path(__file__).resolve().parent / "fixtures" / "demo_sources"
REAL_XINHUANET = Path(__file__).resolve().parent / "fixtures" / "realpages" / "gne" / "tests" / "xinhuanet" / "1.html"


def _page(raw: bytes, content_type: str = "text/html") -> Any:
    return lxml.html.document_fromstring(html_to_unicode(content_type, raw)[1])


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# the body container of each site's undressed pages where its spider names none (cbg: extraction finds the body)
SOURCE_BODY = {"cbg": "div.article-content"}


def _invented_body(site: str, path: str) -> Any:
    """The body element of our article in its undressed page (demo_sources): what a crawl must store."""
    source = _page((SOURCES / site / path.lstrip("/")).read_bytes(), "text/html")  # its own <meta charset>
    selector = spider_class(site).body_selector or SOURCE_BODY[site]
    return max(source.cssselect(selector), key=lambda el: len(el.text_content()))


def _invented_paragraphs(body: Any) -> list[str]:
    """Its prose paragraphs (a photo credit such as ``图片来源：邹乐摄`` is no prose, and may go)."""
    return [t for t in (_squeezed(p.text_content()) for p in body.iter("p")) if re.search("[。！？]", t)]


def _dressed_articles(site: str) -> list[str]:
    spec = json.loads((SITES / site / "expected.json").read_text("utf-8"))
    paths = [a["path"] for a in spec["articles"]] + [b["path"] for b in spec["bad_inputs"] if "title" in b]
    return [*paths, *(part for mp in spec.get("multipage", []) for part in mp["parts"])]


def _script_sources(page: Any, base: str) -> list[tuple[str, str]]:
    return [urlsplit(urljoin(base, s.get("src")))[1:3] for s in page.xpath("//script[@src]")]


def test_xinhua_pages_are_the_real_xinhuanet_page_with_our_article_in_it() -> None:
    real = _page(REAL_XINHUANET.read_bytes(), "text/html; charset=utf-8")
    real_url = "http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm"  # the page's first comment
    for path in _dressed_articles("xinhua_cq"):
        raw = (SITES / "xinhua_cq" / path.lstrip("/")).read_bytes()
        page = _page(raw, "text/html; charset=utf-8")
        # every script and comment of the real page, its weight
        assert _script_sources(page, real_url) == _script_sources(real, real_url), path
        assert len(page.xpath("//script[not(@src)]")) == len(real.xpath("//script[not(@src)]")), path
        # (less the URL note the saving tool put before the doctype: not the site's, and not our page's URL)
        assert len(page.xpath("//comment()")) >= len(real.xpath("//comment()")) - 1, path
        assert len(raw) >= 0.9 * REAL_XINHUANET.stat().st_size, (path, len(raw))
        # its headline slot holds ours; the real article's own words are gone (its headline stays only as a link
        # of the real news carousel)
        ours = _page((SOURCES / "xinhua_cq" / path.lstrip("/")).read_bytes())
        assert page.xpath("//div[@class='h-title']")[0].text_content().strip() == ours.xpath("//h1")[0].text_content()
        text = page.text_content()
        assert not [w for w in ("唐霁", "尹世杰", "退休制度改革") if w in text], path


@pytest.mark.parametrize("site", DEMO_SITES)
def test_a_dressed_page_gives_its_invented_body_whole_and_once(site: str) -> None:
    """Extracted as a crawl extracts it (the spider's body selector, which must still name an element of the
    dressed page), every article page gives each of our paragraphs exactly once, in order, and no line that is
    not ours: nothing of the real chrome, the related stories or the comment box, and no second copy."""
    selector = spider_class(site).body_selector
    routes = json.loads((SITES / site / "site.json").read_text("utf-8"))["routes"]
    for path in _dressed_articles(site):
        route = routes.get(path, {})
        content_type = route.get("content_type", "text/html; charset=utf-8")  # as served (a lying one included)
        raw = (SITES / site / (route.get("file") or path).lstrip("/")).read_bytes()
        if selector:
            assert _page(raw, content_type).cssselect(selector), f"{site}{path}: the body selector matches nothing"
        text = extract_article(raw, url="http://127.0.0.1:1" + path, content_type=content_type,
                               body_selector=selector).text
        body = _invented_body(site, path)
        paragraphs, squeezed = _invented_paragraphs(body), _squeezed(text)
        assert paragraphs and [squeezed.count(p) for p in paragraphs] == [1] * len(paragraphs), f"{site}{path}"
        assert sorted(paragraphs, key=squeezed.index) == paragraphs, f"{site}{path}: paragraphs out of order"
        ours = _squeezed(body.text_content())
        foreign = [line for line in text.splitlines() if _squeezed(line) and _squeezed(line) not in ours]
        assert not foreign, f"{site}{path}: not our article's: {foreign}"


# what each real page a family is dressed from says of its own article: its URL, its id, its headline
REAL_ARTICLES = {
    "cq_people": ("http://culture.people.com.cn/n1/2019/0615/c1013-31153719.html", "31153719", "郑板桥"),
    "xinhua_cq": ("http://www.xinhuanet.com/world/2019-12/10/c_1125327450.htm", "1125327450", "法国全国大罢工"),
    "cq_gov": ("http://www.shanxi.gov.cn/yw/sxyw/201909/t20190918_693227.shtml", "693227", "山西品牌丝路行"),
    **{site: ("http://news.cjn.cn/sywh/202010/t3714581.htm", "3714581", "外媒眼中的武汉长假")
       for site in ("cqnews", "cqcb", "cbg")},
}


@pytest.mark.parametrize("site", sorted(REAL_ARTICLES))
def test_copied_scripts_and_share_links_name_our_page_not_the_real_story(site: str) -> None:
    """The analytics calls, share buttons and pagers copied from a real page name the page they sit on (its URL,
    id and headline, as the CMS writes them), never the real story the copy came from."""
    url, story_id, headline = REAL_ARTICLES[site]
    for path in _dressed_articles(site):
        raw = (SITES / site / path.lstrip("/")).read_bytes()
        text = html_to_unicode("text/html", raw)[1]
        assert not [m for m in (url, quote(url, safe=""), story_id, headline) if m in text], (site, path)
        own_id = re.findall(r"\d{4,}|[0-9a-f]{16,}", path)[-1]
        assert own_id in "".join(page_script.text or "" for page_script in _page(raw).xpath("//script")) or \
            own_id in "".join(_page(raw).xpath("//a/@href")), (site, path)

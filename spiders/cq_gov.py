"""重庆市人民政府网 (www.cq.gov.cn) 要闻动态: 栏目 /ywdt/<col>/, articles /ywdt/<col>/<yyyymm>/t<date>_<id>.html.

Where the patterns come from (public code index):
- 今日重庆 ``https://www.cq.gov.cn/ywdt/jrcq/`` with items in ``ul.newslist li`` (``a`` + date ``span``):
  an RSSHub-style route "重庆政府网-今日重庆" (find_string "www.cq.gov.cn/ywdt/") and a list of
  provincial news pages ("今日重庆—市级要闻").
- Articles ``/ywdt/jrcq/202210/t20221025_11222084.html``, ``/ywdt/jrcq/202604/t20260407_15591308.html``,
  ``/ywdt/zwhd/bmdt/202303/t20230314_11758422.html`` (部门动态), ``/ywdt/bmts/202606/t20260625_15777333.html`` and the
  mobile twin ``..._app.html``: links in public repositories (same find_string). ``_app`` twins are denied.
- TRS meta tags ``ArticleTitle``/``PubDate``/``ContentSource``/``ColumnName`` and body ``div.trs_paper_default`` on
  the
  municipal TRS platform: DIYgod/RSSHub, lib/routes/gov/chongqing/gzw.ts (gzw.cq.gov.cn, same platform).
- The older CMS, whose links the real homepage still carries (0 % recognised before, issue 13): list
  ``http://www.cq.gov.cn/today/news/`` and ``/today/news/default_1.shtml``, article
  ``http://www.cq.gov.cn/today/news/2017/5/5/1500624.shtml`` (a requests/lxml scraper and its tests; find_string
  "cq.gov.cn/today/news/").
- Body: the TRS editor's ``div.TRS_Editor`` inside ``div.article-body`` on a real provincial TRS portal article
  (山西省人民政府, GNE's saved page ``tests/shanxi/1.html``, in ``tests/fixtures/realpages/gne/tests/shanxi/``), so both
  TRS editor containers are declared.
Not confirmed: list pagination ``index_1.html`` (the TRS ``createPageHTML`` convention); the encoding (UTF-8 assumed,
as on the TRS gov.cn sites); any sitemap or feed (only an HTML 网站地图 ``/wzdt/`` is linked), so none is declared.
The bare host ``cq.gov.cn`` serves the same ``/ywdt/jrcq/`` articles (issue 13) and is listed as a host of its own;
department sites (``rlsbj.cq.gov.cn``, ``gzw.cq.gov.cn``...) are other hosts and not crawled.
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class CqGovSpider(NewsSpider):
    name = "cq_gov"
    site_title = "重庆市人民政府网"
    allowed_domains = ["www.cq.gov.cn", "cq.gov.cn"]  # the bare host serves /ywdt/jrcq/ articles too
    start_urls = ["https://www.cq.gov.cn/ywdt/jrcq/"]  # 今日重庆
    article_patterns = (
        r"^/ywdt/[a-z]+(?:/[a-z]+)*/\d{6}/t\d{8}_\d+\.html$",
        r"^/today/news/\d{4}/\d{1,2}/\d{1,2}/\d+\.shtml$",  # the older CMS, still linked
    )
    listing_patterns = (
        r"^/ywdt/[a-z]+(?:/[a-z]+)*/(?:index(?:_\d+)?\.html)?$",
        r"^/today/news/(?:default(?:_\d+)?\.shtml)?$",
    )
    deny_patterns = (r"^/search", r"_app\.html$")
    body_selector = "div.trs_paper_default, div.TRS_Editor"

"""华龙网 (cqnews.net): 栏目 /html/col<id>.htm; articles /html/<yyyy-mm>/<dd>/content_<id>.html, /1/detail/<id>/....

Where the patterns come from (public code index; say so where a point is not confirmed):
- 栏目 pages ``http://cq.cqnews.net/html/col35734.htm`` (重庆要闻), ``/cqqx/html/col274243.htm``,
  ``car.cqnews.net/col123312.htm``
  and the older ``/html/node_35734.htm`` form, list items in ``div.lb ul li a``: a Scrapy spider named
  ``hualongwang`` (find_string "cqnews.net/html/col") and a ``CQNEWS(CrawlerAbstract)`` class titled
  "华龙网 - 重庆要闻" (find_string "cq.cqnews.net/html/"); repository names are not shown by the index.
- Articles ``/html/2019-06/20/content_50522561.html``, ``car.cqnews.net/html/2018-08/28/content_44822383.htm`` and
  the rule
  ``cqnews\\.net/html/<yyyy-mm/dd>.*?/content_\\d+\\.s?html?`` with deny ``video, audio, search.php, zt``: the
  ``CpnewsSpider`` "华龙网" of a news_all project (same find_string). 18-digit ids since 2022
  (``/html/2022-04/28/content_969351981790801920.html``) and the news.cqnews.net form
  ``/1/detail/<id>/web/content_<id>.html`` (also ``.htm`` and an ``/app/`` twin of the same page): links quoted in
  public repositories (find_string "news.cqnews.net/1/detail/").
- Template: ``div.left_news > h1``, date in ``div.pl span.jiange3``, ``span.author`` "来源：", body ``#main_text`` /
  ``#_h5_content`` (``.wenziduanluo`` in older pages): the same spiders. A stored page of
  https://cq.cqnews.net/html/2021-05/08/content_51336527.html (pages corpus) shows "来源:华龙网-重庆日报2021-05-08".
- 区县 articles ``/cqqx/html/<yyyy-mm>/<dd>/content_<id>.htm`` (missed on the real homepage, issue 13) and
  ``https://cq.cqnews.net/cqqx/html/web/content_1507082492948443136.html`` (a table of district news sources in a
  public repository; find_string "cqnews.net/cqqx/html/"); 专题 articles ``/cqztlm/<date>/content_<id>.htm``
  (issue 13) and the TRS form ``http://cq.cqnews.net/cqztlm/sz/kxfzg/qgdt_kxfzg/200812/t20081222_2800937.htm``
  (a saved page; find_string "cqnews.net/cqztlm/").
Not confirmed: the list pagination ``col35734_2.htm`` (the CMS's ``_N`` convention, no source shows a page 2);
``sitemap_urls`` (no public source shows a sitemap or feed for cqnews.net; the fixture's robots.txt ``Sitemap:``
line, sitemap index and news sitemap are a convention, not a record).

Encoding: current pages UTF-8 (assumed: no public source states it); older ``.htm`` pages (2016) are served as GB2312
per the project brief, not confirmed by a public source. The fixture has one such GBK page.
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class CqnewsSpider(NewsSpider):
    name = "cqnews"
    site_title = "华龙网"
    # the hosts that hold news under these paths; v. (video) and app. (app shell) are not crawled
    allowed_domains = ["cq.cqnews.net", "news.cqnews.net", "www.cqnews.net", "car.cqnews.net"]
    start_urls = ["https://cq.cqnews.net/html/col35734.htm"]  # 重庆要闻
    sitemap_urls = ("https://www.cqnews.net/sitemap_index.xml",)  # unconfirmed, see docstring
    article_patterns = (
        r"^/(?:cqqx/)?html/(?:\d{4}-\d{2}/\d{2}|web)/content_\d+\.html?$",
        r"^/1/detail/\d+/(?:web|app)/content_\d+\.html?$",
        r"^/cqztlm/(?:[a-z_]+/)*(?:\d{4}-\d{2}/\d{2}|\d{6,8})/(?:content_\d+|t\d{8}_\d+)\.html?$",
    )
    listing_patterns = (r"^/(?:[a-z0-9]+/)*(?:col|node_)\d+(?:_\d+)?\.htm$",)
    deny_patterns = (r"^/search", r"(?:^|/)(?:zt|video|audio)/")
    body_selector = "#main_text, #_h5_content"

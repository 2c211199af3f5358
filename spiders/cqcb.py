"""上游新闻 / 重庆晨报 (www.cqcb.com): 栏目 /<column>/, articles /<column>/<yyyy-mm-dd>/<id>_pc.html.

Where the patterns come from (public code index):
- 栏目 ``/headline/`` (头条), ``/hot/`` (重庆), ``/highlights/``, ``/finance/``, ``/jiaoyu/``, ``/travel/``... and the
  article
  rule ``www.cqcb.com/.*?/<yyyy-mm>-\\d{2}/\\d+_pc.html`` (e.g. ``/headline/2019-06-24/1703121_pc.html``,
  ``/xindiaocha/redian/2019-06-24/1702461_pc.html``); title ``div.tile``, source/time ``div.post``, body
  ``div.content``:
  the ``CqcbAllSpider`` "重庆晨报" of a news_all project (find_string "www.cqcb.com/").
- Articles without ``_pc`` (``/shuzijingji/2023-03-17/5204026.html``), ``/headline/2018-01-16/640599_pc.html``,
  ``/reading/2017-03-05/267950_pc.html``, ``/shixiang/2026-05-20/6143485_pc.html``: links in public repositories (same
  find_string). ``/e/member/...`` and ``/newlist42.html`` from an iOS client of the site (Empire CMS paths).
- Hyphenated 栏目: ``http://www.cqcb.com/housing-market/`` (楼市) in the same news_all start list (find_string
  "cqcb.com/housing-market/"); its articles ``/housing-market/<yyyy-mm-dd>/<id>_pc.html`` were missed on the real
  homepage (issue 13), so column names may hold hyphens.
Not confirmed: list pagination ``index_2.html`` (Empire CMS's default naming, no source shows it for cqcb);
``sitemap_urls`` (no public source shows a sitemap or feed for cqcb.com; the fixture's is a convention).

Encoding: UTF-8 (assumed from the site's JSON/app API and current pages; no public source states it).
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class CqcbSpider(NewsSpider):
    name = "cqcb"
    site_title = "上游新闻"
    allowed_domains = ["www.cqcb.com"]
    start_urls = ["https://www.cqcb.com/hot/"]  # 重庆
    sitemap_urls = ("https://www.cqcb.com/sitemap.xml",)  # unconfirmed, see docstring
    article_patterns = (r"^/[a-z]+(?:-[a-z]+)*(?:/[a-z]+(?:-[a-z]+)*)?/\d{4}-\d{2}-\d{2}/\d+(?:_pc)?\.html$",)
    listing_patterns = (r"^/[a-z]+(?:-[a-z]+)*(?:/[a-z]+(?:-[a-z]+)*)?/(?:index(?:_\d+)?\.html)?$",
                        r"^/newlist\d+\.html$")
    deny_patterns = (r"^/(?:e|search|api|d|skin|about)/", r"video")
    body_selector = "div.content"

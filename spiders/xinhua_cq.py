"""新华网重庆频道 (cq.news.cn, www.cq.xinhuanet.com): articles .../c_<id>.htm and /<yyyymmdd>/<hex>/c.html.

Where the patterns come from (public code index):
- Old articles ``http://www.cq.xinhuanet.com/2017-12/10/c_1122086150.htm`` (body ``.news_main``),
  ``/2016-03/28/c_1118467794.htm`` (Tjatse/node-readability, test/*.js),
  ``http://cq.news.cn/2021-12/13/c_1128158554.htm``
  (find_string "cq.news.cn/").
- Current articles ``https://cq.news.cn/20260911/a132d50b3d3b4fe190793371ac27dae9/c.html`` and
  ``http://www.cq.xinhuanet.com/20260329/300eea2713c747efa3ecbdc2420801a8/c.html`` (links in public repositories).
- 栏目 ``http://www.cq.xinhuanet.com/zhengwu/gzdt.htm`` (政务·工作动态): a Java seed list (find_string
  "www.cq.xinhuanet.com/"). Pages are UTF-8: a Go crawler of the channel sets ``encode = "utf-8"`` (CQXinhuaObj).
- Multi-page articles: ``div#div_currpage`` holds the page links ("下一页") of ``c_<id>.htm``; the later pages are
  ``c_<id>_<n>.htm`` (autopager rule "新華網新聞頁面" and several scrapers that follow ``#div_currpage``; the ``_<n>``
  suffix is read from those scrapers' regexes, not from a stored page). Parts are not article URLs here: they belong
  to their first page.
- Body of the ``c_<id>.htm`` template: ``div.p-right > div#p-detail`` holding the ``<p>`` paragraphs after an
  empty ``div.video-url`` and the ``div.lb`` 图集 slot, on a real xinhuanet.com article page (GNE's saved page
  ``tests/xinhuanet/1.html``, copied to ``tests/fixtures/realpages/gne/tests/xinhuanet/1.html``); the current
  ``/<date>/<hex>/c.html`` template's ``#detail``/``#detailContent`` is from the scrapers above.
Not confirmed: list pagination ``gzdt_2.htm``; ``feed_urls`` (xinhuanet.com publishes RSS such as
``www.xinhuanet.com/politics/news_politics.xml`` and ``rss.htm``, but no source shows a feed of the Chongqing channel;
the fixture's ``/rss/cqyw.xml`` is a convention); no sitemap is known.
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class XinhuaCqSpider(NewsSpider):
    name = "xinhua_cq"
    site_title = "新华网重庆频道"
    allowed_domains = ["cq.news.cn", "www.cq.xinhuanet.com", "cq.xinhuanet.com"]
    start_urls = ["http://www.cq.xinhuanet.com/zhengwu/gzdt.htm"]  # 政务·工作动态
    feed_urls = ("http://www.cq.xinhuanet.com/rss/cqyw.xml",)  # unconfirmed, see docstring
    article_patterns = (
        r"^/\d{4}-\d{2}/\d{2}/c_\d+\.htm$",
        r"^/\d{8}/[0-9a-f]{32}/c\.html$",
    )
    listing_patterns = (r"^/[a-z]+/[a-z]+(?:_\d+)?\.htm$",)
    deny_patterns = (r"^/search",)
    body_selector = "#p-detail, #detailContent, #detail, .news_main"

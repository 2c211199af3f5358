"""视界网 / 重庆网络广播电视台 (www.cbg.cn): lists /list/<cat>/<n>.html, articles /a/<cat>/<date>/<hex>.html.

Where the patterns come from (public code index):
- 重庆新闻 list ``https://www.cbg.cn/list/705/1.html``, its articles
  ``https://www.cbg.cn/a/705/20260514/7f54fb3d3c264d20accf79f6447a2be5.html`` and the article regex
  ``cbg\\.cn/a/\\d+/\\d{8}/[a-f0-9]+\\.html``: a vitest suite of a list-scraper adapter
  ("handles nested markdown ... e.g. cbg.cn"; find_string "cbg.cn/list/").
- Paged lists ``/list/4904/{page}.html`` and ``/list/4928/{page}.html`` (重庆新闻联播), items in
  ``ul.news-list li`` with ``span.time``, decoded as UTF-8: two requests/BeautifulSoup scripts in the index.
- Another real article: https://www.cbg.cn/a/77561/20260214/7b37135efeb74f0fbbaf272a9b7f6ae0.html
  (ruanyf/weekly, docs/issue-388.md, the 封面图 "via" link).

- cqwmsj.cbg.cn serves articles in the same ``/a/<cat>/<date>/<hex>.html`` scheme (as reported in the
  project's issue 13; no public source in the code index shows one): it is crawled as a second exact host.

Pages are UTF-8. Only www.cbg.cn and cqwmsj.cbg.cn are crawled: sj.cbg.cn (手机台), rmtapi.cbg.cn (app API)
and cmsimg.cbg.cn (images) are other hosts. No body selector: no public source confirms the article container's class.
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class CbgSpider(NewsSpider):
    name = "cbg"
    site_title = "视界网（重庆网络广播电视台）"
    allowed_domains = ["www.cbg.cn", "cqwmsj.cbg.cn"]
    start_urls = ["https://www.cbg.cn/list/705/1.html"]  # 重庆新闻
    article_patterns = (r"^/a/\d+/\d{8}/[0-9a-f]+\.html$",)
    listing_patterns = (r"^/list/\d+/\d+\.html$",)
    deny_patterns = (r"^/search/",)

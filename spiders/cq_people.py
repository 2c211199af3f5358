"""人民网重庆频道 (cq.people.com.cn): 栏目 lists /GB/<node>/, articles /n2/<yyyy>/<mmdd>/c<node>-<id>.html.

Where the patterns come from (public scrapers of people.com.cn, in the code index):
- 栏目 pages ``/GB/365401/367673/index.html`` (重庆_原创), ``/GB/365402/`` (新闻), ``/GB/365411/`` (区县),
  ``/GB/365403/``, ``/GB/365405/``, ``/GB/365408/``: BlueJillYang/Scrapy_spiders,
  guangming/spiders/people_news_01.py (start_urls).
- Provincial articles ``/n2/\\d{4}/\\d{4}/c`` and next pages ``index\\d+\\.html$`` (index.html is index1.html,
  then index2.html ...): the hb.people.com.cn CrawlSpider rules (find_string "n2/\\d{4}/\\d{4}/c"); paged
  ``sports.people.com.cn/GB/22149/index2.html`` in a WebMagic processor of the same index.
- Real URLs of this channel: /n2/2018/1102/c365401-32235920.html, /n2/2021/0728/c367640-34839999.html,
  /n2/2026/0606/c365402-41603081.html (cq.people.com.cn links quoted in public repositories).
- Body: ``div.box_con#rwb_zw`` (2020 template) or ``div.rm_txt_con`` (current template), the containers
  people.com.cn scrapers read (e.g. ``_extract_paragraphs`` candidates, ``PROFILE_SELECTORS``); on a real
  people.com.cn article (GNE's saved page ``tests/people/1.html``, in ``tests/fixtures/realpages/gne/tests/people/``)
  it sits in ``div.text_con > div.text_con_left`` beside ``#rwb_xgxw`` (相关新闻), ``#rwb_tjyd`` and ``#rwb_jctj``.

Pages are GB2312/GBK (``<meta http-equiv="content-type" content="text/html;charset=GB2312"/>``, same charset
in the header). One article can sit under several column nodes (c365401-X and c367673-X).
"""
from __future__ import annotations

from cqnews.spiders.base import NewsSpider


class CqPeopleSpider(NewsSpider):
    name = "cq_people"
    site_title = "人民网重庆频道"
    allowed_domains = ["cq.people.com.cn"]
    start_urls = [
        "http://cq.people.com.cn/GB/365401/index.html",  # 重庆要闻
        "http://cq.people.com.cn/GB/365411/index.html",  # 区县
    ]
    article_patterns = (r"^/n2/\d{4}/\d{4}/c\d+-\d+\.html$",)
    listing_patterns = (r"^/GB/\d+(?:/\d+)*/(?:index\d*\.html)?$",)
    deny_patterns = (r"^/search/",)
    body_selector = "#rwb_zw, div.rm_txt_con"

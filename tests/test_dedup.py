"""DedupPipeline: a page met twice in one crawl is stored once; the same URL with changed text, or the same text
under another URL, is not a repeat. Synthetic items, in-process."""
from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from cqnews.extraction.extracted import Extracted
from cqnews.items import Article, RawPage
from cqnews.pipelines.dedup import DedupPipeline
from cqnews.stats import DEDUP_REPEAT_IN_CRAWL


def _article(url: str, text: str) -> Article:
    page = RawPage(site="cq_people", url=url, status=200, headers={}, body=text.encode())
    return Article(page=page, extracted=Extracted(text=text, title="标题"), canonical_url=url, extractor_version="t")


def test_a_repeat_in_one_crawl_is_dropped_and_counted_and_nothing_else_is() -> None:
    stats = MemoryStatsCollector(get_crawler())
    dedup = DedupPipeline(stats)
    first = "重庆市民出行更便捷。" * 20
    dedup.process_item(_article("http://cq.people.com.cn/n2/1.html", first))
    dedup.process_item(_article("http://cq.people.com.cn/n2/1.html", first + "更新"))  # changed text: kept
    dedup.process_item(_article("http://cq.people.com.cn/n2/2.html", first))  # another URL: the archive's call
    with pytest.raises(DropItem):
        dedup.process_item(_article("http://cq.people.com.cn/n2/1.html?spm=1", first))  # the same page again
    assert stats.get_value(DEDUP_REPEAT_IN_CRAWL) == 1

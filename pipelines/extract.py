"""ExtractPipeline: a RawPage becomes an Article, or is dropped with a counted reason.

A page the archive already holds unchanged (``not_modified``) passes through unextracted: the store only
records the visit. The further pages of a multi-page article add their body text to the first page's.
"""
from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from items import Article, RawPage
from pipelines.article import EXTRACTOR_VERSION, NotAnArticle, extract_article
from urls import canonical_url


class ExtractPipeline:
    def __init__(self, stats: StatsCollector, min_chars: int) -> None:
        self.stats = stats
        self.min_chars = min_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler.settings.getint("CQNEWS_MIN_TEXT_CHARS", 60))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        if item.not_modified:
            self.stats.inc_value("cqnews/extract/skipped_not_modified")
            return item
        try:
            extracted = extract_article(
                item.body,
                url=item.url,
                content_type=item.content_type,
                body_selector=item.body_selector,
                min_chars=self.min_chars,
            )
        except NotAnArticle as exc:
            self.stats.inc_value(f"cqnews/extract/rejected/{exc.reason}")
            self.stats.inc_value("cqnews/extract/rejected")
            raise DropItem(f"not an article ({exc.reason}): {item.url}", log_level="INFO") from exc
        if item.parts:
            extracted.text = "\n".join([extracted.text, *self._part_texts(item)])
        self.stats.inc_value("cqnews/extract/ok")
        if extracted.encoding_overridden:
            self.stats.inc_value("cqnews/extract/encoding_overridden")
        if extracted.replacement_chars:  # bytes that decoded to U+FFFD: a page worth a look
            self.stats.inc_value("cqnews/extract/replacement_chars", extracted.replacement_chars)
            self.stats.inc_value("cqnews/extract/pages_with_replacement_chars")
        return Article(
            page=item,
            extracted=extracted,
            canonical_url=canonical_url(item.url),
            extractor_version=EXTRACTOR_VERSION,
        )

    def _part_texts(self, page: RawPage) -> list[str]:
        texts = []
        for url, body in page.parts:
            try:
                texts.append(extract_article(body, url=url, content_type=page.content_type,
                                             body_selector=page.body_selector, min_chars=1).text)
            except NotAnArticle as exc:
                self.stats.inc_value(f"cqnews/extract/part_rejected/{exc.reason}")
        return texts

from __future__ import annotations

import pytest

from cqnews.urls import canonical_url, url_key


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://CQ.People.com.cn/n2/2020/0508/c365401-33998868.html", "http://cq.people.com.cn/n2/2020/0508/c365401-33998868.html"),
        ("http://cq.people.com.cn/n2/a.html?utm_source=wx&utm_medium=x#comments", "http://cq.people.com.cn/n2/a.html"),
        ("https://www.cbg.cn/a.html?from=timeline&isappinstalled=0", "https://www.cbg.cn/a.html"),
        ("https://www.cbg.cn/show.php?id=9&b=2", "https://www.cbg.cn/show.php?b=2&id=9"),
    ],
)
def test_canonical_url_drops_tracking_and_fragments(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_article_ids_in_the_query_are_kept() -> None:
    assert "aid=123" in canonical_url("http://example.cn/article.php?aid=123&utm_campaign=x")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://www.cbg.cn/news/", "https://www.cbg.cn/news/index.html"),
        ("http://cq.people.com.cn/n2/a.html", "https://cq.people.com.cn/n2/a.html#top"),
        ("http://cq.people.com.cn/", "http://cq.people.com.cn/index.shtml"),
    ],
)
def test_variants_of_one_page_share_a_key(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


def test_different_pages_keep_different_keys() -> None:
    assert url_key("http://cq.people.com.cn/n2/a.html") != url_key("http://cq.people.com.cn/n2/b.html")
    assert url_key("http://x.cn/show.php?id=1") != url_key("http://x.cn/show.php?id=2")

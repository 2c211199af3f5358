"""The person rules every author passes (extraction/person.py): synthetic strings, then every dev page."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cqnews.extraction.article import NotAnArticle, extract_article
from cqnews.extraction.person import check_author, is_person, strip_controls

from helpers import dev_pages


@pytest.mark.parametrize("name", ["王明", "欧阳小红", "zboygirl", "放飞&心情", "安东尼·布朗", "茉莉", "张三 李四"])
def test_names_and_pen_names_are_people(name: str) -> None:
    assert is_person(name)


@pytest.mark.parametrize(
    "junk",
    ["105092", "查看评论", "展开", "来自iPhone客户端", "相关推荐", "商讯", "网络整理", "访问统计", "admin", "",
     "2019-09-09", "【点击查看】", "这是一个很长很长的不像名字的句子片段吧"],
)
def test_ids_ui_words_and_fragments_are_not_people(junk: str) -> None:
    assert check_author(junk).author is None


@pytest.mark.parametrize("outlet", ["网易", "新京报", "新浪财经-自媒体综合", "参考消息", "华龙网", "重庆日报"])
def test_an_outlet_is_refused_and_handed_back_as_a_source(outlet: str) -> None:
    verdict = check_author(outlet)
    assert verdict.author is None and verdict.outlet == outlet


def test_the_page_title_is_not_an_author() -> None:
    assert check_author("重庆火锅节开幕", title="重庆火锅节开幕").author is None
    assert check_author("王文", title="王文：中美贸易持久战").author == "王文"


def test_role_labels_are_dropped_and_one_bad_name_refuses_the_candidate() -> None:
    assert check_author("观察者网专栏作者 王文").author == "王文"
    assert check_author("职工 李琴雯 刘会").author == "李琴雯 刘会"
    assert check_author("陈智 整合").author == "陈智"
    assert check_author("综合").author is None
    assert check_author("王明 网易").author is None


def test_a_photographer_is_the_author_only_when_nobody_else_is_credited() -> None:
    assert check_author("黎旭阳 李妍摄").author == "黎旭阳"
    assert check_author("黎旭阳、李妍摄").author == "黎旭阳 李妍"
    assert check_author("刘关关摄").author == "刘关关"


def test_a_spaced_out_two_character_name_is_joined() -> None:
    assert check_author("赵 培").author == "赵培"


def test_control_characters_are_stripped_but_newline_and_tab_kept() -> None:
    assert strip_controls("a\x1b[31mb\x07c\x9bd\te\nf\x00") == "a[31mbcd\te\nf"


@pytest.mark.parametrize("page", dev_pages(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_author_given_on_a_dev_page_is_a_person(page: Path) -> None:
    body = page.read_bytes()
    try:
        extracted = extract_article(gzip.decompress(body) if page.suffix == ".gz" else body)
    except NotAnArticle:
        return  # no article, no author
    if extracted.author is not None:
        assert is_person(extracted.author, extracted.title), extracted.author
        assert extracted.author != extracted.source

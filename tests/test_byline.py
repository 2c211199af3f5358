"""Bylines where Chinese pages put them (extraction/byline.py and the author chain of extract_article).

Every page here is synthetic (a template with one byline shape each, labelled with the author a reader sees),
except the real dev page named where it is used (fixtures/realpages/README.md, devsets/).
"""
from __future__ import annotations

import gzip

import pytest

from cqnews.extraction import byline
from cqnews.extraction.article import extract_article

from helpers import REALPAGES

_PARAGRAPH = "重庆市轨道交通九号线一期工程已完成全部隧道贯通，计划年内开通运营，沿线市民出行将更加便捷。"


def _page(header: str = "", first: str = "", last: str = "", title: str = "九号线一期工程隧道全线贯通") -> bytes:
    paragraphs = "".join(
        f"<p>{first if i == 0 else ''}{_PARAGRAPH}{last if i == 4 else ''}</p>" for i in range(5)
    )
    return (
        f"<html><head><title>{title}_华龙网</title></head><body><div><a href='/'>首页</a></div>"
        f"<h1>{title}</h1>{header}<div class='content'>{paragraphs}</div>"
        "<div><a href='/a'>相关新闻一</a></div></body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("page", "author"),
    [
        (_page("<div>王明</div><div>2024-04-24 10:30</div>"), "王明"),  # a name alone under the headline
        (_page("<p>2024-04-24</p>", first="新华社重庆6月1日电（记者 李四）"), "李四"),
        (_page("<p>2024-04-24</p>", first="新华社重庆6月1日电（记者 李四、王五）"), "李四 王五"),
        (_page("<p>2024-04-24</p>", last="（王明 重庆报道）"), "王明"),
        (_page("<p>2024-04-24</p>", last="（本报记者 王明 北京报道）"), "王明"),
        (_page("<p>2024-04-24</p>", last="（华龙网记者 王明 李四 重庆报道）"), "王明 李四"),
        (_page("<p>2024-04-24</p>", last="（记者 张三 通讯员 李四）"), "张三 李四"),
        (_page("<p>2024-04-24 执笔人：陈晓</p>"), "陈晓"),
        (_page("<p>2024-04-24 文/刘小明</p>"), "刘小明"),
        (_page("<p>撰文 | 刘小明</p><p>2024-04-24</p>"), "刘小明"),
        (_page("<div>江湖浪子 发表于 2011-03-04 10:22</div>"), "江湖浪子"),
        (_page("<div>本贴由江湖浪子于2011年3月4日10:22发表</div>"), "江湖浪子"),
        (_page("<p>2024-04-24 10:30 记者 张三、李四、王五</p>"), "张三 李四 王五"),
        (_page("<p>2024-04-24 作者：安东尼（Anthony Brown）</p>"), "安东尼"),
    ],
)
def test_byline_shapes(page: bytes, author: str) -> None:
    assert extract_article(page).author == author


def test_a_photographer_is_never_the_author_when_a_writer_is_credited() -> None:
    page = _page("<p>2024-04-24 10:30</p><p>图为九号线隧道。记者 崔力 摄</p>", last="（记者 张三）")
    assert extract_article(page).author == "张三"


def test_a_photographer_alone_is_credited_as_the_author() -> None:
    assert extract_article(_page("<p>2024-04-24 10:30 本组图片均由记者 崔力 摄</p>")).author == "崔力"


@pytest.mark.parametrize("junk", ["<div>查看评论</div>", "<div>展开</div>", "<meta name='author' content='105092'>"])
def test_ui_words_and_cms_ids_give_no_author(junk: str) -> None:
    assert extract_article(_page(junk + "<div>2024-04-24 10:30</div>")).author is None


def test_an_outlet_in_the_author_meta_becomes_the_source() -> None:
    page = _page().replace(b"<head>", b"<head><meta name='author' content='\xe7\xbd\x91\xe6\x98\x93'>")  # 网易
    extracted = extract_article(page)
    assert extracted.author is None and extracted.source == "网易"


def test_closing_report_takes_the_last_signature() -> None:
    assert byline.closing_report("正文。\n（张三 重庆报道）\n（李四 北京报道）") == "李四"
    assert byline.closing_report("正文里没有署名。") is None


def test_post_author_reads_forum_and_blog_headers() -> None:
    assert byline.post_author("楼主：老渝 发表于：2011-05-06 08:00") == "老渝"
    assert byline.post_author("本帖由山城棒棒军于2012-1-2 10:00发表") == "山城棒棒军"
    assert byline.post_author("本帖最后由山城棒棒军于2012-1-2 10:00编辑") is None


@pytest.mark.parametrize(
    ("title", "owner"),
    [("海姑娘 | blog.example.com", "海姑娘"), ("重庆的雾_山城老王_新浪博客", "山城老王"), ("老渝的博客", "老渝"),
     ("九号线贯通_华龙网", None), ("重庆新闻 | www.example.com", None)],
)
def test_blog_owner_from_a_blog_hosts_title(title: str, owner: str | None) -> None:
    assert byline.blog_owner(title) == owner


def test_an_editor_credited_alone_is_the_author_and_stays_the_editor() -> None:
    extracted = extract_article(_page("<p>2024-04-24 10:30</p>", last="</p><p>来源：重庆日报　编辑：苏亮"))
    assert (extracted.author, extracted.editor, extracted.source) == ("苏亮", "苏亮", "重庆日报")


def test_an_editor_is_not_the_author_when_a_writer_is_credited() -> None:
    extracted = extract_article(_page("<p>2024-04-24 10:30 记者 张三</p>", last="</p><p>（责任编辑：魏喆）"))
    assert (extracted.author, extracted.editor) == ("张三", "魏喆")


def test_a_whole_link_is_navigation_not_a_byline() -> None:
    """A forum's board list names a board 记者江湖: a link, not a reporter called 江湖."""
    nav = "".join(f"<li><a href='/b/{i}'>{board}</a></li>" for i, board in enumerate(["情感空间", "记者江湖", "体育"]))
    assert extract_article(_page(f"<ul>{nav}</ul><div>2024-04-24 10:30</div>")).author is None


def test_copyright_owner_names_a_personal_blogs_owner() -> None:
    assert byline.copyright_owner("正文。\nPowered by:\nCopyright © 李建忠") == "李建忠"
    assert byline.copyright_owner("Copyright © 2003 Yahoo! Holdings (Hong Kong) Limited. 版权所有") is None
    assert byline.copyright_owner("版权所有 华龙网") is None


def test_a_blog_sidebar_that_heads_its_boxes_with_a_name_names_the_owner() -> None:
    """Real page: a 多维博客 post (zh-dev cwced-35687fb1) whose only credit is the sidebar's
    "[太小心]个人类别", "[太小心]存档目录", "对[太小心]文章的最新评论" (labelled by reading it)."""
    page = gzip.decompress((REALPAGES / "devsets" / "zh-dev" / "cwced-35687fb1.html.gz").read_bytes())
    assert extract_article(page).author == "太小心"


def test_one_bracketed_heading_is_not_a_blog_owner() -> None:
    """Synthetic: a feed's "[组图]最新文章" once, or two different bracketed names, name nobody."""
    assert byline.sidebar_owner("[王明]个人类别\n[王明]存档目录") == "王明"
    assert byline.sidebar_owner("正文\n[组图]最新文章\n正文") is None
    assert byline.sidebar_owner("[王明]个人类别\n[王明]存档目录\n[李四]最新文章\n[李四]个人链接") is None
    assert byline.sidebar_owner("[王明]个人类别是一个很长的标题，不是栏目名\n[王明]存档目录") is None

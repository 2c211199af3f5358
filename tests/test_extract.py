"""Extraction: decoding, Chinese metadata rules, boilerplate removal, and the extract_article contract."""
from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import lxml.html
import pytest

from cqnews.demo import SITES as DEMO_SITES
from cqnews.extraction import chinese
from cqnews.extraction.article import (
    NotAnArticle,
    _link_bigrams,
    _with_dropped_paragraphs,
    _without_side_cells,
    extract_article,
    extract_file,
)
from cqnews.extraction.decode import decode_html
from cqnews.extraction.version import EXTRACTOR_VERSION

from helpers import REALPAGES, realpage_labels

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
BODY_PHRASE = "轨道交通九号线一期工程已完成全部隧道贯通"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# -- decoding ------------------------------------------------------------------------------------------


def test_gb2312_page_declared_gb2312_decodes_as_gb18030() -> None:
    decoded = decode_html(fixture("gb2312_declared_gb2312.html"))
    assert decoded.encoding == "gb18030"
    assert decoded.declared == "gb18030"
    assert not decoded.overridden
    assert BODY_PHRASE in decoded.text
    assert decoded.replacement_chars == 0


def test_utf8_page_declared_gb2312_is_read_as_utf8() -> None:
    decoded = decode_html(fixture("utf8_declared_gb2312.html"))
    assert decoded.encoding == "utf-8"
    assert decoded.overridden
    assert BODY_PHRASE in decoded.text


def test_gbk_page_with_utf8_header_is_read_as_gb18030_including_non_gb2312_characters() -> None:
    decoded = decode_html(fixture("gbk_no_meta.html"), "text/html; charset=utf-8")
    assert decoded.declared == "utf-8"
    assert decoded.encoding == "gb18030"
    assert decoded.overridden
    assert "朱镕" in decoded.text and "王喆" in decoded.text
    assert decoded.replacement_chars == 0


def test_header_charset_wins_over_meta_when_the_bytes_agree() -> None:
    body = '<html><head><meta charset="utf-8"></head><body><p>重庆新闻</p></body></html>'.encode("gbk")
    decoded = decode_html(body, "text/html; charset=GBK")
    assert decoded.encoding == "gb18030" and "重庆新闻" in decoded.text


def test_big5_traditional_page() -> None:
    decoded = decode_html(fixture("big5_traditional.html"))
    assert decoded.encoding.startswith("big5")
    assert "臺北市政府交通局" in decoded.text
    assert decoded.replacement_chars == 0


def test_undeclared_big5_is_not_mistaken_for_gb18030() -> None:
    raw = fixture("big5_traditional.html").replace(b"charset=big5", b"")
    decoded = decode_html(raw)
    assert "臺北市政府交通局" in decoded.text


def test_bom_wins_over_declarations() -> None:
    body = b"\xef\xbb\xbf" + '<html><head><meta charset="gbk"></head><body>重庆</body></html>'.encode()
    decoded = decode_html(body, "text/html; charset=gbk")
    assert decoded.encoding == "utf-8" and decoded.overridden and "重庆" in decoded.text


def test_a_stray_bad_byte_keeps_the_declared_charset_and_is_counted() -> None:
    good = ("<html><body><p>" + "重庆市交通局召开新闻发布会。" * 80 + "</p></body></html>").encode("gbk")
    at = len(b"<html><body><p>") + 2 * 10  # on a character boundary
    decoded = decode_html(good[:at] + b"\xff0" + good[at + 2 :], "text/html; charset=gbk")
    assert decoded.encoding == "gb18030"
    assert decoded.replacement_chars == 1


@pytest.mark.parametrize(
    ("opening", "author"),
    [
        ("人民网重庆5月8日电（胡虹）8日，中国共产党重庆市渝北区委员会召开全会。", "胡虹"),
        ("本报讯（记者 周立）5月10日，记者从市住房城乡建委获悉。", "周立"),
        ("新华社重庆12月10日电（记者 赵宇飞、李四 通讯员 王五）在重庆市潼南区。", "赵宇飞 李四 王五"),
        ("本报讯（重庆日报）5月10日，记者获悉。", None),
        ("中新网5月8日电 据报道，重庆市今日发布通知。", None),
    ],
)
def test_dateline_names_the_reporters(opening: str, author: str | None) -> None:
    assert chinese.dateline_author(opening) == author


def test_closing_signature_must_be_a_person() -> None:
    assert chinese.signature(f"{PROSE}\n（袁源）") == "袁源"
    assert chinese.signature("美女如何与车亲密接触，赛纳、中华狂降4万元(汽车)") is None


def test_only_the_first_of_several_blog_posts_is_kept() -> None:
    posts = [f"第{i}篇博文 | 2005-06-1{i} 03:25:55\n{PROSE * 3}" for i in range(1, 5)]
    assert chinese.first_post("\n".join(posts)) == posts[0]
    article = f"2020-05-08 18:43 来源：华龙网\n{PROSE * 3}\n相关新闻\n·重庆启动防汛演练（2020-05-07 10:00）"
    assert chinese.first_post(article) == article


def test_layout_table_page_keeps_the_prose_cell_only() -> None:
    links = "".join(f'<a href="/n/{i}.html">重庆第{i}条推荐新闻标题来了</a><br>' for i in range(40))
    paragraphs = "".join(f"<p>{PROSE}这是第{i}段。</p>" for i in range(8))
    page = (
        f"<html><body><table><tr><td>{links}</td><td><b>重庆轨道交通新线开通</b>{paragraphs}"
        f"<p>编辑：王五</p><table><tr><td>{links}</td></tr></table></td></tr></table></body></html>"
    ).encode()
    art = extract_article(page)
    assert art.text.count(PROSE) == 8 and "推荐新闻" not in art.text and art.editor == "王五"


# -- Chinese metadata rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间：2020年05月08日 18:43", datetime(2020, 5, 8, 18, 43)),
        ("2020-05-08 18:43 来源：华龙网", datetime(2020, 5, 8, 18, 43)),
        ("2020/5/8", datetime(2020, 5, 8)),
        ("2020年5月8日下午3:05", datetime(2020, 5, 8, 15, 5)),
    ],
)
def test_dates_in_text_are_aware_shanghai_times(text: str, expected: datetime) -> None:
    value = chinese.date_from_text(text)
    assert value is not None
    assert value.replace(tzinfo=None) == expected
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 8 * 3600


def test_date_before_the_title_is_site_chrome() -> None:
    page = "今天是2024年4月24日 星期三\n重庆轨道交通新线开通\n2020-05-08 18:43 来源：华龙网\n正文"
    value = chinese.date_from_text(page, anchor=page.index("重庆轨道"))
    assert value is not None and value.date().isoformat() == "2020-05-08"


def test_impossible_and_future_dates_are_ignored() -> None:
    assert chinese.date_from_text("2020年13月45日") is None
    assert chinese.date_from_text("2099-01-01 10:00") is None


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("http://cq.people.com.cn/n2/2020/0508/c365401-33.html", "2020-05-08"),
        ("http://www.news.cn/fortune/2023-11/17/c_1129981476.htm", "2023-11-17"),
        ("https://china.chinadaily.com.cn/a/202311/17/WS6557.html", "2023-11-17"),
        ("https://example.cn/news/20200508/123.shtml", "2020-05-08"),
    ],
)
def test_date_from_url_path(url: str, day: str) -> None:
    value = chinese.date_from_url(url)
    assert value is not None and value.date().isoformat() == day


def test_date_from_url_without_date_is_none() -> None:
    assert chinese.date_from_url("https://example.cn/news/123456.html") is None


def test_date_from_jsonld_and_meta() -> None:
    import lxml.html

    tree = lxml.html.document_fromstring(
        '<html><head><script type="application/ld+json">{"@type":"NewsArticle",'
        '"datePublished":"2021-06-01T08:30:00+08:00"}</script></head><body><p>x</p></body></html>'
    )
    assert chinese.date_from_metadata(tree) == datetime(2021, 6, 1, 8, 30, tzinfo=chinese.SHANGHAI)
    tree = lxml.html.document_fromstring(
        '<html><head><meta name="publishdate" content="2019-02-03"></head><body><p>x</p></body></html>'
    )
    value = chinese.date_from_metadata(tree)
    assert value is not None and value.date().isoformat() == "2019-02-03" and value.tzinfo is not None


def test_byline_keeps_author_source_and_editor_apart() -> None:
    found = chinese.find_byline(["2020年05月08日 18:43 来源：华龙网 作者：张三 李四", "责任编辑：王五"])
    assert found == chinese.Byline(author="张三 李四", source="华龙网", editor="王五")


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("本报记者 陈静", "陈静"),
        ("文/刘洋", "刘洋"),
        ("作者：赵延东、风笑天", "赵延东 风笑天"),
        ("（通讯员 黄宇）", "黄宇"),
        ("作者【张三】 2024-04-24", "张三"),
        ("作者[太小心]自己发表的最新评论", "太小心"),
        ("0 条评论| 作者魏星", "魏星"),
        ("原创： 路闻卓立编译 人民币交易与研究", "路闻卓立"),
        ("原创：张三 重庆发布", "张三"),
    ],
)
def test_author_labels(line: str, author: str) -> None:
    assert chinese.find_byline([line]).author == author


def test_a_label_run_into_prose_names_no_author() -> None:
    assert chinese.find_byline(["作者认为这种说法"]).author is None
    assert chinese.find_byline(["| 作者认为"]).author is None
    assert chinese.find_byline(["原创： 人民币交易与研究"]).author is None


def test_source_naming_a_person_becomes_the_author() -> None:
    found = chinese.find_byline(["来源: 尹娟"])
    assert found.author == "尹娟" and found.source is None
    assert chinese.find_byline(["来源：重庆日报"]).author is None


def test_editor_is_not_taken_as_author() -> None:
    found = chinese.find_byline(["责编：王五"])
    assert found.author is None and found.editor == "王五"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("重庆发布新规_人民网", "重庆发布新规"),
        ("重庆发布新规-华龙网", "重庆发布新规"),
        ("重庆发布新规--重庆频道--人民网", "重庆发布新规"),
        ("重庆发布新规 | 新华网", "重庆发布新规"),
        ("中美合作共赢-新闻-中国日报网 chinadaily.com.cn", "中美合作共赢"),
        ("一带一路-沿线国家合作成果丰硕", "一带一路-沿线国家合作成果丰硕"),
        ("多维博客 » 播客热潮迅速蔓延 挑逗传统传媒业", "播客热潮迅速蔓延 挑逗传统传媒业"),
        ("张三 » 李四的故事", "张三 » 李四的故事"),
    ],
)
def test_title_without_site_suffix(raw: str, clean: str) -> None:
    assert chinese.clean_title(raw) == clean


def test_title_prefers_heading_that_starts_the_title() -> None:
    heading = "两江新区 - 产业新政出台"
    assert chinese.clean_title(f"{heading}_重庆日报", [heading]) == heading


def test_a_site_name_after_a_space_gives_way_to_the_heading() -> None:
    heading = "我院举办专业技能大赛"
    assert chinese.clean_title(f"{heading} 湖南省中医药研究院附属医院", [heading]) == heading
    # a heading that is only the start of a longer sentence-like title is not the title
    assert chinese.clean_title(f"{heading} 全院职工参加，共评出十个奖项", [heading]) == (
        f"{heading} 全院职工参加，共评出十个奖项"
    )


def test_a_headline_in_a_title_box_gives_the_title() -> None:
    """Real pages (GNE zyyfy/1, cmse/1): the headline is a <div class="title">, the <title> adds the site's
    name after a space or an underscore."""
    record = extract_file(str(REALPAGES / "gne/tests/zyyfy/1.html"))
    assert record["title"] == "【不忘初心 牢记使命】我院医技药剂党支部举办2019年中药、药学理论知识与专业技能大赛"


# -- boilerplate ---------------------------------------------------------------------------------------

PROSE = "重庆市交通局召开新闻发布会，介绍今年主城区轨道交通建设的最新进展。"


@pytest.mark.parametrize(
    "junk",
    [
        "责任编辑：王五",
        "编辑：李四",
        "来源：重庆日报",
        "分享到：微信 微博 QQ空间",
        "扫一扫，关注我们的微信公众号",
        "重庆 | 万州 | 涪陵 | 渝中 | 大渡口 | 江北 | 沙坪坝",
        "来源于：东区办事处",
        "现在位置： 首页 >> 东区新闻 >> 正文",
        "首页 > 新闻中心 > 正文",
        "发布日期：2019-03-06 责任编辑：龙慧",
        # zh-dev cwced-0ef8393b: a date label whose value the page never printed
        "发表时间：",
        # zh-dev cwced-35687fb1: a WordPress blog's footer of counters and trackback
        "(本文发表于首页批评与建议, 已被阅读178次)",
        "本文通告引用(Trackback)链接: /wp-trackback.php?p=1700",
        "《播客热潮迅速蔓延 挑逗传统传媒业》已有1件评论",
        # zh-dev cwced-3e1af229: a print edition's credit (the source, not the body)
        "《光明日报》（ 2022年02月13日 02版）",
    ],
)
def test_boilerplate_lines_are_dropped(junk: str) -> None:
    cleaned = chinese.strip_boilerplate(f"{PROSE}\n{junk}\n{PROSE}")
    assert junk not in cleaned
    assert cleaned.count(PROSE) == 2


def test_copyright_block_and_everything_after_it_is_cut() -> None:
    text = f"{PROSE}\n版权声明：本网所有作品未经授权不得转载。\n违者依法追究。\n{PROSE}"
    assert chinese.strip_boilerplate(text) == PROSE


@pytest.mark.parametrize("head", ["相关新闻", "头图推荐", "图片新闻", "热点推荐"])
def test_recommendation_lists_are_dropped(head: str) -> None:
    text = f"{PROSE}\n{head}\n重庆启动夏季防汛演练\n两江新区新建三所学校\n"
    assert chinese.strip_boilerplate(text) == PROSE


@pytest.mark.parametrize(
    "tail",
    [
        "跟贴热词：\n网友评论仅供其表达个人看法，并不表明网易立场。",
        "| 热门评论 |\n| lr9111[219.130.79.*] 认为： |  |\n| 赞同楼上所说的，其实很多东西都是中国制造的。 |  |",
        "48小时评论排行\n- 收评：沪指暴跌失守3700 评论19064条\n- 券商赴证监会开会 评论9488条",
        "关键词阅读：\n证监会\n- 证监会已查明6起编造虚假信息案 2015/07/03",
    ],
)
def test_comment_boxes_and_keyword_feeds_end_the_article(tail: str) -> None:
    assert chinese.strip_boilerplate(f"{PROSE}\n{tail}") == PROSE


@pytest.mark.parametrize(
    "junk",
    [
        "2015-07-03 16:46:00\u3000来源:\n上海证券报·中国证券网(上海)",  # a credit whose value is on the next line
        "报纸网 |发布: 2021-1-29 13:18|点击: 313|来自: 互联网",  # a meta row
        "发表于 2004年12月27日 12:40 - (阅读:3727;评论:63)",  # a post footer with counters
        "| December 2006 |  |  |  |  |  |  |",  # a layout row: one label among empty cells
        "| [查看我的博客目录] [加入个人书签] |",  # bracketed UI links
        # above the body of a real page (zh-dev cwced-2bac7fb2): a date with its time and a credit, and a pager
        "2005-04-05 06:40更新 来源：转载文章",
        "第1页/共1页",
    ],
)
def test_credits_meta_rows_and_layout_rows_are_dropped(junk: str) -> None:
    assert chinese.strip_boilerplate(f"{PROSE}\n{junk}\n{PROSE}") == f"{PROSE}\n{PROSE}"


def test_a_data_table_and_a_copyright_cell_above_the_prose_are_kept_apart() -> None:
    """A table layout renders its footer cell first: above any prose it is dropped, not the article's end;
    a data table's rows with several filled cells stay."""
    rows = "| 02中国古代音乐史 | 秦 序 |  | 同上 |  |"
    text = f"|  | Copyright © 2000-2006 CL2000.com. All rights reserved. |  |\n{PROSE}\n{rows}"
    assert chinese.strip_boilerplate(text) == f"{PROSE}\n{rows}"


def test_a_paragraph_with_keyword_links_is_kept_whole() -> None:
    """Synthetic 163-style page: one paragraph whose keywords are links, then a feed; the paragraph is one
    unit of prose, links and all, not cut at its first link."""
    para = (
        "<p>【<a href='/k/1.html'>印花税</a>前五月进账近千亿元！】自2014年1月份以来，我国税收每月的同比增长率"
        "一直保持下降趋势，今年以来，<a href='/k/2.html'>证券交易</a>印花税月均同比增长高达314.2%，"
        "前5个月累计证券交易印花税已达961.08亿元。</p>"
    )
    feed = "".join(f"<li><a href='/n/{i}.html'>证券交易印花税前五个月进账千亿{i}</a></li>" for i in range(6))
    page = f"<html><body><h1>印花税前5月近千亿</h1><div id='endText'>{para}</div><ul>{feed}</ul></body></html>"
    text = extract_article(page.encode()).text
    assert text.startswith("【印花税前五月进账近千亿元！】")
    assert text.endswith("前5个月累计证券交易印花税已达961.08亿元。")


@pytest.mark.parametrize(
    "line",
    [
        "记者：您认为今年主城区的轨道交通建设进展如何？",
        "群众举报后，执法人员当天就赶到了现场。",
        "不少市民在网上发表评论，支持这项新规。",
        "会议时间：2024年5月10日 9:00，地点：市政府第一会议室",  # a notice's field, not a credit
    ],
)
def test_interview_lines_and_sentences_with_chrome_words_are_kept(line: str) -> None:
    assert chinese.strip_boilerplate(f"{PROSE}\n{line}\n{PROSE}") == f"{PROSE}\n{line}\n{PROSE}"


def test_prose_mentioning_labels_is_kept() -> None:
    line = "记者从市交通局获悉，来源于各区县的申报材料已经全部审核完毕，相关新闻发布会将于下周举行。"
    assert chinese.strip_boilerplate(line) == line


# -- extract_article / extract_file ---------------------------------------------------------------------


def test_extract_article_full_page() -> None:
    art = extract_article(fixture("boilerplate_utf8.html"), url="https://news.example.cn/x.html")
    assert BODY_PHRASE in art.text
    for junk in ("责任编辑", "版权声明", "分享到", "扫一扫", "相关新闻", "重庆启动夏季防汛演练", "大渡口", "违者"):
        assert junk not in art.text
    assert art.title == "重庆轨道交通九号线一期预计年内开通"
    assert art.author == "张三 李四"
    assert art.source == "华龙网"
    assert art.editor == "王五"
    assert art.published_at == datetime(2020, 5, 8, 18, 43, tzinfo=chinese.SHANGHAI)
    assert art.language == "zh"


def test_extract_article_with_wrong_header_charset() -> None:
    art = extract_article(fixture("gbk_no_meta.html"), content_type="text/html; charset=utf-8")
    assert "王喆" in art.text and art.encoding == "gb18030" and art.encoding_overridden
    assert art.replacement_chars == 0


def test_extract_article_with_body_selector() -> None:
    art = extract_article(fixture("boilerplate_utf8.html"), body_selector="#content")
    assert BODY_PHRASE in art.text and "责任编辑" not in art.text


def test_listing_page_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle) as err:
        extract_article(fixture("not_article_listing.html"))
    assert err.value.reason


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty"),
        (b"   \n", "text/html", "empty"),
        (b"%PDF-1.7 binary", "application/pdf", "not_html"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "text/html", "not_html"),
        (b"just some plain words without markup", "text/plain", "not_html"),
        (b"<html><body><p>short</p></body></html>", "text/html", "too_short"),
    ],
)
def test_not_an_article_reasons(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(NotAnArticle) as err:
        extract_article(body, content_type=content_type)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    "body",
    [
        fixture("binary_junk.bin"),
        b"<html>" + b"<div>" * 20000 + "重庆".encode() * 100,
        b"<html><body>" + b"\xff\xfe\x00\x81" * 5000 + b"</body></html>",
        b"<?xml version='1.0' encoding='gbk'?><html><body><p>" + "重庆新闻报道".encode("gbk") * 50
        + b"</p></body></html>",
        b"<html><body><p>" + "重庆".encode() * 2_000_000 + b"</p></body></html>",
    ],
)
def test_malformed_input_only_ever_raises_not_an_article(body: bytes) -> None:
    try:
        extract_article(body, content_type="text/html")
    except NotAnArticle as err:
        assert err.reason
    # anything else propagating fails the test


def test_min_chars_is_respected() -> None:
    body = fixture("gb2312_declared_gb2312.html")
    assert extract_article(body, min_chars=60).text
    with pytest.raises(NotAnArticle) as err:
        extract_article(body, min_chars=100_000)
    assert err.value.reason == "too_short"


def test_extract_file_record(tmp_path: Path) -> None:
    record = extract_file(str(FIXTURES / "boilerplate_utf8.html"))
    assert set(record) >= {
        "path", "url", "title", "author", "source", "editor", "published_at", "text", "language", "encoding",
        "encoding_overridden",
    }
    assert record["url"] == "https://news.example.cn/cq/2020/0508/123.html"
    assert record["published_at"] == "2020-05-08T18:43:00+08:00"
    assert "error" not in record
    json.dumps(record, ensure_ascii=False)


def test_extract_file_for_a_non_article(tmp_path: Path) -> None:
    junk = tmp_path / "junk.html"
    junk.write_bytes(fixture("binary_junk.bin"))
    record = extract_file(str(junk))
    assert record["text"] == "" and record["error"] == "not_html" and record["path"] == str(junk)
    assert extract_file(str(tmp_path / "missing.html"))["error"] == "unreadable"


def test_extractor_version_names_trafilatura() -> None:
    import trafilatura

    assert EXTRACTOR_VERSION.startswith("cqnews-extract/")
    assert trafilatura.__version__ in EXTRACTOR_VERSION


# -- the reconstructed demo sites-----------------------------------------------------------------------
# Every article in cqnews/demo/sites/<site>/expected.json (and every bad input that is still a real article,
# such as a mislabelled charset) must come out of extract_article with all its fields, from the bytes and
# Content-Type the fixture server sends. Generic over sites, so a newly added site is covered at once.

SITES = DEMO_SITES
_HTML_SUFFIXES = {".html", ".htm", ".shtml", ""}


def _site_articles() -> list[tuple[str, str, dict[str, object]]]:
    cases = []
    for expected_file in sorted(SITES.glob("*/expected.json")):
        expected = json.loads(expected_file.read_text("utf-8"))
        site = expected_file.parent.name
        for article in expected.get("articles", []):
            cases.append((site, article["path"], article))
        for bad in expected.get("bad_inputs", []):
            if bad.get("outcome") == "mislabelled_encoding":
                cases.append((site, bad["path"], bad))
    return cases


def _served(site: str, path: str) -> tuple[bytes, str]:
    """The bytes and Content-Type the fixture server sends for ``path`` (see fixture_server.FixtureSite)."""
    root = SITES / site
    manifest = root / "site.json"
    routes = json.loads(manifest.read_text("utf-8")).get("routes", {}) if manifest.exists() else {}
    route = routes.get(path, {})
    file = root / unquote(route.get("file") or path).lstrip("/")
    if file.is_dir():
        file = file / "index.html"
    default = "text/html; charset=utf-8" if file.suffix.lower() in _HTML_SUFFIXES else "application/octet-stream"
    return file.read_bytes(), route.get("content_type") or default


def _names(value: object) -> str:
    """Names compared without their separators: "胡虹、刘政宁" and "胡虹 刘政宁" are the same credit."""
    return re.sub(r"[\s、，,;；/|]+", "", str(value or ""))


@pytest.mark.parametrize(("site", "path", "expected"), _site_articles(), ids=lambda v: v if isinstance(v, str) else "")
def test_fixture_site_article_extracts_every_field(site: str, path: str, expected: dict[str, object]) -> None:
    body, content_type = _served(site, path)
    art = extract_article(body, url=f"http://127.0.0.1{path}", content_type=content_type)
    assert art.title == expected["title"]
    assert art.published_at is not None and art.published_at.isoformat() == expected["published_at"]
    for field in ("author", "source", "editor"):
        if field in expected:
            assert _names(getattr(art, field)) == _names(expected[field]), field
    for phrase in expected.get("must_contain", []):  # type: ignore[union-attr]
        assert phrase in art.text
    for phrase in expected.get("must_not_contain", []):  # type: ignore[union-attr]
        assert phrase not in art.text
    assert art.replacement_chars == 0


def test_terminal_control_characters_from_a_page_never_reach_a_field() -> None:
    """Synthetic page: ESC and BEL as character references and raw bytes in title, byline and body."""
    esc, bel = "&#27;", "&#7;"
    paragraph = f"重庆市轨道交通九号线一期工程{esc}[31m已完成全部隧道贯通，计划年内开通运营。{esc}]0;pwned{bel}" * 3
    page = (
        f"<html><head><title>九号线{esc}[2J贯通_华龙网</title></head><body><h1>九号线{esc}[2J贯通</h1>"
        f"<p>2024年04月24日 10:30 来源：华龙网 作者：张\x1b三</p>"
        + "".join(f"<p>{paragraph}</p>" for _ in range(3))
        + "</body></html>"
    ).encode("utf-8")
    extracted = extract_article(page)
    fields = [extracted.text, extracted.title, extracted.author, extracted.source, extracted.editor]
    assert "隧道贯通" in extracted.text
    for value in fields:
        assert value is None or not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", value)


# -- real pages, labelled by hand (fixtures/realpages/README.md) ------------------------------------------


def _squeeze(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


# Known misses, each a rule not yet written (strict: a fix makes the test pass and the mark must go).
_KNOWN_MISSES = {
}


@pytest.mark.parametrize("label", [
    pytest.param(label, marks=pytest.mark.xfail(reason=_KNOWN_MISSES[label["page"]], strict=True))
    if label["page"] in _KNOWN_MISSES else label for label in realpage_labels()
], ids=lambda label: label["page"])
def test_labelled_real_page(label: dict[str, Any]) -> None:
    """Title, day, first and last sentence as a reader sees them; author and source right or absent."""
    record = extract_file(str(REALPAGES / label["page"]))
    assert record["title"] == label["title"]
    if label["date"]:
        assert (record["published_at"] or "")[:10] == label["date"]
    assert _squeeze(label["first"]) in _squeeze(record["text"])
    assert _squeeze(label["last"]) in _squeeze(record["text"])
    assert record["author"] in (label["author"], None)
    assert record["source"] in (label["source"], None)


def test_the_byline_under_a_headline_kept_in_the_body_is_read() -> None:
    """Real page (GNE csdn/1): the body starts with the headline, and the credits under it
    (`发表于2014-08-24 21:30| … 来源CSDN| 0 条评论| 作者魏星`) were left out of the text; its copyright line
    `本文为CSDN原创文章，未经允许不得转载…` is followed by a `相关文章 / 最新报道 / CSDN官方微信` tab row.
    The headline is the title, and not the text's first line too (``show`` prints the title above the text)."""
    record = extract_file(str(REALPAGES / "gne/tests/csdn/1.html"))
    assert record["author"] == "魏星"
    assert record["source"] == "CSDN"  # `来源CSDN|`: the label run into its value, one field of the row
    assert record["title"] == "第三届知道安全论坛鸟巢举办 知道创宇发布新版ZoomEye"
    assert record["text"].startswith("2014年8月22日，由北京知道创宇联合知乎网主办的第三届知道安全论坛")
    assert record["text"].endswith("“然而，ZoomEye最核心的竞争力就是一支强干的团队”，余弦骄傲地说道。")
    assert "CSDN官方微信" not in record["text"]


@pytest.mark.parametrize("page", ["sina/2", "sina/3", "sina/4", "sina/5"])
def test_the_outlet_named_as_the_articles_author_in_its_metadata_is_the_source(page: str) -> None:
    """Real pages (GNE sina/2-5): the byline names a person (or a WeChat account) and no 来源 is printed as a
    label; ``<meta property="article:author">`` names the outlet (新京报, 新浪财经-自媒体综合 ...)."""
    label = next(label for label in realpage_labels() if label["page"] == f"gne/tests/{page}.html")
    record = extract_file(str(REALPAGES / label["page"]))
    assert (record["author"], record["source"]) == (label["author"], label["source"])


def test_a_cms_vendor_in_the_pages_author_meta_is_not_the_source() -> None:
    """Real page (zh-dev cwced-4fa9dfe4): a government CMS's ``<meta name="Author" content="大汉网络">`` beside
    ``<meta name="Generator" content="大汉版通">`` names the software's maker, not the article's outlet."""
    assert extract_article(_devpage("zh-dev/cwced-4fa9dfe4.html.gz")).source is None


def test_labelled_real_pages_name_most_authors() -> None:
    labels = [label for label in realpage_labels() if label["author"]]
    right = [label for label in labels if extract_file(str(REALPAGES / label["page"]))["author"] == label["author"]]
    assert len(right) >= 0.8 * len(labels)


def _devpage(name: str) -> bytes:
    """A real page of a shared dev set, gzipped in fixtures/realpages/devsets (origin in its README)."""
    return gzip.decompress((REALPAGES / "devsets" / name).read_bytes())


def test_a_page_without_title_is_titled_by_the_heading_on_its_body() -> None:
    """Real page: a joycode.com blog post (zh-dev cwced-54e89e4e) with no <title>; its <h1> is the blog's name
    (李建忠), the post's <h2> is 很高兴入住博客堂, and only the footer "Copyright © 李建忠" credits the writer."""
    extracted = extract_article(_devpage("zh-dev/cwced-54e89e4e.html.gz"))
    assert extracted.title == "很高兴入住博客堂"
    assert extracted.author == "李建忠"


def test_a_short_report_above_a_long_keyword_feed_is_an_article() -> None:
    """Real page: a 163.com finance report of two sentences (gbk-163-weak 163-70) followed by a 关键词阅读 feed of
    five dated headlines and the portal's headline lists; the feed's words repeat the report's."""
    extracted = extract_article(_devpage("gbk-163-weak/163-70.html.gz"))
    text = _squeeze(extracted.text)
    assert "第一财经记者从保监会相关人士处确认" in text
    assert "不过，近日关于险资护盘传言不断，会议或与险资权益类配置有关。" in text
    assert "保监会发布保险机构员工持股计划有关事项" not in text
    assert extracted.source == "第一财经日报"


def test_a_table_layouts_headline_cell_with_its_credit_is_not_the_first_line() -> None:
    """Real page (GNE zsnews/1): one table cell holds the headline and `来源于：东区办事处`, which the <title>
    repeats after the headline; a breadcrumb row and a `发布日期：… 责任编辑：…` row sit around the body."""
    record = extract_file(str(REALPAGES / "gne/tests/zsnews/1.html"))
    assert record["title"] == "顺德区大良街道党工委委员潘卓辉一行到众创金融街开展调研工作"
    assert record["source"] == "东区办事处"
    assert _squeeze(record["text"]).lstrip("|").startswith("2019年2月27日下午，佛山顺德区大良街道党工委委员")
    assert "现在位置" not in record["text"] and "发布日期" not in record["text"]


def test_a_lead_in_above_the_feed_stays_and_the_headline_is_not_the_first_line() -> None:
    """Real page (gbk-163-weak 163-71): a one-paragraph report whose ``<h1>`` trafilatura keeps in the body,
    ending in the lead-in 以下为公告： over a picture of the notice, then a 48小时评论排行 feed of headlines."""
    extracted = extract_article(_devpage("gbk-163-weak/163-71.html.gz"))
    assert extracted.title == "23家基金公司抱团救市：不降低仓位 停止借券"
    assert extracted.text.startswith("继21家证券公司联手救市公告发出后")
    assert extracted.text.endswith("以下为公告：")
    assert "评论19064条" not in extracted.text


def test_linked_subheads_between_paragraphs_are_kept() -> None:
    """Real page (gbk-163-weak 163-33): a news round-up whose five subheads are each one link to the full
    story (``<p><a href=…>证监会已查明6起编造虚假信息案</a></p>``) between paragraphs; trafilatura drops them as
    link text."""
    lines = extract_article(_devpage("gbk-163-weak/163-33.html.gz")).text.splitlines()
    at = lines.index("证监会已查明6起编造虚假信息案")
    assert lines[at + 1].startswith("证监会新闻发言人张晓军3日介绍，已经查明6起案件的违法事实")
    assert lines[at - 1].endswith("维护资本市场稳定。")
    assert "证监会：将严打造谣传谣行为 已集中部署3起案件" in lines


def test_a_run_of_linked_paragraphs_inside_the_body_stays_out() -> None:
    """Synthetic body and the text trafilatura made of it without its links: one linked paragraph between two
    of prose is a subhead and comes back; two linked paragraphs one after the other are a related list."""
    para = "重庆市轨道交通九号线一期工程已完成全部隧道贯通，第{}段，沿线市民出行将更加便捷。"
    html = "".join([
        f"<p>{para.format(1)}</p>", "<p><a href='/n/0.html'>九号线开通时间确定</a></p>", f"<p>{para.format(2)}</p>",
        "<p><a href='/n/1.html'>两江新区新建三所学校</a></p><p><a href='/n/2.html'>渝北区举办招商推介会</a></p>",
        f"<p>{para.format(3)}</p>",
    ])
    tree = lxml.html.document_fromstring(f"<html><body><div>{html}</div></body></html>")
    text = "\n".join(para.format(i) for i in (1, 2, 3))
    assert _with_dropped_paragraphs(tree, text).splitlines() == [
        para.format(1), "九号线开通时间确定", para.format(2), para.format(3)
    ]


def test_a_table_layouts_article_cell_loses_its_date_headline_and_side_cells() -> None:
    """Real page (zh-dev cwced-35687fb1): a blog in a table layout prints the post's date (in English) and its
    headline in the article's own cell, beside a cell of the blogger's links (``[作者简介]``, ``[太小心]存档目录``);
    trafilatura renders the row as one line."""
    extracted = extract_article(_devpage("zh-dev/cwced-35687fb1.html.gz"))
    assert extracted.title == "播客热潮迅速蔓延 挑逗传统传媒业"
    assert extracted.text.startswith("每个人都可以当主持人，任何人都可以通过软件免费下载播客提供的节目")
    assert "Saturday" not in extracted.text
    assert "作者简介" not in extracted.text and "存档目录" not in extracted.text
    assert extracted.author == "太小心"


def test_a_layout_rows_side_cells_go_and_a_data_rows_stay() -> None:
    """Synthetic rows as trafilatura renders tables: beside a cell holding the article, a cell of links and a
    cell of labels go; the short cells of a row of data (a year, a figure) stay."""
    sentence = "重庆市轨道交通九号线一期工程已完成全部隧道贯通，沿线市民出行将更加便捷。" * 8
    links = _link_bigrams(["更多轨道交通新闻", "返回首页"])
    menu = "[作者简介] (个人情况保密) [王明]个人类别 [王明]存档目录"
    layout = f"|  | {sentence} |  | 更多轨道交通新闻 返回首页 | {menu} |"
    data = f"| 2023年 | {sentence} | 1,250.5 |"
    assert _without_side_cells(f"{layout}\n{data}", links).splitlines() == [sentence, data]


def test_a_table_layouts_article_cell_keeps_its_paragraphs_and_loses_the_blogs_footer() -> None:
    """Real page (zh-dev cwced-35687fb1): trafilatura renders the layout row holding the post as one line; the
    reader gets the paragraphs the page prints (its <br>-separated lines), and the blog's footer of counters,
    trackback and comment count under the post is not the body."""
    lines = extract_article(_devpage("zh-dev/cwced-35687fb1.html.gz")).text.splitlines()
    assert len(lines) >= 12
    assert lines[0].endswith("有人预言其“将成为未来互联网传播的一个发展方向”。")
    assert lines[1].startswith("根据Google搜索的结果，2004年9月有关播客的搜索结果还不到20个")
    assert "●播客热潮迅速蔓延" in lines
    assert lines[-1].endswith("美国唱片工会表示：“播客在使用其它音乐时，一定要获得版权所有者或制作人的许可。”")
    assert not any(w in line for line in lines for w in ("已被阅读", "Trackback", "已有1件评论", "发表评论"))


def test_a_cell_is_cut_only_where_the_page_breaks_it() -> None:
    """Synthetic: a layout row's one article cell comes out in the page's lines; a row of data stays one line,
    and a cell the page prints differently stays whole."""
    para = "重庆市轨道交通九号线一期工程已完成全部隧道贯通，第{}段，沿线市民出行将更加便捷。"
    cell = " ".join(para.format(i) for i in range(1, 7))
    page = "\n".join(["首页", *(para.format(i) for i in range(1, 7)), "版权所有"])
    data = f"| 2023年 | {cell} | 1,250.5 |"
    links = _link_bigrams(["返回首页"])
    assert _without_side_cells(f"| {cell} |\n{data}", links, page).splitlines() == [
        *(para.format(i) for i in range(1, 7)), data
    ]
    assert _without_side_cells(f"| {cell} |", links, "首页\n" + cell.replace("第3段", "第三段")) == cell


def test_a_newsletter_box_and_a_lone_date_label_are_not_the_body() -> None:
    """Real page (zh-dev cwced-0ef8393b, a RFI 报纸摘要): the headline (the title's part after the column's name,
    ``法国报纸摘要 - 马克龙星期一在莫斯科与普京会面``) and a 发表时间： label with no value printed above the body,
    and the newsletter box (its pitch line over a 订阅 button) below it."""
    lines = extract_article(_devpage("zh-dev/cwced-0ef8393b.html.gz")).text.splitlines()
    assert lines[0].startswith("各位好，我是安东尼。欢迎收听法国报纸摘要。")
    assert "发表时间：" not in lines
    assert lines[-1].startswith("1980年代以来，马伊加在三位马里总统治下担任部长。")
    assert not any("新闻信" in line or line == "订阅" for line in lines)


def test_a_print_editions_credit_is_the_source() -> None:
    """Real page (zh-dev cwced-3e1af229): 松花江网 reprints a 光明日报 story, crediting the paper, day and page
    under it (``《光明日报》（ 2022年02月13日 02版）``)."""
    extracted = extract_article(_devpage("zh-dev/cwced-3e1af229.html.gz"))
    assert extracted.source == "光明日报"
    assert "02版" not in extracted.text
    assert chinese.print_credit("《人民日报》（2021年3月5日第4版）") == "人民日报"
    assert chinese.print_credit("《光明日报》是一份报纸（2022年02月13日）") is None


def test_a_lead_ending_in_a_colon_above_an_ad_box_is_the_bodys_first_paragraph() -> None:
    """Real page (zh-dev cwced-3832838a, a 2005 Yahoo!/千龙 round-up): the lead (``…让我们回顾一下众明星被打
    事件：``) and the stories it introduces are split by a table of ad links inside the article's <div>."""
    lines = extract_article(_devpage("zh-dev/cwced-3832838a.html.gz")).text.splitlines()
    assert lines[0].startswith("近日，惊爆台湾本土天王吴宗宪被打，娱乐圈被打事件频频发生。")
    assert lines[1] == "宪哥被打成“猪头”"
    assert not any("前列腺" in line for line in lines)


def test_a_letters_signatory_and_date_close_the_body() -> None:
    """Real page (gbk-163-weak 163-72): an open letter (倡议) reprinted by 163.com ends with its signatory and
    date on two short lines (``中关村上市公司协会`` / ``2015年7月3日``), as notices and letters do; then a 关键词阅读
    feed of headlines naming the same 中关村上市公司."""
    lines = extract_article(_devpage("gbk-163-weak/163-72.html.gz")).text.splitlines()
    assert lines[-3:] == ["此刻，我们在行动！", "中关村上市公司协会", "2015年7月3日"]


def test_a_one_cell_bar_above_the_body_is_not_its_first_line() -> None:
    """Real page (zh-dev cwced-47f387e6): a forum-CMS article page prints its channel's name in a one-cell
    table (``<td><a>报社新闻</a> 频道</td>``) above the headline, and the article in another one-cell table."""
    text = extract_article(_devpage("zh-dev/cwced-47f387e6.html.gz")).text
    assert "报社新闻" not in text
    assert _squeeze(text).lstrip("|").startswith("很多人都面临着“头皮经常出油")


def test_a_paragraph_the_summary_box_quotes_stays_in_the_body() -> None:
    """Real page (gbk-163-weak 163-3): a 163.com column opens with a ``[摘要：…]`` box that repeats, word for word,
    the body's next-to-last paragraph; trafilatura keeps the box and drops the paragraph as its duplicate."""
    lines = extract_article(_devpage("gbk-163-weak/163-3.html.gz")).text.splitlines()
    quoted = "这两天美国投资机构JCapital发布题为《京东已成批发商》的分析"
    assert lines[0].startswith("[摘要：" + quoted)
    at = next(i for i, line in enumerate(lines) if line.startswith(quoted))
    assert lines[at - 1].startswith("京东应该从618的数据战略失利中得到一点教训")
    assert lines[at + 1].startswith("京东应该更务实的一些")


def test_a_quoted_paragraph_comes_back_only_between_its_neighbours() -> None:
    """Synthetic body and the text trafilatura made of it: a paragraph that a longer line (the summary box)
    quotes comes back between the two paragraphs around it; a quoted phrase too short to be a paragraph does not."""
    para = "重庆市轨道交通九号线一期工程已完成全部隧道贯通，第{}段，沿线市民出行将更加便捷。"
    quoted = "两江新区今年新建三所学校，秋季学期起可容纳学生四千余人，缓解片区入学压力。"
    html = "".join([
        f"<p>[摘要：{quoted}]</p>", f"<p>{para.format(1)}</p>", f"<p>{quoted}</p>", f"<p>{para.format(2)}</p>",
        "<p>九号线开通。</p>", f"<p>{para.format(3)}</p>",
    ])
    tree = lxml.html.document_fromstring(f"<html><body><div>{html}</div></body></html>")
    text = "\n".join([f"[摘要：{quoted}]九号线开通。", *(para.format(i) for i in (1, 2, 3))])
    assert _with_dropped_paragraphs(tree, text).splitlines() == [
        f"[摘要：{quoted}]九号线开通。", para.format(1), quoted, para.format(2), para.format(3)
    ]


def test_a_sentence_of_linked_keywords_does_not_cut_the_body_short() -> None:
    """Real page (gbk-163-weak 163-22): the body's second paragraph is a short sentence whose keywords are links
    (``<a>期指</a><a>恶意做空</a>成<a>A股</a>大跌新的风暴点。``, half of it link text); it is the article's, and the
    first paragraph above it too."""
    text = _squeeze(extract_article(_devpage("gbk-163-weak/163-22.html.gz")).text)
    assert text.startswith("李克强总理在欧洲表示，要培育公开透明、长期稳定健康发展的资本市场和货币市场")
    assert "期指恶意做空成A股大跌新的风暴点。在1日晚间连施三大利好政策后" in text


@pytest.mark.parametrize("page", [
    "gerapy/samples/list/netease_leaderboard_news.html", "gerapy/samples/list/tencent_important_news.html",
    "gne/tests/toutiao/2.html",  # a picture gallery: one caption shown, the rest only in a script's JSON
])
def test_real_index_pages_are_not_articles(page: str) -> None:
    with pytest.raises(NotAnArticle) as err:
        extract_article((REALPAGES / page).read_bytes())
    assert err.value.reason == "no_article"


def test_a_long_page_of_punctuated_headline_links_is_not_an_article() -> None:
    """Synthetic homepage: every line a linked headline long enough, and punctuated, to read as prose."""
    links = "".join(
        f"<li><a href='/news/{i}.html'>重庆第{i}条新闻：两江新区今年新开工项目{i}个，"
        "总投资超过百亿元，就业岗位持续增加</a></li>"
        for i in range(60)
    )
    with pytest.raises(NotAnArticle) as err:
        extract_article(f"<html><head><title>首页_华龙网</title></head><body><ul>{links}</ul></body></html>".encode())
    assert err.value.reason == "no_article"


def test_a_feed_of_linked_headlines_after_the_body_ends_the_article() -> None:
    """Synthetic page: the body, then a related-story feed with no heading, as table rows of "headline +
    teaser cut mid-sentence" and plain headline links."""
    paragraph = "<p>重庆市轨道交通九号线一期工程已完成全部隧道贯通，计划年内开通运营，沿线市民出行将更加便捷。</p>"
    feed = "".join(
        f"<tr><td><a href='/n/{i}.html'>两江新区第{i}个项目开工</a> 项目总投资超过百亿元，预计带动就业岗位</td></tr>"
        for i in range(4)
    ) + "<tr><td><a href='/n/9.html'>渝北区举办招商推介会</a></td></tr>"
    page = f"<html><body><h1>九号线隧道全线贯通</h1><div>{paragraph * 4}</div><table>{feed}</table></body></html>"
    text = extract_article(page.encode()).text
    assert "出行将更加便捷" in text
    assert "项目开工" not in text and "招商推介会" not in text


GOV_PROSE = "<p>5月10日，市政府召开常务会议，研究部署安全生产工作，要求各区县压实责任，开展隐患排查整治。</p>"


def test_hidden_lists_and_select_menus_are_never_body_text() -> None:
    """Synthetic short government article with a TRS footer: hidden <li> lists of URLs and a <select> menu of
    sister sites, both longer than the article."""
    hidden = "".join(f"<li style='display:none;'><a href='/u/{i}'>市政府部门第{i}网站链接地址</a></li>"
                     for i in range(40))
    menu = "<select>" + "".join(f"<option>重庆市第{i}区县人民政府网站</option>" for i in range(30)) + "</select>"
    page = (f"<html><body><h1>市政府召开常务会议</h1><div class='article'>{GOV_PROSE * 2}</div>"
            f"<div class='footer'><ul>{hidden}</ul>{menu}<p hidden>隐藏的网站地图文字内容</p></div></body></html>")
    text = extract_article(page.encode()).text
    assert "压实责任" in text
    assert "网站链接地址" not in text and "区县人民政府网站" not in text and "网站地图" not in text


def test_captions_of_a_picture_list_after_the_body_are_the_feed() -> None:
    """Synthetic picture list as city portals print it: an image link, its caption in a <p> outside the <a>."""
    pictures = "".join(
        f"<li><a href='/p/{i}.htm' title='{t}'><img src='/p/{i}.jpg' alt='{t}'></a><p>{t}</p></li>"
        for i, t in enumerate(("观影逛展看演出文化活动扮靓双节", "市民过早不慎将钱包遗失民警追回",
                               "长江大桥夜景灯光秀今晚开启")))
    page = f"<html><body><h1>市政府召开常务会议</h1><div>{GOV_PROSE * 3}</div><ul>{pictures}</ul></body></html>"
    text = extract_article(page.encode()).text
    assert "压实责任" in text
    assert "钱包遗失" not in text and "灯光秀" not in text


@pytest.mark.parametrize("ui", ["已有0人参与评论", "留言须经审核后公开", "请文明上网，理性发言"])
def test_a_comment_box_line_after_the_headline_feed_does_not_keep_the_feed(ui: str) -> None:
    """Synthetic (no real page we hold prints a comment box's notice where it reaches the body: checked over the
    82 shared real pages, the 106 dev pages and the 48 demo pages). The notice is the page's UI, not the
    article's last line, with or without a feed before it."""
    feed = "".join(
        f"<li><a href='/n/{i}.html'>两江新区第{i}个重点项目集中开工</a> 2015/07/0{i + 1}</li>" for i in range(4)
    )
    more = GOV_PROSE.replace("5月10日", "会上")
    page = (f"<html><body><h1>市政府召开常务会议</h1><div>{GOV_PROSE * 3}</div><div>{more}"
            f"<ul>{feed}</ul><p>{ui}</p></div></body></html>")
    text = extract_article(page.encode()).text
    assert "压实责任" in text
    assert "重点项目集中开工" not in text
    assert ui not in text


def test_a_picture_tab_before_the_byline_does_not_hide_the_reporter() -> None:
    """Synthetic 上游新闻 page with a city portal's picture tab (captions in <p>) above the article."""
    tab = "<div class='art-tab-con'>" + "".join(
        f"<a href='/p/{i}.htm' title='{t}'><img alt='{t}' src='/p/{i}.jpg'></a><p>{t}</p>"
        for i, t in enumerate(("观影逛展看演出文化活动扮靓双节", "市民过早不慎将钱包遗失民警追回"))) + "</div>"
    page = (f"<html><body>{tab}<h1>市政府召开常务会议</h1><div class='post'>2022-06-14 10:25 来源：上游新闻 "
            f"记者：唐中明</div><div>{GOV_PROSE * 3}</div>{tab}<p>责任编辑：张健</p></body></html>")
    extracted = extract_article(page.encode())
    assert extracted.author == "唐中明" and extracted.editor == "张健"


def test_a_portal_staff_code_is_not_part_of_the_editor() -> None:
    """Real page (fixtures/realpages, GNE tests/163/2.html): "责任编辑：杜硕_NB12556", the only person credited."""
    record = extract_file(str(REALPAGES / "gne/tests/163/2.html"))
    assert record["editor"] == "杜硕" and record["author"] == "杜硕"

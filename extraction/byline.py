"""Bylines that Chinese pages print outside a labelled 作者/记者 field: closing report signatures, the
headers of forum and blog posts, and a blog's owner named in its <title>.

These are plain functions on page text; every name they return still passes ``person.check_author``
before it becomes an author, so they may be generous about what they match.
"""
from __future__ import annotations

import re

from cqnews.extraction import person
from cqnews.extraction.chinese import is_person_name

_HAN_NAME = r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{1,6})?"
# "（王明 重庆报道）", "（华龙网记者 王明 李四 重庆报道）", "（本报记者 王明 发自北京）": who reported, from where.
_REPORT_RE = re.compile(
    rf"[（(]\s*(?:[^（）()\s]{{0,10}}?(?:记者|通讯员|特派员)\s*[:：]?\s*)?"
    rf"(?P<n>{_HAN_NAME}(?:\s*[、，,]\s*{_HAN_NAME}|\s+{_HAN_NAME}(?=\s))*)"
    rf"\s+(?:[\u4e00-\u9fff]{{0,8}}报道|发自[\u4e00-\u9fff]{{1,8}})\s*[）)]"
)
# "江湖浪子 发表于 2011-03-04 10:22", "作者：江湖浪子 | 发表于：2011年…" (a forum post or a blog entry).
_POSTED_BY_RE = re.compile(
    r"(?:^|[\s|｜])(?:(?:作者|楼主|博主)\s*[:：]?\s*)?(?P<n>[^\s|｜:：()（）\[\]【】]{2,20}?)\s*[|｜]?\s*"
    r"(?:发表于|發表於|发布于|posted)\s*[:：]?\s*(?:(?:19|20)\d{2}|\d+\s*(?:分钟|小时|天)前)",
    re.I,
)
# "本贴由江湖浪子于2011年3月4日10:22发表", "本帖最后由X于…编辑" is an edit, not the post.
_THREAD_BY_RE = re.compile(
    r"本[贴帖帖子文]+由\s*(?P<n>[^\s|｜:：()（）\[\]【】]{2,20}?)\s*于\s*(?:19|20)\d{2}.{0,25}?(?:发表|发布|发帖)"
)
_NAME_SPLIT_RE = re.compile(r"\s*[、，,]\s*|\s+")


def closing_report(text: str) -> str | None:
    """The reporters of a closing "（王明 重庆报道）" in the last lines of ``text``, space-joined."""
    tail = "\n".join(text.strip().splitlines()[-3:])
    found = None
    for m in _REPORT_RE.finditer(tail):
        found = m  # the last one: a report's signature closes it
    if not found:
        return None
    names = [n for n in _NAME_SPLIT_RE.split(found.group("n")) if n]
    return " ".join(dict.fromkeys(names)) or None


def post_author(text: str) -> str | None:
    """The poster a forum or blog header names ("X 发表于 2011-…", "本贴由X于…发表"), first one in ``text``."""
    for rx in (_THREAD_BY_RE, _POSTED_BY_RE):
        for line in text.splitlines():
            if len(line) > 120:
                continue
            m = rx.search(line)
            if m:
                return m.group("n")
    return None


# "海姑娘 | blog.wenxuecity.com", "标题_王明_新浪博客", "王明的博客": blog hosts put the owner in the <title>.
_BLOG_TITLE_RES = (
    re.compile(r"^\s*(?P<n>[^|｜_\-—\s]{2,12})\s*[|｜_\-—]\s*blog\.[a-z0-9.\-]+\s*$", re.I),
    re.compile(r"[_\-|｜]\s*(?P<n>[^_\-|｜\s]{2,12})\s*[_\-|｜]\s*[\u4e00-\u9fff]{1,4}博客\s*$"),
    re.compile(r"^\s*(?P<n>[^_\-|｜\s]{2,12})的(?:博客|部落格|blog)(?:\s|[_\-|｜]|$)", re.I),
)


def blog_owner(title: str) -> str | None:
    """The blog owner a blog host's <title> names, or None for any other title."""
    for rx in _BLOG_TITLE_RES:
        m = rx.search(title or "")
        if m:
            return m.group("n")
    return None


# "Copyright © 李建忠", "Copyright © 2005 王明": a personal blog's footer names its owner.
_COPYRIGHT_OWNER_RE = re.compile(
    rf"^\s*(?:Copyright|版权所有)\s*(?:©|\(c\)|&copy;)?\s*(?:(?:19|20)\d{{2}}(?:\s*-\s*(?:19|20)\d{{2}})?\s*)?"
    rf"(?P<n>{_HAN_NAME})\s*$",
    re.I,
)


def copyright_owner(page_text: str) -> str | None:
    """The person a page's copyright line names (a personal blog's owner), from the last lines of the page;
    the name must start with a common surname and be no outlet ("版权所有 华龙网"), so that a company's
    short name is not taken for one."""
    for line in reversed(page_text.splitlines()[-15:]):
        m = _COPYRIGHT_OWNER_RE.match(line)
        if m and is_person_name(m.group("n")) and person.check_author(m.group("n")).author:
            return m.group("n")
    return None


# "[太小心]个人类别", "[太小心]存档目录", "对[太小心]文章的最新评论": a blog's sidebar heads its boxes with the owner.
_SIDEBAR_HEAD_RE = re.compile(
    r"^[ \t]*(?:对|作者)?[ \t]*[\[【〖](?P<n>[^\[\]【】〖〗\s]{2,12})[\]】〗][ \t]*(?:的|自己)?"
    r"[\u4e00-\u9fff]{0,6}(?:类别|分类|目录|存档|档案|文章|日志|评论|留言|链接|相册|资料|简介)[ \t]*$",
    re.M,
)


def sidebar_owner(page_text: str) -> str | None:
    """The blog owner whose bracketed name heads at least two of the page's sidebar boxes (the same name
    each time); one such line may be a feed's headline, two are the blog's own furniture."""
    seen: dict[str, int] = {}
    for m in _SIDEBAR_HEAD_RE.finditer(page_text):
        if len(m.group(0).strip()) <= 24:
            seen[m.group("n")] = seen.get(m.group("n"), 0) + 1
    owners = [name for name, count in seen.items() if count >= 2]
    return owners[0] if len(owners) == 1 else None


# "石佳/中国青年报" under the headline: the writer, then the outlet the story comes from.
_NAME_OUTLET_RE = re.compile(rf"^\s*(?P<n>{_HAN_NAME}(?:\s*[、，,]\s*{_HAN_NAME})*)\s*/\s*(?P<o>[^\s/]{{2,16}})\s*$")


def name_and_outlet(header: str) -> str | None:
    """The writer of a "name/outlet" line between headline and body; the part after the slash must be an
    outlet (person.check_author hands it back as one), so that "上/下" or two names are not taken."""
    for line in header.splitlines():
        m = _NAME_OUTLET_RE.match(line)
        if m and person.check_author(m.group("o")).outlet:
            return m.group("n")
    return None

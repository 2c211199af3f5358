"""Is this author candidate a person? The last gate every author value passes before it leaves extraction.

Byline rules find candidates in many places (labels, datelines, signatures, <meta name=author>, a line
under the headline); each place can also yield an outlet (网易, 新京报), a CMS user id (``105092``), a UI
word (查看评论, 展开, 相关推荐) or the page's own title. A wrong author is worse than none for a user who
searches by author, so a candidate that does not read as one or more personal names (or pen names) is
refused here, and an outlet is handed back so the caller can keep it as the source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from cqnews.extraction.controls import CONTROL_CHARACTERS

_CONTROL_RE = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")


def strip_controls(value: str) -> str:
    """``value`` without C0/C1 control characters (tab and newline kept; a lone CR is dropped too)."""
    return _CONTROL_RE.sub("", value)


# Role words printed before or around names ("观察者网专栏作者 王文", "职工 李琴雯"): labels, not names.
_ROLE_RE = re.compile(
    r"^(?:本报|本网|本台|本刊|特约|见习|实习|首席|全媒体|融媒体|专栏|特邀)?"
    r"(?:.{0,8}(?:专栏作者|特约作者|特约评论员|评论员|撰稿人|专栏作家))$|"
    r"^(?:作者|记者|通讯员|实习生|职工|编辑|责编|文|图|撰文|执笔人?|笔者|本报记者|本网记者|特约记者|见习记者|"
    r"首席记者|全媒体记者|融媒体记者|实习记者|博主|楼主|网友|by|By|BY|整合|综合|整理|编译|综述|报道|综合报道)$"
)
# Fragments that make a token an outlet or a channel rather than a person.
_OUTLET_PART_RE = re.compile(
    r"网|網|新闻|新聞|日报|日報|晚报|晚報|早报|商报|时报|周刊|週刊|杂志|雜誌|报社|报业|电视台|广播|电台|频道|頻道|"
    r"自媒体|客户端|通讯社|新华社|中新社|参考消息|新浪|腾讯|騰訊|搜狐|网易|凤凰|鳳凰|澎湃|头条|頭條|百家号|"
    r"界面|财经|財經|集团|公司|中心|政府|委员会|办公室|出版社|研究院|大学|学院|官微|公众号|"
    r"^[\u4e00-\u9fff]{2,}(?:报|報|社|台|局|厅|部|委|办|院|会|站)$|"
    r"\.(?:com|cn|net|org)\b|^www|^https?",
    re.I,
)
# Words of a page's chrome or of the byline trade that byline rules can mistake for a name.
_NOT_A_NAME = {
    "查看评论", "评论", "展开", "收起", "全文", "展开全文", "相关推荐", "推荐", "相关", "热门", "更多", "分享", "收藏",
    "打印", "关闭", "返回", "登录", "注册", "首页", "阅读", "点赞", "举报", "关注", "加关注", "访问统计", "统计",
    "商讯", "资讯", "快讯", "网络整理", "综合整理", "转载", "原创", "佚名", "未知", "匿名",
    "不详", "本站", "小编", "管理员", "admin", "administrator", "editor", "网友", "供图", "摄影", "图片", "视频",
    "记者", "作者", "编辑", "来源", "本报", "本网", "通讯员", "实习生", "责任编辑", "作者简介", "个人资料",
    "发表", "发布", "回复", "楼主", "沙发", "置顶", "精华", "公告", "声明", "导读", "摘要", "编者按", "正文",
    "null", "none", "undefined", "anonymous", "unknown",
}
_NOT_A_NAME_START_RE = re.compile(r"^(?:来自|来源|來源|转自|发表|发布|查看|点击|进入|更多|相关|返回|本文|本报|本网)")
# A token may hold Han characters, Latin letters, digits and the joiners pen names use; nothing else.
_TOKEN_CHARS_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9·•&_\-.]+")
_SPLIT_RE = re.compile(r"\s*[、，,;；/]\s*|\s+")


@dataclass(frozen=True)
class Verdict:
    """A checked candidate: ``author`` is the people it names (space-joined), ``outlet`` an outlet it named."""

    author: str | None
    outlet: str | None = None


def _token_ok(token: str, title: str) -> bool:
    if token.lower() in _NOT_A_NAME or token in _NOT_A_NAME:
        return False
    if not _TOKEN_CHARS_RE.fullmatch(token) or _NOT_A_NAME_START_RE.match(token):
        return False
    if re.search(r"\d{3,}", token) or re.fullmatch(r"[\d\W_]+", token):
        return False  # a CMS user id, a date, a count
    han = len(re.findall(r"[\u3400-\u9fff]", token))
    latin = len(re.findall(r"[A-Za-z]", token))
    if han and han > 8 or not han and not 2 <= latin <= 30 or han == 1 and not latin and len(token) == 1:
        return False
    if _OUTLET_PART_RE.search(token):
        return False
    if title and len(token) >= 5 and token in title:
        return False  # the page title, or a piece of it
    return True


def check_author(candidate: str | None, title: str | None = None) -> Verdict:
    """The personal names in ``candidate`` (role labels and photographers dropped), or no author.

    Every name must pass: one outlet, id or UI word among them refuses the whole candidate, because a
    half-right byline usually means the rule matched the wrong line. A photographer ("李妍摄") counts only
    when nobody else is named. When the candidate was an outlet, it comes back as ``outlet``.
    """
    if not candidate:
        return Verdict(None)
    value = re.sub(r"\s+", " ", strip_controls(candidate)).strip(" :：|｜丨()（）[]【】<>《》\"'“”")
    title = re.sub(r"\s+", "", title or "")
    if not value or len(value) > 40:
        return Verdict(None)
    if title and re.sub(r"\s+", "", value) == title:
        return Verdict(None)
    # "赵 培": a two-character name spaced out to the width of a three-character one
    value = re.sub(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff])[ \u3000]+([\u4e00-\u9fff]{1,2})(?![\u4e00-\u9fff])",
                   r"\1\2", value)
    tokens = [t for t in _SPLIT_RE.split(value) if t]
    if len(tokens) > 1:
        # "叨叨姐、胡一刀&李小飞刀": inside a list of names '&' joins two more (alone, "放飞&心情" is one pen name)
        tokens = [part for t in tokens for part in t.split("&") if part]
    names: list[str] = []
    photographers: list[str] = []
    for token in tokens:
        if _ROLE_RE.match(token):
            continue
        token = re.sub(r"^(?:记者|通讯员|实习生|作者|文)[:：]?", "", token) or token
        shot = re.fullmatch(r"(.+?)(?:摄影?|/摄|供图)", token)
        if shot:
            token = shot.group(1)
        if not _token_ok(token, title):
            if _OUTLET_PART_RE.search(token) and len(tokens) == 1 and len(token) <= 20:
                return Verdict(None, outlet=token)
            return Verdict(None)
        (photographers if shot else names).append(token)
    if photographers and re.search(r"[、，,]", value) and len(photographers) == 1 and names:
        # "黎旭阳、李妍摄": the 摄 credits every name of the list
        photographers, names = names + photographers, []
    chosen = names or photographers
    return Verdict(" ".join(dict.fromkeys(chosen)) if chosen else None)


def is_person(candidate: str | None, title: str | None = None) -> bool:
    """Does ``candidate`` read as one or more personal names or pen names (the rules of ``check_author``)?"""
    verdict = check_author(candidate, title)
    return bool(verdict.author) and verdict.author == re.sub(r"\s+", " ", candidate or "").strip()

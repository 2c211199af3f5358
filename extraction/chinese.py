"""Rules for the Chinese news web: dates, bylines (author / 来源 / 编辑), titles, and boilerplate in body text.

Generic extractors miss these because they are written in prose conventions rather than markup: a byline
line "2020年05月08日 18:43 来源：华龙网 作者：张三", a "责任编辑：李四" footer, "_人民网" title suffixes,
"相关新闻" lists and SEO link farms after the article. Everything here is a plain function on strings or an
lxml tree, so each rule is tested from a string.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

from cqnews.extraction import person

SHANGHAI = ZoneInfo("Asia/Shanghai")
_MIN_YEAR = 1990

# ------------------------------------------------------------------------------------------------ dates

_ZH_DATE = (
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:\s*(?:星期|周)[一二三四五六日天])?"
    r"(?:\s*(?:上午|下午|晚上|凌晨)?\s*(?P<H>\d{1,2})\s*[:：时點点]\s*(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:：]\s*(?P<S>\d{1,2})\s*秒?)?)?"
)
_NUM_DATE = (
    r"(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?!\d)"
    r"(?:(?:\s+|T|\s*&nbsp;\s*)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
# Day-first "7/5/2005 9:23 PM" as overseas Chinese sites print it; read month-first only when the second
# number cannot be a month.
_DMY_DATE = (
    r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>(?:19|20)\d{2})(?![\d/])"
    r"(?:\s*-?\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<ampm>[AaPp][Mm]))?)?"
)
_DATE_RES = (re.compile(_ZH_DATE), re.compile(_NUM_DATE), re.compile(_DMY_DATE))
# Labels that mark the publication time rather than any date on the page.
_DATE_LABEL_RE = re.compile(
    r"(发布时间|发表时间|发布日期|发表日期|发表于|发布于|时间|日期|更新时间|Date|发表)\s*[:：]?\s*$"
)
_DATE_SKIP_LABEL_RE = re.compile(r"(更新|修改|截止|截至|最后|访问|注册|登录|今天是|今日)\s*[:：]?\s*$")
_DATE_META_NAMES = (
    "article:published_time", "og:article:published_time", "og:published_time", "publishdate", "pubdate",
    "publish_date", "publishtime", "publish-date", "firstpublishedtime", "og:release_date", "datepublished",
    "dc.date", "dc.date.issued", "dcterms.created", "date", "article:modified_time", "lastmodifiedtime",
    "sailthru.date", "citation_date", "weibo:article:create_at", "mediaid_publish_time",
)


def make_datetime(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, now: datetime | None = None
                  ) -> datetime | None:
    """An aware Asia/Shanghai datetime, or None when the parts are not a plausible publication time."""
    now = now or datetime.now(SHANGHAI)
    try:
        value = datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)
    except ValueError:
        try:
            value = datetime(y, m, d, tzinfo=SHANGHAI)
        except ValueError:
            return None
    if value.year < _MIN_YEAR or value > now + timedelta(days=2):
        return None
    return value


def _from_match(m: re.Match[str]) -> datetime | None:
    g = m.groupdict()
    hh = int(g["H"]) if g.get("H") else 0
    if g.get("H") and (re.search(r"(下午|晚上)\s*\d", m.group(0)) or (g.get("ampm") or "").lower() == "pm"):
        hh = hh + 12 if hh < 12 else hh
    day, month = int(g["d"]), int(g["m"])
    if "ampm" in g and month > 12 >= day:  # the day/month form written month-first
        day, month = month, day
    return make_datetime(
        int(g["y"]), month, day, hh, int(g["M"]) if g.get("M") else 0,
        int(g["S"]) if g.get("S") else 0,
    )


@dataclass(frozen=True)
class DateHit:
    value: datetime
    pos: int
    has_time: bool
    labelled: bool


def find_dates(text: str) -> list[DateHit]:
    """Every plausible date in ``text`` (年月日 and numeric forms), in order of position."""
    hits: dict[int, DateHit] = {}
    for rx in _DATE_RES:
        for m in rx.finditer(text):
            value = _from_match(m)
            if value is None:
                continue
            before = text[max(0, m.start() - 12) : m.start()]
            if _DATE_SKIP_LABEL_RE.search(before):
                continue
            hits[m.start()] = DateHit(value, m.start(), bool(m.group("H")), bool(_DATE_LABEL_RE.search(before)))
    return [hits[k] for k in sorted(hits)]


def parse_date_string(value: str) -> datetime | None:
    """A date from a meta tag or JSON-LD value: ISO 8601 (offset kept, else Shanghai) or a Chinese form."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{10}(\d{3})?", value):  # epoch seconds / milliseconds
        try:
            return datetime.fromtimestamp(int(value[:10]), tz=SHANGHAI)
        except (ValueError, OverflowError, OSError):
            return None
    try:
        iso = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        iso = None
    if iso is not None:
        if iso.year < _MIN_YEAR:
            return None
        return iso.replace(tzinfo=SHANGHAI) if iso.tzinfo is None else iso.astimezone(SHANGHAI)
    hits = find_dates(value)
    return hits[0].value if hits else None


def date_from_url(url: str | None) -> datetime | None:
    """Dates that CMSs put in article paths: /2020/0508/, /2020-05/08/, /202005/08/, /20200508/."""
    if not url:
        return None
    path = re.sub(r"^[a-z]+://[^/]+", "", url)
    m = re.search(r"/((?:19|20)\d{2})[-_/]?(\d{2})[-_/]?(\d{2})(?=[/_\-.]|[a-z]|$)", path, re.I)
    if not m:
        m = re.search(r"/((?:19|20)\d{2})[-_/](\d{1,2})[-_/](\d{1,2})/", path)
    if not m:
        return None
    return make_datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def date_from_metadata(tree: HtmlElement) -> datetime | None:
    """Publication date from <meta> tags, JSON-LD, or a <time datetime> element."""
    for el in tree.iterfind(".//meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").lower()
        if key in _DATE_META_NAMES and not key.endswith("modified_time") and key != "lastmodifiedtime":
            value = parse_date_string(el.get("content") or "")
            if value is not None:
                return value
    for found in _jsonld_values(tree, ("datePublished", "dateCreated")):
        if isinstance(found, str):
            parsed = parse_date_string(found)
            if parsed is not None:
                return parsed
    for el in tree.iterfind(".//time"):
        if el.get("pubdate") is not None or (el.get("itemprop") or "").lower() == "datepublished":
            parsed = parse_date_string(el.get("datetime") or el.text_content())
            if parsed is not None:
                return parsed
    return None


def date_from_text(page_text: str, anchor: int = 0) -> datetime | None:
    """The publication date written on the page: labelled dates first, then the first date with a time
    after the title (``anchor``), then the first date after the title; dates before the title are site
    chrome ("今天是2024年4月24日") unless nothing else exists."""
    hits = find_dates(page_text)
    if not hits:
        return None
    after = [h for h in hits if h.pos >= anchor]
    near = [h for h in after if h.pos - anchor < 3000] or after
    for pool in (
        [h for h in near if h.labelled],
        [h for h in near if h.has_time],
        near,
        [h for h in hits if h.labelled],
        [h for h in hits if h.has_time],
    ):
        if pool:
            return pool[0].value
    return hits[0].value


# ---------------------------------------------------------------------------------------------- bylines

# Words that end a name list (the next field of the byline line) and can never be a name themselves.
_STOPWORDS = (
    r"来源|来自|出处|编辑|责编|责任编辑|发布|发表|时间|日期|摄影|摄|图|点击|阅读|浏览|字号|评论|报道|发自|通讯员|"
    r"记者|实习生|综合|整理|审核|校对|关注|分享|打印|收藏"
)
_NAME = rf"(?!(?:{_STOPWORDS}))[\u4e00-\u9fffA-Za-z·•][\u4e00-\u9fffA-Za-z0-9·•_&\-]{{0,15}}"
_NAMES = rf"{_NAME}(?:(?:\s*[、，,/和及与]\s*|\s+){_NAME}){{0,5}}"
_STOP = rf"(?=\s*(?:$|[|｜/丨\[\]【】()（）:：]|{_STOPWORDS}|\d))"
# A Chinese personal name (2-4 Han characters, or a transliterated name with ·).
_HAN_NAME = r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{1,6})?"
_HAN_NAMES = rf"{_HAN_NAME}(?:(?:\s*[、，,和]\s*|\s+){_HAN_NAME}){{0,5}}"
_AUTHOR_RES = (
    re.compile(rf"(?:作\s*者|撰\s*文|撰稿人?|文\s*字|执\s*笔\s*人?)\s*[:：/丨|]\s*(?P<n>{_NAMES}){_STOP}"),
    re.compile(rf"(?:记者|通讯员|实习生)\s*[:：]?\s*(?P<n>{_HAN_NAMES})"
               rf"(?=$|\s|[/|｜丨）)\]】,，、;；.。]|摄|报道|发自|文$|/文)"),
    re.compile(rf"(?:^|[\s【\[（(])文\s*[/|｜丨:：]\s*(?P<n>{_NAMES}){_STOP}"),
    # "作者【张三】", "作者[太小心]的文章": the name in brackets after the label
    re.compile(rf"作\s*者\s*[\[【]\s*(?P<n>{_NAMES})\s*[\]】]"),
    # "[ 黄宇 ] 来源：[ 国际金融报 ]": a bracketed name on a line that also names the source
    re.compile(rf"[\[【]\s*(?P<n>{_HAN_NAMES})\s*[\]】]\s*(?=.*(?:来源|來源))"),
    # a WeChat repost's head "原创： 路闻卓立编译 人民币交易与研究": the writer (or its translator), then the account
    re.compile(r"^原创\s*[:：]\s*(?P<n>[\u4e00-\u9fff]{2,4}?)\s*(?:编译|整理|编写)?(?=\s)"),
)
# "发表于2014-08-24 21:30| 来源CSDN| 作者魏星": the label run into a personal name, as the last field of a
# meta row (after a "|", on its line or ending the line before); "作者简介" alone on its line is a heading.
_RUN_IN_AUTHOR_RE = re.compile(rf"(?P<sep>[|｜丨]?)\s*作\s*者\s*(?P<n>{_HAN_NAME})\s*$")
# The common Chinese surnames (about 95% of the population); unlabelled names must start with one of them.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆"
    "乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平"
    "计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公"
    "哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "張劉陳楊黃趙吳許韓馮鄧蕭葉蘇魏呂盧薑鍾譚陸範賈閻雷龍陶賀顧龔錢嚴湯聶魯嶽關蘭祝寧紀梅塗駱藍鮑饒麥婁竇"
)
_COMPOUND_SURNAMES = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯",
)


def is_person_name(name: str) -> bool:
    """A 2-4 Han-character name starting with a common surname (or any transliterated name with ·)."""
    if "·" in name or "•" in name:
        return True
    return 2 <= len(name) <= 4 and (name[0] in SURNAMES or name.startswith(_COMPOUND_SURNAMES))


_LABEL_ONLY_RE = re.compile(
    r"^[\s【\[（(]*(作者|撰文|记者|来源|來源|出处|责任编辑|責任編輯|责编|编辑|編輯|发布时间|发表时间|发布日期|时间|日期)\s*[:：]?\s*$"
)
# A credit whose value the template put on the next line: "2015-07-03 16:46:00　来源:" then "上海证券报".
_DANGLING_LABEL_RE = re.compile(
    r"^[^，。！？；,!?;]{0,30}?(作者|撰文|记者|来源|來源|出处|责任编辑|責任編輯|责编|编辑|編輯|通讯员|摄影)\s*[:：]\s*$"
)
# A line that is nothing but a name: an essay's author printed under its title, or "（袁源）" ending a report.
_BARE_NAMES_RE = re.compile(rf"^\s*(?P<n>{_HAN_NAMES})\s*$")
_SIGNATURE_RE = re.compile(rf"[（(]\s*(?:(?:记者|通讯员|作者|文)\s*[:：]?\s*)?(?P<n>{_HAN_NAMES})\s*[）)]\s*$")
_UI_WORDS = {
    "首页", "关注", "分享", "评论", "收藏", "打印", "关闭", "返回", "登录", "注册", "专栏", "正文", "原创", "转载",
    "推荐", "阅读", "点赞", "举报", "更多", "目录", "简介", "相关", "标签", "热门", "最新", "全文", "导航", "搜索",
    "视频", "图片", "新闻", "资讯", "博客", "论坛", "社区", "频道", "栏目", "上一篇", "下一篇", "返回顶部", "加关注",
    "个人专栏", "个人主页", "人物", "公告", "通知", "摘要", "导读", "提要", "编者按", "按语", "前言", "引言", "概述",
    "留言", "跟帖", "回复", "楼主", "沙发",
    "时政", "财经", "国际", "国内", "社会", "体育", "娱乐", "科技", "文化", "评论员",
}
_SOURCE_RE = re.compile(
    r"(?:来源于?|來源於?|稿源|出处|来自|转自|稿件来源|文章来源|本文来源|信息来源)\s*[:：]\s*"
    r"(?P<n>[^\s|｜丨:：()（）\[\]【】]{1,30}?)"
    r"(?=\s|$|[|｜丨()（）\[\]【】]|作者|记者|编辑|责任编辑|发布|时间|日期|字体|字号|浏览|点击|阅读|分享|\d{4})"
)
# "发表于2014-08-24 21:30| 来源CSDN| 作者魏星": a 来源 run into its value with no colon, as one field of a
# "|"-separated meta row (a separator after it; "来源于…" is a sentence, not a field).
_RUN_IN_SOURCE_RE = re.compile(
    r"(?:^|[|｜丨])\s*(?:来源|來源)(?![于於自])\s*(?P<n>[^\s|｜丨:：()（）\[\]【】]{2,20})\s*[|｜丨]"
)
# "上游新闻 2022-06-14 10:25 记者：唐中明": an unlabelled outlet opening the byline line, before its date.
_LEADING_OUTLET_RE = re.compile(r"^\s*(?P<n>[^\s\d:：|｜()（）\[\]【】]{2,12})\s+(?:19|20)\d{2}\s*[-/.年]")
_EDITOR_RE = re.compile(
    rf"(?:责任编辑|責任編輯|责编|責編|值班编辑|编辑|編輯|审核|校对)\s*[:：]\s*(?P<n>{_NAMES}){_STOP}"
)
# What a news outlet's name ends with (a 来源 that ends like this is not a person).
_OUTLET_RE = re.compile(
    r"(网|網|网络|文章|科技|工作室|報|报|社|台|刊|杂志|新闻|频道|中心|日报|晚报|周刊|在线|网站|论坛|博客|客户端|号|局|部|委|厅|办|院|会|"
    r"政府|集团|公司|平台|媒体|传媒|出版|学校|大学|官微|微信|微博|\.com|\.cn|\.net|com|cn)$|^(www|http)",
    re.I,
)
_NOT_NAMES = {
    "本报", "本网", "记者", "作者", "编辑", "来源", "佚名", "未知", "匿名", "admin", "管理员", "网友", "不详", "原创",
    "转载", "综合", "整理", "供图", "摄影", "新华社", "中新社", "互联网", "网络", "本站", "小编",
}


# What follows a photographer's name: "记者 杜洋 摄", "黎旭阳、李妍摄影", "张三/摄".
_PHOTO_AFTER_RE = re.compile(r"\s*/?\s*(?:摄|翻摄|拍摄|供图|图)")


@dataclass(frozen=True)
class Byline:
    author: str | None = None
    source: str | None = None
    editor: str | None = None
    photographer: str | None = None  # credited for the pictures only: the author when nobody else is


def _clean_names(raw: str) -> str | None:
    names = [n for n in re.split(r"\s*[、，,/和及与]\s*|\s+", raw.strip()) if n]
    names = [n.strip("·•_-") for n in names if n.strip("·•_-") and n not in _NOT_NAMES]
    names = [n for n in names if not re.fullmatch(r"[A-Za-z]", n)]
    return " ".join(dict.fromkeys(names)) or None


def _looks_like_person(value: str) -> bool:
    """A 来源 value that is a personal name rather than an outlet (2-4 Han characters, no outlet ending)."""
    return is_person_name(value) and not _OUTLET_RE.search(value) and (
        value not in _NOT_NAMES
    )


def _merge_label_lines(lines: list[str]) -> list[str]:
    """Join a label standing alone on its line ("作者：") with the value on the next line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].replace("\u3000", " ").replace("\xa0", " ").strip()
        if (_LABEL_ONLY_RE.match(line) or _DANGLING_LABEL_RE.match(line)) and i + 1 < len(lines) and len(
            lines[i + 1].strip()
        ) <= 40:
            line = f"{line.rstrip(':： ')}：{lines[i + 1].strip()}"
            i += 1
        out.append(line)
        i += 1
    return out


def find_byline(lines: list[str], links: set[str] | frozenset[str] = frozenset()) -> Byline:
    """Author, source outlet and editor from byline-like lines (short lines carrying the labels).

    A 来源 that names a person and no author was found makes that person the author; the source stays None.
    A line that is the whole text of a link (``links``) names no author: it is navigation.
    """
    author = source = editor = photographer = None
    previous = ""
    for line in _merge_label_lines(lines):
        line_before, previous = previous, line
        if not line or len(line) > 120:
            continue
        if author is None and line not in links:
            m = _RUN_IN_AUTHOR_RE.search(line)
            if m and (m.group("sep") or line_before.endswith(("|", "｜", "丨"))) and is_person_name(m.group("n")):
                author = m.group("n")
            for i, rx in enumerate(_AUTHOR_RES if author is None else ()):
                m = rx.search(line)
                if m:
                    found = _clean_names(m.group("n"))
                    # outside an explicit 作者/文 label, only real-looking personal names count
                    if found and (i in (0, 2, 3) or all(is_person_name(n) for n in found.split())):
                        if _PHOTO_AFTER_RE.match(line, m.end()) or found.endswith("摄"):
                            # a caption's "记者 刘关关 摄": the author only if nobody else is credited
                            photographer = photographer or found.removesuffix("摄").strip() or None
                            continue
                        author = found
                        break
        if source is None:
            m = _SOURCE_RE.search(line)
            if m and not re.search(r"[=\"'<>]", m.group("n")):
                source = m.group("n").strip(" ，,。.;；") or None
            elif m := _RUN_IN_SOURCE_RE.search(line):
                source = m.group("n")
            elif credited := print_credit(line):
                source = credited
            elif len(line) <= 60 and re.search(r"作者|记者|编辑|来源", line):
                m = _LEADING_OUTLET_RE.match(line)
                if m and _OUTLET_RE.search(m.group("n")) and m.group("n") not in _NOT_NAMES:
                    source = m.group("n")
        if editor is None:
            m = _EDITOR_RE.search(line)
            if m:
                # "杜硕_NB12556", "NF042": a portal appends its staff code to the name, or prints the code alone
                editor = _clean_names(re.sub(r"_?[A-Za-z]{1,4}\d{2,}\b", " ", m.group("n")))
        if author and source and editor:
            break
    if author is None and source and _looks_like_person(source) and person.check_author(source).author:
        author, source = source, None
    return Byline(author, source, editor, photographer)


# A dateline opening a report: "本报讯（记者 张三）", "人民网重庆5月8日电（胡虹）",
# "新华社北京5月8日电（记者 张三 李四 通讯员 王五）", "本报重庆讯 （记者 张三 实习生 李四）".
_DATELINE_RE = re.compile(
    r"(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*日\s*(?:电|讯|消息)|讯|电讯)\s*"
    r"[（(]\s*(?P<body>[^（()）\n]{2,60}?)\s*[）)]"
)
_DATELINE_LABEL_RE = re.compile(
    r"(?:本报|本网|本台|本刊|特约|见习|实习|首席|全媒体|融媒体)?(?:记者|通讯员|实习生|特约撰稿人?|撰稿)\s*[:：]?"
)


def dateline_author(text: str) -> str | None:
    """The reporters a dateline names at the start of a report; ``text`` is the report's first lines.

    Labelled names (记者/通讯员/实习生) are taken in order; an unlabelled name ("电（胡虹）") must look like a
    personal name. "（记者 张三 摄）", "报道" and "发自…" endings are dropped.
    """
    m = _DATELINE_RE.search(text[:300])
    if not m:
        return None
    body = re.sub(r"(?:摄影?|报道|发自\S*|综合报道|整理)$", "", m.group("body").strip()).strip()
    labelled = bool(_DATELINE_LABEL_RE.search(body))
    names: list[str] = []
    for part in re.split(r"\s*[、，,；;/和及与]\s*|\s+", _DATELINE_LABEL_RE.sub(" ", body)):
        part = part.strip("·•")
        if not part:
            continue
        if part in _NOT_NAMES or not re.fullmatch(_HAN_NAME, part):
            return None  # not a list of names: "（图）", "（上）", "（2020年）", an outlet, a remark
        if not labelled and not is_person_name(part):
            return None
        names.append(part)
    return " ".join(dict.fromkeys(names)) or None


def bare_name(line: str, also_in: str = "") -> str | None:
    """The names on a line that holds nothing else (an essay's author under its title), else None.

    Each name must look like a personal name, except that a list of several names needs only one such
    ("赵延东、风笑天"), and a single pen name is accepted when ``also_in`` (the page's <title>) names it too.
    """
    m = _BARE_NAMES_RE.match(line.replace("\u3000", " "))
    if not m:
        return None
    names = _clean_names(m.group("n"))
    if not names:
        return None
    parts = names.split()
    if any(n in _UI_WORDS or _OUTLET_RE.search(n) for n in parts):
        return None
    if all(is_person_name(n) for n in parts):
        return names
    if len(parts) >= 2 and re.search(r"[、，,]", m.group("n")) and any(is_person_name(n) for n in parts):
        return names
    edge = r"[\s:：|｜_\-—]"
    if len(parts) == 1 and also_in and re.search(rf"(?:^|{edge}){re.escape(parts[0])}(?:$|{edge})", also_in):
        return names
    return None


def signature(text: str) -> str | None:
    """A report's closing attribution, "（袁源）" or "（记者 张三）", on its last line; unlabelled names
    must look like personal names ("（图）", "（汽车）" and "（完）" are not signatures)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    m = _SIGNATURE_RE.search(lines[-1][-40:])
    if not m:
        return None
    names = _clean_names(m.group("n"))
    if not names or any(n in _UI_WORDS or _OUTLET_RE.search(n) for n in names.split()):
        return None
    labelled = re.search(r"(记者|通讯员|作者|文)\s*[:：]?\s*$", m.group(0)[: m.start("n") - m.start()])
    if not labelled and not all(is_person_name(n) for n in names.split()):
        return None
    return names


def outlet_from_metadata(tree: HtmlElement) -> str | None:
    """The outlet a page's article metadata names as its author (``<meta property="article:author"
    content="新浪财经-自媒体综合">``, JSON-LD): the source of a page that prints none, whoever its byline credits.
    Not ``<meta name="author">``: that one is the page's, and CMSs fill it with their vendor ("大汉网络")."""
    for value in _metadata_authors(tree, _ARTICLE_AUTHOR_META):
        outlet = person.check_author(value).outlet
        if outlet:
            return outlet
    return None


def author_from_metadata(tree: HtmlElement) -> str | None:
    """Author from <meta name=author> or JSON-LD, when it names people rather than the site."""
    for value in _metadata_authors(tree):
        value = re.sub(r"^(作者|记者|文|by)\s*[:：/]?\s*", "", value.strip(), flags=re.I)
        if value and len(value) <= 30 and not _OUTLET_RE.search(value) and value not in _NOT_NAMES:
            if not re.search(r"https?:|www\.|\.com|\.cn", value):
                return _clean_names(value)
    return None


_AUTHOR_META = frozenset({"author", "article:author", "dc.creator", "byl", "sailthru.author"})
_ARTICLE_AUTHOR_META = frozenset({"article:author"})


def _metadata_authors(tree: HtmlElement, keys: frozenset[str] = _AUTHOR_META) -> list[str]:
    """The author values of the <meta> tags named ``keys`` and of JSON-LD, in page order."""
    candidates: list[str] = []
    for el in tree.iterfind(".//meta"):
        key = (el.get("name") or el.get("property") or "").lower()
        if key in keys:
            candidates.append(el.get("content") or "")
    for value in _jsonld_values(tree, ("author",)):
        if isinstance(value, dict):
            value = value.get("name")
        elif isinstance(value, list) and value:
            value = value[0].get("name") if isinstance(value[0], dict) else value[0]
        if isinstance(value, str):
            candidates.append(value)
    return candidates


# ------------------------------------------------------------------------------------------------ title

_TITLE_SEP_RE = re.compile(r"\s*(?:--|——|—|–|_|\||｜|-|::|·)\s*")
_SITE_WORD_RE = re.compile(
    r"(网|網|频道|頻道|新闻|新聞|首页|首頁|官网|门户|日报|日報|晚报|报|社|台|在线|中心|论坛|博客|时政|国内|国际|"
    r"财经|教育|社会|体育|娱乐|科技|文化|旅游|健康|汽车|房产|军事|评论|专题|滚动|要闻|图片|视频|正文|"
    r"[A-Za-z0-9.\-]+\.(?:com|cn|net|org)(?:\.cn)?)$",
    re.I,
)


def title_separator_ends(text: str) -> bool:
    """Does ``text`` end with one of the separators titles put before a site name ("_", "|", " - ")?"""
    return bool(re.search(rf"{_TITLE_SEP_RE.pattern}$", text))


def clean_title(title: str | None, headings: list[str] | tuple[str, ...] = ()) -> str | None:
    """Title without the site-name suffix ("…_人民网", "…-华龙网", "…--重庆频道--人民网").

    When a heading on the page is the start of the <title>, that heading is the title; otherwise trailing
    separator-delimited segments are dropped while they look like site or channel names.
    """
    if not title:
        return None
    title = re.sub(r"\s+", " ", title).strip()
    for heading in headings:
        heading = re.sub(r"\s+", " ", heading or "").strip()
        if len(heading) >= 4 and title.startswith(heading) and len(heading) < len(title):
            rest = title[len(heading) :]
            if _TITLE_SEP_RE.match(rest) and _TITLE_SEP_RE.match(rest).end() > 0:  # type: ignore[union-attr]
                return heading
            # "标题 湖南省中医药研究院附属医院": the site's name after a space, the page's heading before it
            if rest[0].isspace() and len(rest.strip()) <= 30 and not re.search(r"[，。！？：,!?:]", rest):
                return heading
    # "多维博客 » 标题": a site name ahead of the title, as a breadcrumb
    m = re.match(r"(?P<site>[^»›]{2,20}?)\s*[»›]\s*(?P<rest>.{4,})$", title)
    if m and _SITE_WORD_RE.search(m.group("site").strip()):
        title = m.group("rest")
    # "标题_上游新闻·汇聚向上的力量": a site name followed by its slogan; cut at the separator before it
    for sep in re.finditer(r"\s*(?:_|\||｜|--|——)\s*", title):
        head, tail = title[: sep.start()], title[sep.end() :]
        first = _TITLE_SEP_RE.split(tail, maxsplit=1)[0]
        if len(head) >= 4 and tail != first and len(tail) <= 30 and len(first) <= 12 and _SITE_WORD_RE.search(first):
            title = head.strip()
            break
    while True:
        parts = list(_TITLE_SEP_RE.finditer(title))
        if not parts:
            break
        last = parts[-1]
        head, tail = title[: last.start()], title[last.end() :]
        if not head or len(head) < 4 or not tail:
            break
        has_domain = re.search(r"[A-Za-z0-9\-]+\.(?:com|cn|net|org)\b", tail) is not None
        if (len(tail) <= 20 or has_domain and len(tail) <= 40) and (
            _SITE_WORD_RE.search(tail) or re.fullmatch(r"[A-Za-z0-9 .\-]+", tail)
        ):
            title = head.strip()
            continue
        break
    return title or None


# ------------------------------------------------------------------------------------------ boilerplate

_CUT_FROM_RE = re.compile(
    r"^[\s【\[（(]*(版权声明|免责声明|反侵权公告|侵权声明|版权所有|声明\s*[:：]|特别声明|郑重声明|法律声明|Copyright|©|\(c\)|凡本网注明|"
    r"本网站?所刊登|本文[系为].{0,20}原创|未经.{0,12}(授权|许可|允许|同意).{0,10}(转载|复制|使用)|"
    # a comment box's head or disclaimer: the article is over
    r"跟贴热词|网友评论仅供.{0,4}表达个人看法)",
    re.I,
)
_LIST_HEAD_RE = re.compile(
    r"^[\s【\[]*(头图推荐|图片新闻|相关新闻|相关阅读|相关文章|相关报道|相关链接|热点推荐|热门推荐|热门文章|推荐阅读|"
    r"延伸阅读|精彩推荐|猜你喜欢|为你推荐|更多新闻|更多精彩|往期回顾|热点新闻|今日推荐|编辑推荐|点击排行|"
    r"热门排行|排行榜|最新文章|最新新闻|热门评论|网友评论|精彩图片|图片推荐|视频推荐|专题推荐|关键词阅读|"
    r"\d*小时评论排行|评论排行|跟贴排行|重点推荐)[\s】\]:：>»]*$"
)
_DROP_LINE_RE = re.compile(
    r"^[\s【\[（(]*(责任编辑|責任編輯|责编|責編|值班编辑|编辑|編輯|审核|校对|来源于?|來源於?|稿源|文章来源|稿件来源|本文来源|"
    r"信息来源|原标题|原題|作者|记者|通讯员|实习生|摄影|图片来源|图源|标签|关键词|关键字|Tags?)\s*[:：]"
)
_CHROME_RE = re.compile(
    r"(分享到|分享至|一键分享|扫一扫|扫描二维码|二维码|长按识别|微信扫|关注公众号|关注我们|返回顶部|回到顶部|"
    r"打印本页|关闭窗口|打印\s*[\]】]|\[\s*关闭|【\s*关闭|收藏本页|加入收藏|字号[:：]?\s*[大中小]|上一篇|下一篇|"
    r"上一页|下一页|点击进入|点击查看|阅读全文|举报|纠错|我要评论|发表评论|查看评论|评论\s*\(\d+\)|"
    # a pager: "第1页/共1页", "共3页"
    r"^第\s*\d+\s*页\s*[/／,，]?\s*共\s*\d+\s*页$|^共\s*\d+\s*页$|"
    r"^[【\[]?(打印|关闭|收藏|返回|顶部|复制链接|微信|微博|QQ空间|QQ好友)[】\]]?$|"
    # a breadcrumb: "现在位置： 首页 >> 东区新闻 >> 正文", "首页 > 新闻中心 > 正文"
    r"^(?:当前|现在|您的|你的|所在)位置\s*[:：]|首页\s*(?:>>?|»|›|＞))",
    re.I,
)
_SENTENCE_END_RE = re.compile(r"[。！？!?；;…”」』]\s*$")
_PUNCT_RE = re.compile(r"[，。！？；：、,.!?;:“”]")
# The head of a page's comment section: readers' comments follow, the article is over.
_COMMENTS_HEAD_RE = re.compile(
    r"^[\s【\[]*(热门评论|最新评论|网友评论|精彩评论|全部评论|最新跟贴|热门跟贴)[\s】\]:：>»]*$"
)
# A row of bracketed UI links: "[查看我的博客目录] [加入个人书签]".
_UI_BRACKETS_RE = re.compile(r"(?:[\[【][^\]】]{1,12}[\]】]\s*){2,}")
_META_LABEL_RE = re.compile(r"(发布|发表|点击|来自|来源|浏览|阅读|评论|作者|编辑|时间|日期|人气|访问)\s*[:：]")
_COUNTER_RE = re.compile(r"(点击|浏览|阅读|评论|人气|访问)(?:量|数|次数)?\s*[:：(（]?\s*\d+")
# A credit's label: beside a date with a time it makes a byline row ("2005-04-05 06:40更新 来源：转载文章").
_CREDIT_LABEL_RE = re.compile(r"(来源|來源|来自|作者|编辑|責任編輯|责任编辑)\s*[:：]")


# A print edition's credit under a reprint: "《光明日报》（ 2022年02月13日 02版）" names the paper, the day and the
# page the story was first printed on; like a "来源：光明日报" line it is the source, not the body.
_PRINT_CREDIT_RE = re.compile(
    r"^[\s【\[（(]*《(?P<n>[^《》\s]{2,20})》\s*[（(]?\s*(?:19|20)\d{2}\s*[年\-./]\s*\d{1,2}\s*[月\-./]\s*\d{1,2}\s*日?"
    r"\s*[，,]?\s*(?:第\s*)?[\dA-Za-z]{1,4}\s*版\s*[）)]?[\s】\]）)]*$"
)
# A blog post's footer of counters and actions: "(本文发表于首页批评与建议, 已被阅读178次)", "本文通告引用(Trackback)
# 链接: …", "《标题》已有1件评论"; a newsletter box's lone "订阅" button.
_SUBSCRIBE_RE = re.compile(r"^[\s【\[]*(?:订阅|立即订阅|马上订阅|免费订阅)[\s】\]]*$")
_POST_FOOTER_RE = re.compile(
    r"已被(?:阅读|浏览|点击|查看)\s*\d+\s*次|Trackback|引用通告|已有\s*\d+\s*[件条个篇位]\s*(?:评论|留言|回复|跟贴)|"
    + _SUBSCRIBE_RE.pattern,
    re.I,
)


def print_credit(line: str) -> str | None:
    """The paper a print edition's credit line names ("《光明日报》（ 2022年02月13日 02版）" -> 光明日报), or None."""
    m = _PRINT_CREDIT_RE.match(line.strip())
    return m["n"] if m else None


def is_post_footer(line: str) -> bool:
    """A post's footer line of counters and actions (read count, trackback link, comment count) or a subscribe
    button: the blog's or newsletter box's chrome, never the article's line."""
    return len(line.strip()) <= 100 and bool(_POST_FOOTER_RE.search(line))


# An interview's speaker labels: "记者：…？" asks, "作者：…。" answers.
_INTERVIEW_RE = re.compile(r"^[\s【\[（(]*(记者|作者|主持人|通讯员)\s*[:：]")


def _is_sentence(line: str) -> bool:
    """A line of prose: at least 15 characters, with a comma or a sentence's end."""
    return len(line) >= 15 and bool(re.search(r"[，,]|[。！？!?]\s*[”」』]?\s*$", line))


def is_meta_row(line: str) -> bool:
    """A post's or page's meta row rather than prose: two labelled fields ("发布: 2021-1-29 13:18|点击:
    313|来自: 互联网"), or a date with a time beside a counter ("发表于 2004年12月27日 12:40 - (阅读:3727)") or a
    credit ("2005-04-05 06:40更新 来源：转载文章")."""
    if _SENTENCE_END_RE.search(line):
        return False
    if len(_META_LABEL_RE.findall(line)) >= 2 and len(line) <= 80:
        return True
    by_time = bool(_COUNTER_RE.search(line) or _CREDIT_LABEL_RE.search(line) and len(line) <= 80)
    return by_time and any(h.has_time for h in find_dates(line))


def is_credit_line(line: str) -> bool:
    """A short credit line ("来源：…", "责任编辑：…", "作者：…") that the text leaves out."""
    return len(line) <= 80 and bool(_DROP_LINE_RE.search(line))


def is_copyright_line(line: str) -> bool:
    """A copyright or disclaimer line (where a page's article has ended)."""
    return bool(_CUT_FROM_RE.search(line.strip()))


# A comment box's own lines: counters, moderation notices, input prompts. Short, and never an article's sentence.
_COMMENT_UI_RE = re.compile(
    r"^[\s【\[（(]*(?:已有\s*\d+\s*(?:人|条)(?:参与|评论|跟贴|留言)\S{0,4}|\d+\s*(?:人参与|条评论|条留言)|"
    r"(?:评论|留言|跟贴)(?:内容)?须经(?:过)?审核(?:后)?(?:才能|方可)?(?:公开|发布|显示|发表)|请文明上网[，,]?\s*理性发言|"
    r"(?:网友|用户)?(?:评论|留言)仅代表(?:网友|用户)?个人观点\S{0,12})[\s】\]）)。.!！]*$"
)


def is_comment_ui_line(line: str) -> bool:
    """A comment box's counter or notice (``已有0人参与评论``, ``留言须经审核后公开``): UI between feeds, not text."""
    return bool(_COMMENT_UI_RE.match(line.strip(" |")))


def is_link_farm(line: str) -> bool:
    """An SEO tail: many short items (place names, keywords) separated by |, ｜, 丨 or spaces."""
    items = [i for i in re.split(r"\s*[|｜丨]\s*", line.strip()) if i]
    if len(items) >= 4 and all(len(i) <= 12 for i in items):
        return True
    words = line.split()
    return len(words) >= 8 and all(len(w) <= 6 for w in words) and not _SENTENCE_END_RE.search(line)


def _is_listy(line: str) -> bool:
    """A line that reads like a headline link rather than prose."""
    return len(line) <= 45 and not _SENTENCE_END_RE.search(line)


def strip_boilerplate(text: str) -> str:
    """Drop byline/editor/source lines, share bars, QR captions, recommendation lists, link farms, and cut
    everything from a copyright or disclaimer block on."""
    out: list[str] = []
    lines = text.splitlines()
    in_list = value_next = False
    for raw in lines:
        line = raw.strip()
        if not line:
            in_list = False if not out or out[-1] else in_list
            out.append("")
            continue
        if line.startswith("|"):
            # a table row as trafilatura renders it ("| cell |  |  |"): judge its cells, not the pipes
            cells = [c.strip() for c in line.strip("|").split("|")]
            filled = [c for c in cells if c]
            label = len(filled) == 1 and len(filled[0]) <= 20
            bar = len(cells) == 1 and not _SENTENCE_END_RE.search(filled[0] if filled else "") and not any(
                _is_sentence(o.strip()) for o in out
            )
            if not filled or label and (len(cells) >= 3 or bar):
                # a layout row: empty cells around a label (a calendar's month, a box title), or a one-cell bar
                # above the body (a channel's name: "| 报社新闻 频道 |")
                continue
            line = " ".join(filled) if len(filled) == 1 else line
        if _CUT_FROM_RE.search(line) or _COMMENTS_HEAD_RE.match(line):
            if any(len(o) >= 10 and re.search(r"[，。！？,.!?]", o) for o in out):
                break
            continue  # above any prose (a table layout's footer cell rendered first): chrome, not the end
        if _LIST_HEAD_RE.search(line):
            in_list = True
            continue
        if in_list:
            if _is_listy(line):
                continue
            in_list = False
        short = len(line) <= 80
        if value_next:
            value_next = False
            if len(line) <= 30 and not _SENTENCE_END_RE.search(line):
                continue  # the value of a credit label left on the line before
        if short and (_DANGLING_LABEL_RE.match(line.replace("\u3000", " ")) or _LABEL_ONLY_RE.match(line)
                      and line.endswith((":", "："))):
            value_next = True  # a label whose value the template prints on the next line, or never ("发表时间：")
            continue
        prose = _is_sentence(line)
        if short and _DROP_LINE_RE.search(line) and not (prose and _INTERVIEW_RE.match(line)):
            continue  # a credit line; an interview's "记者：您怎么看？" is prose and stays
        if short and (print_credit(line) or is_post_footer(line)):
            if _SUBSCRIBE_RE.match(line) and out and 0 < len(out[-1].strip()) <= 40 and not _PUNCT_RE.search(out[-1]):
                out.pop()  # a newsletter box's pitch above its button ("头条新闻就在您的每日新闻信里")
            continue
        if short and not prose and (_CHROME_RE.search(line) or _UI_BRACKETS_RE.fullmatch(line)):
            continue  # a sentence saying 举报 or 发表评论 is no share bar
        if len(line) <= 100 and is_meta_row(line):
            continue
        if is_link_farm(line):
            continue
        if short and re.fullmatch(r"[(（\[【]?\s*(完|全文完|END|end|-+\s*完\s*-+)\s*[)）\]】]?", line):
            continue
        out.append(raw.rstrip())
    cleaned = "\n".join(out)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned).strip()
    # Link-farm tails are often several consecutive short lines of place names: drop a trailing run of
    # very short non-sentence lines after the prose.
    tail = cleaned.split("\n")
    while len(tail) > 3 and all(0 < len(t.strip()) <= 8 and not _SENTENCE_END_RE.search(t) for t in tail[-3:]):
        tail = tail[:-3]
        while tail and (not tail[-1].strip() or len(tail[-1].strip()) <= 8) and not _SENTENCE_END_RE.search(
            tail[-1]
        ):
            tail.pop()
    return "\n".join(tail).strip()


def _is_post_header(line: str) -> bool:
    """A blog or forum post's header: a short line holding a date with a time (and perhaps a title)."""
    line = line.strip(" |\t")
    if not line or len(line) > 100 or _SENTENCE_END_RE.search(line):
        return False
    hits = [h for h in find_dates(line) if h.has_time]
    return bool(hits) and len(re.sub(r"[\d\s:：/\-.年月日|]", "", line)) <= 60


def first_post(text: str) -> str:
    """The first post of a page that holds several (a blog's front page, a forum thread): when at least
    three date-and-time headers each open a stretch of prose, keep the text before the second one (and
    the second post's title line when it sits just above its date)."""
    lines = text.split("\n")
    headers = [i for i, line in enumerate(lines) if _is_post_header(line)]
    if len(headers) < 3:
        return text

    def prose(a: int, b: int) -> int:
        return sum(len(ln.strip()) for ln in lines[a + 1 : b] if len(ln.strip()) >= 20)

    before = prose(-1, headers[0])
    if prose(headers[0], headers[1]) < 80 or prose(headers[1], headers[2]) < 80 or before >= 200:
        return text
    cut = headers[1]
    above = lines[cut - 1].strip() if cut - 1 > headers[0] else ""
    if above and len(above) <= 40 and not _SENTENCE_END_RE.search(above):
        cut -= 1
    return "\n".join(lines[:cut]).strip()


# ---------------------------------------------------------------------------------------------- helpers


def _jsonld_values(tree: HtmlElement, keys: tuple[str, ...]) -> list[object]:
    values: list[object] = []
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                for key in keys:
                    if key in item:
                        values.append(item[key])
                stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
    return values


def cjk_share(text: str) -> float:
    """Share of Han characters among the letters of ``text`` (a cheap language signal)."""
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return han / (han + latin / 5) if han or latin else 0.0


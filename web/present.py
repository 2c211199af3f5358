"""What a reader sees, from the plain data ``db/`` returns: highlighted snippets, diffs as rows of marked
segments (side by side and inline), times in Asia/Shanghai. The templates escape every segment's text."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cqnews.db.fulltext import fold
from cqnews.db.search import ParagraphChange, TextMatch, character_changes

SHANGHAI = ZoneInfo("Asia/Shanghai")

Segment = tuple[str, str]  # (text, mark): mark is "" (as is), "hit" (a query word), "del" or "ins"


def local_time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "–"


def iso_time(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def snippet(match: TextMatch, words: list[str], width: int = 120) -> list[Segment]:
    """A window of the text around its first match, every query word in it marked "hit"."""
    start = max(0, match.first - width // 3) if match.first is not None else 0
    window = match.text[start : start + width]
    folded = fold(window)
    if len(folded) != len(window):  # positions in the folded window would not be those of the shown one
        folded = window
    marked = [False] * len(window)
    for word in filter(None, words):
        at = folded.find(word)
        while at >= 0:
            marked[at : at + len(word)] = [True] * len(word)
            at = folded.find(word, at + len(word))
    segments: list[Segment] = [("…", "")] if start else []
    for n, char in enumerate(window):
        mark = "hit" if marked[n] else ""
        if segments and segments[-1][1] == mark and segments[-1][0] != "…":
            segments[-1] = (segments[-1][0] + char, mark)
        else:
            segments.append((char, mark))
    if start + width < len(match.text):
        segments.append(("…", ""))
    return segments


@dataclass(frozen=True)
class DiffRow:
    """One paragraph of a diff: ``old`` and ``new`` as marked segments (None: the paragraph is not on that side),
    ``inline`` the two in one, removals then additions in reading order."""

    kind: str  # "equal", "changed", "removed", "added"
    old: list[Segment] | None
    new: list[Segment] | None
    inline: list[Segment]


def marked_changes(old: str, new: str) -> tuple[list[Segment], list[Segment], list[Segment]]:
    """``old`` and ``new`` with their changed characters marked: the old side ("del"), the new side ("ins"),
    and both in one (inline), for a paragraph replaced by another and for a changed title alike."""
    left: list[Segment] = []
    right: list[Segment] = []
    inline: list[Segment] = []
    for part in character_changes(old, new):
        if part.kind == "equal":
            left.append((part.old, ""))
            right.append((part.new, ""))
            inline.append((part.old, ""))
            continue
        if part.old:
            left.append((part.old, "del"))
            inline.append((part.old, "del"))
        if part.new:
            right.append((part.new, "ins"))
            inline.append((part.new, "ins"))
    return left, right, inline


def diff_rows(changes: list[ParagraphChange]) -> list[DiffRow]:
    """Paragraph changes as rows; a paragraph replaced by one other gets its changed characters marked."""
    rows: list[DiffRow] = []
    for change in changes:
        if change.kind == "equal":
            rows += [DiffRow("equal", [(p, "")], [(p, "")], [(p, "")]) for p in change.old]
            continue
        for k in range(max(len(change.old), len(change.new))):
            old = change.old[k] if k < len(change.old) else None
            new = change.new[k] if k < len(change.new) else None
            if old is not None and new is not None:
                rows.append(DiffRow("changed", *marked_changes(old, new)))
            elif old is not None:
                rows.append(DiffRow("removed", [(old, "del")], None, [(old, "del")]))
            elif new is not None:
                rows.append(DiffRow("added", None, [(new, "ins")], [(new, "ins")]))
    return rows


def month_after(month: str) -> str:
    """The first day of the month after ``month`` ("YYYY-MM"): the exclusive end of a month facet's range."""
    year, number = map(int, month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}-01"

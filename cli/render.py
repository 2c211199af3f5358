"""Rendering for people: times in Asia/Shanghai, tables that line up Chinese text, records for JSON output."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from cqnews.health import Problem

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | None) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "-"


def iso_time(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).isoformat() if value else None


def problem_text(problem: Problem) -> str:
    """One health problem (a ``cqnews.health.Problem``) in the words of `cqnews status`."""
    from cqnews import health

    match problem:
        case health.NeverCrawled():
            return "never crawled"
        case health.Overdue(due=due):
            return f"overdue: a crawl was due {due.astimezone(SHANGHAI).strftime('%Y-%m-%d %H:%M:%S')}"
        case health.LastCrawlFailed(reason=reason):
            return f"errors: the last crawl failed ({reason})"
        case health.FetchedNothing(errors=errors):
            return f"errors: the last crawl fetched no page ({errors} errors); is the site up?"
        case health.TooManyErrors(errors=errors, requests=requests):
            return f"errors: {errors} in {requests} requests of the last crawl"
        case health.ExtractionEmpty(rate=rate, pages=pages):
            return f"extraction empty for {rate:.0%} of {pages} article pages"
        case health.NoNewArticles(runs=runs):
            return f"zero new articles for {runs} runs"
    raise TypeError(f"not a health problem: {problem!r}")


def verdict(problems: list[Problem]) -> str:
    """A site's verdict: OK, or its problems."""
    return "; ".join(problem_text(p) for p in problems) if problems else "OK"



def print_table(rows: list[list[str]], headers: list[str]) -> None:
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in [headers] + rows:
        print("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())



def version_dict(v: Any) -> dict[str, Any]:
    return {"version": v.version_no, "title": v.title, "published_at": iso_time(v.published_at), "author": v.author,
            "source": v.source, "editor": v.editor, "content_hash": v.content_hash, "chars": v.text_length,
            "first_seen": iso_time(v.first_seen), "last_seen": iso_time(v.last_seen), "seen": v.seen_count,
            "extractor": v.extractor_version}



"""Rendering for people: times in Asia/Shanghai, tables that line up Chinese text, records for JSON output,
search snippets and version diffs marked up from the plain data ``db.search`` returns."""
from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cqnews.extraction.controls import CONTROL_CHARACTERS

if TYPE_CHECKING:
    from cqnews.db.search import ParagraphChange, TextChange, TextMatch
    from cqnews.health import Liveness, Problem

SHANGHAI = ZoneInfo("Asia/Shanghai")


# C0 and C1 control characters but \t and \n, and DEL: page text could move the cursor, retitle the window or
# rewrite what is on screen (ESC sequences, or CSI as U+009B); each is shown as U+FFFD instead.
_CONTROLS = dict.fromkeys(map(ord, CONTROL_CHARACTERS), "\ufffd")
_C1_ESCAPED = {c: f"\\u{c:04x}" for c in range(0x80, 0xA0)}


def clean(text: str) -> str:
    """``text`` safe for a terminal: control characters (but tab and newline) replaced by U+FFFD."""
    return text.translate(_CONTROLS)


def say(*parts: object, sep: str = " ", end: str = "\n", file: IO[str] | None = None, flush: bool = False,
        start: str = "") -> None:
    """The one printer of the CLI: ``print`` with every part passed through :func:`clean` (``start``, e.g. a
    carriage return that redraws a progress line, is written as given)."""
    out = file if file is not None else sys.stdout
    out.write(start + sep.join(clean(str(p)) for p in parts) + end)
    if flush:
        out.flush()


def json_text(value: Any, **kwargs: Any) -> str:
    """JSON with Chinese as is, and C1 controls escaped (json escapes C0 itself), so it is terminal-safe and
    loses nothing."""
    return json.dumps(value, ensure_ascii=False, **kwargs).translate(_C1_ESCAPED)


class LogFormatter(logging.Formatter):
    """Log lines stamped in Asia/Shanghai with the offset, as the daemon's messages write their times: one zone
    in the whole log, whatever the host's."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's)
        return datetime.fromtimestamp(record.created, SHANGHAI).isoformat(timespec="milliseconds")


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
        case health.DiscoveryDrift(matched=matched, unmatched=unmatched, runs=runs, silent=silent):
            if silent:
                return (f"discovery drift: the article patterns matched nothing for {runs} runs; "
                        "has the site changed its URL scheme?")
            return (f"discovery drift: {unmatched} article-like links matched no pattern ({matched} did); "
                    "see cqnews/discover/unmatched_article_like_examples in the run's stats")
    raise TypeError(f"not a health problem: {problem!r}")


def daemon_text(liveness: Liveness) -> str:
    """The daemon's line of `cqnews status` (a ``cqnews.health.Liveness``)."""
    from cqnews import health

    match liveness:
        case None:
            return "daemon: not running"
        case health.DaemonAlive(host=host, pid=pid, since=since, last_seen=seen):
            return f"daemon: running (pid {pid} on {host}), since {local_time(since)}, last seen {local_time(seen)}"
        case health.DaemonDead(host=host, pid=pid, last_seen=seen, pid_gone=gone):
            why = f"pid {pid} gone" if gone else f"no heartbeat since; pid {pid} on {host}"
            return f"daemon: not running (last seen {local_time(seen)}, {why})"
    raise TypeError(f"not a daemon liveness: {liveness!r}")


def verdict(problems: list[Problem]) -> str:
    """A site's verdict: OK, or its problems."""
    return "; ".join(problem_text(p) for p in problems) if problems else "OK"



def print_table(rows: list[list[str]], headers: list[str]) -> None:
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in [headers] + rows:
        say("  ".join(cell + " " * (w - width(cell)) for cell, w in zip(row, widths, strict=True)).rstrip())



def version_dict(v: Any) -> dict[str, Any]:
    return {"version": v.version_no, "title": v.title, "published_at": iso_time(v.published_at), "author": v.author,
            "source": v.source, "editor": v.editor, "content_hash": v.content_hash, "chars": v.text_length,
            "first_seen": iso_time(v.first_seen), "last_seen": iso_time(v.last_seen), "seen": v.seen_count,
            "extractor": v.extractor_version}


def snippet(match: TextMatch, width: int = 60) -> str:
    """A short window of the text around its first match, "…" where the text goes on."""
    start = max(0, match.first - width // 3) if match.first is not None else 0
    piece = match.text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(match.text) else "")


def page_summary(first: int, shown: int, total: int, more: bool, page: int, per_page: int,
                 next_command: str | None) -> str:
    """The line under a page of search results: which results, of how many, and the command for the next page."""
    if not shown:
        return "no results" if first == 1 else f"no results on page {page} (there are {total:,})"
    of = f"more than {total:,}" if more else f"{total:,}"
    pages = "" if more else f" of {max(1, -(-total // per_page)):,}"
    line = f"results {first:,}–{first + shown - 1:,} of {of} (page {page:,}{pages})"
    return f"{line}; next page: {next_command}" if next_command else line


@dataclass(frozen=True)
class DiffLine:
    """One line of a paragraph diff: ``kind`` is " " (same), "-" (removed), "+" (added), "~" (inline marks)."""

    kind: str
    text: str


def diff_lines(changes: list[ParagraphChange], context: int = 1) -> list[DiffLine]:
    """A readable diff by paragraph; a changed paragraph also gets an inline line marking what changed inside
    it as ``[-removed-]{+added+}``.

    Unchanged paragraphs further than ``context`` from a change are elided as one "…" line.
    """
    from cqnews.db.search import character_changes

    out: list[DiffLine] = []
    for n, change in enumerate(changes):
        if change.kind == "equal":
            same = change.old
            head = same[:context] if n > 0 else []
            tail = same[-context:] if n < len(changes) - 1 and context else []
            if len(same) <= len(head) + len(tail):
                out += [DiffLine(" ", p) for p in same]
            else:
                out += [DiffLine(" ", p) for p in head] + [DiffLine(" ", "…")] + [DiffLine(" ", p) for p in tail]
            continue
        removed, added = change.old, change.new
        for k in range(max(len(removed), len(added))):
            if k < len(removed):
                out.append(DiffLine("-", removed[k]))
            if k < len(added):
                out.append(DiffLine("+", added[k]))
            if k < len(removed) and k < len(added):
                out.append(DiffLine("~", inline_diff(character_changes(removed[k], added[k]))))
    return out


def inline_diff(changes: list[TextChange]) -> str:
    """The old paragraph with its changes marked: [-removed-] and {+added+}."""
    parts = []
    for change in changes:
        if change.kind == "equal":
            parts.append(change.old)
        if change.kind in ("delete", "replace"):
            parts.append(f"[-{change.old}-]")
        if change.kind in ("insert", "replace"):
            parts.append(f"{{+{change.new}+}}")
    return "".join(parts)

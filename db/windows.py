"""Reading a search's matches newest first, a few months at a time, instead of sorting all of them.

A word in half of a million articles has half a million matches; sorting them all to show the newest
twenty made search slow (measured at 1,000,000 articles: p95 1.5-1.7 s). The index holds each article's
month as a word (``db.fulltext.facet_words``), so a probe can ask FTS5 or GIN for the matches in the newest
months only: the engine intersects the word's posting list with those months' lists. The window widens
until it holds what was asked for. Every match outside a window is older than every match inside it, so
the newest N of a window that has N are the newest N of all: the answer is exactly what sorting every
match gives (``db.search`` tests both against each other).

This module is the plan only: which months to ask for, in what order. ``db.search`` runs the probes.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from cqnews.db.fulltext import month_of

T = TypeVar("T")

FIRST_WINDOW = 2  # months: the newest month alone may have only begun


def months_between(newest: datetime, oldest: datetime) -> list[str]:
    """Facet months (``YYYYMM``) from ``newest``'s down to ``oldest``'s, newest first."""
    first, last = month_of(newest), month_of(oldest)
    year, month = int(first[:4]), int(first[4:])
    out = []
    while f"{year:04d}{month:02d}" >= last:
        out.append(f"{year:04d}{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def newest_first(months: Sequence[str], wanted: int, probe: Callable[[tuple[str, ...]], list[T]], *,
                 whole_first: bool = False, whole_below: int = 0) -> list[T]:
    """The newest ``wanted`` results of ``probe``, asking it for as few months as it can.

    ``probe(window)`` returns the newest ``wanted`` matches in the months of ``window``, or in all the
    archive (dateless articles included) when ``window`` is empty. After a window with too few matches, the
    next is sized from the rate seen (1.5x what that rate needs, at least twice as wide); a window that
    would reach half the archive's months is the whole archive (a long list of months costs the engine
    more than it saves). ``whole_first``: the caller expects few matches; ask for the whole archive at once.
    ``whole_below``: after a window, if the rate seen projects at most this many matches over all the months,
    ask for the whole archive next (on PostgreSQL a window costs GIN the bitmap of its months' every row, the
    whole archive only the matches': at 1,000,000 articles 垃圾分类 志愿者 街道 社区 on one site, 94 matches,
    spent 7.8 / 40 / 148 ms on three windows and takes 11 ms whole). The answer is the same either way.
    """
    width = len(months) if whole_first else FIRST_WINDOW
    while True:
        window = tuple(months[:width]) if 2 * width < len(months) else ()
        rows = probe(window)
        if len(rows) >= wanted or not window:
            return rows
        width = max(2 * width, math.ceil(1.5 * width * wanted / max(len(rows), 0.5)))
        if len(rows) * len(months) <= whole_below * len(window):
            width = len(months)


def by_level(levels: Sequence[int | None], need: int, level_rows: Callable[[int | None, int], list[T]]
             ) -> list[tuple[T, int | None]]:
    """The first ``need`` results over the levels in order (each level's rows newest first); a level is
    left for the next only when all its rows are taken."""
    out: list[tuple[T, int | None]] = []
    for level in levels:
        out += [(row, level) for row in level_rows(level, need - len(out))]
        if len(out) >= need:
            break
    return out

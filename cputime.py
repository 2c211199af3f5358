"""CPU time by stage: where a crawl's time goes, measured in the crawl itself.

Each component times its own work with the CPU clock of the thread doing it (``time.thread_time``: the reactor
thread, the store's writer thread, an extraction worker), so other threads and other engineers' processes on the
machine do not blur the figures. The milliseconds are summed into the crawl's stats under ``cqnews/cpu/<stage>``
(``cqnews.stats.count_cpu``), stored with the run; ``bench/crawl_bench.py`` prints them as a breakdown.
Standard library only: the extraction workers and the archive's writer use it without Scrapy.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class StageTimes:
    """CPU milliseconds of the calling thread, by stage; one instance per thread of work."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}
        self._mark = time.thread_time()

    def restart(self) -> None:
        """Start the next lap now (what ran since the last lap belongs to no stage)."""
        self._mark = time.thread_time()

    def lap(self, stage: str) -> None:
        """What ran since the last lap (or restart) was ``stage``."""
        now = time.thread_time()
        self.add(stage, (now - self._mark) * 1000)
        self._mark = now

    def add(self, stage: str, ms: float) -> None:
        self.ms[stage] = self.ms.get(stage, 0.0) + ms

    def merge(self, other: Mapping[str, float]) -> None:
        for stage, ms in other.items():
            self.add(stage, ms)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Time a block as ``stage`` (not to be nested inside laps of the same instance)."""
        start = time.thread_time()
        try:
            yield
        finally:
            self.add(stage, (time.thread_time() - start) * 1000)

    def take(self) -> dict[str, float]:
        """The times so far, and start again from none."""
        ms, self.ms = self.ms, {}
        return ms


def timed_iter(items: Iterator[T], spent: Callable[[float], None]) -> Iterator[T]:
    """Yield from a generator, passing ``spent`` the CPU ms of each step inside it (not its consumer's)."""
    while True:
        start = time.thread_time()
        try:
            item = next(items)
        except StopIteration:
            spent((time.thread_time() - start) * 1000)
            return
        spent((time.thread_time() - start) * 1000)
        yield item

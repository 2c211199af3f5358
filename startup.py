"""A command starts without the cyclic garbage collector.

A command's start is mostly imports (Scrapy, Twisted, SQLAlchemy, the spiders) and set-up: objects that live as
long as the process. The collector, triggered by allocation counts, walks them again and again while they are
made: ~250 collections, two of them full, ~0.08 s of CPU of an unchanged re-crawl's ~0.8 s (2026-12-04, measured
with gc.callbacks). So ``cli.main`` pauses it first thing and it resumes when the command's work begins: after the
settings are checked for most commands, just before the reactor for a crawl (``runner.run_crawls``), which also
freezes what start-up made (``gc.freeze``: the permanent generation, never walked again, as the process ends with
its crawl). What is already garbage then stays: ~2,000 objects on a re-crawl, +0.6 MiB of peak RSS.
"""
from __future__ import annotations

import gc


def pause() -> None:
    """No cyclic collection until :func:`resume` (reference counting still frees everything else)."""
    gc.disable()


def resume(freeze: bool = False) -> None:
    """Collect again, if paused; ``freeze``: first move every object alive now out of the collector's reach."""
    if gc.isenabled():
        return
    if freeze:
        gc.freeze()
    gc.enable()

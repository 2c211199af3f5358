"""The extraction workers' side of ExtractPipeline: what runs in the pool, importing no Scrapy.

The pool's forkserver imports this module (and the extractor) before it forks the workers
(``set_forkserver_preload``), so whatever this module imports every worker has at once, and the forkserver pays
for it once per crawl: importing Scrapy and Twisted there for nothing cost ~0.2 s of CPU and ~15 MiB in each of
the three processes.
"""
from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field

from cqnews.cputime import StageTimes
from cqnews.extraction.extracted import Extracted
from cqnews.fingerprints import Fingerprints, fingerprints
from cqnews.lifetime import die_with_parent
from cqnews.stats import CPU_FINGERPRINTS, CPU_RULES, CPU_TRANSFER


@dataclass
class Outcome:
    """What a worker sends back: the article, or why there is none (exceptions stay in the worker)."""

    extracted: Extracted | None = None
    rejected: str | None = None
    part_rejections: list[str] = field(default_factory=list)
    fingerprints: Fingerprints | None = None  # computed here to keep their CPU off the reactor
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU time of the work, by stage (cqnews.cputime)


PageArgs = tuple[bytes, str, str | None, str | None, int, list[tuple[str, bytes]]]  # extract_page's, in order


def extract_page(body: bytes, url: str, content_type: str | None, body_selector: str | None, min_chars: int,
                 parts: list[tuple[str, bytes]], times: StageTimes | None = None) -> Outcome:
    """The whole extraction of one (possibly multi-page) article; a plain function, so a worker can run it."""
    from cqnews.extraction.article import (  # trafilatura: imported where pages are extracted
        NotAnArticle,
        extract_article,
    )

    times = times or StageTimes()
    times.restart()
    try:
        extracted = extract_article(body, url=url, content_type=content_type, body_selector=body_selector,
                                    min_chars=min_chars, lap=times.lap)
    except NotAnArticle as exc:
        times.lap(CPU_RULES)
        return Outcome(rejected=exc.reason, cpu_ms=times.take())
    times.lap(CPU_RULES)
    outcome = Outcome(extracted=extracted)
    texts = [extracted.text]
    for part_url, part_body in parts:
        try:
            texts.append(extract_article(part_body, url=part_url, content_type=content_type,
                                         body_selector=body_selector, min_chars=1, lap=times.lap).text)
        except NotAnArticle as exc:
            outcome.part_rejections.append(exc.reason)
        times.lap(CPU_RULES)
    extracted.text = "\n".join(texts)
    outcome.fingerprints = fingerprints(extracted.title, extracted.text, extracted.published_at)
    times.lap(CPU_FINGERPRINTS)
    outcome.cpu_ms = times.take()
    return outcome


def extract_pickled(payload: bytes) -> tuple[bytes, float]:
    """A worker's side of :func:`extract_page`: the arguments and the outcome cross as pickles made here and in
    the crawl, so that their CPU cost is counted (``transfer``); returns the pickled outcome and the ms it took."""
    times = StageTimes()
    args: PageArgs = pickle.loads(payload)
    times.lap(CPU_TRANSFER)
    outcome = extract_page(*args, times=times)
    start = time.thread_time()
    data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    return data, (time.thread_time() - start) * 1000


def warm_up() -> None:
    """Pay trafilatura's import and first-call costs before the first page (the forkserver does, once for all
    its workers)."""
    extract_page(b"<html><body><p>" + "重庆".encode() * 50 + b"</p></body></html>", "", None, None, 1, [])


def start_worker() -> None:
    """End with the forkserver, so with the crawl (see pipelines/forkserver.py)."""
    from cqnews.pipelines.forkserver import SERVER_PID  # imported by the forkserver already: its pid, not ours

    if SERVER_PID is not None:
        die_with_parent(SERVER_PID)

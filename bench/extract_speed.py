"""Extraction speed: cqnews's extractor against bare trafilatura on the same pages, in one process.

Usage: python bench/extract_speed.py DATASET_DIR [DATASET_DIR ...] [--rounds 3]
(a dataset is a folder of .html files, or one with cases.jsonl as in ../shared/eval/datasets/).
Prints CPU ms/page of this process for both (``time.process_time``: the machine is shared, and wall time
counts other people's jobs; best of the rounds, warm: imports and first-call costs excluded; each round runs
both, one after the other) and the ratio; the floor of the extraction issue is ratio <= 1.4.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import trafilatura  # noqa: E402

from cqnews.extraction.article import NotAnArticle, extract_article  # noqa: E402


def pages(folders: list[Path]) -> list[bytes]:
    out = []
    for folder in folders:
        out += [p.read_bytes() for p in sorted(folder.rglob("*.htm*"))]
    return out


def ms_per_page(func, bodies: list[bytes]) -> float:  # type: ignore[no-untyped-def]
    start = time.process_time()
    for body in bodies:
        func(body)
    return (time.process_time() - start) * 1000 / len(bodies)


def best_ms_per_page(bodies: list[bytes], rounds: int) -> tuple[float, float]:
    """Best of ``rounds`` for bare trafilatura and for ours, the two run one after the other in every round,
    so that both see the same load of this shared machine."""
    bare = mine = float("inf")
    for _ in range(rounds):
        bare = min(bare, ms_per_page(trafilatura.extract, bodies))
        mine = min(mine, ms_per_page(ours, bodies))
    return bare, mine


def ours(body: bytes) -> None:
    try:
        extract_article(body)
    except NotAnArticle:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bodies = pages(args.datasets)
    if not bodies:
        print("no .html pages found", file=sys.stderr)
        return 2
    ours(bodies[0])
    trafilatura.extract(bodies[0])
    bare, mine = best_ms_per_page(bodies, args.rounds)
    print(f"pages={len(bodies)} trafilatura_bare_cpu_ms={bare:.1f} cqnews_cpu_ms={mine:.1f} ratio={mine / bare:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

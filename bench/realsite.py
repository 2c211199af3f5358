"""A site of real Chinese news pages on 127.0.0.1, for benchmarks: the real weight of a page (scripts, comments,
ads, related-story feeds), which the generated site (bench/newsite.py) does not have.

The pages are real: saved from real news sites by GeneralNewsExtractor's and GerapyAutoExtractor's test data
(``../shared/realpages/``, see its README) and the extraction datasets (``../shared/eval/datasets/*/pages``).
They are copied at run time into the bench's data folder (``bench/data/realpages/``, not committed), each with
its origin in ``ORIGINS.tsv``, and served byte for byte, each once, under 人民网重庆频道's article URLs
(``/n2/2020/0508/c365401-<i>.html``, listed 50 a page like the generated site), as ``text/html`` with no
charset: the crawl decodes them as it would the real site. Listing pages are the generated site's.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from newsite import GeneratedSite

ARTICLE_SOURCES = (  # (folder under the shared data, glob, what it is)
    ("realpages/gne/tests", "*/*.html", "GeneralNewsExtractor tests/ (real article pages)"),
    ("realpages/gerapy/samples/detail", "*.html", "GerapyAutoExtractor samples/detail/ (real article pages)"),
    ("eval/datasets/zh-dev/pages", "*.html", "eval dataset zh-dev (real pages)"),
    ("eval/datasets/gbk-163-weak/pages", "*.html", "eval dataset gbk-163-weak (real 163.com pages)"),
)


def copy_real_pages(shared: Path, dest: Path) -> list[Path]:
    """Copy every real article page into ``dest`` (emptied first), with ``ORIGINS.tsv``; returns the copies."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    copies: list[Path] = []
    origins = ["file\torigin\tsource path"]
    for folder, pattern, what in ARTICLE_SOURCES:
        for page in sorted((shared / folder).glob(pattern)):
            copy = dest / f"{len(copies):04d}.html"
            shutil.copyfile(page, copy)
            copies.append(copy)
            origins.append(f"{copy.name}\t{what}\t{page.relative_to(shared)}")
    if not copies:
        raise SystemExit(f"no real pages found under {shared}")
    (dest / "ORIGINS.tsv").write_text("\n".join(origins) + "\n", encoding="utf-8")
    return copies


class RealPageSite(GeneratedSite):
    """The generated site's listings, with real pages as its articles (article i is the i-th page, once)."""

    def __init__(self, pages: list[Path]) -> None:
        self.bodies = [page.read_bytes() for page in pages]
        super().__init__(len(self.bodies))

    def article(self, i: int) -> bytes:
        return self.bodies[i]

    def content_type(self, path: str) -> str:
        return "text/html" if path.startswith("/n2/") else super().content_type(path)

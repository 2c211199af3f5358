"""cqnews beside its peers on one generated site, in one run: news-please and trafilatura's own crawler.

Each peer runs in its own virtualenv under bench/data/peers/ (made here with pip from PyPI on first use; a
peer that cannot be installed is skipped with a message). All three crawl the same generated site
(bench/newsite.py, one loopback server) twice: a first crawl and a re-crawl of the unchanged site. For each:
wall time, CPU time of the process tree (sampled from /proc, as crawl_bench does), pages/s of wall time, and
text F1 against the generator's known body text, averaged over every article (a page a tool missed scores 0).
F1 is the shared scorer's bag of CJK bigrams (``tokens``/``f1`` of ../shared/eval/score_extraction.py,
imported from there so the definition is the same).

Usage: python bench/peers.py [--pages 200] [--processes 2] [--shared ../shared] [--peers news-please,trafilatura]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))

from crawl_bench import DATA, crawl, fresh_archive, watched  # noqa: E402
from newsite import ARTICLE, GeneratedSite  # noqa: E402

# What each peer's virtualenv gets (lxml_html_clean: jusText, which trafilatura imports, needs it with lxml 6).
PEERS = {"news-please": ["news-please==1.6.16", "lxml_html_clean"],
         "trafilatura": ["trafilatura==2.3.1", "lxml_html_clean"]}


def peer_python(name: str) -> Path | None:
    """The peer's virtualenv python, made and installed on first use; None (with a message) if pip fails."""
    home = DATA / "peers" / name
    python = home / "bin" / "python"
    if not (home / ".installed").exists():
        venv.create(home, with_pip=True, clear=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS[name]], capture_output=True, text=True)
        if pip.returncode != 0:
            print(f"{name}: skipped, pip install failed: {pip.stderr.strip().splitlines()[-1:]}")
            return None
        (home / ".installed").touch()
    return python


def scorer(shared: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_extraction", shared / "eval" / "score_extraction.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {shared / 'eval' / 'score_extraction.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mean_f1(site: GeneratedSite, texts: dict[str, str], score: ModuleType) -> tuple[float, int]:
    """Mean text F1 over every article of the site (missing = 0), and how many articles the tool returned."""
    got: dict[int, str] = {}
    for url, text in texts.items():
        if m := ARTICLE.match(urlsplit(url).path):
            got[int(m[1])] = text
    total = sum(score.f1(got.get(i, ""), site.known_text(i))[2] for i in range(site.articles))
    return total / site.articles, len(got)


def run_peer(name: str, python: Path, site: GeneratedSite, workdir: Path) -> dict[str, Any]:
    target = workdir / f"{name}.jsonl"
    result = watched([str(python), str(BENCH / "peer_driver.py"), name, site.base_url, str(target),
                      str(site.listing_pages())], dict(os.environ), workdir)
    lines = target.read_text(encoding="utf-8").splitlines()
    result["texts"] = {row["url"]: row["text"] for row in map(json.loads, lines)}
    return result


def cqnews_texts(database_url: str) -> dict[str, str]:
    """Each archived article's text (its latest version)."""
    from sqlalchemy import text

    from cqnews.db.session import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT a.url, v.text FROM articles a JOIN article_versions v "
                                     "ON v.article_id = a.id ORDER BY v.version_no"))
            return {url: body for url, body in rows}
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200, help="article pages of the generated site")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="cqnews extraction processes")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="holds eval/score_extraction.py")
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args()
    score = scorer(args.shared)
    rows: list[tuple[str, dict[str, Any], dict[str, Any], float, int]] = []
    with tempfile.TemporaryDirectory() as tmp, GeneratedSite(args.pages) as site:
        workdir = Path(tmp)
        url, _ = fresh_archive("sqlite", "", workdir)
        first, again = crawl(site, url, args.processes, workdir), crawl(site, url, args.processes, workdir)
        rows.append(("cqnews crawl (SQLite)", first, again, *mean_f1(site, cqnews_texts(url), score)))
        for name in args.peers.split(","):
            python = peer_python(name)
            if python is None:
                continue
            first, again = run_peer(name, python, site, workdir), run_peer(name, python, site, workdir)
            rows.append((name, first, again, *mean_f1(site, first["texts"], score)))
    pages = args.pages
    print(f"\n{pages} generated article pages (+{site.listing_pages() + 1} listing pages), one loopback server")
    print(f"{'tool':<24}{'wall s':>8}{'CPU s':>8}{'CPU ms/pg':>10}{'pages/s':>9}{'text F1':>9}{'articles':>9}"
          f"{'re-crawl s':>11}{'speed-up':>9}")
    for label, first, again, f1, got in rows:
        print(f"{label:<24}{first['wall']:>8.1f}{first['cpu']:>8.1f}{first['cpu'] * 1000 / pages:>10.1f}"
              f"{pages / first['wall']:>9.1f}{f1:>9.3f}{got:>9}{again['wall']:>11.1f}"
              f"{first['wall'] / again['wall']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Requests per crawl on each demo site (reconstructed): a first crawl, then a second one of the unchanged site.

Shows what incremental crawling saves: the second crawl re-reads listing pages, sitemaps and feeds but fetches
no archived article that is not due for a revisit. Counts are requests the fixture server answered
(robots.txt included). Usage: python bench/incremental_requests.py [SITE ...]
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cqnews.demo import SITES as DEMO_SITES
from cqnews.demo.server import FixtureSite


def main() -> int:
    fixtures = DEMO_SITES
    sites = sys.argv[1:] or sorted(p.parent.name for p in fixtures.glob("*/expected.json"))
    cqnews = str(Path(sys.executable).with_name("cqnews"))
    print(f"{'site':<11}{'first':>7}{'second':>8}  second crawl fetched")
    for site in sites:
        with tempfile.TemporaryDirectory() as tmp, FixtureSite(fixtures / site) as server:
            env = os.environ | {"CQNEWS_DATABASE_URL": f"sqlite:///{tmp}/a.db", "CQNEWS_DOWNLOAD_DELAY": "0",
                                "CQNEWS_AUTOTHROTTLE": "0", "CQNEWS_RETRY_TIMES": "0", "CQNEWS_LOG_LEVEL": "ERROR"}
            subprocess.run([cqnews, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True)
            counts = []
            for _ in range(2):
                before = len(server.hits)
                subprocess.run([cqnews, "crawl", site, "--base-url", server.base_url], env=env, cwd=tmp,
                               capture_output=True)
                counts.append(server.hits[before:])
            kinds = sorted({path.rsplit("/", 1)[-1] or path for _, path, _ in counts[1]})
            print(f"{site:<11}{len(counts[0]):>7}{len(counts[1]):>8}  {', '.join(kinds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

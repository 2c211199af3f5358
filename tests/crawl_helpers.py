"""Running the real `cqnews` command against the reconstructed demo sites served on 127.0.0.1, as a user would."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cqnews.commands import cqnews_command
from cqnews.db.models import CrawlRun
from cqnews.db.session import make_engine, make_sessionmaker
from cqnews.demo import SITES

FIXTURES = SITES  # the demo sites: reconstructed copies of the six sites (cqnews/demo/sites/README.md)


def cqnews(args: list[str], database_url: str, cwd: Path, timeout: int = 240,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a fresh process (Twisted's reactor cannot restart inside pytest)."""
    full_env = dict(os.environ)
    full_env.update({
        "CQNEWS_DATABASE_URL": database_url,
        "CQNEWS_DOWNLOAD_DELAY": "0",
        "CQNEWS_AUTOTHROTTLE": "0",
        "CQNEWS_RETRY_TIMES": "0",
        "CQNEWS_LOG_LEVEL": "INFO",
    })
    full_env.update(env or {})
    return subprocess.run(cqnews_command(*args), cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def copy_site(name: str, tmp_path: Path) -> Path:
    """A private copy of a fixture site, so a test may edit it between crawls."""
    target = tmp_path / "sites" / name
    shutil.copytree(FIXTURES / name, target)
    return target


def expected(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name / "expected.json").read_text("utf-8")))


def expected_articles(name: str) -> list[dict[str, Any]]:
    """Every fixture page that holds a real article (including pages with mislabelled encodings)."""
    spec = expected(name)
    return list(spec["articles"]) + [b for b in spec.get("bad_inputs", []) if "title" in b]


def runs(database_url: str) -> list[CrawlRun]:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    finally:
        engine.dispose()

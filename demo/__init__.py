"""``cqnews demo``: reconstructed copies of the six sites, served on 127.0.0.1 and crawled by the real spiders.

The sites under ``sites/`` ship with the package, so an installed cqnews can show itself offline. Their URL
schemes, templates and encodings follow the real sites; their articles, reporters and ids are invented (one
article of 人民网 is rebuilt from a real page: see ``sites/README.md``). The tests crawl the same sites.
"""
from __future__ import annotations

import json
from pathlib import Path

SITES = Path(__file__).resolve().parent / "sites"


def site_folder(name: str) -> Path:
    """The folder of one demo site (named after its spider)."""
    return SITES / name


def deliberate_errors(folder: Path) -> dict[str, int] | None:
    """The pages a demo site breaks on purpose (path -> the HTTP error status it answers), so that the demo can
    say its errors are expected and health can tell them from faults.

    Declared once, as the ``http_error`` outcomes of the site's ``expected.json`` ``bad_inputs`` (what the tests
    also check); ``site.json`` only says how the server answers them. A folder without ``expected.json`` (a copy
    made by ``cqnews record``) declares nothing: None, its errors are judged as any site's.
    """
    answers = folder / "expected.json"
    if not answers.is_file():
        return None
    bad_inputs = json.loads(answers.read_text("utf-8")).get("bad_inputs", [])
    return {bad["path"]: int(bad["status"]) for bad in bad_inputs if bad.get("outcome") == "http_error"}

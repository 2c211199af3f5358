"""Paragraph diffs between versions: the pure functions from strings, and `cqnews diff` on a real archive."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from cqnews.cli.render import diff_lines, inline_diff
from cqnews.db.archive import Archive
from cqnews.db.migrate import upgrade
from cqnews.db.search import character_changes, paragraph_changes
from cqnews.db.session import make_engine

from helpers import CORPUS, T0, corpus_record, cqnews

OLD = "第一段没有变。\n\n第二段：渝北区GDP增长5%。\n\n第三段也没有变。\n\n第四段。\n\n第五段。"
NEW = "第一段没有变。\n\n第二段：渝北区GDP增长6%。\n\n第三段也没有变。\n\n第四段。\n\n第五段。\n\n（更正：增速为6%。）"


def test_changed_paragraph_is_shown_with_its_inline_change() -> None:
    lines = diff_lines(paragraph_changes(OLD, NEW))
    kinds = [(x.kind, x.text) for x in lines]
    assert ("-", "第二段：渝北区GDP增长5%。") in kinds and ("+", "第二段：渝北区GDP增长6%。") in kinds
    assert ("~", "第二段：渝北区GDP增长[-5-]{+6+}%。") in kinds
    assert ("+", "（更正：增速为6%。）") in kinds
    assert (" ", "第一段没有变。") in kinds and (" ", "…") in kinds  # context, and the rest elided
    assert not any(x.kind in "-+" and "第四段" in x.text for x in lines)


def test_identical_texts_have_no_changes() -> None:
    assert all(x.kind == " " for x in diff_lines(paragraph_changes(OLD, OLD)))
    assert [c.kind for c in paragraph_changes(OLD, OLD)] == ["equal"]
    assert inline_diff(character_changes("重庆", "重慶")) == "重[-庆-]{+慶+}"


def test_cli_diff_of_two_versions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine = make_engine(url)
    upgrade(engine)
    archive = Archive(engine)
    row = CORPUS[0]
    for n, body in enumerate((OLD, NEW, NEW + "\n\n第七段。")):
        archive.record(corpus_record(row[0], row[1], row[2], body, row[4], row[5], row[6], at=T0 + timedelta(days=n)))
    engine.dispose()
    last_two = cqnews(["diff", "1"], url, tmp_path)
    assert last_two.returncode == 0, last_two.stderr
    assert "--- v2" in last_two.stdout and "+++ v3" in last_two.stdout and "+ 第七段。" in last_two.stdout
    first = cqnews(["diff", "1", "1", "2"], url, tmp_path)
    assert "- 第二段：渝北区GDP增长5%。" in first.stdout and "+ 第二段：渝北区GDP增长6%。" in first.stdout
    assert "~ 第二段：渝北区GDP增长[-5-]{+6+}%。" in first.stdout
    data = json.loads(cqnews(["diff", "1", "1", "2", "--format", "json"], url, tmp_path).stdout)
    assert {"kind": "+", "text": "（更正：增速为6%。）"} in data["paragraphs"]
    missing = cqnews(["diff", "1", "1", "9"], url, tmp_path)
    assert missing.returncode == 1 and "has no version 9" in missing.stderr and "Traceback" not in missing.stderr
    half = cqnews(["diff", "1", "2"], url, tmp_path)
    assert half.returncode == 2 and "give two versions" in half.stderr

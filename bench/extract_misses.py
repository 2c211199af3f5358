"""Each miss of the shared extraction scorer on one dataset, to fix rules by kind rather than by score.

Usage: python bench/extract_misses.py DATASET_DIR [--scorer ../shared/eval/score_extraction.py]
                                      [--below 0.97] [--lines]
Runs ``cqnews extract --format jsonl`` (the one on PATH) over the dataset's pages through the scorer's own
functions, then prints one line per miss: AUTHOR (expected vs given, with source and editor), AUTHOR? (an
author given where no answer exists: check it is a person), DATE, and TEXT below ``--below`` F1; with
``--lines``, the answer's lines we lost and the lines we added that the answer lacks.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--scorer", type=Path, default=Path("../shared/eval/score_extraction.py"))
    parser.add_argument("--below", type=float, default=0.97)
    parser.add_argument("--lines", action="store_true")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("score_extraction", args.scorer)
    if spec is None or spec.loader is None:
        print(f"cannot load the scorer {args.scorer}", file=sys.stderr)
        return 2
    se = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(se)
    cases = [json.loads(line) for line in (args.dataset / "cases.jsonl").read_text("utf-8").splitlines() if line]
    paths = [str((args.dataset / c["html"]).resolve()) for c in cases]
    got = se.run_extractor(["cqnews", "extract", "--format", "jsonl"], paths, 100)
    for case, path in zip(cases, paths, strict=True):
        out, truth = got.get(path, {}), case.get("truth", {})
        given = out.get("author")
        if truth.get("author") and not (se.name(given) and se.name(given) == se.name(truth["author"])):
            print(f"AUTHOR {case['id']}: want {truth['author']!r} got {given!r} "
                  f"(source {out.get('source')!r}, editor {out.get('editor')!r})")
        elif not truth.get("author") and given:
            print(f"AUTHOR? {case['id']}: no answer, got {given!r}")
        if truth.get("date") and se.day(out.get("published_at")) != se.day(truth["date"]):
            print(f"DATE {case['id']}: want {truth['date']} got {out.get('published_at')}")
        if not truth.get("text"):
            continue
        text = out.get("text") or ""
        p, r, f = se.f1(text, truth["text"])
        if f >= args.below:
            continue
        print(f"TEXT {case['id']}: f1={f:.3f} p={p:.2f} r={r:.2f} error={out.get('error')}")
        if args.lines:
            ours, theirs = se.tokens(text), se.tokens(truth["text"])
            for sign, lines, other in (("-", truth["text"], ours), ("+", text, theirs)):
                for line in lines.splitlines():
                    tok = se.tokens(line)
                    if tok and sum((tok & other).values()) < 0.5 * sum(tok.values()):
                        print(f"   {sign} {line[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

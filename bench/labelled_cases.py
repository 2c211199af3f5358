"""Our hand-labelled real pages as a dataset the shared extraction scorer reads.

Usage: python bench/labelled_cases.py OUT_DIR [--with DATASET_DIR ...]
Writes OUT_DIR/cases.jsonl: one case per line of tests/fixtures/realpages/labels.jsonl (title, author, date;
no body text, so text F1 is not scored there), plus every case of each --with dataset (e.g.
../shared/eval/datasets/zh-dev), so that one scorer run gives the figures over both. Then:
  python ../shared/eval/score_extraction.py OUT_DIR --cmd ".venv/bin/cqnews extract --format jsonl"
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REALPAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "realpages"


def labelled_cases() -> list[dict[str, object]]:
    cases = []
    for line in (REALPAGES / "labels.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        label = json.loads(line)
        truth = {k: label[k] for k in ("title", "author", "date") if label.get(k)}
        cases.append({"id": f"realpages-{label['page']}", "html": str(REALPAGES / label["page"]), "url": None,
                      "truth": truth})
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--with", dest="extra", action="append", type=Path, default=[])
    args = parser.parse_args()
    cases = labelled_cases()
    for dataset in args.extra:
        for line in (dataset / "cases.jsonl").read_text("utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                case["html"] = str((dataset / case["html"]).resolve())
                cases.append(case)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "cases.jsonl", "w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases in {args.out / 'cases.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

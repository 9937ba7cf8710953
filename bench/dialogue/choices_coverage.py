"""How often the right category is among the plain-word choices the bot offers when unsure.

Reads the project's dev CSV (``id,title,detail,category``; evaluation only, never training),
classifies each message as the bot does, and — for the messages where the classifier is unsure
and the bot offers choices — counts how often the gold first-level category is behind one of
the offered buttons. Also reports the same over every message (as if choices were always shown).

    .venv/bin/python bench/dialogue/choices_coverage.py [--csv PATH] [--k 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from routing.understanding.choices import plain_choices  # noqa: E402
from routing.understanding.classifier import model as cmodel  # noqa: E402
from routing.understanding.classifier.data import join_text  # noqa: E402

DEV = Path("/work/shared/data/citizen-messages/dev.csv")


def main() -> None:
    """Print coverage figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--csv", type=Path, default=DEV)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    with args.csv.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    clf = cmodel.load()
    started = time.perf_counter()
    offered = hit_offered = hit_all = 0
    labels: dict[str, int] = {}
    for row in rows:
        text = join_text(row["title"], row["detail"])
        result = clf.classify(text)
        options = plain_choices(text, k=args.k)
        hit = row["category"] in {o.split("｜")[1] for o in options}
        hit_all += hit
        if result.low_confidence:
            offered += 1
            hit_offered += hit
            for o in options:
                labels[o.split("｜")[0]] = labels.get(o.split("｜")[0], 0) + 1
    report = {
        "csv": str(args.csv),
        "rows": len(rows),
        "k": args.k,
        "choices_offered": offered,
        "right_category_among_choices_when_offered": round(hit_offered / max(offered, 1), 4),
        "right_category_among_choices_all_rows": round(hit_all / len(rows), 4),
        "distinct_plain_labels_offered": len(labels),
        "most_offered_labels": sorted(labels.items(), key=lambda kv: -kv[1])[:12],
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

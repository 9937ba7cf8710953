"""Calibration of the shipped classifier's first-level confidence on labelled messages.

Run from the repository root::

    .venv/bin/python bench/classifier/calibration.py [--data CSV] [--model DIR]

Prints the expected calibration error (10 equal-width bins), the Brier score of the top
class, and how the model's stored low-confidence threshold splits the messages: the share
at or above it (answered directly) and the accuracy there versus below it (buttons offered).
Evaluation only: the threshold itself is measured by ``train-classifier`` on the training data.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from routing.understanding.classifier import load  # noqa: E402
from routing.understanding.classifier.data import join_text  # noqa: E402

DEV_CSV = ROOT.parent / "shared" / "data" / "citizen-messages" / "dev.csv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEV_CSV)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    with args.data.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    model = load(args.model)
    results = model.classify_many([join_text(r["title"], r["detail"]) for r in rows])
    pairs = [(r.confidence, r.category == row["category"]) for r, row in zip(results, rows, strict=True)]
    ece = 0.0
    for b in range(10):
        lo, hi = b / 10, (b + 1) / 10
        cell = [(c, ok) for c, ok in pairs if lo < c <= hi or (b == 0 and c == 0)]
        if cell:
            ece += len(cell) / len(pairs) * abs(sum(c for c, _ in cell) / len(cell) - sum(ok for _, ok in cell) / len(cell))
    brier = sum((c - ok) ** 2 for c, ok in pairs) / len(pairs)
    above = [ok for c, ok in pairs if c >= model.threshold]
    below = [ok for c, ok in pairs if c < model.threshold]
    print(f"n={len(pairs)} mean_confidence={sum(c for c, _ in pairs) / len(pairs):.3f} "
          f"accuracy={sum(ok for _, ok in pairs) / len(pairs):.3f}")
    print(f"ECE(10 bins)={ece:.3f} brier_top={brier:.3f}")
    print(f"threshold={model.threshold:.4f} answered={len(above) / len(pairs):.3f} "
          f"accuracy_answered={sum(above) / max(len(above), 1):.3f} accuracy_buttons={sum(below) / max(len(below), 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

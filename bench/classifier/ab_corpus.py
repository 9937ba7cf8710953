"""A/B a change of the project corpus on dev.csv, averaged over several corpus seeds.

Run from the repository root (one fit per seed and side, ~20 s each on one core)::

    .venv/bin/python bench/classifier/ab_corpus.py --drop-last-d 8             # without the last 8 scenarios_d entries
    .venv/bin/python bench/classifier/ab_corpus.py --set "FACTS_PER_LONG=(2, 2, 3, 4)"

Side A is the corpus as configured in ``generate.py`` minus the requested change, side B the
corpus with it; both are generated into temporary folders (``generated.csv`` is not touched)
with seeds 1, 2, 3 and scored on dev.csv (never trained on). Prints per-seed and mean macro-F1.
"""

from __future__ import annotations

import argparse
import ast
import csv
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import SklearnApproach, dev_examples, macro_f1  # noqa: E402

import routing.data.complaints.generate as gen  # noqa: E402
from routing.classifier import train  # noqa: E402
from routing.classifier.data import project_examples  # noqa: E402

FIELDS = ["id", "scenario", "title", "detail", "category", "level2", "level3", "dispute_type", "script"]


def score(seed: int) -> float:
    """Generate a corpus with ``seed`` into a temporary folder, fit the shipped variant, score dev."""
    rows = gen.generate(seed)
    folder = Path(tempfile.mkdtemp(prefix="corpus_ab_"))
    with (folder / "generated.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    dev = dev_examples()
    pred = SklearnApproach(train.VARIANTS[train.DEFAULT_VARIANT]).fit_predict(
        project_examples(folder), [e.text for e in dev]
    )
    return macro_f1([e.category for e in dev], pred)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drop-last-d", type=int, default=0, help="side A lacks the last N scenarios of scenarios_d")
    ap.add_argument(
        "--drop-last",
        nargs=2,
        action="append",
        default=[],
        metavar=("PART", "N"),
        help="side A lacks the last N scenarios of scenarios_PART (a letter, e.g. e); repeatable",
    )
    ap.add_argument("--set", action="append", default=[], help="side B sets a generate.py constant, NAME=VALUE")
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    drops = {"D": args.drop_last_d}
    drops.update({part.upper(): int(n) for part, n in args.drop_last})
    full = {part: list(getattr(gen, f"SCENARIOS_{part}")) for part in drops}
    constants = {name: getattr(gen, name) for name, _, _ in (s.partition("=") for s in args.set)}
    for side in ("A", "B"):
        for part, n in drops.items():
            setattr(gen, f"SCENARIOS_{part}", full[part][: len(full[part]) - n] if side == "A" else full[part])
        for assignment in args.set:
            name, _, value = assignment.partition("=")
            setattr(gen, name, constants[name] if side == "A" else ast.literal_eval(value))
        scores = [score(seed) for seed in seeds]
        cells = " ".join(f"{s:.4f}" for s in scores)
        print(f"{side}: {cells} mean={sum(scores) / len(scores):.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

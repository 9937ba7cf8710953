"""A/B a change of the project corpus on dev.csv, averaged over several corpus seeds.

Run from the repository root (one fit per seed and side, ~20 s each on one core)::

    .venv/bin/python bench/classifier/ab_corpus.py --drop-last-d 8             # without the last 8 scenarios of part d
    .venv/bin/python bench/classifier/ab_corpus.py --set "FACTS_PER_LONG=(2, 2, 3, 4)"

Side A is the corpus as configured in ``generate.py`` minus the requested change, side B the
corpus with it; both are generated into temporary folders with seeds 1, 2, 3 and scored on
dev.csv (never trained on). A "part" is the letter that starts a scenario's ``id`` in
``classifier_data/scenarios`` (the parts a … f the scenarios were written in). Prints per-seed and
mean macro-F1.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import SklearnApproach, dev_examples, macro_f1  # noqa: E402

import routing.data.complaints.generate as gen  # noqa: E402
from routing.understanding.classifier import train  # noqa: E402
from routing.understanding.classifier.data import project_examples  # noqa: E402


def score(seed: int, scenarios: list[dict]) -> float:
    """Generate a corpus with ``seed`` into a temporary folder, fit the shipped variant, score dev."""
    rows = gen.generate(seed, scenarios)
    folder = Path(tempfile.mkdtemp(prefix="corpus_ab_"))
    gen.write_csv(rows, folder / "generated.csv")
    dev = dev_examples()
    pred = SklearnApproach(train.VARIANTS[train.DEFAULT_VARIANT]).fit_predict(
        project_examples(folder), [e.text for e in dev]
    )
    return macro_f1([e.category for e in dev], pred)[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drop-last-d", type=int, default=0, help="side A lacks the last N scenarios of part d")
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
    every = gen.load_scenarios()
    dropped = set()
    for part, n in drops.items():
        ids = [sc["id"] for sc in every if sc["id"].upper().startswith(part)]
        dropped.update(ids[len(ids) - n:] if n else [])
    constants = {name: getattr(gen, name) for name, _, _ in (s.partition("=") for s in args.set)}
    for side in ("A", "B"):
        scenarios = [sc for sc in every if side == "B" or sc["id"] not in dropped]
        for assignment in args.set:
            name, _, value = assignment.partition("=")
            setattr(gen, name, constants[name] if side == "A" else ast.literal_eval(value))
        scores = [score(seed, scenarios) for seed in seeds]
        cells = " ".join(f"{s:.4f}" for s in scores)
        print(f"{side}: {cells} mean={sum(scores) / len(scores):.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

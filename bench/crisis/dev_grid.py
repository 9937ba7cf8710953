"""The second stage's settings on the exposed development sets (blind, blind2, heldout).

Usage: python -m bench.crisis.dev_grid [--json FILE]

The first two blind sets and the author's held-out set have been run and read: since the third
round they are development data (``bench/crisis/README.md``). Their texts are never training data;
they only measure the shipped model under each setting of ``by_writer.GRID`` (model threshold,
weight of the "asks about procedure" frame, scale of the other frames), next to the
leave-one-writer-out check, to choose the shipped setting.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.crisis.by_writer import GRID
from bench.crisis.run import read_jsonl
from routing.understanding.safety import context, detector, model

HERE = Path(__file__).resolve().parent
SETS = ("blind", "blind2", "heldout")


def main() -> None:
    """Print recall and false alarms per development set and setting."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    data = {name: (read_jsonl(HERE / name / "danger.jsonl"), read_jsonl(HERE / name / "everyday.jsonl"))
            for name in SETS}
    model.load()
    saved = model.THRESHOLD, dict(context.WEIGHTS)
    result: dict[str, dict] = {}
    try:
        for threshold, ask, scale in GRID:
            model.THRESHOLD = threshold
            context.WEIGHTS = {k: v * scale for k, v in saved[1].items()} | {"ask": ask}
            key = f"{threshold}/{ask}/{scale:.2f}"
            result[key] = {}
            for name, (danger, everyday) in data.items():
                hits = [detector.detect(r["text"]).danger for r in danger]
                alarms = sum(detector.detect(r["text"]).danger for r in everyday)
                kinds = sorted({r["kind"] for r in danger})
                result[key][name] = {
                    "recall": round(sum(hits) / len(danger), 4),
                    "false_alarms": round(alarms / len(everyday), 4),
                    "recall_by_kind": {k: round(sum(h for h, r in zip(hits, danger, strict=True) if r["kind"] == k)
                                                / sum(r["kind"] == k for r in danger), 4) for k in kinds},
                }
            print(f"threshold/ask/frames {key}: " + "  ".join(
                f"{name} {v['recall']:.3f} / {v['false_alarms']:.3f}" for name, v in result[key].items()), flush=True)
    finally:
        model.THRESHOLD, context.WEIGHTS = saved
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

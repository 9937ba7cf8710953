"""Leave-one-writer-out check of the danger check (the design protocol since the second round).

Usage: python -m bench.crisis.by_writer [--json FILE] [--writers w1 w2 w3]

The corpus has four writers who never read each other's sentences: the first (danger*.tsv
and hard_negatives*.txt without a ``_w`` suffix; the lexicon was written while reading them),
writer 1 (``danger_w1.tsv``, ``hard_negatives_w1.txt``), writer 2 (``_w2``) and writer 3
(``_w3``, many long everyday narratives). For each later writer, the model is trained on
everything else and the whole check (lexicon, model, the second stage's frames) runs on that
writer's messages, short and embedded — text neither the model nor the lexicon has seen. That
is the closest the project's own data gets to a new citizen's writing; thresholds and the
frames' weights are chosen on it and on the exposed development sets (``bench/crisis/README.md``).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from routing.understanding.safety import context, detector, model

# (model threshold, weight of the "asks about procedure" frame, scale of the other frames'
# shipped weights): without the second stage (0, 0), at two thirds of its weights, and as shipped.
GRID = tuple((t, ask, scale) for t in (0.45, 0.5, 0.55, 0.65) for ask, scale in ((0.0, 0.0), (0.2, 2 / 3), (0.3, 1.0)))
_WRITER = re.compile(r"_(w\d+)$")


def writer_of(row: dict) -> str:
    """The writer of a corpus row: ``w1``, ``w2`` … or ``first``."""
    found = _WRITER.search(row["group"].split(":")[0])
    return found.group(1) if found else "first"


def _evaluate(rows: list[dict], held: str, complaints: list[str]) -> dict[str, dict[str, float]]:
    train = [r for r in rows if writer_of(r) != held]
    test = [r for r in rows if writer_of(r) == held]
    bundle = model.compact(model.fit(model.training_set(train, complaints)))
    out = {}
    saved = model.THRESHOLD, dict(context.WEIGHTS)
    original_load = model.load
    model.load = lambda *a, **k: bundle  # type: ignore[assignment]
    try:
        for threshold, ask, scale in GRID:
            model.THRESHOLD = threshold
            context.WEIGHTS = {k: v * scale for k, v in saved[1].items()} | {"ask": ask}
            danger = [r for r in test if r["label"]]
            safe = [r for r in test if not r["label"]]
            hit = sum(detector.detect(r["text"]).danger for r in danger)
            alarm = [r for r in safe if detector.detect(r["text"]).danger]
            long_safe = [r for r in safe if r["embedded"]]
            out[f"{threshold}/{ask}/{scale:.2f}"] = {
                "recall": round(hit / max(len(danger), 1), 4),
                "false_alarms": round(len(alarm) / max(len(safe), 1), 4),
                "false_alarms_long": round(sum(r["embedded"] for r in alarm) / max(len(long_safe), 1), 4),
                "danger": len(danger), "everyday": len(safe)}
    finally:
        model.THRESHOLD, context.WEIGHTS = saved
        model.load = original_load  # type: ignore[assignment]
    return out


def main() -> None:
    """Print recall and false alarms per held-out writer and setting."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--writers", nargs="*")
    args = parser.parse_args()
    rows = model.corpus_rows()
    complaints = model.complaint_sentences()
    writers = args.writers or sorted({writer_of(r) for r in rows} - {"first"})
    result = {}
    for held in writers:
        result[held] = _evaluate(rows, held, complaints)
        for setting, figures in result[held].items():
            print(f"held out {held}  threshold/ask/frames {setting}: recall {figures['recall']:.3f}  "
                  f"false alarms {figures['false_alarms']:.3f} (long {figures['false_alarms_long']:.3f})  "
                  f"({figures['danger']} / {figures['everyday']})", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

"""Leave-one-writer-out check of the danger check (the second round's design protocol).

Usage: python -m bench.crisis.by_writer [--json FILE]

The corpus has three writers who never read each other's sentences: the first (danger*.tsv
and hard_negatives*.txt without a ``_w`` suffix; the lexicon was written while reading them),
writer 1 (``danger_w1.tsv``, ``hard_negatives_w1.txt``) and writer 2 (``_w2``). For each of the
two later writers, the model is trained on everything else and the whole check (lexicon OR
model) runs on that writer's sentences, short and embedded — text neither the model nor the
lexicon has seen. That is the closest the project's own data gets to a new citizen's writing;
model thresholds are chosen on it (never on a blind set).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from routing.safety import detector, model

GRID = (0.55, 0.65, 0.75)
VETOES = (0.0, 0.1, 0.2, 0.3)


def _writer(row: dict) -> str:
    source = row["group"].split(":")[0]
    return source.rsplit("_", 1)[-1] if source.endswith(("_w1", "_w2")) else "first"


def _evaluate(rows: list[dict], held: str, complaints: list[str]) -> dict[str, dict[str, float]]:
    train = [r for r in rows if _writer(r) != held]
    test = [r for r in rows if _writer(r) == held]
    bundle = model.compact(model.fit(model.training_set(train, complaints)) | {})
    out = {}
    saved = model.THRESHOLD, model.VETO
    original_load = model.load
    model.load = lambda *a, **k: bundle  # type: ignore[assignment]
    try:
        for threshold in GRID:
            for veto in VETOES:
                model.THRESHOLD, model.VETO = threshold, veto
                danger = [r for r in test if r["label"]]
                safe = [r for r in test if not r["label"]]
                hit = sum(detector.detect(r["text"]).danger for r in danger)
                alarm = sum(detector.detect(r["text"]).danger for r in safe)
                out[f"{threshold}/{veto}"] = {"recall": hit / max(len(danger), 1),
                                              "false_alarms": alarm / max(len(safe), 1),
                                              "danger": len(danger), "everyday": len(safe)}
    finally:
        model.THRESHOLD, model.VETO = saved
        model.load = original_load  # type: ignore[assignment]
    return out


def main() -> None:
    """Print recall and false alarms per held-out writer and model threshold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = model.corpus_rows()
    complaints = model.complaint_sentences()
    result = {held: _evaluate(rows, held, complaints) for held in ("w1", "w2")}
    for held, table in result.items():
        for threshold, figures in table.items():
            print(f"held out {held}  threshold/veto {threshold}: recall {figures['recall']:.3f}  "
                  f"false alarms {figures['false_alarms']:.3f}  ({figures['danger']} / {figures['everyday']})")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

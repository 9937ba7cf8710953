"""Stratified k-fold cross-validation of the NLU pipeline, fold by fold, as `rasa test nlu
--cross-validation` does (its own fold generator, `train_nlu`, the trained processor), but
writing each fold's predictions as soon as the fold is done — so a run cut short on a loaded
machine still leaves figures for the folds it finished.

    RASA_TELEMETRY_ENABLED=false .venv-rasa/bin/python bench/dialogue/nlu_cv.py \
        [--folds 5] [--out results/nlu-cv-folds]

Macro-F1 is sklearn's over the union of gold and predicted intents on the pooled test folds
(what `rasa test nlu --cross-validation` reports in intent_report.json as "macro avg").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path


async def main() -> None:
    """Run the folds and print the pooled figures."""
    import numpy as np
    import rasa.model_training
    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.nlu.test import generate_folds
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from sklearn.metrics import f1_score

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--nlu", default="nlu_data")
    parser.add_argument("--out", type=Path, default=Path("results/nlu-cv-folds"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    np.random.seed(7)
    data = TrainingDataImporter.load_from_dict(training_data_paths=[args.nlu]).get_nlu_data()
    gold: list[str] = []
    pred: list[str] = []
    for fold, (train, test) in enumerate(generate_folds(args.folds, data)):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.yml"
            RasaYAMLWriter().dump(path, train)
            model = rasa.model_training.train_nlu(args.config, str(path), tmp)
            processor = Agent.load(model).processor
            rows = []
            for example in test.intent_examples:
                result = await processor.parse_message(UserMessage(example.get("text")))
                rows.append({"text": example.get("text"), "gold": example.get("intent"),
                             "pred": (result.get("intent") or {}).get("name")})
        (args.out / f"fold{fold}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        gold += [r["gold"] for r in rows]
        pred += [r["pred"] or "none" for r in rows]
        fold_gold = [r["gold"] for r in rows]
        fold_pred = [r["pred"] or "none" for r in rows]
        print(json.dumps({"fold": fold, "n": len(rows),
                          "macro_f1": round(f1_score(fold_gold, fold_pred, average="macro"), 4),
                          "pooled_macro_f1_so_far": round(f1_score(gold, pred, average="macro"), 4),
                          "seconds": round(time.perf_counter() - started)}), flush=True)
    print(json.dumps({"folds": args.folds, "n": len(gold),
                      "macro_f1": round(f1_score(gold, pred, average="macro"), 4),
                      "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold), 4)}))


if __name__ == "__main__":
    asyncio.run(main())

"""5-fold cross-validation of the real `fengqiao train-classifier` on an agency CSV (dev.csv).

Run from the repository root (≈ 1 min per fold on one core)::

    .venv/bin/python bench/classifier/dev_cv.py
    .venv/bin/python bench/classifier/dev_cv.py --data other.csv --folds 5 --keep /tmp/devcv

Each fold writes the other four folds as an agency CSV (title, detail, category), runs
``fengqiao train-classifier --csv FOLD.csv --out DIR`` (project data + that agency history, as a
deployment would) and ``fengqiao classify --model DIR`` on the held-out fold — the same commands
a user runs. Predictions of the five folds are pooled and scored like ``category_eval.py``
(macro-F1 over the gold labels, accuracy). The folds are ``StratifiedKFold(5, shuffle=True,
random_state=13)``, the split ``compare.py --measures dev_cv`` uses.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import DEV_CSV, SEED, macro_f1  # noqa: E402

FENGQIAO = [sys.executable, "-m", "fengqiao.cli"]


def main() -> int:
    from sklearn.model_selection import StratifiedKFold

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=DEV_CSV)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="keep the fold CSVs and models in this folder")
    args = ap.parse_args()
    with args.data.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    work = args.keep or Path(tempfile.mkdtemp(prefix="devcv_"))
    work.mkdir(parents=True, exist_ok=True)
    labels = [r["category"] for r in rows]
    gold: list[str] = []
    pred: list[str] = []
    per_fold = []
    confidence: list[float] = []
    low: list[bool] = []
    started = time.monotonic()
    splits = StratifiedKFold(args.folds, shuffle=True, random_state=SEED).split(rows, labels)
    for k, (train_idx, test_idx) in enumerate(splits):
        fold_csv, model_dir = work / f"fold{k}.csv", work / f"model{k}"
        with fold_csv.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["title", "detail", "category"])
            writer.writerows(
                [rows[i]["title"], rows[i]["detail"], rows[i]["category"]] for i in train_idx
            )
        t0 = time.monotonic()
        subprocess.run(
            [*FENGQIAO, "train-classifier", "--csv", str(fold_csv), "--out", str(model_dir)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        train_s = time.monotonic() - t0
        payload = "".join(
            json.dumps(
                {"id": rows[i]["id"], "text": f"{rows[i]['title']}\n{rows[i]['detail']}"},
                ensure_ascii=False,
            )
            + "\n"
            for i in test_idx
        )
        done = subprocess.run(
            [*FENGQIAO, "classify", "--model", str(model_dir)],
            cwd=ROOT,
            check=True,
            input=payload,
            capture_output=True,
            text=True,
        )
        answers = {str(o["id"]): o for o in map(json.loads, done.stdout.splitlines()) if o}
        fold_gold = [rows[i]["category"] for i in test_idx]
        fold_pred = [answers.get(str(rows[i]["id"]), {}).get("category", "") for i in test_idx]
        gold += fold_gold
        pred += fold_pred
        for i in test_idx:
            answer = answers.get(str(rows[i]["id"]), {})
            confidence.append(float(answer.get("confidence", 0.0)))
            low.append(bool(answer.get("low_confidence", True)))
        meta = json.loads((model_dir / "metadata.json").read_text(encoding="utf-8"))
        adaptation = meta.get("agency_adaptation") or {}
        f1, acc = macro_f1(fold_gold, fold_pred)
        per_fold.append(f1)
        print(
            f"fold {k}: macro_f1={f1:.4f} accuracy={acc:.4f} alpha={adaptation.get('alpha')} "
            f"inner_oof={adaptation.get('oof_macro_f1')} (project only {adaptation.get('oof_macro_f1_project_only')}) "
            f"train_s={train_s:.0f}",
            flush=True,
        )
    f1, acc = macro_f1(gold, pred)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("folds: " + " ".join(f"{x:.4f}" for x in per_fold))
    right = [g == p for g, p in zip(gold, pred, strict=True)]
    ece = 0.0
    for b in range(10):
        members = [k for k, c in enumerate(confidence) if b / 10 < c <= (b + 1) / 10 or (b == 0 and c == 0)]
        if members:
            mean_c = sum(confidence[k] for k in members) / len(members)
            mean_a = sum(right[k] for k in members) / len(members)
            ece += len(members) / len(confidence) * abs(mean_c - mean_a)
    answered = [k for k in range(len(low)) if not low[k]]
    buttons = [k for k in range(len(low)) if low[k]]
    print(
        f"calibration: mean_confidence={sum(confidence) / len(confidence):.3f} ECE(10 bins)={ece:.3f}; "
        f"answered directly {len(answered) / len(low):.3f} at accuracy "
        f"{sum(right[k] for k in answered) / max(len(answered), 1):.3f}; buttons {len(buttons) / len(low):.3f} "
        f"(top-1 right there {sum(right[k] for k in buttons) / max(len(buttons), 1):.3f})"
    )
    print(
        f"dev_cv macro_f1={f1:.4f} accuracy={acc:.4f} n={len(gold)} seconds={time.monotonic() - started:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

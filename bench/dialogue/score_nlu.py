"""Intent macro-F1 of the trained Rasa model on a labelled utterance file (JSON lines with
``text``, ``intent`` and optional ``context``), through Rasa's HTTP parse endpoint.

    .venv/bin/python bench/dialogue/score_nlu.py [--data FILE] [--model models/fengqiao.tar.gz]

Starts its own Rasa server on loopback (or uses --url of one started with --enable-api) and
prints macro-F1, accuracy, per-intent F1 and the confusions as JSON; --errors FILE writes the
misclassified lines.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

DEFAULT = Path("/work/main/bench/dialogue/blind/utterances.jsonl")


def parse(url: str, token: str, text: str) -> dict:
    """Ask Rasa's /model/parse for one text."""
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(f"{url}/model/parse?token={token}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def macro_f1(gold: list[str], pred: list[str]) -> tuple[float, dict[str, float]]:
    """Macro-F1 over the gold labels' classes (a predicted class never in gold counts only as FP)."""
    per: dict[str, float] = {}
    for label in sorted(set(gold)):
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        per[label] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return sum(per.values()) / len(per), per


def score(rows: list[dict], url: str, token: str) -> dict:
    """Parse every row and compute the figures."""
    pred = []
    for row in rows:
        result = parse(url, token, row["text"])
        pred.append((result.get("intent") or {}).get("name") or "none")
    gold = [r["intent"] for r in rows]
    f1, per = macro_f1(gold, pred)
    confusions = Counter((g, p) for g, p in zip(gold, pred, strict=True) if g != p)
    by_context: dict[str, list[int]] = {}
    for row, p in zip(rows, pred, strict=True):
        ctx = str(row.get("context") or "-")
        by_context.setdefault(ctx, [0, 0])
        by_context[ctx][0] += row["intent"] == p
        by_context[ctx][1] += 1
    return {
        "n": len(rows),
        "macro_f1": round(f1, 4),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows), 4),
        "per_intent_f1": {k: round(v, 3) for k, v in per.items()},
        "top_confusions": [[g, p, n] for (g, p), n in confusions.most_common(20)],
        "accuracy_by_context": {k: f"{a}/{n}" for k, (a, n) in sorted(by_context.items())},
        "_pred": pred,
    }


def main() -> None:
    """Run the scorer."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT)
    parser.add_argument("--url", help="a running Rasa server (started with --enable-api)")
    parser.add_argument("--errors", type=Path, help="write misclassified lines here")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.data.read_text("utf-8").splitlines() if line.strip()]
    if args.url:
        from fengqiao.settings import rasa_api_token

        report = score(rows, args.url, rasa_api_token())
    else:
        from stack import stack

        with stack(with_web=False) as running:
            report = score(rows, running.rasa_url, running.token)
    pred = report.pop("_pred")
    if args.errors:
        with args.errors.open("w", encoding="utf-8") as f:
            for row, p in zip(rows, pred, strict=True):
                if row["intent"] != p:
                    f.write(json.dumps({**row, "predicted": p}, ensure_ascii=False) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

"""Grouped cross-validation of the danger check on the project's own crisis corpus.

Usage: python -m bench.crisis.cv [--folds 5] [--json FILE]

Protocol (development only; the blind set is measured once with bench/crisis/run.py):
- folds keep every form of one written sentence together (short, embedded, Traditional), and
  every complaint of one scenario of routing/data/complaints together;
- per fold the model is trained on the other folds (corpus components + complaint sentences)
  and every held-out message goes through the whole check (lexicon rules OR model);
- the lexicon is hand-written, not fitted: it was developed while reading this corpus, so the
  lexicon part of these figures is in-sample. The model-alone column is the honest one;
- the pair (model threshold, support threshold for weak cues) with the highest out-of-fold
  recall whose false alarms on hard negatives and on ordinary complaints stay within
  ``FA_BUDGET`` is chosen (ties: the higher threshold).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from routing.understanding.safety import detector, lexicon, model

GRID = tuple(round(0.20 + 0.05 * i, 2) for i in range(16))  # 0.20 … 0.95
# Support thresholds for weak cues (1.01 = weak cues never supported by the model).
SUPPORT_GRID = (0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 1.01)
# False alarms allowed for the whole check, out of fold: on the hand-written hard negatives
# (everyday sentences with strong words, the blind everyday set's kind of message) and on the
# project's ordinary complaints. The target of issue 10 is 3 %; the lexicon will add false alarms
# of its own on unseen text, so the model gets a third of it.
FA_BUDGET = {"fa_hard": 0.01, "fa_complaints": 0.005}


def _fold_of(key: str, folds: int) -> int:
    import hashlib

    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % folds


def _complaints() -> list[dict]:
    rows = [r for r in model.complaint_rows() if not model.HELD_SCENARIOS.search(r["detail"])]
    return [{"text": f"{r['title']}\n{r['detail']}", "group": r["scenario"], "detail": r["detail"]} for r in rows]


def _complaint_sentences(rows: list[dict]) -> list[str]:
    lex = lexicon.load()
    seen: dict[str, None] = {}
    for n, row in enumerate(rows):
        if n % model.COMPLAINT_STRIDE == 0:
            for s in lexicon.sentences(lex.prepare(row["detail"])):
                seen.setdefault(s, None)
    return list(seen)


def _judge(lex: lexicon.Lexicon, bundle: dict, text: str) -> tuple[bool, bool, float]:
    """Whether the rules fire on their own, whether a weak cue is there, and the model's score."""
    prepared = lex.prepare(text)
    score = model.score(bundle, lexicon.sentences(prepared))[0]
    hits = detector.find_hits(lex, lexicon.windows(prepared))
    fired = bool(detector.firing(hits, 0.0))
    return fired, any(not h.rule.strong for h in hits), score


def run(folds: int) -> dict:
    """Return out-of-fold lexicon flags and model scores for corpus and complaints."""
    lex = lexicon.load()
    corpus = model.corpus_rows()
    complaints = _complaints()
    out: list[dict] = []
    for k in range(folds):
        train = [r for r in corpus if _fold_of(r["group"], folds) != k]
        test = [r for r in corpus if _fold_of(r["group"], folds) == k]
        c_train = [r for r in complaints if _fold_of(r["group"], folds) != k]
        c_test = [r for r in complaints if _fold_of(r["group"], folds) == k]
        bundle = model.fit(model.training_set(train, _complaint_sentences(c_train)))
        for r in test:
            fired, weak, score = _judge(lex, bundle, r["text"])
            out.append({**r, "source": "corpus", "fired": fired, "weak": weak, "score": score})
        for r in c_test:
            fired, weak, score = _judge(lex, bundle, r["text"])
            out.append({"label": 0, "source": "complaints", "fired": fired, "weak": weak, "score": score})
        print(f"fold {k + 1}/{folds} done", file=sys.stderr)
    return {"rows": out}


def _rate(rows: list[dict], hit) -> float:
    return round(sum(1 for r in rows if hit(r)) / max(len(rows), 1), 4)


def _decide(t: float, support: float):
    """The check's decision at model threshold ``t`` and support threshold ``support``."""
    return lambda r: r["fired"] or r["score"] >= t or (r["weak"] and r["score"] >= support)


def summarise(rows: list[dict]) -> dict:
    """Figures per (threshold, support threshold) and the chosen pair."""
    danger = [r for r in rows if r["label"]]
    hard = [r for r in rows if not r["label"] and r["source"] == "corpus"]
    ordinary = [r for r in rows if r["source"] == "complaints"]
    grid = []
    for support in SUPPORT_GRID:
        for t in GRID:
            decide = _decide(t, support)
            grid.append({
                "threshold": t, "support": support,
                "recall": _rate(danger, decide),
                "model_alone_recall": _rate(danger, lambda r, t=t: r["score"] >= t),
                "fa_hard": _rate(hard, decide),
                "fa_complaints": _rate(ordinary, decide),
            })
    within = [g for g in grid if all(g[k] <= v for k, v in FA_BUDGET.items())]
    best = max(within, key=lambda g: (g["recall"], g["threshold"])) if within else grid[-1]
    decide = _decide(best["threshold"], best["support"])
    by = {}
    for name, key in (("kind", "kind"), ("script", "script")):
        for value in sorted({r[key] for r in danger}):
            by[f"{name}={value}"] = _rate([r for r in danger if r[key] == value], decide)
    for value in (True, False):
        by[f"embedded={value}"] = _rate([r for r in danger if r["embedded"] is value], decide)
    return {
        "danger": len(danger), "hard_negatives": len(hard), "complaints": len(ordinary),
        "rules_alone_recall": _rate(danger, lambda r: r["fired"]),
        "rules_alone_fa_hard": _rate(hard, lambda r: r["fired"]),
        "rules_alone_fa_complaints": _rate(ordinary, lambda r: r["fired"]),
        "fa_budget": FA_BUDGET, "chosen": best, "recall_by": by, "grid": grid,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the cross-validation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the summary here")
    args = parser.parse_args(argv)
    started = time.monotonic()
    summary = summarise(run(args.folds)["rows"])
    summary["seconds"] = round(time.monotonic() - started, 1)
    print(f"{'support':>8} {'threshold':>9} {'recall':>7} {'model':>7} {'FA hard':>8} {'FA compl':>9}")
    for g in summary["grid"]:
        mark = " <-" if g is summary["chosen"] else ""
        print(f"{g['support']:>8.2f} {g['threshold']:>9.2f} {g['recall']:>7.4f} {g['model_alone_recall']:>7.4f} "
              f"{g['fa_hard']:>8.4f} {g['fa_complaints']:>9.4f}{mark}")
    print(json.dumps({k: v for k, v in summary.items() if k != "grid"}, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compare complaint-classifier approaches; prints a Markdown table.

Run from the repository root (one core, a few minutes)::

    .venv/bin/python bench/classifier/compare.py                 # all variants, all measures
    .venv/bin/python bench/classifier/compare.py --variants svm_words_chars --measures dev

Measures (macro-F1 / accuracy over the first-level category):
    dev      trained on the project's own data only, scored on dev.csv (never trained on it)
    own_cv   stratified 5-fold CV on the project's own data
    own_grp  5-fold CV on the project's own data with whole scenarios held out (harder:
             the test topics are unseen, closer to real messages)
    dev_cv   5-fold CV on dev.csv of ONE model per variant: each fold trains on the other four
             folds (agency weight 3) plus all project data, and scores the fifth — how
             train-classifier worked before an agency's history got its own expert. The shipped
             train-classifier is measured by ``dev_cv.py`` (the real commands) and compared with
             other uses of the history by ``agency_compare.py``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing.understanding.classifier import train  # noqa: E402
from routing.understanding.classifier.data import Example, join_text, project_examples  # noqa: E402
from routing.understanding.classifier.features import prepare  # noqa: E402

DEV_CSV = ROOT.parent / "shared" / "data" / "citizen-messages" / "dev.csv"
SEED = 13


def macro_f1(gold: list[str], pred: list[str]) -> tuple[float, float]:
    """Macro-F1 over the gold labels (as ``category_eval.py`` computes it) and accuracy."""
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(g == label == p for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    return sum(f1s) / len(f1s), acc


def dev_examples() -> list[Example]:
    """dev.csv as agency-style examples."""
    with DEV_CSV.open(newline="", encoding="utf-8") as f:
        return [Example(join_text(r["title"], r["detail"]), r["category"], group="agency") for r in csv.DictReader(f)]


class SklearnApproach:
    """A ``routing.understanding.classifier.train`` variant: fit on examples, predict level-1 labels."""

    def __init__(self, variant: train.Variant):
        self.name = variant.name
        self.variant = variant

    def fit_predict(self, train_ex: list[Example], test_texts: list[str]) -> list[str]:
        vectorizer = train.build_vectorizer(self.variant)
        features = vectorizer.fit_transform([prepare(e.text) for e in train_ex])
        weights = [train.AGENCY_WEIGHT if e.group == "agency" else 1.0 for e in train_ex]
        model = train.build_learner(self.variant).fit(features, [e.category for e in train_ex], sample_weight=weights)
        return list(model.predict(vectorizer.transform([prepare(t) for t in test_texts])))


def approaches(names: list[str] | None) -> list:
    from ensemble import EnsembleApproach
    from spacy_textcat import SpacyTextcat

    found = [SklearnApproach(v) for v in train.VARIANTS.values()]
    found.append(SpacyTextcat())
    found.append(EnsembleApproach())
    return [a for a in found if not names or a.name in names]


def run_measure(approach, measure: str, own: list[Example]) -> tuple[float, float]:
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if measure == "dev":
        dev = dev_examples()
        pred = approach.fit_predict(own, [e.text for e in dev])
        return macro_f1([e.category for e in dev], pred)
    if measure in ("own_cv", "own_grp"):
        labels = [e.category for e in own]
        if measure == "own_cv":
            splits = StratifiedKFold(5, shuffle=True, random_state=SEED).split(own, labels)
        else:
            splits = GroupKFold(5).split(own, labels, groups=[e.group for e in own])
        gold, pred = [], []
        for tr, te in splits:
            gold += [own[i].category for i in te]
            pred += approach.fit_predict([own[i] for i in tr], [own[i].text for i in te])
        return macro_f1(gold, pred)
    if measure == "dev_cv":
        dev = dev_examples()
        labels = [e.category for e in dev]
        gold, pred = [], []
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(dev, labels):
            gold += [dev[i].category for i in te]
            pred += approach.fit_predict(own + [dev[i] for i in tr], [dev[i].text for i in te])
        return macro_f1(gold, pred)
    raise ValueError(measure)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", nargs="*", help="approach names (default: all)")
    ap.add_argument("--measures", nargs="*", default=["dev", "own_cv", "own_grp", "dev_cv"])
    ap.add_argument("--agency-weight", type=float, help=f"weight of dev rows in dev_cv (default {train.AGENCY_WEIGHT})")
    args = ap.parse_args()
    if args.agency_weight is not None:
        train.AGENCY_WEIGHT = args.agency_weight
    own = project_examples()
    print(f"project rows: {len(own)}; dev rows: {len(dev_examples())}", file=sys.stderr)
    header = "| approach | " + " | ".join(f"{m} F1 / acc" for m in args.measures) + " | seconds |"
    print(header)
    print("|" + "---|" * (len(args.measures) + 2))
    for approach in approaches(args.variants):
        started = time.monotonic()
        cells = []
        for measure in args.measures:
            f1, acc = run_measure(approach, measure, own)
            cells.append(f"{f1:.3f} / {acc:.3f}")
            print(f"  {approach.name} {measure}: {f1:.4f} {acc:.4f}", file=sys.stderr)
        print(f"| {approach.name} | " + " | ".join(cells) + f" | {time.monotonic() - started:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

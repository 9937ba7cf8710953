"""Compare ways of learning from an agency's history, 5-fold on dev.csv (the dev_cv folds).

Run from the repository root (≈ 6 min on one core)::

    .venv/bin/python bench/classifier/agency_compare.py

Every variant trains on the project's own data plus four folds of dev.csv and predicts the fifth;
predictions of the five folds are pooled and scored like ``category_eval.py`` (macro-F1 / acc).

    joint          one model over project rows + agency rows at weight 3 (train-classifier
                   before the agency expert existed)
    agency_only    the agency expert alone, agency rows only (words + chars, no lexicon)
    agency_lex     the same with the shipped lexicon block
    pool(E)@a      log-linear pool of the project expert (the shipped model: project rows,
                   lexicon) and expert E at a fixed weight a (floor 0.01):
                   E = agency_only | agency_lex | +all (agency rows + every project row at 0.3)
                   | +used (agency rows + project rows of the agency's categories at 0.3: shipped)
For the shipped expert the pool weight chosen by train-classifier's inner cross-validation is
scored too (``bench/classifier/dev_cv.py`` measures the same thing through the real commands).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import SEED, dev_examples, macro_f1  # noqa: E402

from routing.understanding.classifier import train  # noqa: E402
from routing.understanding.classifier.data import Example, project_examples  # noqa: E402
from routing.understanding.classifier.features import prepare  # noqa: E402
from routing.understanding.classifier.model import agency_proba, combine_experts  # noqa: E402

ALPHAS = (0.3, 0.4, 0.5, 0.6)


def plain_expert(rows: list[Example], variant: train.Variant) -> dict:
    vectorizer = train.build_vectorizer(variant)
    features = vectorizer.fit_transform([prepare(e.text) for e in rows])
    return {"vectorizer": vectorizer, "model": train.build_learner(variant).fit(features, [e.category for e in rows])}


def main() -> int:
    from sklearn.model_selection import StratifiedKFold

    started = time.monotonic()
    own, dev = project_examples(), dev_examples()
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(dev, [e.category for e in dev]))
    gold = [dev[i].category for _, te in folds for i in te]
    project = train.fit_bundle(own)
    labels = [str(c) for c in project["l1"].classes_]
    p_project = project["l1"].predict_proba(project["vectorizer"].transform([prepare(e.text) for e in dev]))
    lex_variant = dataclasses.replace(train.VARIANTS[train.DEFAULT_VARIANT], name="agency_lex")
    experts = {
        "agency_only": lambda rows: plain_expert(rows, train.AGENCY_VARIANT),
        "agency_lex": lambda rows: plain_expert(rows, lex_variant),
        "+all": lambda rows: train.fit_agency_expert(rows, own, only_used=False),
        "+used": lambda rows: train.fit_agency_expert(rows, own),
    }
    rows_out = []

    def score(pred: list[str]) -> str:
        f1, acc = macro_f1(gold, pred)
        return f"{f1:.3f} / {acc:.3f}"

    joint_pred: list[str] = []
    for tr, te in folds:
        bundle = train.fit_bundle(own + [dev[i] for i in tr])
        joint_pred += list(bundle["l1"].predict(bundle["vectorizer"].transform([prepare(dev[i].text) for i in te])))
    rows_out.append(("joint", score(joint_pred)))
    rows_out.append(("project expert alone (shipped model)", score([labels[j] for j in p_project[[i for _, te in folds for i in te]].argmax(1)])))
    for name, make in experts.items():
        p_agency = []
        for tr, te in folds:
            expert = make([dev[i] for i in tr])
            p_agency.append(agency_proba(expert, [prepare(dev[i].text) for i in te], labels))
        if name in ("agency_only", "agency_lex"):
            rows_out.append((name, score([labels[j] for p in p_agency for j in p.argmax(1)])))
        for alpha in ALPHAS:
            pred = []
            for k, (_, te) in enumerate(folds):
                pooled = combine_experts(p_project[te], p_agency[k], alpha, train.AGENCY_FLOOR)
                pred += [labels[j] for j in pooled.argmax(1)]
            rows_out.append((f"pool({name})@{alpha}", score(pred)))
        print(f"  {name} done at {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    # Shipped: the weight chosen by the inner cross-validation of each training part.
    pred, chosen = [], []
    for tr, te in folds:
        bundle = {"l1": project["l1"], "vectorizer": project["vectorizer"]}
        adaptation = train.fit_agency_adaptation(bundle, [dev[i] for i in tr], own)
        chosen.append(adaptation["alpha"])
        expert = bundle["agency"]
        pooled = combine_experts(
            p_project[te], agency_proba(expert, [prepare(dev[i].text) for i in te], labels), expert["alpha"], expert["floor"], expert["temperature"]
        )
        pred += [labels[j] for j in pooled.argmax(1)]
    rows_out.append((f"pool(+used)@inner-CV (shipped; chosen {chosen})", score(pred)))
    print("| approach | dev_cv macro-F1 / acc |")
    print("|---|---|")
    for name, cell in rows_out:
        print(f"| {name} | {cell} |")
    print(f"seconds={time.monotonic() - started:.0f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

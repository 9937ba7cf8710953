"""Issue 17, round 3: candidate level-1 designs measured on the project's own data only.

Scenario-held-out 5-fold CV (``compare.py``'s ``own_grp``: ``GroupKFold`` over scenario names),
macro-F1 / accuracy over the first-level category. dev.csv is not read. Each fold's features are
built once (the shipped feature union) and every candidate learner runs on them::

    nice -n 10 .venv/bin/python bench/classifier/own_variants.py [--static var/e5_static.npz]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from compare import macro_f1  # noqa: E402

from routing.understanding.classifier import train  # noqa: E402
from routing.understanding.classifier.data import project_examples  # noqa: E402
from routing.understanding.classifier.features import prepare, words  # noqa: E402


def static_block(
    texts: list[str], table: dict[str, np.ndarray], idf: dict[str, float]
) -> np.ndarray:
    """idf-weighted mean of the static vectors of a text's words, centred table, L2-normalised."""
    dim = next(iter(table.values())).shape[0]
    out = np.zeros((len(texts), dim), np.float32)
    for i, t in enumerate(texts):
        ws = [w for w in words(t) if w in table]
        if ws:
            v = sum(table[w] * idf.get(w, 1.0) for w in ws)
            n = np.linalg.norm(v)
            out[i] = v / n if n else v
    return out


def load_static(path: str) -> dict[str, np.ndarray]:
    data = np.load(path)
    vecs = data["vecs"] - data["vecs"].mean(0)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
    return dict(zip(data["words"].tolist(), vecs, strict=True))


def expand_lexicon(path: str, k: int, cos: float) -> None:
    """Replace ``features.lexicon`` by the curated lexicon plus each term's nearest neighbours
    in a static word-vector table; a neighbour claimed by several categories is dropped."""
    from routing.understanding.classifier import features

    base = features.lexicon()
    data = np.load(path)
    vocab = data["words"].tolist()
    vecs = data["vecs"] / (np.linalg.norm(data["vecs"], axis=1, keepdims=True) + 1e-9)
    index = {w: i for i, w in enumerate(vocab)}
    claims: dict[str, set[str]] = {}
    for term, cats in base.items():
        if term not in index:
            continue
        sims = vecs @ vecs[index[term]]
        for j in np.argsort(-sims)[1 : k + 1]:
            word = vocab[j]
            if sims[j] >= cos and len(word) >= 2 and word not in base:
                claims.setdefault(word, set()).update(cats)
    added = {w: frozenset(c) for w, c in claims.items() if len(c) == 1}
    print(f"lexicon {len(base)} + {len(added)} neighbours", file=sys.stderr)
    table = {**base, **added}
    if os.environ.get("EXPAND_SEGMENTER", "1") == "0":
        features.segmenter()  # built (and cached) with the curated lexicon only
    else:
        features._tokenizer.cache_clear()
        features.segmenter.cache_clear()
    features.lexicon = lambda: table  # type: ignore[assignment]
    features._lexicon_index.cache_clear()


def corpus_folder(seed: int) -> Path:
    """The project corpus generated with another seed (same scenarios) into a temporary folder."""
    import tempfile

    import routing.data.complaints.generate as gen

    folder = Path(tempfile.mkdtemp(prefix="corpus_seed_"))
    gen.write_csv(gen.generate(seed, gen.load_scenarios()), folder / "generated.csv")
    return folder


def main() -> int:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    ap = argparse.ArgumentParser()
    ap.add_argument("--static", help="npz of static word vectors (words, vecs)")
    ap.add_argument("--only", nargs="*", help="candidate names to run")
    ap.add_argument(
        "--expand", help="NPZ:K:COS — add each lexicon term's K nearest words (cosine >= COS)"
    )
    ap.add_argument("--corpus-seed", type=int, help="generate the corpus with this seed instead")
    args = ap.parse_args()
    if args.expand:
        path, k, cos = args.expand.split(":")
        expand_lexicon(path, int(k), float(cos))
    own = project_examples(corpus_folder(args.corpus_seed) if args.corpus_seed else None)
    labels = np.array([e.category for e in own])
    l2 = np.array([f"{e.category}/{e.level2}" if e.level2 else e.category for e in own])
    prepared = [prepare(e.text) for e in own]
    table = load_static(args.static) if args.static else None
    variant = train.VARIANTS[train.DEFAULT_VARIANT]
    preds: dict[str, list[str]] = {}
    gold: list[str] = []
    started = time.monotonic()

    def cal_svm(c: float = 0.5) -> CalibratedClassifierCV:
        return CalibratedClassifierCV(
            LinearSVC(C=c, class_weight="balanced"), method="sigmoid", cv=3
        )

    def want(name: str) -> bool:
        return not args.only or name in args.only

    for fold, (tr, te) in enumerate(
        GroupKFold(5).split(own, labels, groups=[e.group for e in own])
    ):
        vec = train.build_vectorizer(variant)
        xtr = vec.fit_transform([prepared[i] for i in tr])
        xte = vec.transform([prepared[i] for i in te])
        ytr, yte = labels[tr], labels[te]
        gold += list(yte)
        base = cal_svm().fit(xtr, ytr)
        classes = base.classes_
        p_base = base.predict_proba(xte)
        out: dict[str, np.ndarray] = {"shipped": p_base}
        if want("cnb") or want("shipped+cnb"):
            cnb = ComplementNB(alpha=0.3).fit(xtr, ytr)
            p_cnb = cnb.predict_proba(xte)
            out["cnb"] = p_cnb
            out["shipped+cnb"] = 0.5 * p_base + 0.5 * p_cnb
        if want("logreg") or want("shipped+logreg"):
            lr = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced").fit(xtr, ytr)
            out["logreg"] = lr.predict_proba(xte)
            out["shipped+logreg"] = 0.5 * p_base + 0.5 * out["logreg"]
        if want("svm_c025") or want("svm_c1"):
            out["svm_c025"] = cal_svm(0.25).fit(xtr, ytr).predict_proba(xte)
            out["svm_c1"] = cal_svm(1.0).fit(xtr, ytr).predict_proba(xte)
        if want("hier") or want("shipped+hier"):
            # level 1 from level-2 evidence: a calibrated level-2 model, its probabilities summed
            # per level-1 parent
            m2 = cal_svm().fit(xtr, l2[tr])
            p2 = m2.predict_proba(xte)
            parent = np.array([c.split("/")[0] for c in m2.classes_])
            p_h = np.stack([p2[:, parent == c].sum(1) for c in classes], axis=1)
            out["hier"] = p_h
            out["shipped+hier"] = 0.5 * p_base + 0.5 * p_h
            out["shipped*hier"] = np.sqrt(p_base * np.maximum(p_h, 1e-4))
        if want("prior_flat"):
            # class-balanced calibration: divide by the mean predicted probability of each class
            # on the training rows (a flat prior over the categories)
            prior = base.predict_proba(xtr).mean(0)
            q = p_base / prior
            out["prior_flat"] = q / q.sum(1, keepdims=True)
        if table is not None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            tv = TfidfVectorizer(analyzer=words).fit([prepared[i] for i in tr])
            idf = dict(zip(tv.get_feature_names_out(), tv.idf_, strict=True))
            s_tr = static_block([prepared[i] for i in tr], table, idf)
            s_te = static_block([prepared[i] for i in te], table, idf)
            for w in [float(x) for x in os.environ.get("STATIC_WEIGHTS", "0.5 1.0").split()]:
                x1 = hstack([xtr, csr_matrix(s_tr * w)]).tocsr()
                x2 = hstack([xte, csr_matrix(s_te * w)]).tocsr()
                out[f"static{w}"] = cal_svm().fit(x1, ytr).predict_proba(x2)
            alone = cal_svm(1.0).fit(s_tr, ytr).predict_proba(s_te)
            out["static_alone"] = alone
            out["shipped+static_alone"] = 0.7 * p_base + 0.3 * alone
        for name, p in out.items():
            preds.setdefault(name, []).extend(classes[p.argmax(1)])
        print(f"fold {fold} done {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    print("| candidate | own_grp macro-F1 / acc |\n|---|---|")
    for name, p in preds.items():
        f1, acc = macro_f1(gold, p)
        print(f"| {name} | {f1:.4f} / {acc:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training the complaint classifier and managing the active / previous model folders."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.understanding.classifier import runtime as lean
from routing.understanding.classifier.data import Example, project_examples
from routing.understanding.classifier.features import (
    lexicon_analyzer,
    prepare,
    title_analyzer,
    word_analyzer,
    word_lexicon_analyzer,
)
from routing.understanding.classifier.model import (
    ACTIVE_DIR,
    METADATA_FILE,
    MODEL_FILE,
    PREVIOUS_DIR,
    RUNTIME_FILE,
    agency_proba,
    clear_cache,
    combine_experts,
)

DEFAULT_VARIANT = "svm_words_chars_lexblock"
# Rows from an agency's own history describe the messages the model will see; they count
# this many times a project row. Fixed a priori (see bench/classifier/README.md).
AGENCY_WEIGHT = 3.0
TARGET_PRECISION = 0.90
# With at least this many agency rows, the agency's history gets an expert of its own (see
# ``fit_agency_adaptation``); below it, agency rows are simply added to the project data.
MIN_AGENCY_ROWS = 60
# Weights of the agency expert in the log-linear pool tried by the inner cross-validation.
ALPHA_GRID = (0.2, 0.3, 0.4, 0.5, 0.6)
# Weight of the project rows inside the agency expert: its agency rows keep their own weight 1,
# so the agency's conventions dominate while the project rows lend it vocabulary.
AGENCY_EXPERT_PROJECT_WEIGHT = 0.3
# Floor of the agency expert's probabilities in the pool: a category the agency never used
# stays among the alternatives offered as buttons, and wins outright only when the project
# expert is very sure of it. Fixed a priori.
AGENCY_FLOOR = 0.01
# Range of the temperature that re-calibrates the pool (``_fit_temperature``).
TEMPERATURE_BOUNDS = (0.5, 2.0)
INNER_FOLDS = 5
INNER_SEED = 7


@dataclass(frozen=True)
class Variant:
    """One model configuration compared in ``bench/classifier``."""

    name: str
    words: bool = True
    chars: bool = True
    lexicon: bool = False
    lexicon_weight: float = 0.0  # > 0: lexicon tokens as a separate, weighted feature block
    learner: str = "svm"  # "svm" (LinearSVC + sigmoid calibration) or "logreg"
    balanced: bool = (
        True  # class_weight="balanced"; False lets the corpus proportions act as priors
    )
    svm_c: float = 0.5  # LinearSVC regularisation (larger = less regularised)
    char_range: tuple[int, int] = (1, 3)  # character n-gram lengths
    words_weight: float = 1.0  # weight of the jieba word block in the feature union
    title_weight: float = (
        0.0  # > 0: words of the first line (the title) as a separate, weighted block
    )


VARIANTS = {
    v.name: v
    for v in (
        Variant("logreg_words_chars", learner="logreg"),
        Variant("svm_chars", words=False),
        Variant("svm_words_chars"),
        Variant("svm_words_chars_lex", lexicon=True),
        Variant("svm_words_chars_lexblock", lexicon_weight=1.0),
        Variant("svm_words_chars_lexblock2", lexicon_weight=2.0),
        Variant("svm_words_chars_lex_lexblock", lexicon=True, lexicon_weight=1.0),
        Variant("svm_words_chars_lexblock_prior", lexicon_weight=1.0, balanced=False),
        Variant("svm_lexblock_c025", lexicon_weight=1.0, svm_c=0.25),
        Variant("svm_lexblock_c1", lexicon_weight=1.0, svm_c=1.0),
        Variant("svm_lexblock_chars24", lexicon_weight=1.0, char_range=(2, 4)),
        Variant("svm_lexblock_chars14", lexicon_weight=1.0, char_range=(1, 4)),
        Variant("svm_lexblock_words15", lexicon_weight=1.0, words_weight=1.5),
        Variant("svm_lexblock_words07", lexicon_weight=1.0, words_weight=0.7),
        Variant("svm_lexblock05", lexicon_weight=0.5),
        Variant("svm_lexblock_title05", lexicon_weight=1.0, title_weight=0.5),
        Variant("svm_lexblock_title1", lexicon_weight=1.0, title_weight=1.0),
    )
}
# The agency expert: plain jieba words + character n-grams, no lexicon. Its errors differ from
# the lexicon-driven project expert's, which is what makes the pool better than either.
AGENCY_VARIANT = Variant("agency_words_chars")


def build_vectorizer(variant: Variant) -> Any:
    """Return an unfitted feature union for a variant."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = []
    if variant.words:
        analyzer = word_lexicon_analyzer if variant.lexicon else word_analyzer
        parts.append(
            (
                "words",
                TfidfVectorizer(
                    analyzer=analyzer, sublinear_tf=True, min_df=2, max_features=120_000
                ),
            )
        )
    if variant.chars:
        parts.append(
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char",
                    ngram_range=variant.char_range,
                    sublinear_tf=True,
                    min_df=2,
                    max_features=200_000,
                ),
            )
        )
    weights = {"words": variant.words_weight} if variant.words else {}
    if variant.lexicon_weight > 0:
        parts.append(
            (
                "lexicon",
                TfidfVectorizer(analyzer=lexicon_analyzer, sublinear_tf=True, use_idf=False),
            )
        )
        weights["lexicon"] = variant.lexicon_weight
    if variant.title_weight > 0:
        parts.append(
            ("title", TfidfVectorizer(analyzer=title_analyzer, sublinear_tf=True, min_df=2))
        )
        weights["title"] = variant.title_weight
    return FeatureUnion(parts, transformer_weights=weights)


def build_learner(variant: Variant, calibrated: bool = True) -> Any:
    """Return an unfitted classifier for a variant."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    class_weight = "balanced" if variant.balanced else None
    if variant.learner == "logreg":
        return LogisticRegression(C=20.0, max_iter=3000, class_weight=class_weight)
    svm = LinearSVC(C=variant.svm_c, class_weight=class_weight)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=3) if calibrated else svm


def _sub_learner(key: str) -> Any:
    """Learner for level 2, level 3 (many classes: a plain linear SVM, ranked by decision
    score) and dispute type (calibrated, its probability is reported)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    if key == "dispute":
        return CalibratedClassifierCV(
            LinearSVC(C=0.5, class_weight="balanced"), method="sigmoid", cv=3
        )
    return LinearSVC(C=0.5)


def _weights(examples: list[Example], agency_weight: float) -> list[float]:
    return [agency_weight if e.group == "agency" else 1.0 for e in examples]


def _fit(learner: Any, features: Any, labels: list[str], weights: list[float]) -> Any:
    return learner.fit(features, labels, sample_weight=weights)


def fit_bundle(
    examples: list[Example],
    variant: Variant | None = None,
    agency_weight: float = AGENCY_WEIGHT,
    level1_from_agency: bool = True,
) -> dict[str, Any]:
    """Fit the vectorizer and the four models (level 1, level 2, level 3, dispute type).

    Args:
        examples: training examples (project data, possibly with agency rows).
        variant: model configuration; the shipped default when ``None``.
        agency_weight: sample weight of rows whose group is ``"agency"``.
        level1_from_agency: ``False`` fits the level-1 model on the project rows only (the
            agency's level-1 labels then speak through the agency expert).

    Returns:
        The bundle that ``routing.understanding.classifier.model.Classifier`` wraps.
    """
    variant = variant or VARIANTS[DEFAULT_VARIANT]
    vectorizer = build_vectorizer(variant)
    l1_idx = [i for i, e in enumerate(examples) if level1_from_agency or e.group != "agency"]
    prepared = [prepare(e.text) for e in examples]
    # Without the agency rows at level 1, the features are fitted on the project rows alone:
    # the project expert is then exactly the model the project ships.
    vectorizer.fit([prepared[i] for i in l1_idx])
    features = vectorizer.transform(prepared)
    weights = _weights(examples, agency_weight)
    bundle: dict[str, Any] = {"vectorizer": vectorizer, "variant": variant.name}
    bundle["l1"] = _fit(
        build_learner(variant),
        features[l1_idx],
        [examples[i].category for i in l1_idx],
        [weights[i] for i in l1_idx],
    )
    for key, label_of in (
        ("l2", lambda e: f"{e.category}/{e.level2}" if e.level2 and e.level2 != "其他" else ""),
        (
            "l3",
            lambda e: (
                f"{e.category}/{e.level2}/{e.level3}"
                if e.level2 and e.level3 and e.level3 != "其他"
                else ""
            ),
        ),
        ("dispute", lambda e: e.dispute_type),
    ):
        idx = [i for i, e in enumerate(examples) if label_of(e)]
        labels = [label_of(examples[i]) for i in idx]
        if len(set(labels)) < 2:
            bundle[key] = None
            continue
        bundle[key] = _fit(_sub_learner(key), features[idx], labels, [weights[i] for i in idx])
    return bundle


def measure_threshold(
    examples: list[Example],
    variant: Variant | None = None,
    agency_weight: float = AGENCY_WEIGHT,
    folds: int = 5,
) -> dict[str, float]:
    """Choose the low-confidence threshold from out-of-fold predictions.

    Folds keep each scenario of the project corpus together (a held-out fold is made of
    topics the model has not seen, which is what makes a message hard in real life); agency
    rows are spread over the folds. The threshold is the smallest confidence at which the
    predictions at or above it are right ``TARGET_PRECISION`` of the time.

    Returns:
        ``threshold``, the ``coverage`` (share of messages at or above it), the precision there
        and the out-of-fold accuracy.
    """
    from sklearn.model_selection import GroupKFold

    variant = variant or VARIANTS[DEFAULT_VARIANT]
    groups = [
        e.group if e.group != "agency" else f"agency{i % folds}" for i, e in enumerate(examples)
    ]
    confidences: list[float] = []
    correct: list[bool] = []
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(examples, groups=groups):
        train = [examples[i] for i in train_idx]
        vectorizer = build_vectorizer(variant)
        features = vectorizer.fit_transform([prepare(e.text) for e in train])
        model = _fit(
            build_learner(variant),
            features,
            [e.category for e in train],
            _weights(train, agency_weight),
        )
        test = [examples[i] for i in test_idx]
        proba = model.predict_proba(vectorizer.transform([prepare(e.text) for e in test]))
        for e, row in zip(test, proba, strict=True):
            j = int(row.argmax())
            confidences.append(float(row[j]))
            correct.append(model.classes_[j] == e.category)
    return threshold_from(confidences, correct)


def threshold_from(confidences: list[float], correct: list[bool]) -> dict[str, float]:
    """The smallest confidence at which out-of-fold predictions at or above it are right
    ``TARGET_PRECISION`` of the time (clamped to 0.2–0.9), with its coverage and precision."""
    pairs = sorted(zip(confidences, correct, strict=True), reverse=True)
    threshold, hits = pairs[0][0], 0
    for k, (conf, ok) in enumerate(pairs, start=1):
        hits += ok
        if hits / k >= TARGET_PRECISION:
            threshold = conf
    threshold = min(max(threshold, 0.2), 0.9)
    above = [ok for conf, ok in pairs if conf >= threshold]
    return {
        "threshold": round(threshold, 4),
        "coverage": round(len(above) / len(pairs), 4),
        "precision": round(sum(above) / max(len(above), 1), 4),
        "oof_accuracy": round(sum(correct) / len(correct), 4),
        "target_precision": TARGET_PRECISION,
    }


def fit_agency_expert(rows: list[Example], project: list[Example], only_used: bool = True) -> dict[str, Any]:
    """Fit the agency expert (``AGENCY_VARIANT``): an agency's rows at weight 1 plus the project
    rows of the categories the agency uses (every project row with ``only_used=False``, a
    variant kept for ``bench/classifier/agency_compare.py``) at ``AGENCY_EXPERT_PROJECT_WEIGHT``.

    The expert models the agency's label set as well as its conventions: a category the agency
    never used gets probability 0 here and only the floor of the pool keeps it reachable.
    """
    used = {e.category for e in rows}
    examples = rows + [e for e in project if not only_used or e.category in used]
    vectorizer = build_vectorizer(AGENCY_VARIANT)
    features = vectorizer.fit_transform([prepare(e.text) for e in examples])
    weights = [1.0] * len(rows) + [AGENCY_EXPERT_PROJECT_WEIGHT] * (len(examples) - len(rows))
    model = build_learner(AGENCY_VARIANT).fit(
        features, [e.category for e in examples], sample_weight=weights
    )
    return {"vectorizer": vectorizer, "model": model}


def _macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(g == label == p for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def agency_rows_usable(rows: list[Example]) -> bool:
    """Enough agency rows, over at least two categories with an inner fold's worth each, for
    the agency expert and its inner cross-validation."""
    counts: dict[str, int] = {}
    for e in rows:
        counts[e.category] = counts.get(e.category, 0) + 1
    return len(rows) >= MIN_AGENCY_ROWS and sum(n >= INNER_FOLDS for n in counts.values()) >= 2


def _fit_temperature(pooled: Any, truth: Any) -> float:
    """Temperature minimising the log-loss of pooled out-of-fold probabilities, within
    ``TEMPERATURE_BOUNDS``: a history that is easy to separate would otherwise drive it up and
    make the pool over-confident on messages unlike any in that history."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    logp = np.log(np.maximum(pooled, 1e-12))
    rows = np.arange(len(truth))

    def loss(t: float) -> float:
        scores = t * logp
        scores -= scores.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scores).sum(axis=1))
        return float(-np.mean(scores[rows, truth] - log_norm))

    return float(minimize_scalar(loss, bounds=TEMPERATURE_BOUNDS, method="bounded").x)


def fit_agency_adaptation(
    bundle: dict[str, Any], rows: list[Example], project: list[Example]
) -> dict[str, Any]:
    """Give a bundle the expert of an agency's history and choose the pool weight.

    The bundle's level-1 model (the project expert: lexicon features, project rows only) was
    fitted without these rows, so its probabilities on them are out of sample. An inner
    stratified cross-validation over the agency rows gives out-of-fold probabilities of the
    agency expert; the pool weight ``alpha`` (``ALPHA_GRID``) with the lowest log-loss of the
    pooled out-of-fold probabilities is kept (a proper score: smoother than macro-F1 on a few
    hundred rows); a temperature fitted on the same answers re-calibrates the pool, and the
    low-confidence threshold is measured on the calibrated out-of-fold answers (the agency's
    messages are what the deployment will see).

    Returns:
        The measurement stored in the metadata (``alpha``, scores per alpha, threshold, …).
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    labels = list(bundle["l1"].classes_)
    prepared = [prepare(e.text) for e in rows]
    gold = [e.category for e in rows]
    p_project = bundle["l1"].predict_proba(bundle["vectorizer"].transform(prepared))
    # Categories too rare for a fold of their own stay in every training part.
    counts = {c: gold.count(c) for c in set(gold)}
    common = [i for i, c in enumerate(gold) if counts[c] >= INNER_FOLDS]
    rare = [i for i, c in enumerate(gold) if counts[c] < INNER_FOLDS]
    agency = np.zeros_like(p_project)
    splitter = StratifiedKFold(INNER_FOLDS, shuffle=True, random_state=INNER_SEED)
    for train_part, test_part in splitter.split(common, [gold[i] for i in common]):
        train_idx = [common[i] for i in train_part] + rare
        test_idx = [common[i] for i in test_part]
        expert = fit_agency_expert([rows[i] for i in train_idx], project)
        agency[test_idx] = agency_proba(expert, [prepared[i] for i in test_idx], labels)
    scored = common  # rows of categories too rare for a fold are trained on, never scored
    gold_scored = [gold[i] for i in scored]
    truth = np.array([labels.index(g) for g in gold_scored])
    f1_by_alpha: dict[str, float] = {}
    logloss_by_alpha: dict[str, float] = {}
    best_alpha, best_loss = ALPHA_GRID[0], float("inf")
    for alpha in (0.0, *ALPHA_GRID):
        pooled = combine_experts(p_project[scored], agency[scored], alpha, AGENCY_FLOOR)
        pred = [labels[j] for j in pooled.argmax(axis=1)]
        loss = float(-np.mean(np.log(np.maximum(pooled[np.arange(len(truth)), truth], 1e-12))))
        f1_by_alpha[f"{alpha:.1f}"] = round(_macro_f1(gold_scored, pred), 4)
        logloss_by_alpha[f"{alpha:.1f}"] = round(loss, 4)
        if alpha > 0 and loss < best_loss:
            best_alpha, best_loss = alpha, loss
    pooled = combine_experts(p_project[scored], agency[scored], best_alpha, AGENCY_FLOOR)
    temperature = _fit_temperature(pooled, truth)
    pooled = combine_experts(p_project[scored], agency[scored], best_alpha, AGENCY_FLOOR, temperature)
    confidences = [float(row.max()) for row in pooled]
    correct = [labels[int(row.argmax())] == g for row, g in zip(pooled, gold_scored, strict=True)]
    bundle["agency"] = {
        **fit_agency_expert(rows, project),
        "alpha": best_alpha,
        "floor": AGENCY_FLOOR,
        "temperature": temperature,
    }
    return {
        "alpha": best_alpha,
        "floor": AGENCY_FLOOR,
        "temperature": round(temperature, 4),
        "expert_project_weight": AGENCY_EXPERT_PROJECT_WEIGHT,
        "inner_folds": INNER_FOLDS,
        "oof_macro_f1_by_alpha": f1_by_alpha,
        "oof_logloss_by_alpha": logloss_by_alpha,
        "oof_macro_f1_project_only": f1_by_alpha["0.0"],
        "oof_macro_f1": f1_by_alpha[f"{best_alpha:.1f}"],
        "agency_categories": sorted(counts),
        "threshold": threshold_from(confidences, correct),
    }


def _fingerprint(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(
            f"{e.text}\t{e.category}\t{e.level2}\t{e.level3}\t{e.dispute_type}\n".encode()
        )
    return digest.hexdigest()[:16]


def train_model(
    out_dir: Path,
    extra: list[Example] | None = None,
    variant: Variant | None = None,
    agency_weight: float = AGENCY_WEIGHT,
    measure: bool = True,
) -> dict[str, Any]:
    """Train on the project corpus plus ``extra`` rows and write the model to ``out_dir``.

    Args:
        out_dir: target folder; created or replaced.
        extra: agency rows (``read_agency_csv``). With enough of them (``agency_rows_usable``)
            they get an expert of their own pooled with the project expert
            (``fit_agency_adaptation``) and feed the level-2/3 models; otherwise they are trained
            together with the project data at ``agency_weight``.
        variant: model configuration; the shipped default when ``None``.
        agency_weight: sample weight of agency rows.
        measure: measure the low-confidence threshold (grouped cross-validation, or the agency
            rows' inner cross-validation when they have an expert); otherwise 0.5 is stored.

    Returns:
        The metadata written next to the model.
    """
    import joblib

    started = time.monotonic()
    variant = variant or VARIANTS[DEFAULT_VARIANT]
    extra = list(extra or [])
    examples = project_examples() + extra
    adaptation: dict[str, Any] | None = None
    if agency_rows_usable(extra):
        bundle = fit_bundle(examples, variant, agency_weight, level1_from_agency=False)
        adaptation = fit_agency_adaptation(bundle, extra, examples[: len(examples) - len(extra)])
        calibration = adaptation["threshold"] if measure else {"threshold": 0.5}
    else:
        calibration = (
            measure_threshold(examples, variant, agency_weight) if measure else {"threshold": 0.5}
        )
        bundle = fit_bundle(examples, variant, agency_weight)
    metadata = {
        "variant": variant.name,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "project_rows": len(examples) - len(extra),
        "agency_rows": len(extra),
        "agency_weight": agency_weight,
        "agency_adaptation": adaptation,
        "data_fingerprint": _fingerprint(examples),
        "low_confidence_threshold": calibration["threshold"],
        "threshold_measurement": calibration,
        "categories": list(bundle["l1"].classes_),
        "train_seconds": 0.0,
    }
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    joblib.dump(bundle, tmp / MODEL_FILE, compress=3)
    # The lean run-time form; a variant it cannot express runs through scikit-learn.
    with contextlib.suppress(ValueError):
        lean.save(lean.from_bundle(bundle), tmp / RUNTIME_FILE)
    metadata["train_seconds"] = round(time.monotonic() - started, 1)
    (tmp / METADATA_FILE).write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    clear_cache()
    return metadata


def install_active(new_dir: Path, active: Path = ACTIVE_DIR, previous: Path = PREVIOUS_DIR) -> None:
    """Make ``new_dir`` the active model, keeping the old active one as ``previous``."""
    if previous.exists():
        shutil.rmtree(previous)
    if active.exists():
        active.rename(previous)
    active.parent.mkdir(parents=True, exist_ok=True)
    new_dir.rename(active)
    clear_cache()


def rollback(active: Path = ACTIVE_DIR, previous: Path = PREVIOUS_DIR) -> None:
    """Swap the active and previous models.

    Raises:
        FileNotFoundError: there is no previous model to roll back to.
    """
    if not (previous / MODEL_FILE).exists():
        raise FileNotFoundError(f"no previous model in {previous}")
    swap = active.with_name(active.name + ".swap")
    if swap.exists():
        shutil.rmtree(swap)
    if active.exists():
        active.rename(swap)
    previous.rename(active)
    if swap.exists():
        swap.rename(previous)
    clear_cache()

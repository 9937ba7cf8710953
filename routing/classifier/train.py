"""Training the complaint classifier and managing the active / previous model folders."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.classifier.data import Example, project_examples
from routing.classifier.features import (
    lexicon_analyzer,
    prepare,
    title_analyzer,
    word_analyzer,
    word_lexicon_analyzer,
)
from routing.classifier.model import (
    ACTIVE_DIR,
    METADATA_FILE,
    MODEL_FILE,
    PREVIOUS_DIR,
    clear_cache,
)

DEFAULT_VARIANT = "svm_words_chars_lexblock"
# Rows from an agency's own history describe the messages the model will see; they count
# this many times a project row. Fixed a priori (see bench/classifier/README.md).
AGENCY_WEIGHT = 3.0
TARGET_PRECISION = 0.90


@dataclass(frozen=True)
class Variant:
    """One model configuration compared in ``bench/classifier``."""

    name: str
    words: bool = True
    chars: bool = True
    lexicon: bool = False
    lexicon_weight: float = 0.0  # > 0: lexicon tokens as a separate, weighted feature block
    learner: str = "svm"  # "svm" (LinearSVC + sigmoid calibration) or "logreg"
    balanced: bool = True  # class_weight="balanced"; False lets the corpus proportions act as priors
    svm_c: float = 0.5  # LinearSVC regularisation (larger = less regularised)
    char_range: tuple[int, int] = (1, 3)  # character n-gram lengths
    words_weight: float = 1.0  # weight of the jieba word block in the feature union
    title_weight: float = 0.0  # > 0: words of the first line (the title) as a separate, weighted block


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


def build_vectorizer(variant: Variant) -> Any:
    """Return an unfitted feature union for a variant."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = []
    if variant.words:
        analyzer = word_lexicon_analyzer if variant.lexicon else word_analyzer
        parts.append(("words", TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, max_features=120_000)))
    if variant.chars:
        parts.append(
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char", ngram_range=variant.char_range, sublinear_tf=True, min_df=2, max_features=200_000
                ),
            )
        )
    weights = {"words": variant.words_weight} if variant.words else {}
    if variant.lexicon_weight > 0:
        parts.append(("lexicon", TfidfVectorizer(analyzer=lexicon_analyzer, sublinear_tf=True, use_idf=False)))
        weights["lexicon"] = variant.lexicon_weight
    if variant.title_weight > 0:
        parts.append(("title", TfidfVectorizer(analyzer=title_analyzer, sublinear_tf=True, min_df=2)))
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
        return CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced"), method="sigmoid", cv=3)
    return LinearSVC(C=0.5)


def _weights(examples: list[Example], agency_weight: float) -> list[float]:
    return [agency_weight if e.group == "agency" else 1.0 for e in examples]


def _fit(learner: Any, features: Any, labels: list[str], weights: list[float]) -> Any:
    return learner.fit(features, labels, sample_weight=weights)


def fit_bundle(
    examples: list[Example], variant: Variant | None = None, agency_weight: float = AGENCY_WEIGHT
) -> dict[str, Any]:
    """Fit the vectorizer and the four models (level 1, level 2, level 3, dispute type).

    Args:
        examples: training examples (project data, possibly with agency rows).
        variant: model configuration; the shipped default when ``None``.
        agency_weight: sample weight of rows whose group is ``"agency"``.

    Returns:
        The bundle that ``routing.classifier.model.Classifier`` wraps.
    """
    variant = variant or VARIANTS[DEFAULT_VARIANT]
    vectorizer = build_vectorizer(variant)
    features = vectorizer.fit_transform([prepare(e.text) for e in examples])
    weights = _weights(examples, agency_weight)
    bundle: dict[str, Any] = {"vectorizer": vectorizer, "variant": variant.name}
    bundle["l1"] = _fit(build_learner(variant), features, [e.category for e in examples], weights)
    for key, label_of in (
        ("l2", lambda e: f"{e.category}/{e.level2}" if e.level2 and e.level2 != "其他" else ""),
        ("l3", lambda e: f"{e.category}/{e.level2}/{e.level3}" if e.level2 and e.level3 and e.level3 != "其他" else ""),
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
    examples: list[Example], variant: Variant | None = None, agency_weight: float = AGENCY_WEIGHT, folds: int = 5
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
    groups = [e.group if e.group != "agency" else f"agency{i % folds}" for i, e in enumerate(examples)]
    confidences: list[float] = []
    correct: list[bool] = []
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(examples, groups=groups):
        train = [examples[i] for i in train_idx]
        vectorizer = build_vectorizer(variant)
        features = vectorizer.fit_transform([prepare(e.text) for e in train])
        model = _fit(build_learner(variant), features, [e.category for e in train], _weights(train, agency_weight))
        test = [examples[i] for i in test_idx]
        proba = model.predict_proba(vectorizer.transform([prepare(e.text) for e in test]))
        for e, row in zip(test, proba, strict=True):
            j = int(row.argmax())
            confidences.append(float(row[j]))
            correct.append(model.classes_[j] == e.category)
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


def _fingerprint(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{e.text}\t{e.category}\t{e.level2}\t{e.level3}\t{e.dispute_type}\n".encode())
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
        extra: agency rows (``read_agency_csv``), trained together with the project data.
        variant: model configuration; the shipped default when ``None``.
        agency_weight: sample weight of agency rows.
        measure: run the grouped cross-validation that sets the low-confidence threshold
            (otherwise a fixed 0.5 is stored).

    Returns:
        The metadata written next to the model.
    """
    import joblib

    started = time.monotonic()
    variant = variant or VARIANTS[DEFAULT_VARIANT]
    examples = project_examples() + list(extra or [])
    calibration = measure_threshold(examples, variant, agency_weight) if measure else {"threshold": 0.5}
    bundle = fit_bundle(examples, variant, agency_weight)
    metadata = {
        "variant": variant.name,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "project_rows": len(examples) - len(extra or []),
        "agency_rows": len(extra or []),
        "agency_weight": agency_weight,
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
    metadata["train_seconds"] = round(time.monotonic() - started, 1)
    (tmp / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
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

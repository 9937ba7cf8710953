"""The complaint classifier: loading a trained model and classifying messages."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing.understanding.classifier.data import REPO_ROOT, dispute_types
from routing.understanding.classifier.features import prepare

MODEL_FILE = "model.joblib"
RUNTIME_FILE = "runtime.npz"
METADATA_FILE = "metadata.json"
ENV_MODEL_DIR = "FENGQIAO_CLASSIFIER_DIR"
ACTIVE_DIR = REPO_ROOT / "var" / "classifier" / "active"
PREVIOUS_DIR = REPO_ROOT / "var" / "classifier" / "previous"
SHIPPED_DIR = REPO_ROOT / "models" / "classifier"
# A level-2 / level-3 label is reported when its linear-SVM score is at least this (0 is the
# decision boundary; slightly below still means "more likely than its siblings").
SUBLEVEL_MIN_SCORE = -0.3


@dataclass
class Classification:
    """Result of classifying one message.

    Attributes:
        category: first-level hotline category.
        category_path: ``[level1, level2 or None, level3 or None]``.
        dispute_type: dispute / report type code from ``routing/data/dispute_types.csv``.
        dispute_type_name: its Chinese name.
        confidence: calibrated probability of ``category``.
        alternatives: top three ``(category, probability)`` pairs, best first.
        dispute_confidence: probability of ``dispute_type``.
        low_confidence: ``confidence`` is below the model's measured threshold; the bot should
            offer the alternatives as buttons instead of guessing.
    """

    category: str
    category_path: list[str | None]
    dispute_type: str
    dispute_type_name: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    dispute_confidence: float = 0.0
    low_confidence: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready form used by ``fengqiao classify``."""
        return {
            "category": self.category,
            "category_path": list(self.category_path),
            "dispute_type": self.dispute_type,
            "dispute_type_name": self.dispute_type_name,
            "confidence": round(self.confidence, 4),
            "alternatives": [[c, round(p, 4)] for c, p in self.alternatives],
            "dispute_confidence": round(self.dispute_confidence, 4),
            "low_confidence": self.low_confidence,
        }


class Classifier:
    """A trained classifier: shared features, then level-1, level-2, level-3 and dispute models."""

    def __init__(
        self,
        bundle: dict[str, Any] | None,
        metadata: dict[str, Any],
        model_dir: Path | None = None,
        runtime: dict[str, Any] | None = None,
    ):
        """Wrap a loaded bundle (see ``routing.understanding.classifier.train``) and its metadata.

        ``runtime`` is the lean array form (``routing.understanding.classifier.runtime``); without it, it is
        converted from the bundle. With it, ``bundle`` may be ``None`` and is read from
        ``model_dir`` only when asked for. A bundle the array form cannot express (a model other
        than a sigmoid-calibrated linear one) is used through scikit-learn.
        """
        from routing.understanding.classifier import runtime as lean

        self._bundle = bundle
        self.metadata = metadata
        self.model_dir = model_dir
        self.threshold = float(metadata.get("low_confidence_threshold", 0.5))
        self._dispute_names = dispute_types()
        self._fast: dict[str, list[tuple[Any, Any, Any, Any]] | None] = {}
        if runtime is None and bundle is not None:
            try:
                runtime = lean.from_bundle(bundle)
            except (ValueError, AttributeError):
                runtime = None
        self.runtime = runtime

    @property
    def bundle(self) -> dict[str, Any]:
        """The scikit-learn bundle (read from ``model.joblib`` on first use when loaded lean)."""
        if self._bundle is None:
            import joblib

            assert self.model_dir is not None, "a lean classifier knows its folder"
            self._bundle = joblib.load(self.model_dir / MODEL_FILE)
        return self._bundle

    def classify(self, text: str) -> Classification:
        """Classify one message (Simplified or Traditional; title and detail may be joined)."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: list[str]) -> list[Classification]:
        """Classify a batch of messages; faster per message than ``classify`` in a loop."""
        if not texts:
            return []
        prepared = [prepare(t) for t in texts]
        if self.runtime is not None:
            l1_labels, p1, p2, p3, pd, dispute_labels = self._lean_outputs(prepared)
        else:
            l1_labels, p1, p2, p3, pd, dispute_labels = self._sklearn_outputs(prepared)
        results = []
        for i in range(len(texts)):
            order = p1[i].argsort()[::-1]
            category = l1_labels[order[0]]
            confidence = float(p1[i][order[0]])
            level2 = self._sub_label("l2", p2, i, category + "/")
            level3 = None
            if level2 is not None:
                level3 = self._sub_label("l3", p3, i, f"{category}/{level2}/")
            dispute, dispute_conf = "other", 0.0
            if pd is not None:
                j = int(pd[i].argmax())
                dispute, dispute_conf = dispute_labels[j], float(pd[i][j])
            results.append(
                Classification(
                    category=category,
                    category_path=[category, level2, level3],
                    dispute_type=dispute,
                    dispute_type_name=self._dispute_names.get(dispute, dispute),
                    confidence=confidence,
                    alternatives=[(l1_labels[j], float(p1[i][j])) for j in order[:3]],
                    dispute_confidence=dispute_conf,
                    low_confidence=confidence < self.threshold,
                )
            )
        return results

    def _lean_outputs(self, prepared: list[str]) -> tuple[Any, ...]:
        """Level-1 probabilities, level-2/3 scores and dispute probabilities from the array form."""
        rt = self.runtime
        assert rt is not None
        from routing.understanding.classifier.runtime import all_outputs

        out = all_outputs(rt, rt["vectorizer"].transform(prepared))
        l1_labels = rt["l1"].classes
        p1 = out["l1"]
        agency = rt.get("agency")
        if agency is not None:
            p_agency = lean_agency_proba(agency, prepared, l1_labels)
            p1 = combine_experts(p1, p_agency, agency["alpha"], agency["floor"], agency["temperature"])
        p2, p3, pd = out["l2"], out["l3"], out["dispute"]
        dispute_labels = rt["dispute"].classes if rt["dispute"] is not None else []
        return l1_labels, p1, p2, p3, pd, dispute_labels

    def _sklearn_outputs(self, prepared: list[str]) -> tuple[Any, ...]:
        """The same outputs through the scikit-learn objects of the bundle."""
        features = self.bundle["vectorizer"].transform(prepared)
        l1_labels = [str(c) for c in self.bundle["l1"].classes_]
        p1 = self._proba("l1", features)
        agency = self.bundle.get("agency")
        if agency is not None:
            if "agency" not in self._fast:
                self._fast["agency"] = sigmoid_calibrated_linear(agency["model"])
            p_agency = agency_proba(agency, prepared, l1_labels, self._fast["agency"])
            p1 = combine_experts(p1, p_agency, agency["alpha"], agency["floor"], agency.get("temperature", 1.0))
        p2 = self._scores("l2", features)
        p3 = self._scores("l3", features)
        pd = self._proba("dispute", features)
        dispute_labels = [str(c) for c in self.bundle["dispute"].classes_] if pd is not None else []
        return l1_labels, p1, p2, p3, pd, dispute_labels

    def _proba(self, key: str, features: Any) -> Any:
        model = self.bundle.get(key)
        if model is None:
            return None
        if key not in self._fast:
            self._fast[key] = sigmoid_calibrated_linear(model)
        fast = self._fast[key]
        return model.predict_proba(features) if fast is None else fast_predict_proba(fast, features)

    def _scores(self, key: str, features: Any) -> Any:
        model = self.bundle.get(key)
        if model is None:
            return None
        scores = model.decision_function(features)
        return scores.reshape(-1, 1) if scores.ndim == 1 else scores

    def _sub_label(self, key: str, scores: Any, row: int, prefix: str) -> str | None:
        """Best child label under ``prefix`` when its score reaches ``SUBLEVEL_MIN_SCORE``."""
        if scores is None:
            return None
        labels = self.runtime[key].classes if self.runtime is not None else self.bundle[key].classes_
        if len(labels) == 2 and scores.shape[1] == 1:
            return None  # a two-class sub-model carries too little to name a sub-level
        children = self._children(key, labels).get(prefix)
        if not children:
            return None
        best, best_s = None, SUBLEVEL_MIN_SCORE
        for j in children:  # in label order; the last of equal scores wins, as it always did
            if float(scores[row][j]) >= best_s:
                best, best_s = labels[j], float(scores[row][j])
        if best is None:
            return None
        return str(best)[len(prefix) :].split("/")[0]

    def _children(self, key: str, labels: Any) -> dict[str, list[int]]:
        """Label indices under each ``level1/`` and ``level1/level2/`` prefix (cached)."""
        cache_key = f"children:{key}"
        if cache_key not in self._fast:
            children: dict[str, list[int]] = {}
            for j, label in enumerate(labels):
                parts = str(label).split("/")
                for depth in range(1, len(parts)):
                    children.setdefault("/".join(parts[:depth]) + "/", []).append(j)
            self._fast[cache_key] = children  # type: ignore[assignment]
        return self._fast[cache_key]  # type: ignore[return-value]


def sigmoid_calibrated_linear(model: Any) -> list[tuple[Any, Any, Any, Any]] | None:
    """Extract the arrays of a sigmoid-calibrated multi-class linear model, for a fast path.

    ``CalibratedClassifierCV(LinearSVC, method="sigmoid")`` spends most of a one-message call in
    per-class Python overhead; the same probabilities are a few array operations.

    Args:
        model: a fitted classifier.

    Returns:
        One ``(coef, intercept, a, b)`` tuple per calibrated fold, or ``None`` when the model is
        not a sigmoid-calibrated linear model over three or more classes that every fold saw
        (then the caller uses ``predict_proba``).
    """
    import numpy as np

    folds = getattr(model, "calibrated_classifiers_", None)
    if not folds or getattr(model, "method", None) != "sigmoid" or len(model.classes_) < 3:
        return None
    arrays = []
    for fold in folds:
        estimator = fold.estimator
        if not hasattr(estimator, "coef_") or list(estimator.classes_) != list(model.classes_):
            return None
        a = np.array([c.a_ for c in fold.calibrators], dtype=float)
        b = np.array([c.b_ for c in fold.calibrators], dtype=float)
        arrays.append((estimator.coef_, estimator.intercept_, a, b))
    return arrays


def fast_predict_proba(arrays: list[tuple[Any, Any, Any, Any]], features: Any) -> Any:
    """Probabilities of a sigmoid-calibrated linear model from ``sigmoid_calibrated_linear``.

    Same arithmetic as scikit-learn: per fold, decision scores, a sigmoid per class, rows
    normalised to sum 1 (uniform when all are 0); then the folds averaged.
    """
    import numpy as np
    from scipy.special import expit

    total = None
    for coef, intercept, a, b in arrays:
        scores = np.asarray(features @ coef.T) + intercept
        proba = expit(-(a * scores + b))
        denominator = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        total = proba if total is None else total + proba
    assert total is not None, "a model has at least one calibrated member"
    result = np.asarray(total / len(arrays))
    result[(result > 1.0) & (result <= 1.0 + 1e-5)] = 1.0
    return result


def agency_proba(
    expert: dict[str, Any],
    prepared: list[str],
    labels: list[str],
    fast: list[tuple[Any, Any, Any, Any]] | None = None,
) -> Any:
    """Probabilities of the agency expert (see ``train.fit_agency_expert``), one column per label.

    Args:
        expert: ``{"vectorizer", "model", "alpha", "floor"}``.
        prepared: texts already passed through ``features.prepare``.
        labels: the column order wanted (the level-1 labels of the project expert); a label the
            agency never used gets probability 0.
        fast: ``sigmoid_calibrated_linear(expert["model"])`` when the caller cached it.

    Returns:
        A ``len(prepared) × len(labels)`` array.
    """
    import numpy as np

    model = expert["model"]
    features = expert["vectorizer"].transform(prepared)
    own = model.predict_proba(features) if fast is None else fast_predict_proba(fast, features)
    aligned = np.zeros((len(prepared), len(labels)))
    index = {label: j for j, label in enumerate(labels)}
    for k, label in enumerate(model.classes_):
        if label in index:
            aligned[:, index[label]] = own[:, k]
    return aligned


def lean_agency_proba(expert: dict[str, Any], prepared: list[str], labels: list[str]) -> Any:
    """``agency_proba`` over the array form of the agency expert (``runtime.from_bundle``)."""
    import numpy as np

    model = expert["model"]
    own = model.proba(expert["vectorizer"].transform(prepared))
    aligned = np.zeros((len(prepared), len(labels)))
    index = {label: j for j, label in enumerate(labels)}
    for k, label in enumerate(model.classes):
        if label in index:
            aligned[:, index[label]] = own[:, k]
    return aligned


def combine_experts(project: Any, agency: Any, alpha: float, floor: float, temperature: float = 1.0) -> Any:
    """Log-linear pool of the project expert and an agency's expert, renormalised per row.

    ``p ∝ (project^(1-alpha) · max(agency, floor)^alpha)^temperature``: the agency expert carries
    the agency's own labelling conventions and label set; ``floor`` keeps a category the agency
    never used among the alternatives (it wins only when the project expert is very sure of it);
    ``temperature`` (fitted on out-of-fold answers) re-calibrates the pool, whose geometric mean
    is flatter than either expert — it never changes which category wins.
    """
    import numpy as np

    eps = 1e-12
    scores = (1.0 - alpha) * np.log(np.maximum(project, eps)) + alpha * np.log(np.maximum(agency, floor))
    scores = temperature * scores
    scores -= scores.max(axis=1, keepdims=True)
    pooled = np.exp(scores)
    return pooled / pooled.sum(axis=1, keepdims=True)


def default_model_dir() -> Path:
    """Resolve the model folder: ``$FENGQIAO_CLASSIFIER_DIR``, else ``var/classifier/active``
    when it exists, else the shipped ``models/classifier``."""
    env = os.environ.get(ENV_MODEL_DIR)
    if env:
        path = Path(env)
        return path if path.is_absolute() else REPO_ROOT / path
    if (ACTIVE_DIR / MODEL_FILE).exists():
        return ACTIVE_DIR
    return SHIPPED_DIR


_CACHE: dict[Path, Classifier] = {}
_LOCK = threading.Lock()


def load(model_dir: Path | None = None) -> Classifier:
    """Load (once per folder) a trained classifier.

    Args:
        model_dir: folder written by ``fengqiao train-classifier``; ``None`` resolves it with
            ``default_model_dir()``. Relative paths are taken from the repository root.

    Returns:
        The cached ``Classifier`` for that folder.

    Raises:
        FileNotFoundError: the folder holds no trained model.
    """
    from routing.understanding.classifier import runtime as lean

    path = Path(model_dir) if model_dir is not None else default_model_dir()
    if not path.is_absolute():
        path = REPO_ROOT / path
    path = path.resolve()
    with _LOCK:
        if path not in _CACHE:
            model_file = path / MODEL_FILE
            if not model_file.exists():
                raise FileNotFoundError(
                    f"no classifier model in {path}; build it with "
                    f"`fengqiao train-classifier --out {path}`"
                )
            metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
            if (path / RUNTIME_FILE).exists():
                _CACHE[path] = Classifier(None, metadata, path, runtime=lean.load(path / RUNTIME_FILE))
            else:
                import joblib

                _CACHE[path] = Classifier(joblib.load(model_file), metadata, path)
        return _CACHE[path]


def clear_cache() -> None:
    """Forget loaded models (after retraining in the same process)."""
    with _LOCK:
        _CACHE.clear()

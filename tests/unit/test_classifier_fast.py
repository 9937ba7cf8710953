"""The classifier's fast probability path gives scikit-learn's probabilities exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from routing.classifier import data as cdata
from routing.classifier import train
from routing.classifier.features import prepare
from routing.classifier.model import Classifier, fast_predict_proba, sigmoid_calibrated_linear


@pytest.fixture(scope="module")
def small_bundle() -> tuple[dict[str, Any], list[str]]:
    """A bundle trained on every fourth project row; the other rows' texts for scoring."""
    examples = cdata.project_examples()
    bundle = train.fit_bundle(examples[::4])
    return bundle, [e.text for i, e in enumerate(examples) if i % 4][::25]


@pytest.mark.parametrize("key", ["l1", "dispute"])
def test_fast_path_matches_predict_proba(small_bundle: tuple[dict[str, Any], list[str]], key: str) -> None:
    bundle, texts = small_bundle
    features = bundle["vectorizer"].transform([prepare(t) for t in texts])
    arrays = sigmoid_calibrated_linear(bundle[key])
    assert arrays is not None and len(arrays) == 3
    fast = fast_predict_proba(arrays, features)
    assert fast.shape == (len(texts), len(bundle[key].classes_))
    np.testing.assert_allclose(fast, bundle[key].predict_proba(features), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-9)


def test_non_calibrated_model_has_no_fast_path(small_bundle: tuple[dict[str, Any], list[str]]) -> None:
    bundle, _ = small_bundle
    assert sigmoid_calibrated_linear(bundle["l2"]) is None  # a plain LinearSVC: no probabilities


def test_classifier_uses_fast_path_with_same_answers(small_bundle: tuple[dict[str, Any], list[str]]) -> None:
    bundle, texts = small_bundle
    classifier = Classifier(bundle, {"low_confidence_threshold": 0.5})
    results = classifier.classify_many(texts)
    assert classifier._fast["l1"] is not None
    expected = bundle["l1"].predict_proba(bundle["vectorizer"].transform([prepare(t) for t in texts]))
    labels = list(bundle["l1"].classes_)
    for result, row in zip(results, expected, strict=True):
        assert result.category == labels[int(row.argmax())]
        assert result.confidence == pytest.approx(float(row.max()), abs=1e-12)

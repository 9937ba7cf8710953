"""The classifier's fast paths give scikit-learn's and jieba's answers: the calibrated
probabilities, the lean run-time form (``runtime.npz``), the segmentation and the lexicon."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from routing.understanding.classifier import data as cdata
from routing.understanding.classifier import features, runtime, train
from routing.understanding.classifier.features import prepare
from routing.understanding.classifier.model import (
    Classifier,
    fast_predict_proba,
    sigmoid_calibrated_linear,
)
from routing.understanding.text import _t2s, clean, to_simplified

TRICKY = [
    "A市A3区物业费从2.5元/平方涨到3.8元，业主不同意！！",
    "abc_def-gh  12%  C++ & C#  ...  x.y.z",
    "小區電梯壞了三個月，物業不修，投訴無門。",
    "乾隆年间的老房子要拆迁，补偿款只有十万元",
    "",
    "\n\n  标题\n\n详情：噪音   扰民 \t 晚上十点以后还在施工",
    "ＡＢＣ１２３全角字符和emoji😀也要处理",
]


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


def _sklearn_classifier(bundle: dict[str, Any]) -> Classifier:
    classifier = Classifier(bundle, {"low_confidence_threshold": 0.5})
    classifier.runtime = None  # force the scikit-learn path
    return classifier


def _assert_same(lean: Classifier, reference: Classifier, texts: list[str]) -> None:
    for got, want in zip(lean.classify_many(texts), reference.classify_many(texts), strict=True):
        assert got.category == want.category
        assert got.category_path == want.category_path
        assert got.dispute_type == want.dispute_type
        assert got.confidence == pytest.approx(want.confidence, abs=1e-5)
        assert [c for c, _ in got.alternatives] == [c for c, _ in want.alternatives]


def test_lean_runtime_gives_scikit_learns_answers(small_bundle: tuple[dict[str, Any], list[str]]) -> None:
    bundle, texts = small_bundle
    lean = Classifier(bundle, {"low_confidence_threshold": 0.5})
    assert lean.runtime is not None
    _assert_same(lean, _sklearn_classifier(bundle), texts + TRICKY)


def test_runtime_file_round_trip(small_bundle: tuple[dict[str, Any], list[str]], tmp_path: Path) -> None:
    bundle, texts = small_bundle
    runtime.save(runtime.from_bundle(bundle), tmp_path / runtime.RUNTIME_FILE)
    loaded = runtime.load(tmp_path / runtime.RUNTIME_FILE)
    lean = Classifier(None, {"low_confidence_threshold": 0.5}, tmp_path, runtime=loaded)
    _assert_same(lean, _sklearn_classifier(bundle), texts + TRICKY)


def test_lean_features_match_the_vectorizer(small_bundle: tuple[dict[str, Any], list[str]]) -> None:
    bundle, texts = small_bundle
    prepared = [prepare(t) for t in texts + TRICKY]
    want = bundle["vectorizer"].transform(prepared).toarray()
    got = runtime.from_bundle(bundle)["vectorizer"].transform(prepared).toarray()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_segmentation_is_jiebas() -> None:
    tokenizer = features._tokenizer()
    texts = [prepare(e.text) for e in cdata.project_examples()[::7]] + [prepare(t) for t in TRICKY]
    for text in texts:
        want = [w for w in tokenizer.lcut(text, HMM=False) if not features._SKIP_TOKEN.match(w)]
        assert features.words(text) == want


def test_lexicon_tokens_are_every_term_found() -> None:
    for text in [prepare(e.text) for e in cdata.project_examples()[::11]] + [prepare(t) for t in TRICKY]:
        want = [f"lex:{c}" for term, cats in features.lexicon().items() if term in text for c in cats]
        assert Counter(features.lexicon_analyzer(text)) == Counter(want)


def test_simplified_fast_path_is_opencc() -> None:
    for text in TRICKY + [e.text for e in cdata.project_examples()[::13]]:
        cleaned = clean(text)
        assert to_simplified(cleaned) == _t2s().convert(cleaned)

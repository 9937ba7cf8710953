"""Ensemble: average of the calibrated probabilities of the char-only and the word+char+lexicon SVMs."""

from __future__ import annotations

import numpy as np

from routing.understanding.classifier import train
from routing.understanding.classifier.data import Example
from routing.understanding.classifier.features import prepare


class EnsembleApproach:
    """Approach (c'): two feature views, one calibrated linear SVM each, probabilities averaged."""

    name = "ensemble_svm_chars+words_lex"
    members = ("svm_chars", "svm_words_chars_lex")

    def fit_predict(self, train_ex: list[Example], test_texts: list[str]) -> list[str]:
        weights = [train.AGENCY_WEIGHT if e.group == "agency" else 1.0 for e in train_ex]
        prepared_train = [prepare(e.text) for e in train_ex]
        prepared_test = [prepare(t) for t in test_texts]
        total, classes = None, None
        for name in self.members:
            variant = train.VARIANTS[name]
            vectorizer = train.build_vectorizer(variant)
            model = train.build_learner(variant).fit(
                vectorizer.fit_transform(prepared_train), [e.category for e in train_ex], sample_weight=weights
            )
            proba = model.predict_proba(vectorizer.transform(prepared_test))
            total = proba if total is None else total + proba
            classes = model.classes_
        return [str(classes[i]) for i in np.asarray(total).argmax(axis=1)]

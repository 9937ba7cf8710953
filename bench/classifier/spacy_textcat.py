"""spaCy textcat (bag-of-words n-gram model) on a blank ``zh`` pipeline with the jieba segmenter."""

from __future__ import annotations

import random

from routing.understanding.classifier.data import Example
from routing.understanding.classifier.features import prepare

EPOCHS = 6


class SpacyTextcat:
    """Approach (b) of the comparison: spaCy ``textcat`` with ``TextCatBOW`` (uni+bigrams)."""

    name = "spacy_textcat_bow"

    def fit_predict(self, train_ex: list[Example], test_texts: list[str]) -> list[str]:
        import spacy
        from spacy.training import Example as SpacyExample
        from spacy.util import minibatch

        nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        textcat = nlp.add_pipe(
            "textcat",
            config={"model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True,
                              "ngram_size": 2, "no_output_layer": False, "length": 262144}},
        )
        labels = sorted({e.category for e in train_ex})
        for label in labels:
            textcat.add_label(label)
        docs = list(nlp.pipe([prepare(e.text) for e in train_ex]))
        data = [
            SpacyExample.from_dict(doc, {"cats": {lab: float(lab == e.category) for lab in labels}})
            for doc, e in zip(docs, train_ex, strict=True)
        ]
        optimizer = nlp.initialize(lambda: data)
        rng = random.Random(0)
        for _ in range(EPOCHS):
            rng.shuffle(data)
            for batch in minibatch(data, size=32):
                nlp.update(batch, sgd=optimizer, drop=0.1)
        return [max(doc.cats, key=doc.cats.get) for doc in nlp.pipe([prepare(t) for t in test_texts])]

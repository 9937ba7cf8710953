"""A lean run-time form of a trained classifier: plain arrays, no scikit-learn at run time.

``fengqiao classify`` and the bot only need the fitted vocabularies, idf weights and linear
coefficients. ``train-classifier`` writes them next to ``model.joblib`` as ``runtime.npz``
(uncompressed, so loading is a read, not a decompression), and this module computes the same
TF-IDF features and probabilities as the scikit-learn objects, a few array operations per batch:

- counts per block with ``collections.Counter`` (C), tf = 1 + log(count), × idf, L2-normalised
  per block, × the block weight — what ``TfidfVectorizer(sublinear_tf=True)`` inside a
  ``FeatureUnion`` computes;
- one sparse × dense product per model; sigmoid calibration per fold, rows normalised and the
  folds averaged, as ``CalibratedClassifierCV(method="sigmoid")``.

Results agree with the scikit-learn path to floating-point rounding
(``tests/unit/test_classifier_fast.py``). A model folder without ``runtime.npz`` (trained before
it existed) is converted in memory from ``model.joblib``.
"""

from __future__ import annotations

import re
from itertools import repeat
from operator import add
from pathlib import Path
from typing import Any

import numpy as np

from routing.understanding.classifier.features import lexicon_analyzer, segmenter, words
from routing.understanding.classifier.segment import Segmenter

RUNTIME_FILE = "runtime.npz"
COEF_FILE = "runtime_coef.npy"  # beside it, memory-mapped: loading reads nothing up front
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's _white_spaces, used by its char analyzer
_BLOCK_KINDS = ("words", "chars", "lexicon", "title")
_BITS = 21  # every code point fits in 21 bits: an n-gram of up to 3 characters is one int64


def _gram_keys(grams: list[str]) -> Any:
    """Integer key of each character n-gram (n ≤ 3): its code points side by side."""
    keys = np.zeros(len(grams), dtype=np.int64)
    for j, gram in enumerate(grams):
        key = 0
        for char in gram:
            key = (key << _BITS) | ord(char)
        keys[j] = key
    return keys


# --- analyzers: every token occurrence, as routing.understanding.classifier.features / scikit-learn --------


def _word_grams(tokens: list[str]) -> list[str]:
    return tokens + list(map("{}_{}".format, tokens, tokens[1:]))


def _char_grams(text: str, low: int, high: int) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text.lower())
    out: list[str] = []
    grams: Any = text
    for n in range(1, high + 1):
        if n > 1:
            grams = list(map(add, grams, text[n - 1 :]))
        if n >= low:
            out.extend(grams)
    return out


# --- the run-time model ---------------------------------------------------------------------


class Block:
    """One TF-IDF block of a feature union."""

    def __init__(
        self, kind: str, vocab: list[str], idf: Any, weight: float, offset: int, chars: tuple[int, int],
        keys: Any = None,
        word_tables: tuple[list[str], Any, Any, Any] | None = None,
    ):
        """Keep a block's vocabulary (feature order), idf (or None) and weight.

        A character block looks its n-grams up as integers (``_gram_keys``): ``keys`` are its
        vocabulary's keys, computed here when not given.
        """
        self.kind, self.weight, self.offset, self.chars = kind, weight, offset, chars
        self.vocab = vocab
        self.idf = idf
        self.words = words
        self.int_grams = kind == "chars" and chars[1] <= 3
        if self.int_grams:
            self.keys = keys if keys is not None else _gram_keys(vocab)
            self._order = np.argsort(self.keys, kind="stable")
            self._sorted = self.keys[self._order]
        else:
            self.index = dict(zip(vocab, range(offset, offset + len(vocab)), strict=True))
        self.int_words = False
        if kind == "words" and word_tables is not None:
            self._set_word_tables(*word_tables)
        elif kind == "words":
            self.int_words = self._word_tables()

    def _set_word_tables(self, tokens: list[str], uni_col: Any, bi_keys: Any, bi_cols: Any) -> None:
        """Take token ids, unigram columns and sorted bigram keys as saved (``word_tables``)."""
        self._tokens = dict(zip(tokens, range(len(tokens)), strict=True))
        self._size = max(len(tokens), 1)
        self._uni_col, self._bi_keys, self._bi_cols = uni_col, bi_keys, bi_cols
        self._token_list = tokens
        self.int_words = True

    def word_tables(self) -> tuple[list[str], Any, Any, Any]:
        """The words block's token ids as saved by ``save`` (tokens in id order)."""
        return self._token_list, self._uni_col, self._bi_keys, self._bi_cols

    def _word_tables(self) -> bool:
        """Token ids for the words block: a vocabulary bigram ``a_b`` becomes the integer
        ``id(a) · T + id(b)``, so a text's bigrams are looked up without building their strings.
        Jieba tokens never contain ``_`` (it is cut off and dropped as punctuation)."""
        tokens: dict[str, int] = {}
        bigrams: list[tuple[str, str, int]] = []
        unigrams: list[tuple[str, int]] = []
        for j, term in enumerate(self.vocab):
            parts = term.split("_")
            if len(parts) > 2 or "" in parts:
                return False
            for part in parts:
                tokens.setdefault(part, len(tokens))
            if len(parts) == 2:
                bigrams.append((parts[0], parts[1], self.offset + j))
            else:
                unigrams.append((term, self.offset + j))
        size = max(len(tokens), 1)
        self._tokens, self._size = tokens, size
        self._token_list = list(tokens)
        self._uni_col = np.full(size + 1, -1, dtype=np.int64)  # the last slot: unknown token
        for term, col in unigrams:
            self._uni_col[tokens[term]] = col
        keys = np.array([tokens[a] * size + tokens[b] for a, b, _ in bigrams], dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._bi_keys = keys[order]
        self._bi_cols = np.array([c for _, _, c in bigrams], dtype=np.int64)[order]
        return True

    def grams(self, text: str) -> list[str]:
        """Every token occurrence of a prepared text, as the block's analyzer gives them."""
        if self.kind == "words":
            return _word_grams(self.words(text))
        if self.kind == "chars":
            return _char_grams(text, *self.chars)
        if self.kind == "lexicon":
            return lexicon_analyzer(text)
        return ["t:" + g for g in _word_grams(self.words(text.split("\n", 1)[0]))]

    def _columns(self, prepared: list[str]) -> tuple[Any, Any]:
        """Row and column of every token occurrence of the batch found in the vocabulary."""
        if self.int_grams:
            return self._char_columns(prepared)
        if self.int_words:
            return self._word_columns(prepared)
        get, ids, lengths = self.index.get, [], []
        for text in prepared:
            found = list(map(get, self.grams(text), repeat(-1)))
            ids.extend(found)
            lengths.append(len(found))
        cols = np.fromiter(ids, dtype=np.int64, count=len(ids))
        rows = np.repeat(np.arange(len(prepared), dtype=np.int64), lengths)
        keep = cols >= 0
        return rows[keep], cols[keep]

    def _word_columns(self, prepared: list[str]) -> tuple[Any, Any]:
        """Word unigrams and bigrams of the whole batch through token ids."""
        get, unknown, ids, lengths = self._tokens.get, self._size, [], []
        for text in prepared:
            found = list(map(get, self.words(text), repeat(unknown)))
            ids.extend(found)
            ids.append(-1)  # between two texts: no bigram across them
            lengths.append(len(found) + 1)
        tok = np.fromiter(ids, dtype=np.int64, count=len(ids))
        rows = np.repeat(np.arange(len(prepared), dtype=np.int64), lengths)
        uni = self._uni_col[tok]
        uni_hit = (tok >= 0) & (uni >= 0)
        first, second = tok[:-1], tok[1:]
        pair = (first >= 0) & (first < unknown) & (second >= 0) & (second < unknown)
        keys = first * self._size + second
        pos = np.searchsorted(self._bi_keys, keys)
        np.minimum(pos, max(len(self._bi_keys) - 1, 0), out=pos)
        bi_hit = pair & (self._bi_keys[pos] == keys) if len(self._bi_keys) else np.zeros(len(keys), dtype=bool)
        return (
            np.concatenate([rows[uni_hit], rows[:-1][bi_hit]]),
            np.concatenate([uni[uni_hit], self._bi_cols[pos[bi_hit]]]),
        )

    def _char_columns(self, prepared: list[str]) -> tuple[Any, Any]:
        """Character n-grams of the whole batch as integer keys (no string per n-gram)."""
        texts = [_WHITE_SPACES.sub(" ", t.lower()) for t in prepared]
        codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), [len(t) + 1 for t in texts])[: len(codes)]
        gap = codes == 0  # the separator between two texts (prepared text has no NUL)
        rows, cols = [], []
        low, high = self.chars
        for n in range(1, high + 1):
            width = len(codes) - n + 1
            if width <= 0:
                break
            if n == 1:
                key, bad = codes, gap
            else:
                key = (key[:width] << _BITS) | codes[n - 1 :]
                bad = bad[:width] | gap[n - 1 :]
            if n < low:
                continue
            pos = np.searchsorted(self._sorted, key)
            np.minimum(pos, len(self._sorted) - 1, out=pos)
            hit = (self._sorted[pos] == key) & ~bad
            rows.append(doc[:width][hit])
            cols.append(self._order[pos[hit]] + self.offset)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def entries(self, prepared: list[str]) -> tuple[Any, Any, Any]:
        """Rows, columns and values of the block's features for a batch (sorted by row, column).

        Counts are taken in one ``np.unique`` over the whole batch; tf = 1 + log(count), × idf,
        L2-normalised per row, × the block weight.
        """
        rows, cols = self._columns(prepared)
        width = self.offset + len(self.vocab) + 1
        keys, counts = np.unique(rows * width + cols, return_counts=True)
        rows, cols = keys // width, keys % width
        values = 1.0 + np.log(counts)
        if self.idf is not None:
            values *= self.idf[cols - self.offset]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(prepared)))
        values *= self.weight / norms[rows]
        return rows, cols, values


class Vectorizer:
    """The feature union of a trained model, as plain blocks."""

    def __init__(self, blocks: list[Block], segmenter: Any = None):
        """Keep the blocks in their feature order; ``segmenter`` (``segment.Segmenter``) cuts
        words when given, ``features.words`` otherwise."""
        self.blocks = blocks
        self.size = sum(len(b.vocab) for b in blocks)
        if segmenter is not None:
            for block in blocks:
                block.words = segmenter.words

    def transform(self, prepared: list[str]) -> Any:
        """A CSR matrix of the prepared texts' features."""
        from scipy.sparse import csr_matrix

        parts = [b.entries(prepared) for b in self.blocks]
        rows = np.concatenate([p[0] for p in parts])
        order = np.argsort(rows, kind="stable")
        cols = np.concatenate([p[1] for p in parts])[order]
        values = np.concatenate([p[2] for p in parts])[order]
        indptr = np.zeros(len(prepared) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(prepared)), out=indptr[1:])
        return csr_matrix((values.astype(np.float32), cols, indptr), shape=(len(prepared), self.size))


class Linear:
    """A linear model: columns ``lo:hi`` of a shared coefficient matrix (features × outputs)
    and intercept; with ``a``/``b`` and ``folds`` > 0 a sigmoid-calibrated one whose outputs
    are ``folds`` blocks of the classes."""

    def __init__(self, classes: list[str], coef: Any, intercept: Any, a: Any = None, b: Any = None, folds: int = 0):
        """Keep the arrays."""
        self.classes, self.coef, self.intercept, self.a, self.b, self.folds = classes, coef, intercept, a, b, folds

    def scores(self, features: Any) -> Any:
        """Decision scores, one column per output."""
        return np.asarray(features @ self.coef) + self.intercept

    def proba(self, features: Any) -> Any:
        """Calibrated probabilities of the features."""
        return self.proba_from_scores(self.scores(features))

    def proba_from_scores(self, scores: Any) -> Any:
        """Calibrated probabilities (the scikit-learn arithmetic, see ``model.fast_predict_proba``)."""
        from scipy.special import expit

        k = len(self.classes)
        proba_all = expit(-(self.a * scores + self.b))
        total = np.zeros((scores.shape[0], k))
        for f in range(self.folds):
            proba = proba_all[:, f * k : (f + 1) * k]
            denominator = proba.sum(axis=1, keepdims=True)
            uniform = np.full_like(proba, 1.0 / k)
            total += np.divide(proba, denominator, out=uniform, where=denominator != 0)
        result = total / self.folds
        result[(result > 1.0) & (result <= 1.0 + 1e-5)] = 1.0
        return result


MODEL_KEYS = ("l1", "l2", "l3", "dispute")


def all_outputs(runtime: dict[str, Any], features: Any) -> dict[str, Any]:
    """Scores of every model of the bundle in one sparse × dense product (their coefficients
    side by side in ``runtime["coef"]``): level-1 and dispute probabilities, level-2/3 scores."""
    scores = np.asarray(features @ runtime["coef"])
    out: dict[str, Any] = {}
    lo = 0
    for key in MODEL_KEYS:
        model = runtime[key]
        if model is None:
            out[key] = None
            continue
        hi = lo + model.coef.shape[1]
        part = scores[:, lo:hi] + model.intercept
        out[key] = model.proba_from_scores(part) if model.folds else part
        lo = hi
    return out


# --- conversion from the scikit-learn bundle, saving and loading ----------------------------


def _blocks_from_union(union: Any) -> list[Block]:
    weights = union.transformer_weights or {}
    blocks, offset = [], 0
    for name, vec in union.transformer_list:
        kind = name if name in _BLOCK_KINDS else "words"
        vocab = [t for t, _ in sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])]
        idf = np.asarray(vec.idf_, dtype=np.float64) if vec.use_idf else None
        chars = tuple(vec.ngram_range) if kind == "chars" else (1, 1)
        blocks.append(Block(kind, vocab, idf, float(weights.get(name, 1.0)), offset, chars))  # type: ignore[arg-type]
        offset += len(vocab)
    return blocks


def _linear_from(model: Any) -> Linear | None:
    if model is None:
        return None
    classes = [str(c) for c in model.classes_]
    folds = getattr(model, "calibrated_classifiers_", None)
    if folds is None:
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        return Linear(classes, np.ascontiguousarray(coef.T), intercept)
    coefs, intercepts, a, b = [], [], [], []
    for fold in folds:
        est = fold.estimator
        if list(est.classes_) != list(model.classes_) or len(classes) < 3 or model.method != "sigmoid":
            raise ValueError("only sigmoid-calibrated linear models over ≥ 3 classes every fold saw")
        coefs.append(est.coef_)
        intercepts.append(est.intercept_)
        a.append([c.a_ for c in fold.calibrators])
        b.append([c.b_ for c in fold.calibrators])
    return Linear(
        classes,
        np.ascontiguousarray(np.vstack(coefs).T),
        np.concatenate(intercepts),
        np.concatenate(a).astype(float),
        np.concatenate(b).astype(float),
        len(folds),
    )


def _share_coef(runtime: dict[str, Any]) -> None:
    """Put the models' coefficients side by side in one matrix; each model keeps a view."""
    models = [runtime[k] for k in MODEL_KEYS if runtime[k] is not None]
    runtime["coef"] = np.ascontiguousarray(np.hstack([m.coef for m in models]), dtype=np.float32)
    lo = 0
    for m in models:
        hi = lo + m.coef.shape[1]
        m.coef = runtime["coef"][:, lo:hi]
        lo = hi


def from_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """Convert a scikit-learn bundle (``train.fit_bundle``) to the run-time form."""
    runtime: dict[str, Any] = {"vectorizer": Vectorizer(_blocks_from_union(bundle["vectorizer"]))}
    for key in MODEL_KEYS:
        runtime[key] = _linear_from(bundle.get(key))
    _share_coef(runtime)
    agency = bundle.get("agency")
    if agency is not None:
        runtime["agency"] = {
            "vectorizer": Vectorizer(_blocks_from_union(agency["vectorizer"])),
            "model": _linear_from(agency["model"]),
            **{k: agency[k] for k in ("alpha", "floor") },
            "temperature": agency.get("temperature", 1.0),
        }
    return runtime


def save(runtime: dict[str, Any], path: Path) -> None:
    """Write the run-time form as one uncompressed ``.npz``."""
    arrays: dict[str, Any] = {}

    def put_vectorizer(prefix: str, vec: Vectorizer) -> None:
        arrays[f"{prefix}blocks"] = np.array(
            [f"{b.kind}\t{b.weight!r}\t{b.chars[0]}\t{b.chars[1]}\t{int(b.idf is not None)}" for b in vec.blocks]
        )
        for i, b in enumerate(vec.blocks):
            arrays[f"{prefix}vocab{i}"] = np.frombuffer("\x00".join(b.vocab).encode("utf-8"), dtype=np.uint8)
            if b.idf is not None:
                arrays[f"{prefix}idf{i}"] = b.idf
            if b.int_grams:
                arrays[f"{prefix}keys{i}"] = b.keys
            if b.int_words:
                tokens, uni_col, bi_keys, bi_cols = b.word_tables()
                arrays[f"{prefix}tokens{i}"] = np.frombuffer("\x00".join(tokens).encode("utf-8"), dtype=np.uint8)
                arrays[f"{prefix}unicol{i}"] = uni_col
                arrays[f"{prefix}bikeys{i}"] = bi_keys
                arrays[f"{prefix}bicols{i}"] = bi_cols

    def put_linear(prefix: str, model: Linear | None) -> None:
        if model is None:
            return
        arrays[f"{prefix}classes"] = np.array(model.classes)
        if prefix.startswith("agency"):
            arrays[f"{prefix}coef"] = model.coef
        else:
            arrays[f"{prefix}width"] = np.array(model.coef.shape[1])
        arrays[f"{prefix}intercept"] = model.intercept
        if model.folds:
            arrays[f"{prefix}a"], arrays[f"{prefix}b"] = model.a, model.b
            arrays[f"{prefix}folds"] = np.array(model.folds)

    put_vectorizer("vec.", runtime["vectorizer"])
    np.save(path.with_name(COEF_FILE), runtime["coef"])
    words, freqs, total = segmenter().dictionary()
    arrays["seg.words"] = np.frombuffer("\x00".join(words).encode("utf-8"), dtype=np.uint8)
    arrays["seg.freqs"] = np.asarray(freqs, dtype=np.int64)
    arrays["seg.total"] = np.array(total)
    for key in MODEL_KEYS:
        put_linear(f"{key}.", runtime[key])
    agency = runtime.get("agency")
    if agency is not None:
        put_vectorizer("agency.vec.", agency["vectorizer"])
        put_linear("agency.model.", agency["model"])
        arrays["agency.pool"] = np.array([agency["alpha"], agency["floor"], agency["temperature"]], dtype=float)
    with path.open("wb") as f:
        np.savez(f, **arrays)


def load(path: Path) -> dict[str, Any]:
    """Read a run-time form written by ``save``."""
    data = np.load(path, allow_pickle=False)

    def get_vectorizer(prefix: str) -> Vectorizer:
        blocks, offset = [], 0
        for i, spec in enumerate(data[f"{prefix}blocks"]):
            kind, weight, low, high, has_idf = str(spec).split("\t")
            raw = data[f"{prefix}vocab{i}"].tobytes().decode("utf-8")
            vocab = raw.split("\x00") if raw else []
            idf = data[f"{prefix}idf{i}"] if has_idf == "1" else None
            keys = data[f"{prefix}keys{i}"] if f"{prefix}keys{i}" in data.files else None
            tables = None
            if f"{prefix}tokens{i}" in data.files:
                tables = (
                    [t for t in data[f"{prefix}tokens{i}"].tobytes().decode("utf-8").split("\x00") if t],
                    data[f"{prefix}unicol{i}"],
                    data[f"{prefix}bikeys{i}"],
                    data[f"{prefix}bicols{i}"],
                )
            blocks.append(Block(kind, vocab, idf, float(weight), offset, (int(low), int(high)), keys, tables))
            offset += len(vocab)
        return Vectorizer(blocks, seg)

    def get_linear(prefix: str) -> Linear | None:
        if f"{prefix}classes" not in data.files:
            return None
        classes = [str(c) for c in data[f"{prefix}classes"]]
        if f"{prefix}coef" in data.files:
            coef = data[f"{prefix}coef"]
        else:
            width = int(data[f"{prefix}width"])
            coef = shared[:, offset[0] : offset[0] + width]
            offset[0] += width
        if f"{prefix}folds" in data.files:
            return Linear(
                classes, coef, data[f"{prefix}intercept"], data[f"{prefix}a"],
                data[f"{prefix}b"], int(data[f"{prefix}folds"]),
            )
        return Linear(classes, coef, data[f"{prefix}intercept"])

    seg = None
    if "seg.words" in data.files:
        seg = Segmenter.from_words(
            data["seg.words"].tobytes().decode("utf-8").split("\x00"),
            data["seg.freqs"].tolist(),
            float(data["seg.total"]),
        )
    shared, offset = np.load(path.with_name(COEF_FILE), mmap_mode="r"), [0]
    runtime: dict[str, Any] = {"vectorizer": get_vectorizer("vec."), "coef": shared}
    for key in MODEL_KEYS:
        runtime[key] = get_linear(f"{key}.")
    if "agency.pool" in data.files:
        alpha, floor, temperature = (float(x) for x in data["agency.pool"])
        runtime["agency"] = {
            "vectorizer": get_vectorizer("agency.vec."),
            "model": get_linear("agency.model."),
            "alpha": alpha,
            "floor": floor,
            "temperature": temperature,
        }
    return runtime

"""Fast jieba segmentation (no HMM) with the classifier's lexicon added to the dictionary.

The words are exactly those of ``jieba.Tokenizer.lcut(text, HMM=False)`` with the same
dictionary: the dictionary (jieba's own plus the lexicon terms) is built with jieba itself, and
only the best-route search, the per-character part that costs most in pure Python, runs in the
Rust extension of ``jieba-next`` when it is installed (same arithmetic, same tie-breaking; checked
word for word in ``tests/unit/test_classifier_fast.py``). Without it, jieba's own Python code runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# jieba's own block patterns (jieba/__init__.py, ``re_han_default`` and ``re_skip_default``).
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_RE_SKIP = re.compile("(\r\n|\\s)")
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HAN_PUNCT = "+#&._%-"  # the non-word characters a jieba block may be made of
_SKIP_TOKEN = re.compile(r"^[\s\W_]+$")
_ASCII = re.compile(r"[\x00-\x7f]")


class Segmenter:
    """jieba's no-HMM cut over a given tokenizer's dictionary, returning only word tokens
    (punctuation and whitespace dropped, as ``features.words`` always did)."""

    def __init__(self, tokenizer: Any, route: Any = None):
        """Wrap an initialised ``jieba.Tokenizer`` (its dictionary must not change afterwards),
        or, with ``tokenizer=None``, a route function built by ``from_words``."""
        self.tokenizer = tokenizer
        self._route = route if route is not None else _rust_route(tokenizer)
        # A message is cut once even when two feature sets (an agency's expert) need its words.
        self._cached = lru_cache(maxsize=1024)(self._cut)

    @classmethod
    def from_words(cls, words: list[str], freqs: list[int], total: float) -> Segmenter | None:
        """A segmenter over a dictionary given as its words with non-zero frequency (the
        prefix entries jieba keeps at frequency 0 are implied by the trie); ``None`` when the
        fast route search is not installed."""
        if not rust_available():
            return None
        from jieba_next import jieba_next_rust

        prefix = jieba_next_rust.PrefixDict(dict(zip(words, freqs, strict=True)), float(total))
        return cls(None, prefix.get_dag_and_calc)

    def dictionary(self) -> tuple[list[str], list[int], float]:
        """The words with non-zero frequency, their frequencies and the total (for ``from_words``)."""
        freq = self.tokenizer.FREQ
        words = [w for w, f in freq.items() if f > 0]
        return words, [freq[w] for w in words], float(self.tokenizer.total)

    def words(self, text: str) -> list[str]:
        """Segment a text; punctuation and whitespace tokens are left out."""
        if self._route is None:
            return [w for w in self.tokenizer.lcut(text, HMM=False) if not _SKIP_TOKEN.match(w)]
        return list(self._cached(text))

    def _cut(self, text: str) -> tuple[str, ...]:
        """jieba's cut: one route search per block (joining blocks would change the rounding
        of the route scores, and with it the choice between tied segmentations)."""
        out: list[str] = []
        route = self._route
        # With its capturing group, split gives other text at even and jieba blocks at odd places.
        for k, part in enumerate(_RE_HAN.split(text)):
            if k % 2:
                _cut_block(part, route(part), 0, len(part), out)
            elif part:
                out.extend(c for c in part if _is_word_char(c))
        return tuple(out)


@lru_cache(maxsize=4096)
def _is_word_char(char: str) -> bool:
    """A character outside jieba's blocks is kept as a token unless it is punctuation or space."""
    return not _SKIP_TOKEN.match(char)


def _cut_block(text: str, route: list[int], x: int, n: int, out: list[str]) -> None:
    """jieba's ``__cut_DAG_NO_HMM`` over ``text[x:n]`` from a computed route: single Latin
    letters and digits in a row are joined into one token."""
    buf = ""
    if not _ASCII.search(text, x, n):  # only Han characters: every word of the route as it is
        while x < n:
            y = route[x] + 1
            out.append(text[x:y])
            x = y
        return
    while x < n:
        y = route[x] + 1
        word = text[x:y]
        if y - x == 1 and word in _ENG:
            buf += word
        else:
            if buf:
                out.append(buf)
                buf = ""
            if not (word[0] in _HAN_PUNCT and not word.strip(_HAN_PUNCT)):
                out.append(word)
        x = y
    if buf:
        out.append(buf)


def _rust_route(tokenizer: Any) -> Any:
    """``PrefixDict.get_dag_and_calc`` of jieba-next over the tokenizer's dictionary, or None."""
    try:
        from jieba_next import jieba_next_rust  # type: ignore[import-not-found]
    except ImportError:
        return None
    prefix = jieba_next_rust.PrefixDict(tokenizer.FREQ, float(tokenizer.total))
    return prefix.get_dag_and_calc


@lru_cache(maxsize=1)
def rust_available() -> bool:
    """Whether the fast route search (jieba-next) is installed."""
    try:
        from jieba_next import jieba_next_rust  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True

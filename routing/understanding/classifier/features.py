"""Text features for the complaint classifier: jieba words, character n-grams, taxonomy lexicon.

The analyzers are module-level functions so that fitted vectorizers can be pickled.
"""

from __future__ import annotations

import operator
import re
from functools import lru_cache
from typing import Any

from routing.understanding.text import normalise

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[A-Za-z]+")
_SKIP_TOKEN = re.compile(r"^[\s\W_]+$")
_TERM_SPLIT = re.compile(r"[和与及、“”\"()（）/\s]+")
_GENERIC_TERMS = {"其他", "管理", "问题", "工作", "建设", "政策", "其他补贴", "其他污染", "事务"}


def prepare(text: str) -> str:
    """Normalise a message for the vectorizers.

    NFKC + Traditional→Simplified (``routing.understanding.text.normalise``), lower-case Latin letters, and
    every number collapsed to ``0`` so that amounts, dates and masked district numbers
    ("A3区") share features.

    Args:
        text: raw message (title and detail).

    Returns:
        The prepared text.
    """
    text = normalise(text or "").lower()
    return _DIGITS.sub("0", text)


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in lexicon():
        tokenizer.add_word(term, freq=2000)
    return tokenizer


@lru_cache(maxsize=1)
def segmenter() -> Any:
    from routing.understanding.classifier.segment import Segmenter

    return Segmenter(_tokenizer())


def words(text: str) -> list[str]:
    """Segment prepared text into jieba words, dropping punctuation and whitespace."""
    return segmenter().words(text)


@lru_cache(maxsize=1)
def lexicon() -> dict[str, frozenset[str]]:
    """Map lexicon terms to the first-level categories they point to.

    Two sources: the taxonomy's level-2 / level-3 names (split on 和/与/及/、 and brackets,
    generic words such as 其他 or 管理 dropped) and the curated domain keywords of
    ``routing/data/complaints/keywords.txt``.
    """
    from routing.understanding.classifier.data import COMPLAINTS_DIR, taxonomy

    table: dict[str, set[str]] = {}
    for level1, level2, level3 in taxonomy():
        for name in (level2, level3):
            for term in _TERM_SPLIT.split(name):
                if len(term) >= 2 and term not in _GENERIC_TERMS:
                    table.setdefault(term, set()).add(level1)
    keywords = COMPLAINTS_DIR / "keywords.txt"
    if keywords.exists():
        for line in keywords.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#") and ":" in line:
                level1, _, terms = line.partition(":")
                for term in terms.split():
                    table.setdefault(prepare_term(term), set()).add(level1.strip())
    return {term: frozenset(cats) for term, cats in table.items()}


def prepare_term(term: str) -> str:
    """Lexicon terms go through the same preparation as messages (lower case, digits → 0)."""
    return _DIGITS.sub("0", term.lower())


def word_analyzer(text: str) -> list[str]:
    """Jieba unigrams and adjacent bigrams of a prepared text."""
    tokens = words(text)
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def lexicon_analyzer(text: str) -> list[str]:
    """One ``lex:<category>`` token per lexicon term found in a prepared text.

    A term can only occur where its first two characters occur: the text's character pairs
    (one set operation) pick the few candidate terms, and only those are searched for.
    """
    by_pair, singles = _lexicon_index()
    tokens: list[str] = []
    for pair in by_pair.keys() & set(map(operator.add, text, text[1:])):
        for term, cats in by_pair[pair]:
            if term in text:
                tokens.extend(cats)
    for char in singles.keys() & set(text):
        tokens.extend(singles[char])
    return tokens


@lru_cache(maxsize=1)
def _lexicon_index() -> tuple[dict[str, list[tuple[str, list[str]]]], dict[str, list[str]]]:
    """Lexicon terms grouped by their first two characters (one-character terms apart), each
    with its ``lex:<category>`` tokens."""
    by_pair: dict[str, list[tuple[str, list[str]]]] = {}
    singles: dict[str, list[str]] = {}
    for term, cats in lexicon().items():
        tokens = [f"lex:{c}" for c in sorted(cats)]
        if len(term) == 1:
            singles[term] = tokens
        elif term:
            by_pair.setdefault(term[:2], []).append((term, tokens))
    return by_pair, singles


def word_lexicon_analyzer(text: str) -> list[str]:
    """Like ``word_analyzer`` plus the ``lexicon_analyzer`` tokens."""
    return word_analyzer(text) + lexicon_analyzer(text)


def title_analyzer(text: str) -> list[str]:
    """Jieba unigrams and bigrams of the first line (the title), prefixed ``t:``.

    Messages arrive as ``title\ndetail``; the title is a compact statement of the topic, so its
    words get their own feature block. A one-line message is all title.
    """
    return [f"t:{tok}" for tok in word_analyzer(text.split("\n", 1)[0])]


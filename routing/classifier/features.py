"""Text features for the complaint classifier: jieba words, character n-grams, taxonomy lexicon.

The analyzers are module-level functions so that fitted vectorizers can be pickled.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from routing.text import normalise

_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[A-Za-z]+")
_SKIP_TOKEN = re.compile(r"^[\s\W_]+$")
_TERM_SPLIT = re.compile(r"[和与及、“”\"()（）/\s]+")
_GENERIC_TERMS = {"其他", "管理", "问题", "工作", "建设", "政策", "其他补贴", "其他污染", "事务"}


def prepare(text: str) -> str:
    """Normalise a message for the vectorizers.

    NFKC + Traditional→Simplified (``routing.text.normalise``), lower-case Latin letters, and
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


def words(text: str) -> list[str]:
    """Segment prepared text into jieba words, dropping punctuation and whitespace."""
    return [w for w in _tokenizer().lcut(text, HMM=False) if not _SKIP_TOKEN.match(w)]


@lru_cache(maxsize=1)
def lexicon() -> dict[str, frozenset[str]]:
    """Map lexicon terms to the first-level categories they point to.

    Two sources: the taxonomy's level-2 / level-3 names (split on 和/与/及/、 and brackets,
    generic words such as 其他 or 管理 dropped) and the curated domain keywords of
    ``routing/data/complaints/keywords.txt``.
    """
    from routing.classifier.data import COMPLAINTS_DIR, taxonomy

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
    """One ``lex:<category>`` token per lexicon term found in a prepared text."""
    tokens: list[str] = []
    for term, cats in lexicon().items():
        if term in text:
            tokens.extend(f"lex:{c}" for c in cats)
    return tokens


def word_lexicon_analyzer(text: str) -> list[str]:
    """Like ``word_analyzer`` plus the ``lexicon_analyzer`` tokens."""
    return word_analyzer(text) + lexicon_analyzer(text)


def title_analyzer(text: str) -> list[str]:
    """Jieba unigrams and bigrams of the first line (the title), prefixed ``t:``.

    Messages arrive as ``title\ndetail``; the title is a compact statement of the topic, so its
    words get their own feature block. A one-line message is all title.
    """
    return [f"t:{tok}" for tok in word_analyzer(text.split("\n", 1)[0])]


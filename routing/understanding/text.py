"""Text normalisation and personal-data masking shared by every layer.

NLU, the classifier and the entity extractor all see the same normalised Simplified text;
the original is kept as evidence on the case.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width, bidi controls and other invisible format characters citizens' phones insert.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# The one phone-number pattern (a mainland mobile; a landline with area code), grouped so the
# middle digits can be masked. Intake reads numbers with it, logs and pages mask with it.
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)(\d{3,4})(\d{4})(?!\d)")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # imported lazily: nothing happens at import time

    return opencc.OpenCC("t2s")


_SURROGATE = re.compile("[\ud800-\udfff]")


def strip_invisible(text: str) -> str:
    """Drop zero-width, bidi and control characters; keep everything the citizen wrote.

    This is the form stored as evidence (full-width punctuation and digits kept). A lone
    surrogate (``"\\ud800"`` escaped in JSON: no character at all) becomes U+FFFD, so the text
    can be stored and encrypted.
    """
    if _SURROGATE.search(text):  # a split pair is joined, a lone half replaced
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return _CONTROL.sub("", _INVISIBLE.sub("", text)).strip()


def clean(text: str) -> str:
    """Apply NFKC (full-width digits and letters become ASCII) and drop invisible characters.

    Args:
        text: raw text from a citizen.

    Returns:
        The cleaned text, still in the script the citizen used.
    """
    text = strip_invisible(text)
    if unicodedata.is_normalized("NFKC", text):  # a quick check, much cheaper than normalising
        return text
    return unicodedata.normalize("NFKC", text)


def _fold_keep_length(text: str) -> str:
    """NFKC character by character where it maps one character to one (offsets stay valid)."""
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (OpenCC t2s).

    A text without any character that t2s changes on its own is returned as it is (OpenCC's
    phrase table only disambiguates such characters), which spares most messages the call.
    """
    changed = _t2s_changed()
    if changed is not None and changed.isdisjoint(text):
        return text
    return _t2s().convert(text)


@lru_cache(maxsize=1)
def _t2s_changed() -> frozenset[str] | None:
    """Every character that t2s changes when it stands alone (computed once, ~0.1 s)."""
    chars = [chr(c) for c in (*range(0x80, 0xD800), *range(0xE000, 0x10000), *range(0x20000, 0x2FA20))]
    converted = _t2s().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # never seen; then every text goes through OpenCC
        return None
    return frozenset(c for c, d in zip(chars, converted, strict=True) if c != d)


def normalise(text: str) -> str:
    """Return the form every model sees: cleaned, then Simplified."""
    return to_simplified(clean(text))


def is_traditional(text: str) -> bool:
    """Tell whether the text was written in Traditional characters.

    A message counts as Traditional when converting it to Simplified changes at least one
    character; text with no convertible characters counts as Simplified.
    """
    cleaned = clean(text)
    return to_simplified(cleaned) != cleaned


def mask_pii(text: str) -> str:
    """Mask ID-card and phone numbers so a line can be logged or shown masked.

    Args:
        text: any text; numbers are found in full-width digits too.

    Returns:
        The text (punctuation as written) with ID-card numbers as ``330681********123X`` style
        and phones as ``138****5678``.
    """
    text = strip_invisible(text)
    folded = _fold_keep_length(text)
    hidden: list[tuple[int, int]] = []
    for pattern in (_ID_CARD, MOBILE, LANDLINE):
        for match in pattern.finditer(folded):
            start, end = match.span(2)
            if not any(a <= start < b for a, b in hidden):
                hidden.append((start, end))
    chars = list(text)
    for start, end in hidden:
        chars[start:end] = ["*"] * (end - start)
    return "".join(chars)

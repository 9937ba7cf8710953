"""The danger lexicon: text preparation and the rules of ``data/lexicon.yml`` compiled to regexes.

Preparation makes typed variants look alike: NFKC and Traditional → Simplified
(``routing.understanding.text.normalise``), lower case, pinyin initials rewritten (``zs`` → 自杀), spaces and
decorative symbols between characters dropped (``自 杀``, ``不*想*活``), typos and euphemisms
rewritten (``烧碳`` → 烧炭, ``紫砂`` → 自杀), everyday hyperbole blanked out (``吵得我想死``,
``跳楼价``, ``救命钱``). Rules are then looked for sentence by sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from routing.understanding.safety.prefilter import with_lookahead
from routing.understanding.text import normalise

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "lexicon.yml"
_LATIN = re.compile(r"[a-z]+")
# Inserted between characters to dodge filters or by a careless thumb; sentence punctuation stays.
_SEPARATORS = re.compile(r"[ \t\r\f\v\u3000·•*＊_~\-—.…/\\|#@^+=`'\"“”‘’<>《》【】\[\](){}（）★☆♥❤️,]+")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_TERM_REF = re.compile(r"\{(\w+)\}")
MASK_CHAR = "□"


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule of the lexicon."""

    id: str
    kind: str
    pattern: re.Pattern[str]
    strong: bool
    imminent: bool
    support_only: bool
    unless: re.Pattern[str] | None

    def find(self, window: str) -> re.Match[str] | None:
        """Return the first match in a sentence window, unless the rule's guard is there."""
        match = self.pattern.search(window)
        if match is None or (self.unless is not None and self.unless.search(window)):
            return None
        return match


@dataclass(frozen=True)
class Lexicon:
    """The compiled lexicon."""

    pinyin: dict[str, str]
    literal_spellings: dict[str, str]
    literal_pattern: re.Pattern[str] | None
    spellings: tuple[tuple[re.Pattern[str], str], ...]
    mask: re.Pattern[str]
    rules: tuple[Rule, ...]
    now: re.Pattern[str]
    third_person: re.Pattern[str]
    first_person: re.Pattern[str]
    first_person_victim: re.Pattern[str]

    def prepare(self, text: str) -> str:
        """Return the form the rules and the model read (see the module docstring)."""
        text = normalise(text or "").lower()
        text = _LATIN.sub(lambda m: self.pinyin.get(m.group(0), m.group(0)), text)
        text = _SEPARATORS.sub("", text)
        if self.literal_pattern is not None:  # plain words in one pass
            text = self.literal_pattern.sub(lambda m: self.literal_spellings[m.group(0)], text)
        for pattern, replacement in self.spellings:
            text = pattern.sub(replacement, text)
        return self.mask.sub(lambda m: MASK_CHAR * len(m.group(0)), text)


def sentences(prepared: str) -> list[str]:
    """Split prepared text into sentences (。！？； and line breaks end a sentence)."""
    return [s for s in _SENTENCE_END.split(prepared) if s]


def windows(prepared: str) -> list[str]:
    """Each sentence alone, then each pair of neighbouring sentences (cues split over two)."""
    parts = sentences(prepared)
    return parts + [a + "。" + b for a, b in zip(parts, parts[1:], strict=False)]


def _expand(pattern: str, terms: dict[str, str]) -> str:
    for _ in range(4):  # terms may refer to terms
        pattern = _TERM_REF.sub(lambda m: terms.get(m.group(1), m.group(0)), pattern)
    return pattern


def _compile(pattern: str, terms: dict[str, str]) -> re.Pattern[str]:
    return with_lookahead(_expand(pattern, terms))


@lru_cache(maxsize=1)
def load(path: Path = LEXICON_FILE) -> Lexicon:
    """Read and compile the lexicon (once per process)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    terms = {name: f"(?:{value})" for name, value in data["terms"].items()}
    rules = tuple(
        Rule(
            id=r["id"],
            kind=r["kind"],
            pattern=_compile(r["pattern"], terms),
            strong=r.get("strength", "strong") == "strong",
            support_only=r.get("strength") == "support",
            imminent=bool(r.get("imminent", False)),
            unless=_compile(r["unless"], terms) if r.get("unless") else None,
        )
        for r in data["rules"]
    )
    third = data["third_party"]
    kin = terms["kin"]
    literal = {k: v for k, v in data["spellings"].items() if re.escape(k) == k}
    regex = {k: v for k, v in data["spellings"].items() if k not in literal}
    ordered = sorted(literal, key=len, reverse=True)  # longest first
    return Lexicon(
        pinyin={str(k): str(v) for k, v in data["pinyin"].items()},
        literal_spellings=literal,
        literal_pattern=re.compile("|".join(map(re.escape, ordered))) if ordered else None,
        spellings=tuple((re.compile(k), v) for k, v in regex.items()),
        mask=with_lookahead("|".join(f"(?:{m})" for m in data["mask"])),
        rules=rules,
        now=_compile("{now}", terms),
        third_person=_compile(third["person"], terms),
        first_person=re.compile(f"[我俺](?!{kin}|们|家)"),
        first_person_victim=_compile(third["first_person_victim"], terms),
    )


def fingerprint_text() -> str:
    """The lexicon's source text (part of the model's data fingerprint)."""
    return LEXICON_FILE.read_text(encoding="utf-8")

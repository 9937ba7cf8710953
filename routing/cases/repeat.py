"""Repeat petitions: link the same person's similar matters across channels, and refuse what the
law says is not accepted again (信访工作条例 第十九条第三款, 第三十六条第三款; 浙江省信访条例
第二十条第一款第五项、第二十五条).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from math import sqrt

from routing.cases.statuses import OPEN_STATUSES

ART_19 = "信访工作条例 第十九条第三款"
ART_36 = "信访工作条例 第三十六条第三款"
ART_ZJ_20 = "浙江省信访条例 第二十条第一款第五项"
ART_ZJ_25 = "浙江省信访条例 第二十五条"
_TIER_ORDER = ("grid", "village", "township", "committee", "county", "city")
_NOISE = re.compile(r"[\s\W\d_]+")


@dataclass(frozen=True, slots=True)
class PetitionRef:
    """What repeat detection needs to know about one petition."""

    case_id: str
    person_id: str
    text: str
    division: str
    status: str | None = None
    respondent: str | None = None
    body_tier: str | None = None
    handle_due: date | None = None
    recheck_final: bool = False
    channel: str = ""


@dataclass(frozen=True, slots=True)
class RepeatMatch:
    """An earlier petition that looks like the same matter."""

    case_id: str
    score: float
    text_similarity: float
    same_respondent: bool
    same_place: bool


@dataclass(frozen=True, slots=True)
class AcceptanceCheck:
    """Whether a new petition is accepted, which earlier cases it is linked to, and why."""

    accept: bool
    linked_case_ids: tuple[str, ...]
    reason: str
    articles: tuple[str, ...]


def _tier_rank(tier: str | None) -> int:
    t = "committee" if tier == "department" else tier
    return _TIER_ORDER.index(t) if t in _TIER_ORDER else -1


def char_ngrams(text: str, n: int = 2) -> dict[str, int]:
    """Count character n-grams of the text without spaces, digits and punctuation."""
    s = _NOISE.sub("", text)
    grams: dict[str, int] = {}
    for i in range(max(len(s) - n + 1, 0)):
        grams[s[i:i + n]] = grams.get(s[i:i + n], 0) + 1
    return grams


def jieba_words(text: str) -> dict[str, int]:
    """Count jieba words of two or more characters (jieba is imported on first use)."""
    import jieba  # lazy: loading its dictionary takes about a second

    words: dict[str, int] = {}
    for w in jieba.lcut(_NOISE.sub(" ", text)):
        if len(w.strip()) >= 2:
            words[w] = words.get(w, 0) + 1
    return words


def cosine(a: dict[str, int], b: dict[str, int]) -> float:
    """Cosine similarity of two count vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (sqrt(sum(v * v for v in a.values())) * sqrt(sum(v * v for v in b.values())))


def similarity(a: str, b: str, *, use_jieba: bool = False) -> float:
    """Text similarity in [0, 1]: char-bigram cosine, or its mean with jieba-word cosine."""
    sim = cosine(char_ngrams(a), char_ngrams(b))
    if use_jieba:
        sim = (sim + cosine(jieba_words(a), jieba_words(b))) / 2
    return sim


def find_repeats(new: PetitionRef, earlier: Iterable[PetitionRef], *, threshold: float = 0.45,
                 use_jieba: bool = False) -> list[RepeatMatch]:
    """Find the same person's earlier petitions on a similar matter, best first.

    The score is the text similarity plus 0.15 for the same respondent and 0.1 for the same
    place (one division inside the other), capped at 1.
    """
    matches = []
    for old in earlier:
        if old.person_id != new.person_id or old.case_id == new.case_id:
            continue
        sim = similarity(new.text, old.text, use_jieba=use_jieba)
        same_resp = bool(new.respondent and new.respondent == old.respondent)
        same_place = new.division.startswith(old.division) or old.division.startswith(new.division)
        score = min(1.0, sim + 0.15 * same_resp + 0.1 * same_place)
        if score >= threshold:
            matches.append(RepeatMatch(old.case_id, round(score, 3), round(sim, 3), same_resp, same_place))
    return sorted(matches, key=lambda m: -m.score)


def check_acceptance(new: PetitionRef, earlier: Iterable[PetitionRef], *, target_tier: str,
                     as_of: date, threshold: float = 0.45,
                     rank: Callable[[str | None], int] = _tier_rank) -> AcceptanceCheck:
    """Decide whether a new petition is accepted, given the person's earlier ones.

    Args:
        new: the new petition.
        earlier: the person's earlier petitions (any channel).
        target_tier: the tier of the body the new petition is addressed to.
        as_of: the day of the decision (for "within the handling period").
        threshold: repeat score threshold.
        rank: tier ordering.

    Returns:
        Not accepted when a similar matter already had its 复核 (第三十六条), or is being handled
        within its period and the new one goes to the same or a higher level (第十九条; 浙江 第二十条);
        otherwise accepted and linked to any similar earlier matter.
    """
    earlier = list(earlier)
    by_id = {p.case_id: p for p in earlier}
    matches = find_repeats(new, earlier, threshold=threshold)
    linked = tuple(m.case_id for m in matches)
    for m in matches:
        old = by_id[m.case_id]
        if old.recheck_final:
            return AcceptanceCheck(False, linked, f"同一事实和理由已经复核终结（{old.case_id}），不再受理",
                                   (ART_36, ART_ZJ_25))
    for m in matches:
        old = by_id[m.case_id]
        in_period = old.handle_due is None or as_of <= old.handle_due
        if old.status in OPEN_STATUSES and in_period:
            higher = rank(target_tier) > rank(old.body_tier)
            reason = (f"同一事项正在由下级机关办理（{old.case_id}），上级机关不予受理" if higher
                      else f"同一事项已受理并正在办理期限内（{old.case_id}），不再重复受理")
            return AcceptanceCheck(False, linked, reason, (ART_19,) if higher else (ART_ZJ_20,))
    reason = f"受理，并与此前反映的同一事项关联（{'、'.join(linked)}）" if linked else "受理"
    return AcceptanceCheck(True, linked, reason, ())

"""Placeholder detector: the risk module's crisis keywords (replaced by the lexicon + model)."""

from __future__ import annotations

from routing.safety.verdict import DangerVerdict
from routing.text import normalise

_MAP = {"self_harm": "self_harm", "violence": "harm_others", "ongoing_danger": "violence_now"}


def detect(text: str) -> DangerVerdict:
    """Return a verdict from the risk module's keyword flags."""
    from routing import risk

    assessed = risk.assess(normalise(text))
    kinds = tuple(dict.fromkeys(_MAP[r.code] for r in assessed.reasons if r.code in _MAP))
    if not kinds:
        return DangerVerdict.safe()
    return DangerVerdict(danger=True, kinds=kinds, score=1.0, evidence=())

"""The verdict of the danger check and the emergency number each kind of danger needs first."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of danger, each with its own reply. Order = priority when several are found.
KINDS: tuple[str, ...] = ("violence_now", "medical", "held", "harm_others", "self_harm")

# How the console and the alerts name each kind.
KIND_LABELS = {
    "self_harm": "自杀/自伤危机",
    "harm_others": "扬言伤害他人",
    "violence_now": "正在发生的暴力",
    "medical": "医疗急救",
    "held": "人身被控制/拘禁",
    "unknown": "可能的危险（识别异常，按危机处理）",
}

# The number to name first for each kind (then the others): 110 police, 120 ambulance,
# 12356 the national psychological assistance hotline.
_FIRST: dict[str, tuple[str, ...]] = {
    "violence_now": ("110", "120", "12356"),
    "held": ("110", "120", "12356"),
    "harm_others": ("110", "12356", "120"),
    "medical": ("120", "110", "12356"),
    "self_harm": ("12356", "110", "120"),
}


def numbers_for(kinds: tuple[str, ...], imminent: bool = False) -> tuple[str, ...]:
    """Return the emergency numbers in the order to name them.

    Args:
        kinds: the kinds found (priority order).
        imminent: self-harm with a means at hand or a place reached now: 110/120 come first.
    """
    if not kinds:
        return ("110", "120", "12356")
    if kinds[0] == "self_harm" and imminent:
        return ("110", "120", "12356")
    return _FIRST.get(kinds[0], ("110", "120", "12356"))


@dataclass(frozen=True, slots=True)
class DangerVerdict:
    """What the danger check found in one message."""

    danger: bool
    kinds: tuple[str, ...] = ()
    score: float = 0.0
    evidence: tuple[str, ...] = ()
    third_party: bool = False
    imminent: bool = False
    failed: bool = False
    error: str = ""

    @property
    def kind(self) -> str:
        """The main kind (``unknown`` when the check failed or only the model fired)."""
        return self.kinds[0] if self.kinds else "unknown"

    @property
    def numbers(self) -> tuple[str, ...]:
        """Emergency numbers, the right one first."""
        return numbers_for(self.kinds, self.imminent)

    @classmethod
    def failure(cls, error: str) -> DangerVerdict:
        """The check could not run: treat the message as possibly dangerous."""
        return cls(danger=True, failed=True, error=error[:80])

    @classmethod
    def safe(cls, score: float = 0.0) -> DangerVerdict:
        """Nothing found."""
        return cls(danger=False, score=score)

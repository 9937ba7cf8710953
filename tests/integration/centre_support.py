"""Filing helpers for the centre's tests: drafts with a category path and a place."""

from __future__ import annotations

from dataclasses import replace

from routing.cases.service import CaseDraft
from routing.understanding.places import load_divisions
from routing.understanding.text import is_traditional, normalise

LABOUR = ("劳动和社会保障", "劳动关系", "拖欠工资")
PROPERTY = ("城乡建设", "住房保障和房地产", "物业管理")
NOISE = ("环境保护", "环境污染", "噪声污染")
LAND = ("国土资源", "土地管理", "征地拆迁")


def draft(story: str, place: str, path: tuple[str, str, str] = LABOUR, *, user: str = "web:centre0001",
          dispute_type: str | None = "labour_wage", risk: str = "blue") -> CaseDraft:
    """A filed-by-chat complaint with its classifier path, in the script it was written in."""
    match = load_divisions().resolve(place)
    assert match is not None, place
    return CaseDraft(
        narrative_original=story, narrative_normalised=normalise(story), subject=normalise(story)[:40],
        channel=user.split(":")[0], channel_user_id=user, conversation_id=user, category=path[0],
        category_path=path, dispute_type=dispute_type,
        script="traditional" if is_traditional(story) else "simplified", location_text=match.label,
        location_code=match.division.code, county_code=match.county.code if match.county else None,
        respondent="某公司", demand="依法解决", risk_level=risk,
    )


def many(d: CaseDraft, n: int, tag: str) -> list[CaseDraft]:
    """``n`` copies of a draft from different people (so none is a repeat of another)."""
    return [replace(d, channel_user_id=f"web:{tag}{i}", conversation_id=f"web:{tag}{i}",
                    narrative_original=d.narrative_original + f"（{tag}{i}）",
                    narrative_normalised=d.narrative_normalised + f"（{tag}{i}）") for i in range(n)]

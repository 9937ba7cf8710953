"""Routing policy used when a case is filed: handling body, tier and the first due date."""

from __future__ import annotations

from datetime import date

from routing.deadlines import compute_due
from routing.places import load_divisions
from routing.service import CaseDraft, Routed


def make_policy(rules: str = "stricter"):
    """Return a policy that routes a draft by its place and starts the register clock.

    Args:
        rules: deadline rule set, ``national``, ``zhejiang`` or ``stricter``.
    """

    def policy(draft: CaseDraft, today: date) -> Routed:
        due = compute_due("petition_register", today, rules)
        body, tier, why = _place_body(draft.location_code)
        explanation = f"{why}；受理告知期限依{due.rule_title}{due.article}，至{due.due.isoformat()}。"
        return Routed(handling_body=body, tier=tier, explanation=explanation, due_date=due.due)

    return policy


def _place_body(location_code: str | None) -> tuple[str, str, str]:
    index = load_divisions()
    path = index.path(location_code) if location_code and location_code in index else []
    by_level = {d.level: d for d in path}
    township, county = by_level.get("township"), by_level.get("county")
    if township is not None:
        return (
            f"{township.name}人民调解委员会",
            "乡镇（街道）调委会",
            f"按“小事不出村、大事不出镇”，由事发地{township.name}受理",
        )
    if county is not None:
        return (f"{county.name}社会治理中心", "县级社会治理中心", f"事发地为{county.name}，由县级社会治理中心受理分流")
    return ("县级社会治理中心", "县级社会治理中心", "事发地未能精确到县，由社会治理中心受理分流")

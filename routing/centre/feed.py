"""The early-warning feed as a centre user sees it: the desk's alerts and the crisis alerts.

Crisis alerts (the danger check, ``alerts`` table) are read here, never changed: they keep
their own acknowledgement in the crisis console. Visibility follows the place: an alert shows
to users whose regions cover its division (or its county); crisis alerts with no place yet
show to everyone on duty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing.centre.warnings import KIND_LABELS, LEVEL_LABELS, SEVERITY_RANK, STATE_LABELS, aware
from routing.persistence.case_tables import Alert
from routing.persistence.centre_tables import CentreAlert


@dataclass(frozen=True)
class FeedItem:
    """One line of the feed."""

    ref: str
    kind: str
    kind_label: str
    severity: str
    title: str
    place: str
    state: str
    state_label: str
    level: int
    members: int
    created_at: datetime
    url: str

    @property
    def is_open(self) -> bool:
        """Still waiting for someone (not closed; crisis: not acknowledged)."""
        return self.state in ("open",)

    @property
    def level_label(self) -> str:
        """Which centre has it."""
        return LEVEL_LABELS.get(self.level, "")


def visible(alert: CentreAlert, codes: frozenset[str]) -> bool:
    """Tell whether a user covering ``codes`` may see the alert."""
    return (alert.division_code in codes) or (alert.county_code in codes)


def level_of(regions: tuple[str, ...]) -> int:
    """Return the centre level of a user: 0 county or below, 1 city, 2 province."""
    from routing.centre import places

    levels = {d.level for code in regions if (d := places.division(code)) is not None}
    if levels and levels <= {"province"}:
        return 2
    if levels and levels <= {"province", "city"}:
        return 1
    return 0


def feed(session: Session, codes: frozenset[str], include_closed: bool = False, limit: int = 100,
         min_level: int = 0) -> list[FeedItem]:
    """Return the alerts a user covering ``codes`` sees: open first, then most severe, then newest.

    ``min_level``: a city centre (1) sees what a county centre did not acknowledge in time, and the
    alerts raised one level up from the start (an overdue 挂牌督办); a county centre sees all (0).
    """
    ordered = sorted(codes)
    q = select(CentreAlert).where(or_(CentreAlert.division_code.in_(ordered), CentreAlert.county_code.in_(ordered)),
                                  CentreAlert.level >= min_level)
    if not include_closed:
        q = q.where(CentreAlert.state != "closed")
    items = [FeedItem(f"c{a.id}", a.kind, KIND_LABELS.get(a.kind, a.kind), a.severity, a.title, a.place_label or "",
                      a.state, STATE_LABELS.get(a.state, a.state), a.level, a.member_count,
                      aware(a.created_at), f"/console/centre/alerts/{a.id}")  # type: ignore[arg-type]
             for a in session.execute(q.order_by(CentreAlert.id.desc()).limit(limit)).scalars()]
    cq = select(Alert).where(Alert.kind.is_not(None), or_(Alert.region_code.is_(None), Alert.region_code.in_(ordered)))
    if not include_closed:
        cq = cq.where(Alert.acknowledged.is_(False))
    for a in session.execute(cq.order_by(Alert.id.desc()).limit(limit)).scalars():
        items.append(FeedItem(f"x{a.id}", "crisis", KIND_LABELS["crisis"], "red", a.reason, a.place or "未知地点",
                              "acknowledged" if a.acknowledged else "open",
                              "已确认" if a.acknowledged else "待确认", a.escalations or 0, 1 if a.case_id else 0,
                              aware(a.created_at), f"/console/alerts/{a.id}"))  # type: ignore[arg-type]
    items.sort(key=lambda i: (i.state == "closed", not i.is_open, SEVERITY_RANK.get(i.severity, 9),
                              -i.created_at.timestamp()))
    return items[:limit]

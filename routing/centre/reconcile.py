"""Recount the desk from the event log alone and compare (不得瞒报、漏报、拒报).

The desk counts the ``cases`` table. This module rebuilds each case's desk state from its
``case_events`` — status (``status_after`` of its last event), tier and body (its last routing
event), whether someone holds it (assignment events after the last routing), risk (the last
event that set a level) — and counts again with the same rules. What a case cannot change
after filing (its place, category, channel, filing time) is read from the case row; due dates
come from the statutory clocks (``case_clocks``), the case's own due date when it has no duty
clock. Any difference is reported; there must be none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.centre import board as desk
from routing.centre import places
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.history import HANDLING_CLOCKS
from routing.persistence.life_tables import CaseClock

DUTY_CLOCKS = (*HANDLING_CLOCKS, "review_decide", "recheck_decide")
RISK_EVENTS = ("risk_assessed", "alert_raised", "risk_changed")


@dataclass
class Derived:
    """A case's desk state rebuilt from its events."""

    status: str | None = None
    tier: str | None = None
    body_id: str | None = None
    assigned: bool = False
    risk: str = "blue"


def derive(events: list[CaseEvent], body_ids_by_name: dict[str, str]) -> Derived:
    """Replay one case's events (in order) into its desk state."""
    d = Derived()
    for ev in events:
        p: dict[str, Any] = ev.payload or {}
        if ev.status_after:
            d.status = ev.status_after
        if ev.kind == "routed":
            d.tier, d.body_id = p.get("tier"), body_ids_by_name.get(p.get("handling_body") or "")
            d.assigned = False
        elif ev.kind.startswith("routing_"):
            # a transfer hands the case to the person the decision names; other re-routings
            # leave it unassigned until an assignment event follows (routing.cases.life)
            d.tier, d.body_id = p.get("tier"), p.get("body_id")
            d.assigned = ev.kind == "routing_transfer" and bool(p.get("person_id"))
        elif ev.kind == "assigned" or (ev.kind == "status_changed" and p.get("action") == "assign"):
            d.assigned = True
        elif ev.kind == "status_changed" and p.get("action") == "reject":
            d.assigned = False
        if ev.kind in RISK_EVENTS and p.get("level"):
            d.risk = p["level"]
    return d


@dataclass
class Difference:
    """One figure that differs between the desk and the recount."""

    row: str
    metric: str
    desk: int
    recount: int


@dataclass
class Report:
    """The result of a reconciliation."""

    region: str
    as_of: date
    cases: int
    figures: int
    differences: list[Difference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary."""
        return {"region": self.region, "as_of": self.as_of.isoformat(), "cases_recounted": self.cases,
                "figures_compared": self.figures, "differences": [d.__dict__ for d in self.differences]}


def _due(clocks: list[CaseClock], fallback: date | None) -> date | None:
    running = [c for c in clocks if c.clock in DUTY_CLOCKS and c.state not in ("stopped", "window") and c.due]
    return max(running, key=lambda c: c.id).due if running else fallback


def recount(session: Session, region: str, today: date, chunk: int = 2000) -> tuple[desk.Counts, dict[str, desk.Counts], dict[str, desk.Counts], int]:
    """Count the region's board from events: (total, by division, by body, cases seen)."""
    from routing.orgs.registry import load_orgs

    names = {b.name: b.id for b in load_orgs().bodies.values()}
    horizon = desk.near_horizon(today)
    total = desk.Counts()
    by_div: defaultdict[str, desk.Counts] = defaultdict(desk.Counts)
    by_body: defaultdict[str, desk.Counts] = defaultdict(desk.Counts)
    ids = list(session.execute(select(Case.id).where(desk.region_condition(region)).order_by(Case.id)).scalars())
    sup = desk.supervision_condition(session)
    supervised = set(session.execute(select(Case.id).where(sup, desk.region_condition(region))).scalars())
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        cases = {c.id: c for c in session.execute(select(Case).where(Case.id.in_(part))).scalars()}
        events: dict[int, list[CaseEvent]] = defaultdict(list)
        for ev in session.execute(select(CaseEvent).where(CaseEvent.case_id.in_(part))
                                  .order_by(CaseEvent.case_id, CaseEvent.seq)).scalars():
            events[ev.case_id].append(ev)
        clocks: dict[int, list[CaseClock]] = defaultdict(list)
        for ck in session.execute(select(CaseClock).where(CaseClock.case_id.in_(part))).scalars():
            clocks[ck.case_id].append(ck)
        for cid in part:
            case, d = cases[cid], derive(events[cid], names)
            if d.status not in desk.DESK_STATUSES:
                continue
            due = _due(clocks[cid], case.due_date)
            bucket = 0 if due is None else (2 if due < today else (1 if due <= horizon else 0))
            child = places.child_under(region, case.location_code or case.county_code) or region
            for target in (total, by_div[child], by_body[d.body_id or ""]):
                target.add(d.status, d.tier, d.risk, bucket, not d.assigned, 1)
                if cid in supervised and d.status in desk.OPEN_STATUSES:
                    target.values["supervised"] += 1
    return total, by_div, by_body, len(ids)


def reconcile(session: Session, region: str, today: date) -> Report:
    """Compare every figure of the region's board with the recount from events."""
    board = desk.build(session, desk.DeskFilter(region=region), today)
    total, by_div, by_body, n = recount(session, region, today)
    report = Report(region, today, n, 0)
    pairs = [("合计", board.total, total)]
    pairs += [(f"区划 {r.key}", r.counts, by_div.get(r.key, desk.Counts())) for r in board.divisions]
    pairs += [(f"单位 {r.key or '-'}", r.counts, by_body.get(r.key, desk.Counts())) for r in board.bodies]
    shown_divs = {r.key for r in board.divisions}
    pairs += [(f"区划 {k}", desk.Counts(), v) for k, v in by_div.items() if k not in shown_divs]
    shown_bodies = {r.key for r in board.bodies}
    pairs += [(f"单位 {k or '-'}", desk.Counts(), v) for k, v in by_body.items() if k not in shown_bodies]
    for row, a, b in pairs:
        for metric in desk.METRICS:
            report.figures += 1
            if a.values[metric] != b.values[metric]:
                report.differences.append(Difference(row, metric, a.values[metric], b.values[metric]))
    return report


def rebuild_summary(session: Session) -> int:
    """Refill ``desk_counts`` and ``desk_due_counts`` from the case rows (the triggers keep it afterwards); return its rows.

    Run it inside one transaction; the table lock keeps writers out while it is refilled.
    """
    from sqlalchemy import delete, text

    from routing.persistence.centre_tables import DeskCount

    if session.bind is not None and session.bind.dialect.name == "postgresql":
        session.execute(text("LOCK TABLE cases IN SHARE MODE"))
    session.execute(delete(DeskCount))
    keys = "coalesce(county_code, ''), coalesce(location_code, ''), coalesce(body_id, ''), coalesce(tier, ''), " \
           "status, coalesce(risk_level, ''), (assigned_person_id IS NULL)"
    statuses = ", ".join(f"'{s}'" for s in desk.DESK_STATUSES)
    session.execute(text(
        "INSERT INTO desk_counts (county_code, location_code, body_id, tier, status, risk_level, unassigned, n) "
        f"SELECT {keys}, count(*) FROM cases WHERE status IN ({statuses}) GROUP BY 1, 2, 3, 4, 5, 6, 7"))
    open_ = ", ".join(f"'{s}'" for s in desk.OPEN_STATUSES)
    session.execute(text("DELETE FROM desk_due_counts"))
    session.execute(text(
        "INSERT INTO desk_due_counts (county_code, due_date, location_code, body_id, n) "
        "SELECT coalesce(county_code, ''), due_date, coalesce(location_code, ''), coalesce(body_id, ''), count(*) "
        f"FROM cases WHERE status IN ({open_}) AND due_date IS NOT NULL GROUP BY 1, 2, 3, 4"))
    return int(session.execute(text("SELECT count(*) FROM desk_counts")).scalar() or 0)

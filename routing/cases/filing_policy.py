"""Routing policy used when a case is filed: the Fengqiao ladder, risk and the first clocks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import sessionmaker

from routing.cases.deadlines import OFFICIAL, DeadlineError, HolidayCalendar, compute_due
from routing.cases.statuses import Status
from routing.cases.values import CaseDraft, Routed
from routing.orgs.ladder import CaseFacts, RoutingError, route
from routing.orgs.registry import load_orgs
from routing.persistence.workload import SessionWorkload
from routing.understanding import risk as risk_rules
from routing.understanding.places import load_divisions


class SqlWorkload:
    """Open-case counts per person in a session of its own (filing routes before its transaction)."""

    def __init__(self, sessions: sessionmaker) -> None:
        """Bind to the case database."""
        self._sessions = sessions

    def open_case_counts(self, person_ids: Sequence[str]) -> Mapping[str, int]:
        """Return how many open cases each person holds."""
        with self._sessions() as session:
            return SessionWorkload(session).open_case_counts(person_ids)


def make_policy(rules: str = "stricter", sessions: sessionmaker | None = None,
                calendar: HolidayCalendar = OFFICIAL):  # type: ignore[no-untyped-def]
    """Return the filing policy.

    Args:
        rules: deadline rule set, ``national``, ``zhejiang`` or ``stricter``.
        sessions: the case database, for assigning by current load (none: load is ignored).
        calendar: the holiday calendar (the composition root passes the process's one).
    """
    workload = SqlWorkload(sessions) if sessions is not None else None

    def policy(draft: CaseDraft, today: date) -> Routed:
        register = compute_due("petition_register", today, rules, calendar)
        notice = f"受理告知期限依{register.article}，至{register.due.isoformat()}"
        if register.estimated:
            notice += f"（{register.due.year}年节假日安排尚未公布，工作日暂按周末和固定假日估算，公布后以官方安排为准）"
        assessed = risk_rules.assess(draft.narrative_normalised, dispute_type=draft.dispute_type)
        facts = CaseFacts(
            case_id="",
            division=draft.location_code or "",
            text=draft.narrative_normalised,
            category=draft.category,
            dispute_type=draft.dispute_type,
        )
        try:
            decision = route(facts, load_orgs(), assessed, places=load_divisions(),
                             workload=workload, received_on=today, rules=rules, calendar=calendar)
        except (RoutingError, DeadlineError):
            return _fallback(draft, register.due, notice, rules, calendar)
        extra: list[tuple[str, str, dict[str, Any]]] = [("risk_assessed", assessed.explanation(), {"level": assessed.level})]
        if decision.grid_skipped:
            extra.append(("grid_not_admitted", "网格事务准入清单：该事项不交网格员办理",
                          {"grid_body": decision.grid_skipped, "dispute_type": draft.dispute_type,
                           "body_id": decision.body_id}))
        # with a person the filing assigns the case at once (the lifecycle's ``assign``)
        assigned = bool(decision.person_id and decision.action == "route")
        status = Status.ASSIGNED if assigned else Status.ACCEPTED
        return Routed(
            handling_body=decision.body_name,
            tier=decision.tier_label,
            explanation=f"{decision.explanation.rstrip('。')}；{notice}。",
            due_date=decision.due or register.due,
            status=status,
            extra_events=tuple(extra),
            body_id=decision.body_id,
            person_id=decision.person_id,
            person_name=decision.person_name,
            confidential=decision.confidential,
            hidden_from=tuple(decision.hidden_from),
            risk_level=assessed.level,
            clock=decision.clock,
            rules=rules,
            calendar=calendar,
        )

    return policy


def _fallback(draft: CaseDraft, due: date, notice: str, rules: str = "stricter",
              calendar: HolidayCalendar = OFFICIAL) -> Routed:
    """Route to the county centre when the place is not precise enough for the ladder."""
    index = load_divisions()
    code = draft.location_code
    county = index.county_of(code) if code is not None and code in index else None
    body = f"{county.name}社会治理中心" if county else "县级社会治理中心"
    why = "事发地未能精确到镇（街道），由县级社会治理中心受理分流"
    return Routed(handling_body=body, tier="县级社会治理中心", explanation=f"{why}；{notice}。", due_date=due,
                  rules=rules, calendar=calendar)

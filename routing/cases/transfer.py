"""Moving a case between bodies: escalation up the ladder, transfer (转送), return of a wrong body.

Escalation, transfer and a wrong-body return restart the handling clock at the new body; a
transfer opens the receiving body's 5-working-day objection window (信访工作条例 第二十三条),
stored as a ``window`` clock: shown, never swept.
"""

from __future__ import annotations

from datetime import date

from routing.cases.events import Event
from routing.cases.statuses import HANDLING_CLOCKS, transition
from routing.cases.steps import (
    CaseContext,
    CaseLifeError,
    finish,
    load,
    move,
    start_clock,
    stop_clocks,
)
from routing.cases.uow import UnitOfWork
from routing.cases.values import CaseView
from routing.orgs import ladder
from routing.orgs.registry import OrgDataError, Orgs
from routing.persistence.case_tables import Case


def facts_of(case: Case) -> ladder.CaseFacts:
    """Return what the ladder needs to know of a stored case."""
    return ladder.CaseFacts(case_id=case.case_number, division=case.location_code or "",
                            text=case.narrative_normalised, category=case.category,
                            dispute_type=case.dispute_type, accused=tuple(case.hidden_from or ()))


def current_decision(uow: UnitOfWork, case: Case, orgs: Orgs) -> ladder.RoutingDecision:
    """Rebuild the current routing decision from the case and its earlier routing events.

    Raises:
        CaseLifeError: the case has no ladder body or place to move from.
    """
    if not case.body_id or not case.location_code:
        raise CaseLifeError(f"{case.case_number} has no ladder body or place to move from")
    try:
        body = orgs.body(case.body_id)
    except OrgDataError as exc:
        raise CaseLifeError(str(exc)) from None
    excluded: set[str] = set()
    for ev in uow.events.of_case(case):
        if ev.kind.startswith("routing_"):
            excluded.update(ev.payload.get("excluded_body_ids") or ())
            if ev.payload.get("body_id"):
                excluded.add(ev.payload["body_id"])
    excluded.discard(body.id)
    return ladder.RoutingDecision(
        action="route", case_id=case.case_number, body_id=body.id, body_name=body.name, tier=body.tier,
        tier_label=case.tier or body.tier, division=body.division, explanation=case.routing_explanation or "",
        articles=(), person_id=case.assigned_person_id, person_name=case.assigned_person_name,
        confidential=case.confidential, hidden_from=tuple(case.hidden_from or ()),
        excluded_body_ids=tuple(sorted(excluded)))


def apply_decision(uow: UnitOfWork, ctx: CaseContext, case: Case, d: ladder.RoutingDecision, actor: str, on: date,
                   *, restart_clock: bool = True) -> list[Event]:
    """Store a new routing decision on the case: fields, decision event, clocks, assignment."""
    case.handling_body, case.body_id, case.tier = d.body_name, d.body_id, d.tier_label
    case.routing_explanation = d.explanation
    case.assigned_person_id, case.assigned_person_name = None, None
    case.confidential = case.confidential or d.confidential
    events = [d.to_event(actor, at=ctx.now())]
    if restart_clock and d.clock:
        stop_clocks(uow, case, on, HANDLING_CLOCKS)
        start_clock(uow, ctx, case, d.clock, on, body_id=d.body_id)
    if d.person_id and case.status in ("accepted", "escalated"):
        events.append(move(uow, ctx, case, "assign", actor, f"分派给{d.person_name}",
                           {"person_id": d.person_id, "body_id": d.body_id}))
        case.assigned_person_id, case.assigned_person_name = d.person_id, d.person_name
    return events


def escalate_in(uow: UnitOfWork, ctx: CaseContext, case: Case, why: str, actor: str, on: date,
                note: str = "") -> list[Event]:
    """Climb the ladder from the case's current body (``why``: ``risk``, ``overdue``)."""
    orgs = ctx.orgs()
    current = current_decision(uow, case, orgs)
    d = ladder.escalate(current, facts_of(case), orgs, why, places=ctx.places(), workload=uow.workload,
                        received_on=on, rules=ctx.rules, calendar=ctx.calendar)
    reason = (note + "；" if note else "") + d.explanation
    events = [move(uow, ctx, case, "escalate", actor, reason,
                   {"why": why, "from_body": current.body_id, "to_body": d.body_id, "articles": list(d.articles)})]
    return events + apply_decision(uow, ctx, case, d, actor, on)


def escalate(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, why: str = "risk",
             note: str = "") -> CaseView:
    """升级 up the ladder (``why``: ``risk`` or ``overdue``), re-routed and re-assigned.

    Raises:
        RoutingError: no higher competent body.
    """
    case = load(uow, case_number)
    transition(case.status, "escalate", actor, note or why)  # refuse early, before the ladder
    return finish(uow, case, escalate_in(uow, ctx, case, why, actor, ctx.today(), note))


def transfer(uow: UnitOfWork, ctx: CaseContext, case_number: str, to_body_id: str, actor: str,
             reason: str) -> CaseView:
    """Transfer to another body (信访工作条例 第二十三条); opens its 5-working-day objection window.

    Raises:
        RoutingError: no reason, unknown body, or an accused body for a confidential case.
    """
    case = load(uow, case_number)
    transition(case.status, "transfer", actor, reason)
    orgs = ctx.orgs()
    d = ladder.transfer(current_decision(uow, case, orgs), to_body_id, reason, facts_of(case), orgs,
                        workload=uow.workload)
    today = ctx.today()
    ev = move(uow, ctx, case, "transfer", actor, d.explanation, {"to_body": d.body_id, "articles": list(d.articles)})
    events = [ev, *apply_decision(uow, ctx, case, d, actor, today)]
    case.assigned_person_id, case.assigned_person_name = d.person_id, d.person_name
    start_clock(uow, ctx, case, "transfer_objection", today, window=True, body_id=d.body_id)
    return finish(uow, case, events)


def return_wrong_body(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, reason: str, *,
                      objected_on: date | None = None) -> CaseView:
    """The receiving body objects (within 5 working days, 信访工作条例 第二十三条) and the case is re-routed.

    Raises:
        RoutingError: no reason, or the objection is late (the body must handle the case).
    """
    case = load(uow, case_number)
    transition(case.status, "return_wrong_body", actor, reason)
    windows = [c for c in uow.clocks.of_case(case) if c.clock == "transfer_objection" and c.body_id == case.body_id]
    received = windows[-1].start if windows else case.created_at.date()
    on = objected_on or ctx.today()
    orgs = ctx.orgs()
    d = ladder.return_wrong_body(current_decision(uow, case, orgs), facts_of(case), orgs, received_on=received,
                                 objected_on=on, reason=reason, places=ctx.places(), workload=uow.workload,
                                 rules=ctx.rules, calendar=ctx.calendar)
    ev = move(uow, ctx, case, "return_wrong_body", actor, reason,
              {"from_body": case.body_id, "articles": list(ladder.ART_TRANSFER)})
    for w in windows:
        w.stopped_at = on
    return finish(uow, case, [ev, *apply_decision(uow, ctx, case, d, actor, on)])

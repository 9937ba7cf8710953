"""Handling a case: assign, hand to a colleague, handle, mediate, resolve, follow up, rate, close.

Also the changes that are not status moves but belong on the record: an urge, added material,
a wish to see a leader (:func:`note`), a request for a human and a risk alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from routing.cases import statuses
from routing.cases.events import SYSTEM_ACTOR, EventKind, make_event
from routing.cases.steps import CaseContext, CaseLifeError, finish, load, move, start_clock
from routing.cases.transfer import apply_decision, current_decision, facts_of
from routing.cases.uow import UnitOfWork
from routing.cases.values import CaseStateError, CaseView, case_view
from routing.orgs import ladder

SATISFACTION_CODES = {**{v: k for k, v in statuses.SATISFACTION_LABELS.items()},
                      **{k: k for k in statuses.SATISFACTION_LABELS}}
# Events that only add to the record (no status move): the kinds :func:`note` accepts.
NOTE_KINDS = frozenset({EventKind.URGED, EventKind.MATERIAL_ADDED, EventKind.LEADER_REQUESTED, EventKind.NOTE,
                        EventKind.CONTACT_LOGGED, EventKind.DEPARTMENT_UPDATE,
                        EventKind.JUDICIAL_CONFIRMED})


@dataclass(frozen=True, slots=True)
class RatingResult:
    """The case after a rating, with the message for the citizen and the 复查 deadline if any."""

    view: CaseView
    citizen_message: str
    review_due: date | None


def assign(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, person_id: str | None = None,
           reason: str = "") -> CaseView:
    """Assign a handler in the case's body: the named person, or the least loaded competent one.

    Raises:
        CaseLifeError: no body, unknown person, or nobody free.
    """
    orgs = ctx.orgs()
    case = load(uow, case_number)
    if not case.body_id:
        raise CaseLifeError(f"{case.case_number} has no handling body yet")
    body = orgs.body(case.body_id)
    if person_id:
        person = next((p for p in orgs.people_of(body.id) if p.id == person_id), None)
    else:
        person = ladder.assign_person(body, orgs.specialty_of(case.dispute_type), orgs, uow.workload,
                                      exclude=tuple(case.hidden_from or ()))
    if person is None:
        raise CaseLifeError(f"no available person {person_id or ''} in {body.name}")
    ev = move(uow, ctx, case, "assign", actor, reason or f"分派给{person.name}",
              {"person_id": person.id, "body_id": body.id})
    case.assigned_person_id, case.assigned_person_name = person.id, person.name
    return finish(uow, case, [ev])


def hand_to(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, person_id: str, person_name: str,
            reason: str, *, expected_status: str | None = None) -> CaseView:
    """Put the case in a named person's hands (a console claim, assignment or transfer to a colleague).

    From 受理 or 升级 this is the lifecycle's ``assign`` (the register clock stops); from a worker's
    hands it is ``transfer`` within the body (a reason is required; the handling clock runs on).

    Args:
        uow: the unit of work.
        ctx: time, rules and reference data.
        case_number: the case.
        actor: who hands it over.
        person_id: the receiving person (a console colleague need not be in ``people.csv``).
        person_name: their name as shown.
        reason: why (required for a transfer).
        expected_status: the status the caller saw; a case that moved meanwhile is refused.

    Raises:
        CaseStateError: the case's status is no longer ``expected_status``.
        TransitionError: the lifecycle refuses the move or its reason is missing.
    """
    case = load(uow, case_number)
    if expected_status is not None and case.status != expected_status:
        raise CaseStateError(case.status)
    action = "assign" if case.status in (statuses.Status.ACCEPTED, statuses.Status.ESCALATED) else "transfer"
    ev = move(uow, ctx, case, action, actor, reason, {"person_id": person_id, "body_id": case.body_id})
    case.assigned_person_id, case.assigned_person_name = person_id, person_name
    return finish(uow, case, [ev])


def resolve(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, *, agreement: bool, notes: str,
            escalate_on_failure: bool = True) -> CaseView:
    """办结 with an agreement, or record that none was reached.

    Without agreement (人民调解法 第二十六条) the parties are told the other routes: at a committee
    or higher the case is referred (status ``referred``); at a grid, village or township body it
    climbs the ladder (escalated and re-assigned) unless ``escalate_on_failure`` is False.
    """
    if not notes.strip():
        raise statuses.TransitionError("an outcome needs notes")
    case = load(uow, case_number)
    today = ctx.today()
    if agreement:
        return finish(uow, case, [move(uow, ctx, case, "resolve", actor, notes, {"agreement": True})])
    action = "fail_mediation" if case.status == statuses.Status.MEDIATING else "refer"
    statuses.transition(case.status, action, actor, notes)  # refuse early, before the ladder
    orgs = ctx.orgs()
    d: ladder.RoutingDecision | None
    try:
        d = ladder.escalate(current_decision(uow, case, orgs), facts_of(case), orgs, "mediation_failed",
                            places=ctx.places(), workload=uow.workload, received_on=today, rules=ctx.rules,
                            calendar=ctx.calendar)
    except (CaseLifeError, ladder.RoutingError):
        d = None
    if d is not None and d.action == "escalate" and escalate_on_failure:
        events = [move(uow, ctx, case, "escalate", actor, f"{notes}；{d.explanation}",
                       {"why": "mediation_failed", "to_body": d.body_id, "articles": list(d.articles)})]
        return finish(uow, case, events + apply_decision(uow, ctx, case, d, actor, today))
    text = d.explanation if d is not None and d.action == "refer" else (
        f"{case.handling_body or '承办机构'}未能促成协议，已告知当事人可以依法通过{ladder.ROUTES_TEXT}等途径维护权利。")
    ev = move(uow, ctx, case, action, actor, f"{notes}；{text}",
              {"agreement": False, "articles": list(ladder.ART_MEDIATION_FAILED),
               "alternatives": list(d.alternatives) if d is not None else [],
               "referred_to": d.body_name if d else None})
    return finish(uow, case, [ev])


def rate(uow: UnitOfWork, ctx: CaseContext, case_number: str, satisfaction: str, actor: str, *,
         reply_received_on: date | None = None, owner: str | None = None) -> RatingResult:
    """Record 满意 / 基本满意 / 不满意 (codes or Chinese labels).

    不满意 adds a supervisor follow-up event and opens the citizen's 复查 window (信访工作条例
    第三十五条: 30 days from receiving the written reply, ``reply_received_on``, today by default).
    """
    code = SATISFACTION_CODES.get(satisfaction.strip())
    if code is None:
        raise statuses.TransitionError(f"unknown satisfaction {satisfaction!r}")
    case = load(uow, case_number, owner)
    replied = reply_received_on or ctx.today()
    outcome = statuses.rate(case.status, code, actor, reply_received_on=replied, case_id=case.case_number,
                             rules=ctx.rules, at=ctx.now(), calendar=ctx.calendar)
    case.status = outcome.status
    case.satisfaction = statuses.SATISFACTION_LABELS[code]
    if outcome.review_due is not None:
        start_clock(uow, ctx, case, "review_request", replied, window=True)
    view = finish(uow, case, outcome.events)
    return RatingResult(view, outcome.citizen_message, outcome.review_due)


def note(uow: UnitOfWork, ctx: CaseContext, case_number: str, kind: str, actor: str, reason: str = "",
         payload: Mapping[str, Any] | None = None, *, owner: str | None = None) -> CaseView:
    """Add an event that changes no status (催办, 补充材料, 希望面见领导 ...) to the record.

    Raises:
        ValueError: ``kind`` is not one of :data:`NOTE_KINDS` (status changes go through the lifecycle).
    """
    if kind not in NOTE_KINDS:
        raise ValueError(f"{kind!r} is not a note; status changes go through the lifecycle")
    case = load(uow, case_number, owner)
    return finish(uow, case, [make_event(kind, actor, reason, case_id=case.case_number, at=ctx.now(),
                                         payload=payload)])


def raise_priority(uow: UnitOfWork, ctx: CaseContext, case_number: str, actor: str, reason: str, *,
                   owner: str | None = None) -> CaseView:
    """Raise a blue case to yellow because the citizen says it is urgent (an event says why)."""
    case = load(uow, case_number, owner)
    before = case.risk_level
    if before in (None, "blue"):
        case.risk_level = "yellow"
    return finish(uow, case, [make_event("priority_raised", actor, reason, case_id=case.case_number, at=ctx.now(),
                                         payload={"wish": "urgent", "from": before, "to": case.risk_level})])


def request_human(uow: UnitOfWork, ctx: CaseContext, conversation_id: str, channel: str, owner: str,
                  actor: str) -> str | None:
    """Flag the conversation (and the user's newest open case) for a human; return the case number."""
    case = uow.cases.newest_open(owner=owner, channel=channel)
    uow.add_handoff(conversation_id, channel, case)
    if case is None:
        return None
    case.human_requested = True
    uow.events.append(case, [make_event("human_requested", actor, "群众要求转人工", case_id=case.case_number,
                                        at=ctx.now())])
    return case.case_number


def raise_alert(uow: UnitOfWork, ctx: CaseContext, conversation_id: str, level: str, reason: str,
                excerpt: str) -> int:
    """Store a risk alert (masked excerpt) and mark the conversation's open case with the level."""
    case = uow.cases.newest_open(conversation_id=conversation_id)
    alert_id = uow.add_alert(conversation_id, case, level, reason, excerpt)
    if case is not None:
        case.risk_level = level
        uow.events.append(case, [make_event("alert_raised", SYSTEM_ACTOR, reason, case_id=case.case_number,
                                            at=ctx.now(), payload={"level": level})])
    return alert_id


def view(uow: UnitOfWork, case_number: str, owner: str | None = None) -> CaseView:
    """Return the case view with its events (read only)."""
    case = uow.cases.get(case_number, owner, lock=False)
    return case_view(case, uow.events.of_case(case))

"""Filing a case (受理): number, routing, repeat check, first clocks, in one unit of work.

Filing writes the lifecycle's ``accept`` (受理), the ``routed`` decision and the policy's extra
events; checks the person's earlier cases for a repeat petition (信访工作条例 第十九条, 第三十六条;
浙江省信访条例 第二十条) and links them with a ``repeat_linked`` event on both cases; a repeat that
is not accepted again is rejected with the reason; otherwise the case is assigned when the router
chose a person. It starts the register clock (第二十二条) and the handling clock the router chose.
A retried filing (same idempotency key) returns the case the first one created (RELIABILITY R2).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from routing.cases import statuses
from routing.cases.events import SYSTEM_ACTOR, Event, make_event
from routing.cases.repeat import check_acceptance
from routing.cases.steps import CaseContext, finish, move, start_clock
from routing.cases.uow import DuplicateCase, UnitOfWork
from routing.cases.values import CaseDraft, CaseView, FiledCase, Routed, RoutingPolicy, case_view
from routing.persistence.case_tables import Case
from routing.persistence.history import tier_of

FILED_REASON = "群众通过对话登记"


def file_case(uows: Callable[[], UnitOfWork], ctx: CaseContext, policy: RoutingPolicy, draft: CaseDraft,
              actor: str) -> FiledCase:
    """File a case, or return the one a previous identical filing created.

    Args:
        uows: opens a unit of work.
        ctx: time, rules and reference data.
        policy: decides handling body, tier and first clock.
        draft: the collected complaint.
        actor: who files.
    """
    key = draft.idempotency_key()
    with uows() as uow:
        existing = uow.cases.by_idempotency_key(key)
        if existing is not None:
            return FiledCase(case_view(existing), created=False)
    try:
        with uows() as uow:
            view = _file(uow, ctx, policy, draft, key, actor)
            uow.commit()
            return FiledCase(view, created=True)
    except DuplicateCase:
        # A concurrent retry with the same key won the race: answer with its case.
        with uows() as uow:
            case = uow.cases.by_idempotency_key(key)
            assert case is not None
            return FiledCase(case_view(case), created=False)


def _new_case(number: str, key: str, draft: CaseDraft, routed: Routed) -> Case:
    path = [*draft.category_path, None, None, None]
    return Case(
        case_number=number, idempotency_key=key, status=statuses.Status.ACCEPTED,
        category=draft.category, category_l2=path[1], category_l3=path[2], dispute_type=draft.dispute_type,
        classifier_confidence=draft.classifier_confidence, subject=draft.subject,
        narrative_original=draft.narrative_original, narrative_normalised=draft.narrative_normalised,
        script=draft.script, location_text=draft.location_text, location_code=draft.location_code,
        county_code=draft.county_code, respondent=draft.respondent, demand=draft.demand,
        contact_phone=draft.contact_phone, channel=draft.channel, channel_user_id=draft.channel_user_id,
        conversation_id=draft.conversation_id, risk_level=routed.risk_level or draft.risk_level,
        handling_body=routed.handling_body, body_id=routed.body_id, assigned_person_id=None,
        assigned_person_name=None, confidential=routed.confidential, hidden_from=list(routed.hidden_from),
        tier=routed.tier, routing_explanation=routed.explanation, due_date=routed.due_date,
    )


def _file(uow: UnitOfWork, ctx: CaseContext, policy: RoutingPolicy, draft: CaseDraft, key: str,
          actor: str) -> CaseView:
    today = ctx.today()
    routed = policy(draft, today)
    case = _new_case(uow.cases.next_number(today.year), key, draft, routed)
    _status, accepted = statuses.transition(None, "accept", actor, FILED_REASON, case_id=case.case_number,
                                             at=ctx.now(), payload={"channel": draft.channel})
    uow.cases.add(case)
    events: list[Event] = [accepted, make_event(
        "routed", SYSTEM_ACTOR, routed.explanation, case_id=case.case_number, at=ctx.now(),
        payload={"handling_body": routed.handling_body, "tier": routed.tier, "clock": routed.clock})]
    events += [make_event(kind, SYSTEM_ACTOR, reason, case_id=case.case_number, at=ctx.now(), payload=payload)
               for kind, reason, payload in routed.extra_events]
    clocks = CaseContext(ctx.today, routed.rules, routed.calendar, ctx.orgs, ctx.places, ctx.now)
    start_clock(uow, clocks, case, statuses.REGISTER_CLOCK, today, body_id=case.body_id)
    links, accepted_again = _repeat_links(uow, ctx, case, today)
    events += links
    events += _crisis_alerts(uow, ctx, case)
    if not accepted_again:  # a repeat that is not accepted again has been rejected
        return _filed(uow, case, events)
    if routed.status == statuses.Status.ASSIGNED and routed.person_id:
        events.append(move(uow, ctx, case, "assign", SYSTEM_ACTOR, f"分派给{routed.person_name}",
                           {"person_id": routed.person_id, "body_id": routed.body_id}))
        case.assigned_person_id, case.assigned_person_name = routed.person_id, routed.person_name
    if routed.clock:
        start_clock(uow, clocks, case, routed.clock, today, body_id=case.body_id)
    return _filed(uow, case, events)


def _filed(uow: UnitOfWork, case: Case, events: list[Event]) -> CaseView:
    """Write the filing's events, then let the centre raise what a new case brings at once."""
    view = finish(uow, case, events)
    uow.after_filing(case)
    return view


def _crisis_alerts(uow: UnitOfWork, ctx: CaseContext, case: Case) -> list[Event]:
    """A crisis the danger check raised in this conversation before filing joins the case (red)."""
    events = []
    for alert_id, reason, kind in uow.link_crisis_alerts(case):
        case.risk_level = "red"
        events.append(make_event("alert_raised", SYSTEM_ACTOR, reason, case_id=case.case_number, at=ctx.now(),
                                 payload={"level": "red", "alert_id": alert_id, "kind": kind}))
    return events


def _repeat_links(uow: UnitOfWork, ctx: CaseContext, case: Case, today: date) -> tuple[list[Event], bool]:
    """Link the person's earlier petitions on the same matter; reject a repeat that is not accepted.

    Returns:
        The case's new events and whether the case stays accepted.
    """
    orgs = ctx.orgs()
    check = check_acceptance(uow.petition_ref(case, orgs), uow.earlier_petitions(case, orgs),
                             target_tier=tier_of(orgs, case.body_id) or "county", as_of=today)
    events: list[Event] = []
    for linked in check.linked_case_ids:
        old = uow.cases.get(linked)
        events.append(make_event("repeat_linked", SYSTEM_ACTOR, check.reason, case_id=case.case_number,
                                 at=ctx.now(), payload={"linked_case": linked, "accepted": check.accept,
                                                        "articles": list(check.articles)}))
        uow.events.append(old, [make_event(
            "repeat_linked", SYSTEM_ACTOR, f"同一人再次反映同一事项（{case.case_number}）", case_id=old.case_number,
            at=ctx.now(), payload={"linked_case": case.case_number, "accepted": check.accept})])
    if not check.accept:
        events.append(move(uow, ctx, case, "reject", SYSTEM_ACTOR, check.reason,
                           {"articles": list(check.articles), "linked": list(check.linked_case_ids)}))
    return events, check.accept

"""Case life over the case store: every status change through ``routing.lifecycle.transition``.

Each public method runs in one transaction: it locks the case row, applies the lifecycle
transition (an illegal one raises :class:`routing.lifecycle.TransitionError` and nothing is
written), appends the returned events to ``case_events`` (``routing.store.events``), updates the
case's fields and its statutory clocks (``case_clocks``), and commits. ``cases.status`` therefore
always equals the replay of its events (:meth:`CaseLife.audit` checks it with
``lifecycle.assert_consistent``).

Clock policy: filing starts the register clock (信访工作条例 第二十二条) and the handling clock
the router chose; the register clock stops once the case is assigned; duty clocks stop when the
case is resolved, referred, rejected, withdrawn or archived; escalation, transfer and a
wrong-body return restart the handling clock at the new body. Windows that belong to the
citizen (复查 request, 第三十五条) or to a receiving body (transfer objection, 第二十三条) are
stored with state ``window``: shown on the case, never swept.

Domain errors propagate unchanged: ``TransitionError``, ``RoutingError`` (ladder),
``DeadlineError`` (clocks), ``ReceptionError`` (reception days), ``CaseNotFound``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from routing import deadlines, ladder, lifecycle
from routing import reception as rec
from routing.events import SYSTEM_ACTOR, Event, make_event
from routing.orgs import OrgDataError, Orgs, load_orgs
from routing.orm import Case, CaseEvent
from routing.repeat import AcceptanceCheck, check_acceptance
from routing.service import CaseNotFound, CaseView, Routed, append_event, case_view, utc_today
from routing.store import clocks as clock_store
from routing.store.events import append_events, to_domain
from routing.store.history import HANDLING_CLOCKS, SqlPetitionHistory, petition_ref, tier_of
from routing.store.reception import SqlReceptionRepository
from routing.store.tables import CaseClock
from routing.store.workload import SessionWorkload

CLOSING = frozenset({"resolved", "referred", "rejected", "withdrawn", "archived"})
ESCALATABLE = frozenset({"accepted", "assigned", "handling", "mediating"})
DUTY_CLOCKS = (*HANDLING_CLOCKS, "review_decide", "recheck_decide")
SATISFACTION_CODES = {**{v: k for k, v in lifecycle.SATISFACTION_LABELS.items()},
                      **{k: k for k in lifecycle.SATISFACTION_LABELS}}


class CaseLifeError(ValueError):
    """A case-life request that the stored case cannot support (no handling body, no window ...)."""


@dataclass(frozen=True, slots=True)
class ClockView:
    """A clock as shown on a case."""

    clock: str
    label: str
    article: str
    rule_set: str
    start: date
    due: date | None
    state: str
    extended_days: int
    paused_days: int
    stopped_at: date | None


@dataclass(frozen=True, slots=True)
class RatingResult:
    """The case after a rating, with the message for the citizen and the 复查 deadline if any."""

    view: CaseView
    citizen_message: str
    review_due: date | None


@dataclass(frozen=True, slots=True)
class SlotOffers:
    """Whether the case is eligible for a leader's reception day, and the open days offered."""

    eligibility: rec.Eligibility
    offers: tuple[rec.SlotOffer, ...]


@dataclass(frozen=True, slots=True)
class BookingResult:
    """A booking and the case after it."""

    booking: rec.Booking
    day: rec.ReceptionDay
    view: CaseView


@dataclass(frozen=True, slots=True)
class SweepItem:
    """One clock reported by the sweep."""

    case_number: str
    clock: str
    due: date
    status: str
    escalated_to: str | None = None


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep found and wrote."""

    as_of: date
    near_due: tuple[SweepItem, ...]
    overdue: tuple[SweepItem, ...]
    reminders: int

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready summary."""
        def items(xs: Sequence[SweepItem]) -> list[dict[str, object]]:
            return [{"case": i.case_number, "clock": i.clock, "due": i.due.isoformat(), "escalated_to": i.escalated_to}
                    for i in xs]

        return {"as_of": self.as_of.isoformat(), "near_due": items(self.near_due), "overdue": items(self.overdue),
                "escalated": sum(1 for i in self.overdue if i.escalated_to), "reminders": self.reminders}


# ---------------------------------------------------------------- helpers shared with filing


def _now() -> datetime:
    return datetime.now(UTC)


def _stop_on_status(session: Session, case: Case, on: date) -> None:
    """Stop the clocks whose duty the case's new status meets."""
    if case.status != "accepted":
        clock_store.stop_all(session, case.id, on, ("petition_register",))
    if case.status in CLOSING:
        clock_store.stop_all(session, case.id, on)


def _sync_due(session: Session, case: Case) -> None:
    """Show the due date of the newest running duty clock on the case."""
    duty = [c for c in clock_store.running(session, case.id, DUTY_CLOCKS) if c.due is not None]
    if duty:
        case.due_date = duty[-1].due


def _repeat_check(session: Session, case: Case, orgs: Orgs, today: date) -> AcceptanceCheck:
    new = petition_ref(session, case, orgs)
    earlier = SqlPetitionHistory(session, orgs, exclude_case_id=case.id).petitions_of(case.channel_user_id)
    return check_acceptance(new, earlier, target_tier=tier_of(orgs, case.body_id) or "county", as_of=today)


def record_filing(session: Session, case: Case, routed: Routed, today: date, actor: str) -> None:
    """Write a new case's events and clocks inside the filing transaction.

    Writes ``filed`` (受理), ``routed`` and the policy's extra events; checks the person's earlier
    cases for a repeat petition (信访工作条例 第十九条, 第三十六条; 浙江省信访条例 第二十条) and
    links them with a ``repeat_linked`` event on both cases; a repeat that is not accepted again is
    rejected with the reason; otherwise the case is assigned when the router chose a person. Starts
    the register clock (第二十二条) and the handling clock the router chose.

    Args:
        session: the filing transaction.
        case: the flushed case row (its status is the policy's choice).
        routed: the routing policy's result.
        today: the filing day (clocks start on it).
        actor: who filed.
    """
    final_status, case.status = case.status, "accepted"
    append_event(session, case, "filed", actor, "群众通过对话登记", {"channel": case.channel})
    append_event(session, case, "routed", SYSTEM_ACTOR, routed.explanation,
                 {"handling_body": routed.handling_body, "tier": routed.tier, "clock": routed.clock})
    assigned = [e for e in routed.extra_events if e[0] == "assigned"]
    for kind, reason, payload in routed.extra_events:
        if kind != "assigned":
            append_event(session, case, kind, SYSTEM_ACTOR, reason, payload)
    orgs = load_orgs()
    check = _repeat_check(session, case, orgs, today)
    for linked in check.linked_case_ids:
        old = session.execute(select(Case).where(Case.case_number == linked)).scalar_one()
        payload = {"linked_case": linked, "accepted": check.accept, "articles": list(check.articles)}
        append_event(session, case, "repeat_linked", SYSTEM_ACTOR, check.reason, payload)
        append_event(session, old, "repeat_linked", SYSTEM_ACTOR, f"同一人再次反映同一事项（{case.case_number}）",
                     {"linked_case": case.case_number, "accepted": check.accept})
    clock_store.start(session, case, "petition_register", today, routed.rules, body_id=case.body_id,
                      calendar=routed.calendar)
    if not check.accept:
        case.status, ev = lifecycle.transition(
            "accepted", "reject", SYSTEM_ACTOR, check.reason, case_id=case.case_number,
            payload={"articles": list(check.articles), "linked": list(check.linked_case_ids)})
        case.assigned_person_id = case.assigned_person_name = None
        append_events(session, case, [ev])
        _stop_on_status(session, case, today)
        return
    if final_status == "assigned" and assigned:
        case.status = "assigned"
        _kind, reason, payload = assigned[0]
        append_event(session, case, "assigned", SYSTEM_ACTOR, reason, payload)
    if routed.clock:
        clock_store.start(session, case, routed.clock, today, routed.rules, body_id=case.body_id,
                          calendar=routed.calendar)
    _stop_on_status(session, case, today)
    _sync_due(session, case)


# ---------------------------------------------------------------- the service


class CaseLife:
    """Case-life use cases over the case store (each method is one transaction)."""

    def __init__(self, sessions: sessionmaker, today: Callable[[], date] = utc_today, *, rules: str = "stricter",
                 orgs: Callable[[], Orgs] = load_orgs, places: Callable[[], object] | None = None,
                 calendar: deadlines.HolidayCalendar = deadlines.OFFICIAL) -> None:
        """Wire the service.

        Args:
            sessions: session factory of the case database.
            today: the clock (China Standard Time dates by default).
            rules: deadline rules, ``national`` | ``zhejiang`` | ``stricter``.
            orgs: returns the organisation data (loaded lazily).
            places: returns the division index (``routing.places.load_divisions`` by default).
            calendar: the holiday calendar every clock is counted on (one per process, from
                ``fengqiao.bootstrap``).
        """
        self._sessions = sessions
        self._today = today
        self._rules = rules
        self._orgs = orgs
        self._places = places
        self._calendar = calendar

    # ------------------------------------------------------------ internals

    def _place_index(self):  # type: ignore[no-untyped-def]
        if self._places is not None:
            return self._places()
        from routing.places import load_divisions  # lazy

        return load_divisions()

    @staticmethod
    def _load(session: Session, case_number: str, channel_user_id: str | None = None) -> Case:
        q = select(Case).where(Case.case_number == case_number.strip().upper()).with_for_update()
        case = session.execute(q).scalar()
        if case is None or (channel_user_id is not None and case.channel_user_id != channel_user_id):
            raise CaseNotFound(case_number)
        return case

    def _move(self, session: Session, case: Case, action: str, actor: str, reason: str = "",
              payload: dict | None = None) -> Event:
        new, ev = lifecycle.transition(case.status, action, actor, reason, case_id=case.case_number, at=_now(),
                                       payload=payload)
        case.status = new
        _stop_on_status(session, case, self._today())
        return ev

    def _finish(self, session: Session, case: Case, events: Sequence[Event]) -> CaseView:
        append_events(session, case, events)
        _sync_due(session, case)
        session.flush()
        return case_view(case)

    def _change(self, case_number: str, action: str, actor: str, reason: str = "", *,
                channel_user_id: str | None = None, payload: dict | None = None) -> CaseView:
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            ev = self._move(session, case, action, actor, reason, payload)
            return self._finish(session, case, [ev])

    @staticmethod
    def _facts(case: Case) -> ladder.CaseFacts:
        return ladder.CaseFacts(case_id=case.case_number, division=case.location_code or "",
                                text=case.narrative_normalised, category=case.category,
                                dispute_type=case.dispute_type, accused=tuple(case.hidden_from or ()))

    def _decision(self, session: Session, case: Case, orgs: Orgs) -> ladder.RoutingDecision:
        """Rebuild the current routing decision from the case and its earlier routing events."""
        if not case.body_id or not case.location_code:
            raise CaseLifeError(f"{case.case_number} has no ladder body or place to move from")
        try:
            body = orgs.body(case.body_id)
        except OrgDataError as exc:
            raise CaseLifeError(str(exc)) from None
        excluded: set[str] = set()
        for payload in session.execute(select(CaseEvent.payload).where(
                CaseEvent.case_id == case.id, CaseEvent.kind.like("routing_%"))).scalars():
            excluded.update(payload.get("excluded_body_ids") or ())
            if payload.get("body_id"):
                excluded.add(payload["body_id"])
        excluded.discard(body.id)
        return ladder.RoutingDecision(
            action="route", case_id=case.case_number, body_id=body.id, body_name=body.name, tier=body.tier,
            tier_label=case.tier or body.tier, division=body.division, explanation=case.routing_explanation or "",
            articles=(), person_id=case.assigned_person_id, person_name=case.assigned_person_name,
            confidential=case.confidential, hidden_from=tuple(case.hidden_from or ()),
            excluded_body_ids=tuple(sorted(excluded)))

    def _apply(self, session: Session, case: Case, d: ladder.RoutingDecision, actor: str, on: date,
               *, restart_clock: bool = True) -> list[Event]:
        """Store a new routing decision on the case: fields, decision event, clocks, assignment."""
        case.handling_body, case.body_id, case.tier = d.body_name, d.body_id, d.tier_label
        case.routing_explanation = d.explanation
        case.assigned_person_id, case.assigned_person_name = None, None
        case.confidential = case.confidential or d.confidential
        events = [d.to_event(actor, at=_now())]
        if restart_clock and d.clock:
            clock_store.stop_all(session, case.id, on, HANDLING_CLOCKS)
            clock_store.start(session, case, d.clock, on, self._rules, calendar=self._calendar, body_id=d.body_id)
        if d.person_id and case.status in ("accepted", "escalated"):
            events.append(self._move(session, case, "assign", actor, f"分派给{d.person_name}",
                                     {"person_id": d.person_id, "body_id": d.body_id}))
            case.assigned_person_id, case.assigned_person_name = d.person_id, d.person_name
        return events

    def _escalate_in(self, session: Session, case: Case, why: str, actor: str, on: date,
                     note: str = "") -> list[Event]:
        orgs = self._orgs()
        current = self._decision(session, case, orgs)
        d = ladder.escalate(current, self._facts(case), orgs, why, places=self._place_index(),
                            workload=SessionWorkload(session), received_on=on, rules=self._rules,
                            calendar=self._calendar)
        reason = (note + "；" if note else "") + d.explanation
        events = [self._move(session, case, "escalate", actor, reason,
                             {"why": why, "from_body": current.body_id, "to_body": d.body_id,
                              "articles": list(d.articles)})]
        return events + self._apply(session, case, d, actor, on)

    # ------------------------------------------------------------ reading

    def view(self, case_number: str, channel_user_id: str | None = None) -> CaseView:
        """Return the case view (with events)."""
        with self._sessions() as session:
            return case_view(self._load(session, case_number, channel_user_id), with_events=True)

    def clocks(self, case_number: str, channel_user_id: str | None = None) -> list[ClockView]:
        """Return the case's clocks with their due dates and articles, oldest first."""
        with self._sessions() as session:
            case = self._load(session, case_number, channel_user_id)
            out = []
            for row in clock_store.clocks_of(session, case.id):
                rule = deadlines.load_rule_set(row.rule_set).rule(row.clock)
                out.append(ClockView(row.clock, rule.label, row.article, row.rule_set, row.start, row.due, row.state,
                                     row.extended_days, row.paused_days, row.stopped_at))
            return out

    def audit(self, case_number: str) -> list[Event]:
        """Return the case's events as domain events, after checking they replay to its status.

        Raises:
            routing.lifecycle.ReplayMismatch: the stored status disagrees with the events.
        """
        with self._sessions() as session:
            case = self._load(session, case_number)
            rows = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.seq)).scalars()
            events = to_domain(rows, case.case_number)
            lifecycle.assert_consistent(case.status, events)
            return events

    # ------------------------------------------------------------ handling

    def assign(self, case_number: str, actor: str, person_id: str | None = None, reason: str = "") -> CaseView:
        """Assign a handler in the case's body: the named person, or the least loaded competent one.

        Raises:
            CaseLifeError: no body, unknown person, or nobody free.
        """
        orgs = self._orgs()
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            if not case.body_id:
                raise CaseLifeError(f"{case.case_number} has no handling body yet")
            body = orgs.body(case.body_id)
            if person_id:
                person = next((p for p in orgs.people_of(body.id) if p.id == person_id), None)
            else:
                person = ladder.assign_person(body, orgs.specialty_of(case.dispute_type), orgs,
                                              SessionWorkload(session), exclude=tuple(case.hidden_from or ()))
            if person is None:
                raise CaseLifeError(f"no available person {person_id or ''} in {body.name}")
            ev = self._move(session, case, "assign", actor, reason or f"分派给{person.name}",
                            {"person_id": person.id, "body_id": body.id})
            case.assigned_person_id, case.assigned_person_name = person.id, person.name
            return self._finish(session, case, [ev])

    def start_handling(self, case_number: str, actor: str) -> CaseView:
        """办理: the assigned person starts handling the case."""
        return self._change(case_number, "start_handling", actor)

    def start_mediation(self, case_number: str, actor: str, reason: str = "") -> CaseView:
        """调解中: mediation starts (人民调解法 第十七条: with the parties' consent)."""
        return self._change(case_number, "start_mediation", actor, reason)

    def resolve(self, case_number: str, actor: str, *, agreement: bool, notes: str,
                escalate_on_failure: bool = True) -> CaseView:
        """办结 with an agreement, or record that none was reached.

        Without agreement (人民调解法 第二十六条) the parties are told the other routes: at a committee
        or higher the case is referred (status ``referred``); at a grid, village or township body
        it climbs the ladder (escalated and re-assigned) unless ``escalate_on_failure`` is False.

        Args:
            case_number: the case.
            actor: who records the outcome.
            agreement: an agreement (调解协议 / 办理结果) was reached.
            notes: what was agreed or why mediation ended; required.
            escalate_on_failure: climb the ladder from low tiers instead of referring.
        """
        if not notes.strip():
            raise lifecycle.TransitionError("an outcome needs notes")
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            today = self._today()
            if agreement:
                ev = self._move(session, case, "resolve", actor, notes, {"agreement": True})
                return self._finish(session, case, [ev])
            action = "fail_mediation" if case.status == "mediating" else "refer"
            lifecycle.transition(case.status, action, actor, notes)  # refuse early, before the ladder
            orgs = self._orgs()
            try:
                current = self._decision(session, case, orgs)
                d = ladder.escalate(current, self._facts(case), orgs, "mediation_failed",
                                    places=self._place_index(), workload=SessionWorkload(session),
                                    received_on=today, rules=self._rules,
                                    calendar=self._calendar)
            except (CaseLifeError, ladder.RoutingError):
                d = None
            if d is not None and d.action == "escalate" and escalate_on_failure:
                events = [self._move(session, case, "escalate", actor, f"{notes}；{d.explanation}",
                                     {"why": "mediation_failed", "to_body": d.body_id, "articles": list(d.articles)})]
                return self._finish(session, case, events + self._apply(session, case, d, actor, today))
            text = d.explanation if d is not None and d.action == "refer" else (
                f"{case.handling_body or '承办机构'}未能促成协议，已告知当事人可以依法通过{ladder.ROUTES_TEXT}等途径维护权利。")
            alternatives = list(d.alternatives) if d is not None else []
            ev = self._move(session, case, action, actor, f"{notes}；{text}",
                            {"agreement": False, "articles": list(ladder.ART_MEDIATION_FAILED),
                             "alternatives": alternatives, "referred_to": d.body_name if d else None})
            return self._finish(session, case, [ev])

    def follow_up(self, case_number: str, actor: str) -> CaseView:
        """回访评价: the case is visited back for the citizen's rating."""
        return self._change(case_number, "follow_up", actor)

    def rate(self, case_number: str, satisfaction: str, actor: str, *, reply_received_on: date | None = None,
             channel_user_id: str | None = None) -> RatingResult:
        """Record 满意 / 基本满意 / 不满意 (codes or Chinese labels).

        不满意 adds a supervisor follow-up event and opens the citizen's 复查 window (信访工作条例
        第三十五条: 30 days from receiving the written reply, ``reply_received_on``, today by default).
        """
        code = SATISFACTION_CODES.get(satisfaction.strip())
        if code is None:
            raise lifecycle.TransitionError(f"unknown satisfaction {satisfaction!r}")
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            replied = reply_received_on or self._today()
            outcome = lifecycle.rate(case.status, code, actor, reply_received_on=replied,
                                     case_id=case.case_number, rules=self._rules, at=_now(),
                                     calendar=self._calendar)
            case.status = outcome.status
            case.satisfaction = lifecycle.SATISFACTION_LABELS[code]
            if outcome.review_due is not None:
                clock_store.start(session, case, "review_request", replied, self._rules, calendar=self._calendar, window=True)
            view = self._finish(session, case, outcome.events)
            return RatingResult(view, outcome.citizen_message, outcome.review_due)

    def archive(self, case_number: str, actor: str, reason: str = "") -> CaseView:
        """归档."""
        return self._change(case_number, "archive", actor, reason)

    def reopen(self, case_number: str, actor: str, reason: str) -> CaseView:
        """重新办理: a resolved, referred or archived case goes back to 办理 (reason required)."""
        return self._change(case_number, "reopen", actor, reason)

    def reject(self, case_number: str, actor: str, reason: str) -> CaseView:
        """不予受理, with the reason the citizen is told (required)."""
        return self._change(case_number, "reject", actor, reason)

    def withdraw(self, case_number: str, actor: str, reason: str = "群众撤回", *,
                 channel_user_id: str | None = None) -> CaseView:
        """撤回 by the citizen."""
        return self._change(case_number, "withdraw", actor, reason, channel_user_id=channel_user_id)

    def escalate(self, case_number: str, actor: str, why: str = "risk", note: str = "") -> CaseView:
        """升级 up the ladder (``why``: ``risk`` or ``overdue``), re-routed and re-assigned.

        Raises:
            RoutingError: no higher competent body.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            lifecycle.transition(case.status, "escalate", actor, note or why)
            return self._finish(session, case, self._escalate_in(session, case, why, actor, self._today(), note))

    def request_review(self, case_number: str, actor: str, reason: str = "", *,
                       channel_user_id: str | None = None) -> CaseView:
        """复查 request (信访工作条例 第三十五条): within the citizen's window, starts the decision clock.

        Raises:
            TransitionError: not resolved yet, or the 30-day window has passed.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            today = self._today()
            windows = [c for c in clock_store.clocks_of(session, case.id) if c.clock == "review_request"]
            if windows and windows[-1].due is not None and today > windows[-1].due:
                raise lifecycle.TransitionError(
                    f"复查请求期限已于{windows[-1].due.isoformat()}届满（{windows[-1].article}）")
            ev = self._move(session, case, "request_review", actor, reason or "请求复查",
                            {"article": "信访工作条例 第三十五条"})
            clock_store.stop_all(session, case.id, today, ("review_request",))
            clock_store.start(session, case, "review_decide", today, self._rules, calendar=self._calendar, body_id=case.body_id)
            return self._finish(session, case, [ev])

    def decide_review(self, case_number: str, actor: str, opinion: str) -> CaseView:
        """复查意见 given: the review clock stops and the case is resolved again."""
        return self._change(case_number, "decide_review", actor, opinion)

    def request_recheck(self, case_number: str, actor: str, reason: str = "", *,
                        channel_user_id: str | None = None) -> CaseView:
        """复核 request (信访工作条例 第三十六条): only after a 复查 opinion.

        Raises:
            TransitionError: no 复查 was decided, or the status does not allow it.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            rows = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                   .order_by(CaseEvent.seq)).scalars()
            if not lifecycle.had_review(to_domain(rows, case.case_number)):
                raise lifecycle.TransitionError("复核须在复查意见作出之后提出（信访工作条例 第三十六条）")
            ev = self._move(session, case, "request_recheck", actor, reason or "请求复核",
                            {"article": "信访工作条例 第三十六条"})
            clock_store.start(session, case, "recheck_decide", self._today(), self._rules, calendar=self._calendar, body_id=case.body_id)
            return self._finish(session, case, [ev])

    def decide_recheck(self, case_number: str, actor: str, opinion: str) -> CaseView:
        """复核意见 given: final; the same facts are not accepted again (第三十六条第三款)."""
        return self._change(case_number, "decide_recheck", actor, opinion)

    def transfer(self, case_number: str, to_body_id: str, actor: str, reason: str) -> CaseView:
        """Transfer to another body (信访工作条例 第二十三条); opens its 5-working-day objection window.

        Raises:
            RoutingError: no reason, unknown body, or an accused body for a confidential case.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            lifecycle.transition(case.status, "transfer", actor, reason)
            orgs = self._orgs()
            d = ladder.transfer(self._decision(session, case, orgs), to_body_id, reason, self._facts(case), orgs,
                                workload=SessionWorkload(session))
            today = self._today()
            ev = self._move(session, case, "transfer", actor, d.explanation,
                            {"to_body": d.body_id, "articles": list(d.articles)})
            events = [ev, *self._apply(session, case, d, actor, today)]
            case.assigned_person_id, case.assigned_person_name = d.person_id, d.person_name
            clock_store.start(session, case, "transfer_objection", today, self._rules, calendar=self._calendar, window=True,
                              body_id=d.body_id)
            return self._finish(session, case, events)

    def return_wrong_body(self, case_number: str, actor: str, reason: str, *,
                          objected_on: date | None = None) -> CaseView:
        """The receiving body objects (within 5 working days, 信访工作条例 第二十三条) and the case is re-routed.

        Raises:
            RoutingError: no reason, or the objection is late (the body must handle the case).
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            lifecycle.transition(case.status, "return_wrong_body", actor, reason)
            windows = [c for c in clock_store.clocks_of(session, case.id)
                       if c.clock == "transfer_objection" and c.body_id == case.body_id]
            received = windows[-1].start if windows else case.created_at.date()
            on = objected_on or self._today()
            orgs = self._orgs()
            d = ladder.return_wrong_body(self._decision(session, case, orgs), self._facts(case), orgs,
                                         received_on=received, objected_on=on, reason=reason,
                                         places=self._place_index(), workload=SessionWorkload(session),
                                         rules=self._rules, calendar=self._calendar)
            ev = self._move(session, case, "return_wrong_body", actor, reason,
                            {"from_body": case.body_id, "articles": list(ladder.ART_TRANSFER)})
            for w in windows:
                w.stopped_at = on
            return self._finish(session, case, [ev, *self._apply(session, case, d, actor, on)])

    # ------------------------------------------------------------ clocks

    def _clock_row(self, session: Session, case: Case, clock: str) -> CaseClock:
        rows = clock_store.running(session, case.id, (clock,))
        if not rows:
            raise CaseLifeError(f"{case.case_number} has no running {clock} clock")
        return rows[-1]

    def extend_clock(self, case_number: str, clock: str, days: int, approver: str, reason: str) -> ClockView:
        """Extend a running clock with approver and reason (e.g. 信访工作条例 第三十四条).

        Raises:
            ExtensionError: not extendable, no approver or reason, too long, or too late.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            row = self._clock_row(session, case, clock)
            new, ev = deadlines.extend(clock_store.to_clock(row, case.case_number, self._calendar), days, approver, reason,
                                       self._today(), at=_now())
            clock_store.save(row, new)
            self._finish(session, case, [ev])
            return self._clock_view(row)

    def pause_clock(self, case_number: str, clock: str, reason: str, actor: str = SYSTEM_ACTOR) -> ClockView:
        """Pause a pausable clock from today (e.g. a hearing, 信访工作条例 第三十六条)."""
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            row = self._clock_row(session, case, clock)
            new, ev = deadlines.pause(clock_store.to_clock(row, case.case_number, self._calendar), self._today(), reason, actor)
            clock_store.save(row, new)
            self._finish(session, case, [ev])
            return self._clock_view(row)

    def resume_clock(self, case_number: str, clock: str, actor: str = SYSTEM_ACTOR,
                     last_paused_day: date | None = None) -> ClockView:
        """Resume a paused clock; ``last_paused_day`` (default yesterday) is the last day not counted."""
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            row = self._clock_row(session, case, clock)
            on = last_paused_day or (self._today() - timedelta(days=1))
            new, ev = deadlines.resume(clock_store.to_clock(row, case.case_number, self._calendar), on, actor)
            clock_store.save(row, new)
            self._finish(session, case, [ev])
            return self._clock_view(row)

    @staticmethod
    def _clock_view(row: CaseClock) -> ClockView:
        rule = deadlines.load_rule_set(row.rule_set).rule(row.clock)
        return ClockView(row.clock, rule.label, row.article, row.rule_set, row.start, row.due, row.state,
                         row.extended_days, row.paused_days, row.stopped_at)

    # ------------------------------------------------------------ sweep

    def sweep(self, as_of: date | None = None, near_days: int = 3, *, escalate: bool = True,
              now: datetime | None = None) -> SweepReport:
        """Report near-due and overdue clocks once each; escalate overdue handling tiers.

        Each newly near-due or overdue clock gets one ``deadline_near_due`` / ``deadline_overdue``
        event; a second sweep the same day writes nothing new. An overdue handling clock
        (``petition_handle``, ``mediation``, ``labour_mediation``) of a case still at its tier climbs
        the ladder (``routing.ladder.escalate``, reason ``overdue``). Reception reminders due within
        24 hours of ``now`` are sent in the same run.

        Args:
            as_of: the sweep day (today by default).
            near_days: a clock due within this many days is near due.
            escalate: escalate overdue handling tiers.
            now: the time for reception reminders (``as_of`` at 09:00 China time by default).
        """
        as_of = as_of or self._today()
        with self._sessions() as session:
            found = clock_store.due_clocks(session, as_of, near_days)
        near: list[SweepItem] = []
        over: list[SweepItem] = []
        for item in found:
            with self._sessions.begin() as session:
                row = session.get(CaseClock, item.clock_id, with_for_update=True)
                if row is None or row.state != item.state or row.due != item.due:
                    continue  # another sweep got there first
                status: Literal["near_due", "overdue"] = "overdue" if item.due < as_of else "near_due"
                case = session.execute(select(Case).where(Case.id == item.case_id).with_for_update()).scalar_one()
                alert = deadlines.ClockAlert(case.case_number, row.clock, item.due, status,
                                             (item.due - as_of).days, row.article)
                events = deadlines.alert_events([alert], at=_now())
                row.state = status
                target = None
                if (status == "overdue" and escalate and row.clock in HANDLING_CLOCKS
                        and case.status in ESCALATABLE and row.body_id == case.body_id):
                    try:
                        events += self._escalate_in(session, case, "overdue", SYSTEM_ACTOR, as_of)
                        target = case.handling_body
                    except (ladder.RoutingError, CaseLifeError) as exc:
                        events.append(make_event("escalation_blocked", SYSTEM_ACTOR, str(exc),
                                                 case_id=case.case_number, payload={"clock": row.clock}))
                self._finish(session, case, events)
                (over if status == "overdue" else near).append(
                    SweepItem(case.case_number, row.clock, item.due, status, target))
        reminders = self.send_reminders(now or datetime.combine(as_of, time(9, 0), rec.CST))
        return SweepReport(as_of, tuple(near), tuple(over), reminders)

    # ------------------------------------------------------------ reception days (浦江经验)

    def publish_day(self, day: rec.ReceptionDay, actor: str) -> rec.ReceptionDay:
        """Publish (or re-publish) a leader's reception day."""
        published, _ev = rec.publish_day(day, today=self._today(), actor=actor)
        with self._sessions.begin() as session:
            SqlReceptionRepository(session).save_day(published)
        return published

    def offer_slots_for_case(self, case_number: str, *, channel_user_id: str | None = None,
                             citizen_asks: bool = False, complex_matter: bool = False, departments: int = 1,
                             horizon_days: int = 60, limit: int = 3) -> SlotOffers:
        """Offer the next open reception days that fit the case, if the case is eligible.

        Eligible (浦江经验): complex, open 6 months or more, repeated (2+ linked petitions), several
        departments, or the citizen asks (also when a ``leader_requested`` event is on the case).
        Days match the case's specialty or category and lie on its division path.
        """
        orgs = self._orgs()
        today = self._today()
        with self._sessions() as session:
            case = self._load(session, case_number, channel_user_id)
            kinds = list(session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).scalars())
            months = (today - case.created_at.date()).days // 30
            elig = rec.eligibility(complex_matter=complex_matter, months_open=months,
                                   previous_petitions=kinds.count("repeat_linked"), departments=departments,
                                   citizen_asks=citizen_asks or "leader_requested" in kinds)
            if not elig.eligible:
                return SlotOffers(elig, ())
            repo = SqlReceptionRepository(session)
            days = repo.days_between(today + timedelta(days=1), today + timedelta(days=horizon_days))
            bookings = {d.id: repo.bookings_for_day(d.id) for d in days}
            places = self._place_index()
            path = [d.code for d in places.path(case.location_code)] if case.location_code in places else []
            topics = [t for t in (orgs.specialty_of(case.dispute_type), case.category) if t]
            offers = rec.offer_slots(days, bookings, today=today, topics=topics, divisions=path, limit=limit)
            return SlotOffers(elig, tuple(offers))

    def book_slot(self, case_number: str, day_id: str, *, representatives: int = 1,
                  channel_user_id: str | None = None, actor: str | None = None) -> BookingResult:
        """Book the case onto a reception day (status 预约接访; at most 5 representatives, 第二十条).

        Raises:
            TooManyRepresentatives, DayFull, ReceptionError: the booking is refused.
            TransitionError: the case's status does not allow a booking.
        """
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            repo = SqlReceptionRepository(session)
            day = repo.day(day_id)
            if day is None:
                raise rec.ReceptionError(f"unknown reception day {day_id}")
            who = actor or f"citizen:{case.channel_user_id}"
            lifecycle.transition(case.status, "book_reception", who)
            booking, ev_book = rec.book(day, repo.bookings_for_day(day_id, lock=True),
                                        booking_id=f"bk-{uuid.uuid4().hex[:12]}", case_id=case.case_number,
                                        citizen_id=case.channel_user_id, representatives=representatives,
                                        today=self._today(), at=_now())
            ev = self._move(session, case, "book_reception", who, rec.ART_RECEPTION,
                            {"booking_id": booking.id, "day_id": day.id})
            repo.save_booking(booking)
            return BookingResult(booking, day, self._finish(session, case, [ev, ev_book]))

    def _active_booking(self, repo: SqlReceptionRepository, case: Case, booking_id: str | None) -> rec.Booking:
        booked = [b for b in repo.bookings_for_case(case.case_number) if b.status == "booked"]
        if booking_id:
            booked = [b for b in booked if b.id == booking_id]
        if not booked:
            raise rec.ReceptionError(f"{case.case_number} has no active reception booking")
        return booked[-1]

    def booked_day_ids(self, case_number: str, *, channel_user_id: str | None = None) -> set[str]:
        """Return the reception days the case is currently booked on."""
        with self._sessions() as session:
            case = self._load(session, case_number, channel_user_id)
            repo = SqlReceptionRepository(session)
            return {b.day_id for b in repo.bookings_for_case(case.case_number) if b.status == "booked"}

    def cancel_booking(self, case_number: str, reason: str, *, actor: str | None = None,
                       channel_user_id: str | None = None, booking_id: str | None = None) -> CaseView:
        """Cancel the case's booking (its place is freed; the case goes back to 办理)."""
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            repo = SqlReceptionRepository(session)
            who = actor or f"citizen:{case.channel_user_id}"
            booking = self._active_booking(repo, case, booking_id)
            lifecycle.transition(case.status, "cancel_reception", who, reason)
            cancelled, ev_cancel = rec.cancel(booking, who, reason)
            ev = self._move(session, case, "cancel_reception", who, reason, {"booking_id": booking.id})
            repo.save_booking(cancelled)
            return self._finish(session, case, [ev, ev_cancel])

    def reschedule_booking(self, case_number: str, new_day_id: str, *, actor: str | None = None,
                           channel_user_id: str | None = None) -> BookingResult:
        """Move the case's booking to another day (the new place is taken before the old is freed)."""
        with self._sessions.begin() as session:
            case = self._load(session, case_number, channel_user_id)
            repo = SqlReceptionRepository(session)
            who = actor or f"citizen:{case.channel_user_id}"
            booking = self._active_booking(repo, case, None)
            day = repo.day(new_day_id)
            if day is None:
                raise rec.ReceptionError(f"unknown reception day {new_day_id}")
            lifecycle.transition(case.status, "reschedule_reception", who)
            old, new, evs = rec.reschedule(booking, day, repo.bookings_for_day(new_day_id, lock=True),
                                           new_booking_id=f"bk-{uuid.uuid4().hex[:12]}", actor=who,
                                           today=self._today())
            ev = self._move(session, case, "reschedule_reception", who, "", {"from": booking.id, "to": new.id})
            repo.save_booking(old)
            repo.save_booking(new)
            return BookingResult(new, day, self._finish(session, case, [ev, *evs]))

    def record_reception(self, booking_id: str, *, notes: str, actor: str, take_charge: bool = False,
                         target_date: date | None = None) -> CaseView:
        """Record the reception; the leader may take the case in charge (包案) until a target date."""
        with self._sessions.begin() as session:
            repo = SqlReceptionRepository(session)
            booking = repo.booking(booking_id)
            if booking is None:
                raise rec.ReceptionError(f"unknown booking {booking_id}")
            day = repo.day(booking.day_id)
            assert day is not None
            case = self._load(session, booking.case_id)
            lifecycle.transition(case.status, "record_reception", actor)
            received, evs, baoan = rec.record_reception(booking, day, notes=notes, actor=actor, on=self._today(),
                                                        take_charge=take_charge, target_date=target_date)
            ev = self._move(session, case, "record_reception", actor, notes, {"booking_id": booking.id})
            repo.save_booking(received)
            if baoan is not None:
                repo.save_baoan(baoan, booking_id=booking.id)
            return self._finish(session, case, [ev, *evs])

    def close_baoan(self, case_number: str, actor: str) -> list[rec.BaoAn]:
        """Close the case's open 包案 once it is resolved (on time or late is recorded)."""
        with self._sessions.begin() as session:
            case = self._load(session, case_number)
            repo = SqlReceptionRepository(session)
            closed, events = [], []
            for b in repo.open_baoan(case.case_number):
                done, ev = rec.close_baoan(b, case_status=case.status, on=self._today(), actor=actor)
                repo.save_baoan(done)
                closed.append(done)
                events.append(ev)
            self._finish(session, case, events)
            return closed

    def overdue_baoan(self) -> list[rec.BaoAn]:
        """Open 包案 past their target date (for the centre's supervision)."""
        with self._sessions() as session:
            return rec.overdue_baoan(SqlReceptionRepository(session).open_baoan(), self._today())

    def send_reminders(self, now: datetime | None = None, hours_before: int = 24) -> int:
        """Write a ``reception_reminder`` event for each booked day starting within ``hours_before`` (once)."""
        now = now or _now()
        sent = 0
        with self._sessions.begin() as session:
            repo = SqlReceptionRepository(session)
            local = now.astimezone(rec.CST).date()
            pending = repo.unreminded(local - timedelta(days=1), local + timedelta(days=hours_before // 24 + 1))
            days = {b.day_id: repo.day(b.day_id) for b, _row in pending}
            by_id = {b.id: row for b, row in pending}
            for ev in rec.due_reminders([b for b, _ in pending], days, now, hours_before):  # type: ignore[arg-type]
                case = self._load(session, ev.case_id)
                append_events(session, case, [ev])
                by_id[ev.payload["booking_id"]].reminded_at = now
                sent += 1
        return sent


"""Case life: the use cases after filing, each one unit of work, behind one object.

:class:`CaseLife` is the entry point the action server, the console and the `fengqiao` command
hold (built once in ``fengqiao.bootstrap``). Each method opens a unit of work
(``routing.cases.uow``), runs one use case and commits once:

- handling (``routing.cases.handling``): assign, hand to a colleague, handle, mediate, resolve,
  follow up, rate, archive, reopen, reject, withdraw, notes;
- review (``routing.cases.review``): 复查 and 复核;
- transfer (``routing.cases.transfer``): escalation, transfer, return of a wrong body;
- clocks and the sweep (``routing.cases.clocks``);
- reception days (``routing.cases.reception``).

Every status change goes through ``routing.cases.statuses.transition`` (an illegal one raises
:class:`routing.cases.statuses.TransitionError` and nothing is written); ``cases.status`` therefore
always equals the replay of its events (:meth:`CaseLife.audit` checks it).

Clock policy (``routing.cases.statuses.clocks_stopped_by``): filing starts the register clock
(信访工作条例 第二十二条) and the handling clock the router chose; the register clock stops once
the case leaves 受理; duty clocks stop when the case is resolved, referred, rejected, withdrawn
or archived; escalation, transfer and a wrong-body return restart the handling clock at the new
body. Windows that belong to the citizen (复查 request, 第三十五条) or to a receiving body
(transfer objection, 第二十三条) are stored with state ``window``: shown, never swept.

Domain errors propagate unchanged: ``TransitionError``, ``RoutingError`` (ladder),
``DeadlineError`` (clocks), ``ReceptionError`` (reception days), ``CaseNotFound``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import sessionmaker

from routing.cases import clocks, handling, reception, review, statuses, transfer
from routing.cases import reception_days as rec
from routing.cases.clocks import ClockView, SweepItem, SweepReport
from routing.cases.deadlines import OFFICIAL, HolidayCalendar
from routing.cases.events import SYSTEM_ACTOR, Event
from routing.cases.handling import SATISFACTION_CODES, RatingResult
from routing.cases.reception import BookingResult, SlotOffers
from routing.cases.statuses import CLOSING, DUTY_CLOCKS, ESCALATABLE
from routing.cases.steps import CaseContext, CaseLifeError, change
from routing.cases.uow import UnitOfWork, sql_units_of_work
from routing.cases.values import CaseView, utc_today
from routing.orgs.registry import Orgs, load_orgs

__all__ = [
    "CLOSING", "DUTY_CLOCKS", "ESCALATABLE", "SATISFACTION_CODES", "BookingResult", "CaseLife", "CaseLifeError",
    "ClockView", "RatingResult", "SlotOffers", "SweepItem", "SweepReport",
]

T = TypeVar("T")


class CaseLife:
    """Case-life use cases over the case store (each method is one unit of work)."""

    def __init__(self, sessions: sessionmaker | None = None, today: Callable[[], date] = utc_today, *,
                 rules: str = "stricter", orgs: Callable[[], Orgs] = load_orgs,
                 places: Callable[[], Any] | None = None, calendar: HolidayCalendar = OFFICIAL,
                 uows: Callable[[], UnitOfWork] | None = None) -> None:
        """Wire the service.

        Args:
            sessions: session factory of the case database (or give ``uows``).
            today: the clock (China Standard Time dates by default).
            rules: deadline rules, ``national`` | ``zhejiang`` | ``stricter``.
            orgs: returns the organisation data (loaded lazily).
            places: returns the division index (``routing.understanding.places.load_divisions`` by default).
            calendar: the holiday calendar every clock is counted on (one per process, from
                ``fengqiao.bootstrap``).
            uows: opens a unit of work (a fake one in unit tests); default: SQL on ``sessions``.
        """
        if uows is None:
            if sessions is None:
                raise ValueError("CaseLife needs sessions or uows")
            uows = sql_units_of_work(sessions)
        self._uows: Callable[[], UnitOfWork] = uows
        self._sessions = sessions
        self.ctx = CaseContext(today, rules, calendar, orgs) if places is None else (
            CaseContext(today, rules, calendar, orgs, places))

    @property
    def _calendar(self) -> HolidayCalendar:
        return self.ctx.calendar

    def _write(self, use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a use case in a new unit of work and commit once."""
        with self._uows() as uow:
            result = use_case(uow, self.ctx, *args, **kwargs)
            uow.commit()
            return result

    def _read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read-only query in a unit of work that is rolled back."""
        with self._uows() as uow:
            return query(uow, *args, **kwargs)

    # ------------------------------------------------------------ reading

    def view(self, case_number: str, channel_user_id: str | None = None) -> CaseView:
        """Return the case view (with events)."""
        return self._read(handling.view, case_number, channel_user_id)

    def clocks(self, case_number: str, channel_user_id: str | None = None) -> list[ClockView]:
        """Return the case's clocks with their due dates and articles, oldest first."""
        return self._read(clocks.clocks, self.ctx, case_number, channel_user_id)

    def audit(self, case_number: str) -> list[Event]:
        """Return the case's events, after checking they replay to its status.

        Raises:
            routing.cases.statuses.ReplayMismatch: the stored status disagrees with the events.
        """
        def audit(uow: UnitOfWork) -> list[Event]:
            case = uow.cases.get(case_number, lock=False)
            events = uow.events.of_case(case)
            statuses.assert_consistent(case.status, events)
            return events

        return self._read(audit)

    # ------------------------------------------------------------ handling

    def assign(self, case_number: str, actor: str, person_id: str | None = None, reason: str = "") -> CaseView:
        """Assign a handler in the case's body: the named person, or the least loaded competent one."""
        return self._write(handling.assign, case_number, actor, person_id, reason)

    def hand_to(self, case_number: str, actor: str, person_id: str, person_name: str, reason: str, *,
                expected_status: str | None = None) -> CaseView:
        """Put the case in a named person's hands (console claim, assignment, transfer to a colleague)."""
        return self._write(handling.hand_to, case_number, actor, person_id, person_name, reason,
                           expected_status=expected_status)

    def start_handling(self, case_number: str, actor: str) -> CaseView:
        """办理: the assigned person starts handling the case."""
        return self._write(change, case_number, "start_handling", actor)

    def start_mediation(self, case_number: str, actor: str, reason: str = "") -> CaseView:
        """调解中: mediation starts (人民调解法 第十七条: with the parties' consent)."""
        return self._write(change, case_number, "start_mediation", actor, reason)

    def resolve(self, case_number: str, actor: str, *, agreement: bool, notes: str,
                escalate_on_failure: bool = True) -> CaseView:
        """办结 with an agreement, or record that none was reached (see ``handling.resolve``)."""
        return self._write(handling.resolve, case_number, actor, agreement=agreement, notes=notes,
                           escalate_on_failure=escalate_on_failure)

    def follow_up(self, case_number: str, actor: str) -> CaseView:
        """回访评价: the case is visited back for the citizen's rating."""
        return self._write(change, case_number, "follow_up", actor)

    def rate(self, case_number: str, satisfaction: str, actor: str, *, reply_received_on: date | None = None,
             channel_user_id: str | None = None) -> RatingResult:
        """Record 满意 / 基本满意 / 不满意 (codes or Chinese labels); 不满意 opens the 复查 window."""
        return self._write(handling.rate, case_number, satisfaction, actor,
                           reply_received_on=reply_received_on, owner=channel_user_id)

    def archive(self, case_number: str, actor: str, reason: str = "") -> CaseView:
        """归档."""
        return self._write(change, case_number, "archive", actor, reason)

    def reopen(self, case_number: str, actor: str, reason: str) -> CaseView:
        """重新办理: a resolved, referred or archived case goes back to 办理 (reason required)."""
        return self._write(change, case_number, "reopen", actor, reason)

    def reject(self, case_number: str, actor: str, reason: str) -> CaseView:
        """不予受理, with the reason the citizen is told (required)."""
        return self._write(change, case_number, "reject", actor, reason)

    def withdraw(self, case_number: str, actor: str, reason: str = "群众撤回", *,
                 channel_user_id: str | None = None) -> CaseView:
        """撤回 by the citizen."""
        return self._write(change, case_number, "withdraw", actor, reason, owner=channel_user_id)

    def note(self, case_number: str, kind: str, actor: str, reason: str = "", payload: dict | None = None, *,
             channel_user_id: str | None = None) -> CaseView:
        """Add an event that changes no status (催办, 补充材料, 希望面见领导 ...)."""
        return self._write(handling.note, case_number, kind, actor, reason, payload, owner=channel_user_id)

    # ------------------------------------------------------------ transfer and escalation

    def escalate(self, case_number: str, actor: str, why: str = "risk", note: str = "") -> CaseView:
        """升级 up the ladder (``why``: ``risk`` or ``overdue``), re-routed and re-assigned."""
        return self._write(transfer.escalate, case_number, actor, why, note)

    def transfer(self, case_number: str, to_body_id: str, actor: str, reason: str) -> CaseView:
        """Transfer to another body (信访工作条例 第二十三条); opens its objection window."""
        return self._write(transfer.transfer, case_number, to_body_id, actor, reason)

    def return_wrong_body(self, case_number: str, actor: str, reason: str, *,
                          objected_on: date | None = None) -> CaseView:
        """The receiving body objects (within 5 working days) and the case is re-routed."""
        return self._write(transfer.return_wrong_body, case_number, actor, reason, objected_on=objected_on)

    # ------------------------------------------------------------ review

    def request_review(self, case_number: str, actor: str, reason: str = "", *,
                       channel_user_id: str | None = None) -> CaseView:
        """复查 request (信访工作条例 第三十五条): within the citizen's window."""
        return self._write(review.request_review, case_number, actor, reason, owner=channel_user_id)

    def decide_review(self, case_number: str, actor: str, opinion: str) -> CaseView:
        """复查意见 given: the review clock stops and the case is resolved again."""
        return self._write(review.decide_review, case_number, actor, opinion)

    def request_recheck(self, case_number: str, actor: str, reason: str = "", *,
                        channel_user_id: str | None = None) -> CaseView:
        """复核 request (信访工作条例 第三十六条): only after a 复查 opinion."""
        return self._write(review.request_recheck, case_number, actor, reason, owner=channel_user_id)

    def decide_recheck(self, case_number: str, actor: str, opinion: str) -> CaseView:
        """复核意见 given: final (第三十六条第三款)."""
        return self._write(review.decide_recheck, case_number, actor, opinion)

    # ------------------------------------------------------------ clocks

    def extend_clock(self, case_number: str, clock: str, days: int, approver: str, reason: str) -> ClockView:
        """Extend a running clock with approver and reason (e.g. 信访工作条例 第三十四条)."""
        return self._write(clocks.extend_clock, case_number, clock, days, approver, reason)

    def pause_clock(self, case_number: str, clock: str, reason: str, actor: str = SYSTEM_ACTOR) -> ClockView:
        """Pause a pausable clock from today (e.g. a hearing, 信访工作条例 第三十六条)."""
        return self._write(clocks.pause_clock, case_number, clock, reason, actor)

    def resume_clock(self, case_number: str, clock: str, actor: str = SYSTEM_ACTOR,
                     last_paused_day: date | None = None) -> ClockView:
        """Resume a paused clock; ``last_paused_day`` (default yesterday) is the last day not counted."""
        return self._write(clocks.resume_clock, case_number, clock, actor, last_paused_day)

    def sweep(self, as_of: date | None = None, near_days: int = 3, *, escalate: bool = True,
              now: datetime | None = None) -> SweepReport:
        """Report near-due and overdue clocks once each; escalate overdue handling tiers."""
        return clocks.sweep(self._uows, self.ctx, as_of, near_days, escalate=escalate, now=now)

    # ------------------------------------------------------------ reception days (浦江经验)

    def publish_day(self, day: rec.ReceptionDay, actor: str) -> rec.ReceptionDay:
        """Publish (or re-publish) a leader's reception day."""
        return self._write(reception.publish_day, day, actor)

    def offer_slots_for_case(self, case_number: str, *, channel_user_id: str | None = None,
                             citizen_asks: bool = False, complex_matter: bool = False, departments: int = 1,
                             horizon_days: int = 60, limit: int = 3) -> SlotOffers:
        """Offer the next open reception days that fit the case, if the case is eligible."""
        with self._uows() as uow:
            return reception.offer_slots(uow, self.ctx, case_number, owner=channel_user_id,
                                              citizen_asks=citizen_asks, complex_matter=complex_matter,
                                              departments=departments, horizon_days=horizon_days, limit=limit)

    def book_slot(self, case_number: str, day_id: str, *, representatives: int = 1,
                  channel_user_id: str | None = None, actor: str | None = None) -> BookingResult:
        """Book the case onto a reception day (status 预约接访; at most 5 representatives)."""
        return self._write(reception.book, case_number, day_id, representatives=representatives,
                           owner=channel_user_id, actor=actor)

    def booked_day_ids(self, case_number: str, *, channel_user_id: str | None = None) -> set[str]:
        """Return the reception days the case is currently booked on."""
        return self._read(reception.booked_day_ids, case_number, owner=channel_user_id)

    def cancel_booking(self, case_number: str, reason: str, *, actor: str | None = None,
                       channel_user_id: str | None = None, booking_id: str | None = None) -> CaseView:
        """Cancel the case's booking (its place is freed; the case goes back to 办理)."""
        return self._write(reception.cancel, case_number, reason, actor=actor, owner=channel_user_id,
                           booking_id=booking_id)

    def reschedule_booking(self, case_number: str, new_day_id: str, *, actor: str | None = None,
                           channel_user_id: str | None = None) -> BookingResult:
        """Move the case's booking to another day (the new place is taken before the old is freed)."""
        return self._write(reception.reschedule, case_number, new_day_id, actor=actor, owner=channel_user_id)

    def record_reception(self, booking_id: str, *, notes: str, actor: str, take_charge: bool = False,
                         target_date: date | None = None) -> CaseView:
        """Record the reception; the leader may take the case in charge (包案) until a target date."""
        return self._write(reception.record_reception, booking_id, notes=notes, actor=actor,
                           take_charge=take_charge, target_date=target_date)

    def close_baoan(self, case_number: str, actor: str) -> list[rec.BaoAn]:
        """Close the case's open 包案 once it is resolved (on time or late is recorded)."""
        return self._write(reception.close_baoan, case_number, actor)

    def overdue_baoan(self) -> list[rec.BaoAn]:
        """Open 包案 past their target date (for the centre's supervision)."""
        with self._uows() as uow:
            return reception.overdue_baoan(uow, self.ctx)

    def send_reminders(self, now: datetime | None = None, hours_before: int = 24) -> int:
        """Write a ``reception_reminder`` event for each booked day starting within ``hours_before`` (once)."""
        return self._write(reception.send_reminders, now, hours_before)

"""Statutory clocks on a case: show, extend, pause, resume, and the daily sweep.

The sweep reports each newly near-due or overdue clock once (``deadline_near_due`` /
``deadline_overdue``); an overdue handling clock of a case still at its tier climbs the ladder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from routing.cases import deadlines
from routing.cases import reception_days as rec
from routing.cases.events import SYSTEM_ACTOR, make_event
from routing.cases.reception import send_reminders
from routing.cases.statuses import ESCALATABLE, HANDLING_CLOCKS
from routing.cases.steps import CaseContext, CaseLifeError, finish, load, running
from routing.cases.transfer import escalate_in
from routing.cases.uow import UnitOfWork
from routing.orgs import ladder
from routing.persistence import clocks as clock_store
from routing.persistence.case_tables import Case
from routing.persistence.life_tables import CaseClock


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
    estimated: bool = False  # the due date lies in a year no official source covers yet


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


def clock_view(row: CaseClock, calendar: deadlines.HolidayCalendar = deadlines.OFFICIAL) -> ClockView:
    """Return how a clock row is shown (an estimated due date says so)."""
    rule = deadlines.load_rule_set(row.rule_set).rule(row.clock)
    estimated = row.due is not None and calendar.is_estimated(row.due)
    return ClockView(row.clock, rule.label, row.article, row.rule_set, row.start, row.due, row.state,
                     row.extended_days, row.paused_days, row.stopped_at, estimated)


def clocks(uow: UnitOfWork, ctx: CaseContext, case_number: str, owner: str | None = None) -> list[ClockView]:
    """Return the case's clocks with their due dates and articles, oldest first (read only)."""
    case = uow.cases.get(case_number, owner, lock=False)
    return [clock_view(row, ctx.calendar) for row in uow.clocks.of_case(case)]


def _running_clock(uow: UnitOfWork, case: Case, clock: str) -> CaseClock:
    rows = running(uow, case, (clock,))
    if not rows:
        raise CaseLifeError(f"{case.case_number} has no running {clock} clock")
    return rows[-1]


def extend_clock(uow: UnitOfWork, ctx: CaseContext, case_number: str, clock: str, days: int, approver: str,
                 reason: str) -> ClockView:
    """Extend a running clock with approver and reason (e.g. 信访工作条例 第三十四条).

    Raises:
        ExtensionError: not extendable, no approver or reason, too long, or too late.
    """
    case = load(uow, case_number)
    row = _running_clock(uow, case, clock)
    new, ev = deadlines.extend(clock_store.to_clock(row, case.case_number, ctx.calendar), days, approver, reason,
                               ctx.today(), at=ctx.now())
    clock_store.save(row, new)
    finish(uow, case, [ev])
    return clock_view(row, ctx.calendar)


def pause_clock(uow: UnitOfWork, ctx: CaseContext, case_number: str, clock: str, reason: str,
                actor: str = SYSTEM_ACTOR) -> ClockView:
    """Pause a pausable clock from today (e.g. a hearing, 信访工作条例 第三十六条)."""
    case = load(uow, case_number)
    row = _running_clock(uow, case, clock)
    new, ev = deadlines.pause(clock_store.to_clock(row, case.case_number, ctx.calendar), ctx.today(), reason, actor)
    clock_store.save(row, new)
    finish(uow, case, [ev])
    return clock_view(row, ctx.calendar)


def resume_clock(uow: UnitOfWork, ctx: CaseContext, case_number: str, clock: str, actor: str = SYSTEM_ACTOR,
                 last_paused_day: date | None = None) -> ClockView:
    """Resume a paused clock; ``last_paused_day`` (default yesterday) is the last day not counted."""
    case = load(uow, case_number)
    row = _running_clock(uow, case, clock)
    on = last_paused_day or (ctx.today() - timedelta(days=1))
    new, ev = deadlines.resume(clock_store.to_clock(row, case.case_number, ctx.calendar), on, actor)
    clock_store.save(row, new)
    finish(uow, case, [ev])
    return clock_view(row, ctx.calendar)


def sweep(uows: Callable[[], UnitOfWork], ctx: CaseContext, as_of: date | None = None, near_days: int = 3, *,
          escalate: bool = True, now: datetime | None = None) -> SweepReport:
    """Report near-due and overdue clocks once each; escalate overdue handling tiers.

    Each clock is handled in its own unit of work (one failing case does not undo the others);
    a second sweep the same day finds nothing new. Reception reminders due within 24 hours of
    ``now`` (``as_of`` at 09:00 China time by default) are sent in the same run.
    """
    as_of = as_of or ctx.today()
    with uows() as uow:
        found = uow.clocks.due(as_of, near_days)
    near: list[SweepItem] = []
    over: list[SweepItem] = []
    for item in found:
        with uows() as uow:
            reported = _sweep_one(uow, ctx, item, as_of, escalate)
            uow.commit()
        if reported is not None:
            (over if reported.status == "overdue" else near).append(reported)
    with uows() as uow:
        reminders = send_reminders(uow, ctx, now or datetime.combine(as_of, time(9, 0), rec.CST))
        uow.commit()
    return SweepReport(as_of, tuple(near), tuple(over), reminders)


def _sweep_one(uow: UnitOfWork, ctx: CaseContext, item: clock_store.DueClock, as_of: date,
               escalate: bool) -> SweepItem | None:
    row = uow.clocks.get(item.clock_id)
    if row is None or row.state != item.state or row.due != item.due:
        return None  # another sweep got there first
    status: Literal["near_due", "overdue"] = "overdue" if item.due < as_of else "near_due"
    case = uow.cases.by_id(item.case_id)
    alert = deadlines.ClockAlert(case.case_number, row.clock, item.due, status, (item.due - as_of).days, row.article)
    events = deadlines.alert_events([alert], at=ctx.now())
    row.state = status
    target = None
    if (status == "overdue" and escalate and row.clock in HANDLING_CLOCKS and case.status in ESCALATABLE
            and row.body_id == case.body_id):
        try:
            events += escalate_in(uow, ctx, case, "overdue", SYSTEM_ACTOR, as_of)
            target = case.handling_body
        except (ladder.RoutingError, CaseLifeError) as exc:
            events.append(make_event("escalation_blocked", SYSTEM_ACTOR, str(exc), case_id=case.case_number,
                                     payload={"clock": row.clock}))
    finish(uow, case, events)
    return SweepItem(case.case_number, row.clock, item.due, status, target)

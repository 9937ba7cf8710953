"""Statutory clocks on cases: start, load as domain ``Clock`` values, save, and the sweep query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from routing.cases import deadlines
from routing.persistence.case_tables import Case
from routing.persistence.life_tables import CaseClock


def new_row(case: Case, clock: str, on: date, rules: str = "stricter", *, window: bool = False,
            body_id: str | None = None, calendar: deadlines.HolidayCalendar = deadlines.OFFICIAL) -> CaseClock:
    """Return a new clock row for a case (the rule is chosen now and kept on the row).

    Args:
        case: the case row (its id is set).
        clock: a clock name of :data:`routing.cases.deadlines.CLOCK_NAMES`.
        on: the day of the event that starts it (not counted).
        rules: ``national``, ``zhejiang`` or ``stricter``.
        window: a citizen's or a receiving body's period (shown, never swept).
        body_id: the body whose duty it is.
        calendar: the holiday calendar the due date is counted on.
    """
    domain = deadlines.start_clock(clock, on, rules, case_id=case.case_number, calendar=calendar)
    return CaseClock(case_id=case.id, clock=clock, rule_set=domain.rule.rule_set, article=domain.rule.article,
                     start=on, due=domain.due(), pauses=[], paused_days=0, extended_days=0, extensions=[],
                     state="window" if window else "running", body_id=body_id)


def to_clock(row: CaseClock, case_number: str = "",
             calendar: deadlines.HolidayCalendar = deadlines.OFFICIAL) -> deadlines.Clock:
    """Rebuild the domain clock of a row (counted on ``calendar``)."""
    rule = deadlines.load_rule_set(row.rule_set).rule(row.clock)
    pauses = tuple(deadlines.Pause(date.fromisoformat(p["start"]),
                                   date.fromisoformat(p["end"]) if p.get("end") else None, p.get("reason", ""))
                   for p in row.pauses or [])
    exts = tuple(deadlines.Extension(int(e["days"]), e["approver"], e["reason"], date.fromisoformat(e["granted_on"]))
                 for e in row.extensions or [])
    return deadlines.Clock(name=row.clock, rule=rule, start=row.start, case_id=case_number, extensions=exts,
                           pauses=pauses, stopped_on=row.stopped_at, calendar=calendar)


def save(row: CaseClock, clock: deadlines.Clock) -> None:
    """Write a domain clock back onto its row (due, pauses, extensions, stop, state)."""
    row.pauses = [{"start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None, "reason": p.reason}
                  for p in clock.pauses]
    row.paused_days = sum((p.end - p.start).days + 1 for p in clock.pauses if p.end)
    row.extensions = [{"days": e.days, "approver": e.approver, "reason": e.reason,
                       "granted_on": e.granted_on.isoformat()} for e in clock.extensions]
    row.extended_days = sum(e.days for e in clock.extensions)
    if clock.extensions:
        row.extension_approver = clock.extensions[-1].approver[:64]
        row.extension_reason = clock.extensions[-1].reason
    row.stopped_at = clock.stopped_on
    open_pause = any(p.end is None for p in clock.pauses)
    if clock.stopped_on is not None:
        row.state = "stopped" if row.state != "window" else "window"
        return
    if open_pause:
        row.state, row.due = "paused", None
        return
    row.due = clock.due()
    # an extended or resumed clock is swept afresh against its new due date
    row.state = "window" if row.state == "window" else "running"


def clocks_of(session: Session, case_id: int) -> list[CaseClock]:
    """Return a case's clocks, oldest first."""
    return list(session.execute(
        select(CaseClock).where(CaseClock.case_id == case_id).order_by(CaseClock.id)).scalars())


def running(rows: Sequence[CaseClock], names: Sequence[str] | None = None) -> list[CaseClock]:
    """Return the clocks that are neither stopped nor windows (optionally by name), oldest first."""
    return [c for c in rows if c.state not in ("stopped", "window") and (names is None or c.clock in names)]


def stop(rows: Sequence[CaseClock], on: date) -> list[CaseClock]:
    """Stop these clocks: their duty was met ``on`` (an overdue one stays overdue on the record)."""
    for row in rows:
        row.stopped_at, row.state = on, ("overdue" if row.state == "overdue" else "stopped")
    return list(rows)


@dataclass(frozen=True, slots=True)
class DueClock:
    """One row found by the sweep query."""

    clock_id: int
    case_id: int
    clock: str
    due: date
    state: str
    article: str


def sweep_query(as_of: date, near_days: int):  # type: ignore[no-untyped-def]
    """Return the SELECT for clocks near due or overdue on ``as_of`` (uses ``ix_case_clocks_sweep``).

    Args:
        as_of: the day of the sweep.
        near_days: a clock due within this many days is near due.
    """
    horizon = as_of + timedelta(days=near_days)
    # No join: the index alone answers; the sweep loads each case under a row lock afterwards.
    return (
        select(CaseClock.id, CaseClock.case_id, CaseClock.clock, CaseClock.due, CaseClock.state, CaseClock.article)
        .where(or_(and_(CaseClock.state == "running", CaseClock.due <= horizon),
                   and_(CaseClock.state == "near_due", CaseClock.due < as_of)))
        .order_by(CaseClock.due, CaseClock.id)
    )


def due_clocks(session: Session, as_of: date, near_days: int = 3) -> list[DueClock]:
    """Find the clocks that are near due or overdue on ``as_of`` and not yet reported as such.

    A ``running`` clock due within ``near_days`` (or already past) is returned, and a
    ``near_due`` one only once it is past due, so a second sweep the same day finds nothing new.
    """
    return [DueClock(row.id, row.case_id, row.clock, row.due, row.state, row.article)
            for row in session.execute(sweep_query(as_of, near_days))]

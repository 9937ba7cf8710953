"""The steps every case use case is made of: load, move through the lifecycle, clocks, write events.

A use case (``routing.cases.filing``, ``case_handling``, ``case_review``, ``case_transfer``,
``case_clocks``, ``case_reception``) is a function of a unit of work and a :class:`CaseContext`.
It loads the case with :func:`load`, changes its status only with :func:`move` (the lifecycle's
transition plus the clocks the new status stops), starts clocks with :func:`start_clock`, and
ends with :func:`finish`, which appends the events through the one writer and shows the due date
of the newest running duty clock. The caller commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from routing.cases import statuses
from routing.cases.deadlines import OFFICIAL, HolidayCalendar
from routing.cases.events import Event
from routing.cases.ports import PlaceIndex
from routing.cases.uow import UnitOfWork
from routing.cases.values import CaseView, case_view
from routing.orgs.registry import Orgs, load_orgs
from routing.persistence import clocks as clock_store
from routing.persistence.case_tables import Case
from routing.persistence.life_tables import CaseClock


def utc_now() -> datetime:
    """Return the current time (UTC, timezone-aware)."""
    return datetime.now(UTC)


def _default_places() -> PlaceIndex:
    from routing.understanding.places import load_divisions  # lazy: the division index is large

    return load_divisions()


@dataclass(frozen=True)
class CaseContext:
    """What the use cases need besides the unit of work: time, rules, calendar, reference data.

    Attributes:
        today: the date the law counts in (China Standard Time).
        rules: deadline rules, ``national`` | ``zhejiang`` | ``stricter``.
        calendar: the holiday calendar every clock is counted on.
        orgs: returns the organisation data.
        places: returns the division index.
        now: the time stamped on events.
    """

    today: Callable[[], date]
    rules: str = "stricter"
    calendar: HolidayCalendar = OFFICIAL
    orgs: Callable[[], Orgs] = load_orgs
    places: Callable[[], PlaceIndex] = field(default=_default_places)
    now: Callable[[], datetime] = utc_now


class CaseLifeError(ValueError):
    """A case-life request that the stored case cannot support (no handling body, no window ...)."""


def load(uow: UnitOfWork, case_number: str, owner: str | None = None) -> Case:
    """Load a case for a change (locked); with ``owner``, only the channel user's own case."""
    return uow.cases.get(case_number, owner)


def move(uow: UnitOfWork, ctx: CaseContext, case: Case, action: str, actor: str, reason: str = "",
         payload: Mapping[str, Any] | None = None) -> Event:
    """Apply a lifecycle action to the case and stop the clocks its new status ends.

    Raises:
        routing.cases.statuses.TransitionError: the action is illegal now, or its reason is missing.
    """
    new, ev = statuses.transition(case.status, action, actor, reason, case_id=case.case_number,
                                   at=ctx.now(), payload=payload)
    case.status = new
    stop_clocks(uow, case, ctx.today(), statuses.clocks_stopped_by(new))
    return ev


def running(uow: UnitOfWork, case: Case, names: Sequence[str] | None = None) -> list[CaseClock]:
    """Return the case's running clocks (optionally by name), oldest first."""
    return clock_store.running(uow.clocks.of_case(case), names)


def stop_clocks(uow: UnitOfWork, case: Case, on: date, names: Sequence[str] | None = None) -> list[CaseClock]:
    """Stop the case's running clocks (all, or those named): their duty was met ``on``."""
    if names is not None and not names:
        return []
    return clock_store.stop(running(uow, case, names), on)


def start_clock(uow: UnitOfWork, ctx: CaseContext, case: Case, clock: str, on: date, *, window: bool = False,
                body_id: str | None = None, rules: str | None = None) -> CaseClock:
    """Start a statutory clock on the case (counted on the context's calendar)."""
    row = clock_store.new_row(case, clock, on, rules or ctx.rules, window=window, body_id=body_id,
                              calendar=ctx.calendar)
    uow.clocks.add(row)
    return row


def sync_due(uow: UnitOfWork, case: Case) -> None:
    """Show the due date of the newest running duty clock on the case."""
    duty = [c for c in running(uow, case, statuses.DUTY_CLOCKS) if c.due is not None]
    if duty:
        case.due_date = duty[-1].due


def finish(uow: UnitOfWork, case: Case, events: Sequence[Event]) -> CaseView:
    """Append the events through the one writer, show the due date, and return the case view."""
    uow.events.append(case, events)
    sync_due(uow, case)
    return case_view(case)


def change(uow: UnitOfWork, ctx: CaseContext, case_number: str, action: str, actor: str, reason: str = "", *,
           owner: str | None = None, payload: Mapping[str, Any] | None = None) -> CaseView:
    """Load the case, apply one lifecycle action, write its event (the simple use cases)."""
    case = load(uow, case_number, owner)
    return finish(uow, case, [move(uow, ctx, case, action, actor, reason, payload)])

"""Read cases and their event logs from the store into ``CaseRecord`` values for the rates.

The cases read are those of a region with an event in the months asked or a due date in them, so
every anchor that can fall in those months is seen. Clock rows give the register deadline and the
handling due date with its extensions; a case without clock rows (generated data) uses its due date.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from routing.cases.statuses import HANDLING_CLOCKS, REGISTER_CLOCK
from routing.centre import places
from routing.centre.board import region_condition
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.life_tables import CaseClock
from routing.rates.facts import CaseRecord, EventRecord

CHUNK = 2000


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``YYYY-MM`` and first day of the next month."""
    y, m = (int(x) for x in month.split("-"))
    first = date(y, m, 1)
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return first, nxt


def utc_bounds(months: Iterable[str]) -> tuple[datetime, datetime]:
    """The UTC instants that bound the months in China Standard Time."""
    spans = [month_bounds(m) for m in months]
    lo, hi = min(s[0] for s in spans), max(s[1] for s in spans)
    return (datetime.combine(lo, time.min, UTC) - timedelta(hours=8),
            datetime.combine(hi, time.min, UTC) - timedelta(hours=8))


def candidate_ids(session: Session, region: str, months: Iterable[str]) -> list[int]:
    """Ids of the region's cases with an event in the months or a due date in them."""
    months = list(months)
    lo, hi = utc_bounds(months)
    dlo, dhi = month_bounds(min(months))[0], month_bounds(max(months))[1]
    where: ColumnElement[bool] = region_condition(region)
    by_event = (select(CaseEvent.case_id).join(Case, Case.id == CaseEvent.case_id)
                .where(where, CaseEvent.created_at >= lo, CaseEvent.created_at < hi))
    by_due = select(Case.id).where(where, Case.due_date >= dlo, Case.due_date < dhi)
    by_clock = (select(CaseClock.case_id).join(Case, Case.id == CaseClock.case_id)
                .where(where, CaseClock.clock.in_(HANDLING_CLOCKS), CaseClock.due >= dlo, CaseClock.due < dhi))
    ids: set[int] = set()
    for q in (by_event, by_due, by_clock):
        ids.update(session.execute(q).scalars())
    return sorted(ids)


def records(session: Session, ids: list[int]) -> Iterator[CaseRecord]:
    """Load the cases, their events and clocks, chunk by chunk."""
    for k in range(0, len(ids), CHUNK):
        chunk = ids[k:k + CHUNK]
        cases = session.execute(select(Case.id, Case.case_number, Case.county_code, Case.location_code,
                                       Case.body_id, Case.category, Case.tier, Case.due_date)
                                .where(Case.id.in_(chunk))).all()
        events: dict[int, list[EventRecord]] = {}
        for cid, kind, payload, at in session.execute(
                select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.payload, CaseEvent.created_at)
                .where(CaseEvent.case_id.in_(chunk)).order_by(CaseEvent.case_id, CaseEvent.seq)):
            events.setdefault(cid, []).append(EventRecord(kind, at, dict(payload or {})))
        register: dict[int, date] = {}
        handling: dict[int, date] = {}
        for cid, clock, due in session.execute(
                select(CaseClock.case_id, CaseClock.clock, CaseClock.due)
                .where(CaseClock.case_id.in_(chunk), or_(CaseClock.clock == REGISTER_CLOCK,
                                                         CaseClock.clock.in_(HANDLING_CLOCKS)))
                .order_by(CaseClock.case_id, CaseClock.id)):
            if due is None:
                continue
            if clock == REGISTER_CLOCK:
                register.setdefault(cid, due)
            else:
                handling[cid] = due  # the newest handling clock (extensions are in its due date)
        for c in cases:
            town = places.hotspot_place(c.location_code, c.county_code) or c.county_code or ""
            yield CaseRecord(c.id, c.case_number, c.county_code or "", town, c.body_id or "", c.category or "",
                             c.tier or "", tuple(events.get(c.id, ())), register_due=register.get(c.id),
                             handling_due=handling.get(c.id, c.due_date))


def load(session: Session, region: str, months: Iterable[str]) -> list[CaseRecord]:
    """Every case of ``region`` that can count in ``months``."""
    months = list(months)
    return list(records(session, candidate_ids(session, region, months)))

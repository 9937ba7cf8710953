"""One case's event log read into the facts the rates count, each with the date that places it in a month.

A fact is true or false for a case and comes with its anchor date (China Standard Time): the day
of the event that decides it. The rates in ``routing/data/rates.yaml`` name a numerator fact, a
denominator fact and the anchor (``period``) that puts the case in a month. Everything here is a
function of the case alone, so moving a case between regions moves its contribution and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

CST = timedelta(hours=8)


def today_cst() -> date:
    """Today in China Standard Time."""
    return (datetime.now(UTC) + CST).date()
CLOSE_ACTIONS = ("resolve", "refer", "fail_mediation")
LOCAL_TIERS = ("grid", "village", "township")


@dataclass(frozen=True)
class EventRecord:
    """What the rates read of one stored event (``case_events`` row)."""

    kind: str
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseRecord:
    """What the rates read of one case: where it lies, who handles it, its clocks' due dates and events."""

    id: int
    case_number: str
    county_code: str
    township: str
    body_id: str
    category: str
    tier: str
    events: tuple[EventRecord, ...]
    register_due: date | None = None
    handling_due: date | None = None


@dataclass(frozen=True)
class CaseFacts:
    """The facts of one case: which are true, and the anchor dates of the period rules."""

    case: CaseRecord
    flags: frozenset[str]
    anchors: dict[str, date]
    working_days: float | None = None


def cst_day(at: datetime) -> date:
    """Return the China Standard Time date of a timestamp (naive ones are UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at.astimezone(UTC) + CST).date()


def tier_bucket(tier: str | None) -> str:
    """Map a tier code or label to grid | village | township | county."""
    t = tier or ""
    if t == "grid" or t.startswith("网格"):
        return "grid"
    if t == "village" or t.startswith("村"):
        return "village"
    if t == "township" or t.startswith("乡镇"):
        return "township"
    return "county"


@lru_cache(maxsize=8192)
def register_due_from(filed: date) -> date:
    """The statutory register deadline of a case filed on ``filed`` (when no clock row is stored)."""
    from routing.cases.deadlines import CalendarRangeError, compute_due

    try:
        return compute_due("petition_register", filed).due
    except CalendarRangeError:
        return filed + timedelta(days=21)


@lru_cache(maxsize=65536)
def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when closed the same day)."""
    from routing.cases.deadlines import CalendarRangeError, is_workday

    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        try:
            n += int(is_workday(day))
        except CalendarRangeError:
            n += int(day.weekday() < 5)
    return n


def _action(ev: EventRecord) -> str:
    return str(ev.payload.get("action") or "") if ev.kind == "status_changed" else ""


def derive(case: CaseRecord, as_of: date | None = None) -> CaseFacts:
    """Read one case's events (in order) into its facts and anchor dates.

    ``as_of``: the day the figures are counted on. A case still open whose due date has not passed
    by then is not yet in 按期办结率 (it can still be closed on time).
    """
    evs = case.events  # in the log's order (seq)
    flags: set[str] = set()
    anchors: dict[str, date] = {}
    if not evs:
        return CaseFacts(case, frozenset(), {})
    filed = cst_day(evs[0].at)
    flags.add("registered")
    anchors["filed"] = filed
    status: str | None = None
    rating: str | None = None
    tier = case.tier
    first_close: EventRecord | None = None
    unsatisfied_at: datetime | None = None
    for ev in evs:
        action = _action(ev)
        if ev.kind in ("routed", "routing_route", "routing_escalate", "routing_refer", "routing_transfer") \
                and ev.payload.get("tier"):
            tier = str(ev.payload["tier"])
        if ev.kind in ("routed", "routing_route") and (ev.payload.get("handling_body") or ev.payload.get("body_id")):
            flags.add("dispatched")
        if ev.kind == "repeat_linked" and "articles" in ev.payload:
            flags.add("repeat")  # the new petition's link (the earlier case's carries no articles)
        if ev.kind == "judicial_confirmed":
            flags.add("judicially_confirmed")
        if ev.kind == "contact_logged" and unsatisfied_at is not None:
            flags.add("unsatisfied_followed")
        if ev.kind != "status_changed":
            continue
        before = ev.payload.get("from", status)
        after = ev.payload.get("to") or status
        # the register decision: the case first leaves 受理 (a withdrawal is the citizen's, not a decision)
        if "register_decided" not in anchors and action != "withdraw" and (
                before == "accepted" and after != "accepted" or before is None and action == "reject"):
            anchors["register_decided"] = cst_day(ev.at)
            flags.add("register_decided")
            if action != "reject":
                flags.add("accepted")
            if cst_day(ev.at) <= (case.register_due or register_due_from(filed)):
                flags.add("register_on_time")
        if action == "escalate":
            flags.add("escalated")
        if action == "return_wrong_body":
            flags.add("returned")
        if before == "mediating" and "mediation_ended" not in anchors and (
                action in ("resolve", "fail_mediation")
                or action == "escalate" and ev.payload.get("why") == "mediation_failed"):
            anchors["mediation_ended"] = cst_day(ev.at)
            flags.add("mediation_ended")
            if action == "resolve":
                flags.add("mediation_agreement")
        if action in CLOSE_ACTIONS and first_close is None:
            first_close = ev
            anchors["closed"] = cst_day(ev.at)
            flags.add("closed")
            if action == "resolve":
                flags.add("resolved")
                if "escalated" not in flags and tier_bucket(tier) in LOCAL_TIERS:
                    flags.add("resolved_locally")
        if action == "follow_up" and first_close is not None:
            flags.add("followed_up")
        if action == "rate":
            rating = str(ev.payload.get("satisfaction") or "")
            anchors.setdefault("rated", cst_day(ev.at))
            unsatisfied_at = ev.at if rating == "unsatisfied" else unsatisfied_at
        if action in ("request_review", "decide_review", "reopen") and unsatisfied_at is not None:
            flags.add("unsatisfied_followed")
        status = after
    if rating:
        flags.add("rated")
        flags.add("satisfied" if rating in ("satisfied", "basically_satisfied") else "unsatisfied")
    if "unsatisfied" not in flags:
        flags.discard("unsatisfied_followed")
    withdrawn = status in ("rejected", "withdrawn") and first_close is None
    pending = first_close is None and as_of is not None and case.handling_due is not None \
        and case.handling_due >= as_of
    if case.handling_due is not None and not withdrawn and not pending:
        anchors["due"] = case.handling_due
        flags.add("due_in_period")
        if first_close is not None and cst_day(first_close.at) <= case.handling_due:
            flags.add("closed_on_time")
    days = float(working_days_between(filed, anchors["closed"])) if first_close is not None else None
    return CaseFacts(case, frozenset(flags), anchors, days)


def derive_all(cases: Sequence[CaseRecord], as_of: date | None = None) -> list[CaseFacts]:
    """Derive the facts of many cases counted on ``as_of``."""
    return [derive(c, as_of) for c in cases]

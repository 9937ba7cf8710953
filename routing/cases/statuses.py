"""Case life: statuses, legal transitions, satisfaction, and replaying the audit trail.

受理 → 分派 → 办理 / 调解中 → [预约接访] → 办结 (协议达成) or 未达成·已告知其他途径 → 回访评价 → 归档;
also 不予受理 (reason required), 撤回, 升级, 复查 (信访工作条例 第三十五条), 复核 (第三十六条).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from routing.cases.events import SYSTEM_ACTOR, Event, make_event


class Status(StrEnum):
    """The statuses of a case (stored as these strings)."""

    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    HANDLING = "handling"
    MEDIATING = "mediating"
    RECEPTION_BOOKED = "reception_booked"
    RESOLVED = "resolved"
    REFERRED = "referred"
    FOLLOW_UP = "follow_up"
    ARCHIVED = "archived"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ESCALATED = "escalated"
    REVIEW = "review"
    RECHECK = "recheck"


class Satisfaction(StrEnum):
    """A citizen's rating in 回访评价."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


STATUS_LABELS: Mapping[str, str] = {
    "accepted": "受理",
    "assigned": "分派",
    "handling": "办理",
    "mediating": "调解中",
    "reception_booked": "预约接访",
    "resolved": "办结",
    "referred": "未达成协议·已告知其他途径",
    "follow_up": "回访评价",
    "archived": "归档",
    "rejected": "不予受理",
    "withdrawn": "撤回",
    "escalated": "升级",
    "review": "复查",
    "recheck": "复核",
}
TERMINAL: frozenset[str] = frozenset({"archived", "rejected", "withdrawn"})
OPEN_STATUSES: frozenset[str] = frozenset(
    {"accepted", "assigned", "handling", "mediating", "reception_booked", "escalated", "review", "recheck"}
)
SATISFACTION_LABELS: Mapping[str, str] = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
}
_WORKING = ("assigned", "handling", "mediating", "reception_booked", "escalated")

# (from status, action) -> to status. ``None`` is a case that does not exist yet.
TRANSITIONS: Mapping[tuple[str | None, str], str] = {
    (None, "accept"): "accepted",
    (None, "reject"): "rejected",
    ("accepted", "reject"): "rejected",
    ("accepted", "assign"): "assigned",
    ("escalated", "assign"): "assigned",
    ("assigned", "transfer"): "assigned",
    ("handling", "transfer"): "assigned",
    ("assigned", "return_wrong_body"): "accepted",
    ("assigned", "start_handling"): "handling",
    ("assigned", "start_mediation"): "mediating",
    ("handling", "start_mediation"): "mediating",
    ("reception_booked", "record_reception"): "handling",
    ("reception_booked", "cancel_reception"): "handling",
    ("reception_booked", "reschedule_reception"): "reception_booked",
    ("handling", "resolve"): "resolved",
    ("mediating", "resolve"): "resolved",
    ("reception_booked", "resolve"): "resolved",
    ("handling", "refer"): "referred",
    ("mediating", "fail_mediation"): "referred",
    ("resolved", "follow_up"): "follow_up",
    ("referred", "follow_up"): "follow_up",
    ("follow_up", "rate"): "follow_up",
    ("follow_up", "archive"): "archived",
    ("referred", "archive"): "archived",
    ("resolved", "request_review"): "review",
    ("follow_up", "request_review"): "review",
    ("review", "decide_review"): "resolved",
    ("resolved", "request_recheck"): "recheck",
    ("follow_up", "request_recheck"): "recheck",
    ("recheck", "decide_recheck"): "resolved",
    **{(s, "book_reception"): "reception_booked" for s in ("accepted", *_WORKING)},
    **{(s, "escalate"): "escalated" for s in ("accepted", "assigned", "handling", "mediating")},
    **{(s, "withdraw"): "withdrawn" for s in ("accepted", *_WORKING, "review", "recheck")},
    # 重新办理: a supervisor reopens a closed matter (with a reason, in the audit trail)
    **{(s, "reopen"): "handling" for s in ("resolved", "referred", "follow_up", "archived")},
}
# Clocks (信访工作条例 第二十二条 and the handling periods): the register clock runs only while a
# case waits in 受理; every duty clock stops once the case is closed one way or another. Of the
# running duty clocks, the newest gives the due date shown on the case.
REGISTER_CLOCK = "petition_register"
HANDLING_CLOCKS: tuple[str, ...] = ("petition_handle", "mediation", "labour_mediation")
DUTY_CLOCKS: tuple[str, ...] = (*HANDLING_CLOCKS, "review_decide", "recheck_decide")
CLOSING: frozenset[str] = frozenset({"resolved", "referred", "rejected", "withdrawn", "archived"})
ESCALATABLE: frozenset[str] = frozenset({"accepted", "assigned", "handling", "mediating"})


def clocks_stopped_by(status: str) -> tuple[str, ...] | None:
    """Return the clocks a case in ``status`` no longer runs: None means every clock.

    Args:
        status: the status the case has just reached.
    """
    if status in CLOSING:
        return None
    return () if status == "accepted" else (REGISTER_CLOCK,)


REASON_REQUIRED: frozenset[str] = frozenset(
    {"reject", "transfer", "return_wrong_body", "escalate", "refer", "fail_mediation", "cancel_reception",
     "reopen"}
)


class TransitionError(ValueError):
    """An action that the case's status does not allow, or one missing its reason."""


class ReplayMismatch(AssertionError):
    """The stored status does not agree with the case's events."""


def label(status: str | None) -> str:
    """Return the Chinese label of a status ('' for None)."""
    return STATUS_LABELS.get(status, status) if status else ""


def allowed_actions(status: str | None) -> list[str]:
    """Return the actions allowed from ``status``, sorted."""
    return sorted(a for (s, a) in TRANSITIONS if s == status)


def transition(
    status: str | None,
    action: str,
    actor: str,
    reason: str = "",
    *,
    case_id: str = "",
    at: datetime | None = None,
    payload: Mapping[str, Any] | None = None,
) -> tuple[str, Event]:
    """Apply one action to a case status.

    Args:
        status: the current status (``None`` before the case exists).
        action: e.g. ``assign``, ``start_mediation``, ``resolve``, ``reject``.
        actor: who acts.
        reason: why; required for reject, transfer, return, escalate, refer, fail, cancel.
        case_id: the case id for the event.
        at: event time (now by default).
        payload: extra details kept on the event.

    Returns:
        The new status and a ``status_changed`` event carrying from/to/action.

    Raises:
        TransitionError: the transition is illegal or its reason is missing.
    """
    new = TRANSITIONS.get((status, action))
    if new is None:
        raise TransitionError(
            f"action {action!r} is not allowed from status {status!r} ({label(status)}); "
            f"allowed: {', '.join(allowed_actions(status)) or 'none'}"
        )
    if action in REASON_REQUIRED and not reason.strip():
        raise TransitionError(f"action {action!r} needs a reason")
    body = {**(payload or {}), "from": status, "to": new, "action": action}
    return new, make_event("status_changed", actor, reason, case_id=case_id, at=at, payload=body)


def replay(events: Iterable[Event]) -> str | None:
    """Rebuild a case's status from its events, checking each step is legal.

    Raises:
        ReplayMismatch: an event does not follow from the status before it.
    """
    status: str | None = None
    for ev in events:
        if ev.kind != "status_changed":
            continue
        expected = TRANSITIONS.get((status, ev.payload.get("action", "")))
        if ev.payload.get("from") != status or expected != ev.payload.get("to"):
            raise ReplayMismatch(
                f"event at {ev.at.isoformat()} moves {ev.payload.get('from')!r}→"
                f"{ev.payload.get('to')!r} by {ev.payload.get('action')!r}, but the case was {status!r}"
            )
        status = expected
    return status


def assert_consistent(stored_status: str | None, events: Iterable[Event]) -> None:
    """Assert that the stored status is the one the events replay to (audit check)."""
    replayed = replay(events)
    if replayed != stored_status:
        raise ReplayMismatch(f"stored status {stored_status!r} but events replay to {replayed!r}")


def had_review(events: Iterable[Event]) -> bool:
    """Tell whether a 复查 was decided, the condition for asking 复核 (信访工作条例 第三十六条)."""
    return any(e.kind == "status_changed" and e.payload.get("action") == "decide_review" for e in events)


def recheck_final(events: Iterable[Event]) -> bool:
    """Tell whether a 复核 was decided: same facts are no longer accepted (第三十六条第三款)."""
    return any(e.kind == "status_changed" and e.payload.get("action") == "decide_recheck" for e in events)


@dataclass(frozen=True, slots=True)
class RatingOutcome:
    """The result of a satisfaction rating."""

    status: str
    events: tuple[Event, ...]
    citizen_message: str
    review_due: date | None


_UNSATISFIED_MSG = (
    "您对办理结果表示不满意，我们已安排上级负责人回访核实。依据{article}，"
    "您可以自收到书面答复之日起30日内（即{due}前）向原办理机关的上一级机关请求复查。"
)
_SATISFIED_MSG = "感谢您的评价（{label}）。"


def rate(
    status: str,
    satisfaction: str,
    actor: str,
    *,
    reply_received_on: date,
    case_id: str = "",
    rules: str = "stricter",
    at: datetime | None = None,
    calendar: Any = None,
) -> RatingOutcome:
    """Record a satisfaction rating during 回访评价.

    不满意 yields a ``supervisor_follow_up`` event and a message telling the citizen the 复查
    right and its deadline (信访工作条例 第三十五条, 30 days from the written reply).

    Args:
        status: must be ``follow_up``.
        satisfaction: ``satisfied`` | ``basically_satisfied`` | ``unsatisfied``.
        actor: the citizen or the caller recording the rating.
        reply_received_on: the day the citizen received the written reply (starts 复查 window).
        case_id: case id.
        rules: deadline rule choice.
        at: event time.
        calendar: the holiday calendar (``routing.cases.deadlines.HolidayCalendar``; strict by default).

    Raises:
        TransitionError: not in follow-up, or an unknown rating.
    """
    from routing.cases.deadlines import (  # local: keeps lifecycle importable alone
        OFFICIAL,
        compute_due,
    )

    if satisfaction not in SATISFACTION_LABELS:
        raise TransitionError(f"unknown satisfaction {satisfaction!r}")
    new, ev = transition(
        status, "rate", actor, case_id=case_id, at=at, payload={"satisfaction": satisfaction}
    )
    events: list[Event] = [ev]
    if satisfaction != "unsatisfied":
        msg = _SATISFIED_MSG.format(label=SATISFACTION_LABELS[satisfaction])
        return RatingOutcome(new, tuple(events), msg, None)
    due = compute_due("review_request", reply_received_on, rules, calendar or OFFICIAL)
    events.append(
        make_event(
            "supervisor_follow_up",
            SYSTEM_ACTOR,
            "群众评价不满意，需上级回访",
            case_id=case_id,
            at=at,
            payload={"review_due": due.due.isoformat(), "article": due.article},
        )
    )
    msg = _UNSATISFIED_MSG.format(article=due.article, due=f"{due.due.year}年{due.due.month}月{due.due.day}日")
    return RatingOutcome(new, tuple(events), msg, due.due)

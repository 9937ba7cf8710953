"""The early-warning feed (预警) and its closed loop: 预警 → 研判 → 交办 → 反馈.

An alert is raised once per subject (its ``key``); every change is a step in
``centre_alert_events`` with actor and time. States: ``open`` → ``acknowledged`` → ``assessed``
(a 研判 note) → ``assigned`` (to a body, a person or a reception day) → ``closed``, which happens
only when every member case has reached a result. An alert left unacknowledged longer than
``ack_minutes`` goes up one level (county centre → city centre) with an ``escalated`` step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import dml as pg_insert
from sqlalchemy.dialects.sqlite import dml as sqlite_insert
from sqlalchemy.orm import Session

from routing.persistence.case_tables import Case
from routing.persistence.centre_tables import CentreAlert, CentreAlertEvent, CentreAlertMember

SEVERITY_RANK = {"red": 0, "orange": 1, "yellow": 2}
KIND_LABELS = {
    "red_at_filing": "红色风险",
    "crisis": "危机预警",
    "overdue": "办理超期",
    "bounced": "多次退单",
    "repeat_closed": "已结案重复信访",
    "baoan_overdue": "包案超期",
    "hotspot": "热点聚集",
    "supervision_overdue": "督办逾期",
}
STATE_LABELS = {"open": "待确认", "acknowledged": "已确认", "assessed": "已研判", "assigned": "已交办",
                "closed": "已办结"}
LEVEL_LABELS = {0: "本级中心", 1: "已上报上一级中心", 2: "已上报省级"}
# Case statuses that count as "reached a result" for closing an alert.
RESULT_STATUSES = frozenset({"resolved", "referred", "follow_up", "archived", "rejected", "withdrawn"})


class AlertError(ValueError):
    """A step the alert's state does not allow (e.g. assigning before acknowledging)."""


def utcnow() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """Return ``value`` as an aware UTC time (SQLite hands back naive ones)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def step(session: Session, alert: CentreAlert, kind: str, actor: str, reason: str | None = None,
         payload: dict[str, Any] | None = None, at: datetime | None = None) -> CentreAlertEvent:
    """Append one step to the alert's history (the only writer of alert steps)."""
    event = CentreAlertEvent(alert_id=alert.id, kind=kind, actor=actor, reason=reason, payload=payload or {},
                             created_at=at or utcnow())
    session.add(event)
    return event


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What raising an alert needs to know."""

    key: str
    kind: str
    severity: str
    title: str
    county_code: str | None
    division_code: str | None
    case_id: int | None = None
    body_id: str | None = None
    place_label: str | None = None
    problem: str | None = None
    level: int = 0


def find(session: Session, key: str) -> CentreAlert | None:
    """Return the alert with this key, if any."""
    return session.execute(select(CentreAlert).where(CentreAlert.key == key)).scalar()


def _insert_once(session: Session) -> pg_insert.Insert | sqlite_insert.Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for the database at hand (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert.insert(CentreAlert).on_conflict_do_nothing(index_elements=["key"])
    return sqlite_insert.insert(CentreAlert).on_conflict_do_nothing(index_elements=["key"])


def raise_alert(session: Session, new: NewAlert, members: list[int] = (), actor: str = "system",  # type: ignore[assignment]
                at: datetime | None = None, *, looked_up: bool = False) -> tuple[CentreAlert, bool]:
    """Raise the alert once: return it and whether this call created it.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (no savepoint): a concurrent raise of the
    same key inserts nothing and gets the winner's alert. The alert carries its member count from
    the start, and its members go in one bulk insert (a filing that opens a hotspot pays for five
    statements in all, see ``routing.centre.hotspots``).

    Args:
        looked_up: the caller has just looked the key up and found nothing (skip the lookup).
    """
    if not looked_up:
        existing = find(session, new.key)
        if existing is not None:
            return existing, False
    now = at or utcnow()
    ids = list(dict.fromkeys([*members, *([new.case_id] if new.case_id else [])]))
    values = {"key": new.key, "kind": new.kind, "severity": new.severity, "state": "open", "title": new.title,
              "county_code": new.county_code, "division_code": new.division_code, "case_id": new.case_id,
              "body_id": new.body_id, "place_label": new.place_label, "problem": new.problem, "level": new.level,
              "member_count": len(ids), "created_at": now, "last_member_at": now}
    payload = {"kind": new.kind, "severity": new.severity}
    if session.get_bind().dialect.name == "postgresql":
        alert = _raise_in_one_statement(session, values, ids, actor, new.title, payload, now)
        if alert is None:  # lost the race on the unique key
            return find(session, new.key), False  # type: ignore[return-value]
        return alert, True
    alert = session.scalars(_insert_once(session).values(**values).returning(CentreAlert),
                            execution_options={"populate_existing": True}).first()
    if alert is None:  # lost the race on the unique key
        return find(session, new.key), False  # type: ignore[return-value]
    step(session, alert, "raised", actor, new.title, payload, at=now)
    if ids:  # a new alert has no members yet: one bulk insert
        session.execute(insert(CentreAlertMember), [{"alert_id": alert.id, "case_id": i, "joined_at": now}
                                                    for i in ids])
    return alert, True


def _raise_in_one_statement(session: Session, values: dict[str, Any], ids: list[int], actor: str, reason: str,
                            payload: dict[str, Any], now: datetime) -> CentreAlert | None:
    """PostgreSQL: the alert, its 'raised' step and its members in one round trip (data-modifying
    CTEs), instead of three; None when a concurrent raise holds the key."""
    at = literal(now, DateTime(timezone=True))
    alert = (_insert_once(session).values(**values)
             .returning(*CentreAlert.__table__.c).cte("raised_alert"))
    raised = insert(CentreAlertEvent).from_select(
        ["alert_id", "kind", "actor", "reason", "payload", "created_at"],
        select(alert.c.id, literal("raised"), literal(actor), literal(reason), literal(payload, JSON), at),
    ).cte("raised_step")
    query = select(*alert.c).add_cte(raised)
    if ids:
        joined = insert(CentreAlertMember).from_select(
            ["alert_id", "case_id", "joined_at"],
            select(alert.c.id, func.unnest(literal(ids, ARRAY(Integer))), at),
        ).cte("raised_members")
        query = query.add_cte(joined)
    return session.scalars(select(CentreAlert).from_statement(query),
                           execution_options={"populate_existing": True}).first()


def add_member(session: Session, alert: CentreAlert, case_id: int, at: datetime | None = None,
               quiet: bool = False, *, new_case: Case | None = None) -> bool:
    """Add a case to the alert (once); a hotspot grows this way. Return whether it was new.

    ``new_case``: the case being filed (it cannot be a member yet, so no lookup is needed).
    """
    if new_case is None:
        have = session.execute(select(CentreAlertMember.id).where(
            CentreAlertMember.alert_id == alert.id, CentreAlertMember.case_id == case_id)).scalar()
        if have is not None:
            return False
    now = at or utcnow()
    session.add(CentreAlertMember(alert_id=alert.id, case_id=case_id, joined_at=now))
    alert.member_count = (alert.member_count or 0) + 1
    alert.last_member_at = now
    if not quiet:
        number = new_case.case_number if new_case is not None else session.execute(
            select(Case.case_number).where(Case.id == case_id)).scalar()
        step(session, alert, "joined", "system", f"{number} 加入", {"case_id": case_id, "case_number": number}, at=now)
    return True


# ---------------------------------------------------------------- the closed loop

def _require(alert: CentreAlert, allowed: tuple[str, ...], what: str) -> None:
    if alert.state not in allowed:
        raise AlertError(f"预警当前状态为“{STATE_LABELS.get(alert.state, alert.state)}”，不能{what}")


def acknowledge(session: Session, alert: CentreAlert, actor: str, note: str = "") -> None:
    """预警 → 确认: the duty officer has seen it."""
    _require(alert, ("open",), "确认")
    alert.state, alert.acknowledged_at = "acknowledged", utcnow()
    step(session, alert, "acknowledged", actor, note or None)


def assess(session: Session, alert: CentreAlert, actor: str, note: str) -> None:
    """研判: a written assessment (may be revised while the alert is not closed)."""
    if not note.strip():
        raise AlertError("研判意见不能为空")
    _require(alert, ("acknowledged", "assessed", "assigned"), "研判")
    if alert.state == "acknowledged":
        alert.state = "assessed"
    step(session, alert, "assessed", actor, note.strip()[:2000])


def assign(session: Session, alert: CentreAlert, actor: str, kind: str, target: str, label: str,
           note: str = "") -> None:
    """交办: to a body, a person, or a leader's reception day; every member case records it."""
    from routing.centre.events import append_event

    if kind not in ("body", "person", "reception"):
        raise AlertError("交办对象无效")
    _require(alert, ("assessed", "assigned"), "交办（请先研判）")
    alert.state, alert.assigned_kind, alert.assigned_to = "assigned", kind, label[:128]
    what = {"body": "承办单位", "person": "承办人", "reception": "领导接访日"}[kind]
    step(session, alert, "assigned", actor, f"交办{what}：{label}" + (f"（{note}）" if note else ""),
         {"kind": kind, "target": target, "label": label})
    for case in member_cases(session, alert):
        append_event(session, case, "centre_assigned", actor, f"社会治理中心交办：{label}" + (f"（{note}）" if note else ""),
                     {"alert_id": alert.id, "kind": kind, "target": target})


def member_cases(session: Session, alert: CentreAlert) -> list[Case]:
    """Return the alert's cases, oldest first."""
    return list(session.execute(
        select(Case).join(CentreAlertMember, CentreAlertMember.case_id == Case.id)
        .where(CentreAlertMember.alert_id == alert.id).order_by(Case.id)).scalars())


def close_if_done(session: Session, alert: CentreAlert, now: datetime | None = None) -> bool:
    """反馈 → 办结: close an acknowledged alert once every member case reached a result."""
    if alert.state in ("open", "closed"):
        return False
    statuses = [c.status for c in member_cases(session, alert)]
    if not statuses or any(s not in RESULT_STATUSES for s in statuses):
        return False
    now = now or utcnow()
    alert.state, alert.closed_at = "closed", now
    if alert.kind == "hotspot":
        alert.key = f"{alert.key}#{alert.id}"  # a later cluster of the same place and problem is new
    step(session, alert, "closed", "system", "所涉案件均已办结", {"statuses": statuses}, at=now)
    return True


def escalate_unacknowledged(session: Session, now: datetime, ack_minutes: int, max_level: int) -> int:
    """Send every alert nobody acknowledged in time one level up; return how many moved."""
    cutoff = now - timedelta(minutes=ack_minutes)
    rows = session.execute(select(CentreAlert).where(
        CentreAlert.state == "open", CentreAlert.level < max_level,
        or_(CentreAlert.escalated_at.is_(None), CentreAlert.escalated_at <= cutoff),
        CentreAlert.created_at <= cutoff).with_for_update()).scalars().all()
    moved = 0
    for alert in rows:
        last = aware(alert.escalated_at) or aware(alert.created_at)
        if last is not None and last > cutoff:
            continue
        alert.level += 1
        alert.escalated_at = now
        step(session, alert, "escalated", "system",
             f"预警超过{ack_minutes}分钟无人确认，上报{LEVEL_LABELS.get(alert.level, '上一级中心')}",
             {"level": alert.level}, at=now)
        moved += 1
    return moved


def history(session: Session, alert_id: int) -> list[CentreAlertEvent]:
    """Return the alert's steps, oldest first."""
    return list(session.execute(select(CentreAlertEvent).where(CentreAlertEvent.alert_id == alert_id)
                                .order_by(CentreAlertEvent.id)).scalars())


def open_count(session: Session) -> int:
    """Return how many alerts are not closed (for the reconcile report)."""
    return int(session.execute(select(func.count()).select_from(CentreAlert)
                               .where(CentreAlert.state != "closed")).scalar() or 0)

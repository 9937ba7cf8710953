"""挂牌督办: the centre puts a case or a handling body under supervision until it answers.

Placing it needs a reason and a deadline; the body answers (反馈) before the deadline; a
supervision still unanswered after its deadline is marked overdue and raises an alert one level
up; lifting it is a step of its own. Every change is a ``supervision_events`` row, and a case
under supervision carries ``supervision_placed`` / ``supervision_answered`` /
``supervision_lifted`` events in its own history.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from routing.centre import places
from routing.centre.warnings import NewAlert, raise_alert, utcnow
from routing.orgs.registry import load_orgs
from routing.persistence.case_tables import Case
from routing.persistence.centre_tables import Supervision, SupervisionEvent

STATE_LABELS = {"open": "督办中", "answered": "已反馈", "overdue": "逾期未反馈", "lifted": "已撤销督办"}
ACTIVE = ("open", "answered", "overdue")


class SupervisionError(ValueError):
    """A supervision request that cannot be honoured."""


def _step(session: Session, sup: Supervision, kind: str, actor: str, reason: str | None = None,
          payload: dict[str, Any] | None = None) -> None:
    session.add(SupervisionEvent(supervision_id=sup.id, kind=kind, actor=actor, reason=reason, payload=payload or {},
                                 created_at=utcnow()))
    if sup.case_id is not None:
        from routing.centre.events import append_event

        case = session.get(Case, sup.case_id)
        if case is not None:
            label = {"placed": "挂牌督办", "answered": "督办反馈", "lifted": "撤销督办", "overdue": "督办逾期"}[kind]
            append_event(session, case, f"supervision_{kind}", actor, f"{label}：{reason or ''}".rstrip("："),
                         {"supervision_id": sup.id, **(payload or {})})


def place_on_case(session: Session, case: Case, actor: str, reason: str, deadline: date, today: date) -> Supervision:
    """Put a case under 挂牌督办 (its handling body must answer by ``deadline``)."""
    _check(reason, deadline, today)
    sup = Supervision(target_kind="case", case_id=case.id, body_id=case.body_id, body_name=case.handling_body,
                      county_code=case.county_code, division_code=case.location_code or case.county_code,
                      reason=reason.strip()[:2000], deadline=deadline, state="open", created_by=actor,
                      created_at=utcnow())
    session.add(sup)
    session.flush()
    _step(session, sup, "placed", actor, sup.reason, {"deadline": deadline.isoformat()})
    return sup


def place_on_body(session: Session, body_id: str, actor: str, reason: str, deadline: date, today: date) -> Supervision:
    """Put a handling body under 挂牌督办 (e.g. for failing its duties)."""
    _check(reason, deadline, today)
    body = load_orgs().bodies.get(body_id)
    if body is None:
        raise SupervisionError("单位不存在")
    county = places.index().county_of(body.division)
    sup = Supervision(target_kind="body", body_id=body.id, body_name=body.name,
                      county_code=county.code if county else body.division, division_code=body.division,
                      reason=reason.strip()[:2000], deadline=deadline, state="open", created_by=actor,
                      created_at=utcnow())
    session.add(sup)
    session.flush()
    _step(session, sup, "placed", actor, sup.reason, {"deadline": deadline.isoformat()})
    return sup


def _check(reason: str, deadline: date, today: date) -> None:
    if not reason.strip():
        raise SupervisionError("督办事由不能为空")
    if deadline < today:
        raise SupervisionError("反馈期限不能早于今天")


def answer(session: Session, sup: Supervision, actor: str, feedback: str) -> None:
    """反馈: the body answers the supervision."""
    if sup.state not in ("open", "overdue", "answered"):
        raise SupervisionError("该督办已撤销")
    if not feedback.strip():
        raise SupervisionError("反馈内容不能为空")
    sup.state, sup.feedback, sup.answered_at = "answered", feedback.strip()[:4000], utcnow()
    _step(session, sup, "answered", actor, sup.feedback)


def lift(session: Session, sup: Supervision, actor: str, reason: str) -> None:
    """撤销督办 (lifting is an event of its own)."""
    if sup.state == "lifted":
        raise SupervisionError("该督办已撤销")
    if not reason.strip():
        raise SupervisionError("撤销理由不能为空")
    sup.state, sup.lifted_at = "lifted", utcnow()
    _step(session, sup, "lifted", actor, reason.strip()[:2000])


def scan_overdue(session: Session, today: date) -> int:
    """Mark unanswered supervisions past their deadline overdue and alert one level up."""
    rows = session.execute(select(Supervision).where(Supervision.state == "open", Supervision.deadline < today)
                           .with_for_update()).scalars().all()
    for sup in rows:
        sup.state = "overdue"
        _step(session, sup, "overdue", "system", f"超过反馈期限{sup.deadline.isoformat()}未反馈")
        what = "案件" if sup.target_kind == "case" else "单位"
        title = f"挂牌督办逾期未反馈：{sup.body_name or ''}（督办{what}，期限{sup.deadline.isoformat()}）"
        raise_alert(session, NewAlert(key=f"supervision:{sup.id}", kind="supervision_overdue", severity="red",
                                      title=title, county_code=sup.county_code, division_code=sup.division_code,
                                      case_id=sup.case_id, body_id=sup.body_id, place_label=places.label(sup.division_code),
                                      level=1))
    return len(rows)


def active_for_case(session: Session, case_id: int, body_id: str | None) -> list[Supervision]:
    """Return the supervisions that concern a case: on the case itself or on its body."""
    q = select(Supervision).where(Supervision.state.in_(ACTIVE))
    cond = Supervision.case_id == case_id
    if body_id:
        cond = cond | ((Supervision.target_kind == "body") & (Supervision.body_id == body_id))
    return list(session.execute(q.where(cond).order_by(Supervision.id)).scalars())


def history(session: Session, sup_id: int) -> list[SupervisionEvent]:
    """Return the supervision's steps, oldest first."""
    return list(session.execute(select(SupervisionEvent).where(SupervisionEvent.supervision_id == sup_id)
                                .order_by(SupervisionEvent.id)).scalars())

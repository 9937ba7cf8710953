"""What raises early warnings: the filing of a case (at once) and the sweep (clocks, bounces, 包案).

``on_filed`` runs inside the filing transaction (red risk, a repeat petition on a closed case, the
hotspot); ``scan_cases`` runs in the sweep (overdue clocks, bounced cases, overdue 包案, and the
hotspot pass). Each alert is raised once per subject, so either can run any number of times.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.centre import hotspots, places
from routing.centre.config import CentreConfig, load_config
from routing.centre.warnings import RESULT_STATUSES, NewAlert, raise_alert, utcnow
from routing.persistence.case_tables import Alert, Case, CaseEvent
from routing.persistence.life_tables import BaoAnRow, CaseClock

BOUNCE_KINDS = ("routing_transfer", "routing_return")
OPEN = ("accepted", "assigned", "handling", "mediating", "reception_booked", "escalated", "review", "recheck")


def _case_alert(case: Case, kind: str, severity: str, title: str, key: str | None = None) -> NewAlert:
    return NewAlert(key=key or f"{kind}:{case.id}", kind=kind, severity=severity, title=title,
                    county_code=case.county_code, division_code=case.location_code or case.county_code,
                    case_id=case.id, body_id=case.body_id,
                    place_label=places.label(case.location_code or case.county_code))


def on_filed(session: Session, case: Case, cfg: CentreConfig | None = None) -> None:
    """Raise the warnings a new case brings at once (inside its filing transaction).

    Red risk (unless a crisis alert already carries it), a repeat petition on a closed case, and
    the hotspot the case belongs to.
    """
    cfg = cfg or load_config()
    if case.risk_level == "red":
        crisis = session.execute(select(Alert.id).where(Alert.case_id == case.id, Alert.kind.is_not(None))).first()
        if crisis is None:
            raise_alert(session, _case_alert(case, "red_at_filing", "red", f"红色风险案件：{case.subject[:40]}"))
    repeat_on_closed(session, case)
    hotspots.detect(session, case, cfg, filing=True)


def _linked_in_session(session: Session, case: Case) -> list[str] | None:
    """The cases the filing linked, read from this transaction's own events (None: not known here)."""
    mine = [o for o in (*session.identity_map.values(), *session.new)
            if isinstance(o, CaseEvent) and o.case_id == case.id]
    if not any(o.kind == "filed" or (o.kind == "status_changed" and (o.payload or {}).get("action") == "accept")
               for o in mine):
        return None
    return [str(linked) for o in mine if o.kind == "repeat_linked" and (linked := (o.payload or {}).get("linked_case"))]


def repeat_on_closed(session: Session, case: Case) -> bool:
    """Raise a warning when the case repeats a matter already closed (the filing linked them)."""
    linked = _linked_in_session(session, case)
    if linked is None:
        linked = [p.get("linked_case") for p in session.execute(select(CaseEvent.payload).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "repeat_linked")).scalars()]
    if not linked:
        return False
    closed = session.execute(select(Case.case_number).where(Case.case_number.in_([n for n in linked if n]),
                                                            Case.status.in_(RESULT_STATUSES))).scalars().all()
    if not closed:
        return False
    title = f"已办结事项再次信访：{case.case_number} 与 {'、'.join(closed)} 为同一事项"
    _alert, created = raise_alert(session, _case_alert(case, "repeat_closed", "orange", title))
    return created


def scan_overdue(session: Session) -> int:
    """One warning per open case with an overdue duty clock."""
    overdue = select(CaseClock.case_id).where(CaseClock.state == "overdue", CaseClock.stopped_at.is_(None))
    rows = session.execute(select(Case).where(Case.id.in_(overdue), Case.status.in_(OPEN))).scalars().all()
    made = 0
    for case in rows:
        title = f"{case.handling_body or '承办单位'}办理超期：{case.case_number}（{case.subject[:30]}）"
        made += raise_alert(session, _case_alert(case, "overdue", "orange", title))[1]
    return made


def scan_bounced(session: Session, cfg: CentreConfig) -> int:
    """One warning per case passed between bodies (退单) more than ``bounce_limit`` times."""
    rows = session.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.kind.in_(BOUNCE_KINDS))
                           .group_by(CaseEvent.case_id).having(func.count() > cfg.bounce_limit)).all()
    made = 0
    for case_id, n in rows:
        case = session.get(Case, case_id)
        if case is None or case.status not in OPEN:
            continue
        title = f"案件在单位间流转{n}次仍未落实承办：{case.case_number}"
        made += raise_alert(session, _case_alert(case, "bounced", "orange", title))[1]
    return made


def scan_baoan(session: Session, today: date) -> int:
    """One warning per 包案 past its target date and still open."""
    rows = session.execute(select(BaoAnRow, Case).join(Case, Case.case_number == BaoAnRow.case_number)
                           .where(BaoAnRow.closed_on.is_(None), BaoAnRow.target_date < today)).all()
    made = 0
    for baoan, case in rows:
        title = f"{baoan.leader}包案超期（目标{baoan.target_date.isoformat()}）：{case.case_number}"
        made += raise_alert(session, _case_alert(case, "baoan_overdue", "red", title, key=f"baoan:{baoan.id}"))[1]
    return made


def scan_cases(session: Session, today: date, now: datetime | None = None, cfg: CentreConfig | None = None) -> dict[str, int]:
    """The sweep's pass over the case store; return how many alerts of each kind were raised."""
    cfg = cfg or load_config()
    now = now or utcnow()
    return {"overdue": scan_overdue(session), "bounced": scan_bounced(session, cfg),
            "baoan_overdue": scan_baoan(session, today), "hotspot": hotspots.scan(session, now, cfg)}

"""Console case work: the queue, the case file, notes, contacts, mediation and agreements.

Every read goes through the access rules of :mod:`gateway.console.accounts.access`; a case the user
may not see is reported as not found, so its existence is not disclosed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from gateway.console.accounts.access import (
    Principal,
    may_reveal,
    may_view,
    may_work,
    visibility_clause,
)
from routing.cases.statuses import TERMINAL
from routing.cases.statuses import label as status_label
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.console_tables import (
    CannedResponse,
    CaseNote,
    ConsoleUser,
    ConsoleUserRegion,
    ContactLog,
    MediationAgreement,
    MediationRecord,
)
from routing.privacy.fields import phone_index
from routing.understanding.text import mask_pii

PAGE_SIZE = 50
RISK_LABELS = {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"}
RISK_ORDER = ("red", "orange", "yellow", "blue")
DUE_FILTERS = {"overdue": "已超期", "3d": "3日内到期", "7d": "7日内到期"}
CONTACT_METHODS = {"phone": "电话", "visit": "上门走访", "office": "来访", "message": "短信/消息", "chat": "在线对话"}
MEDIATION_RESULTS = {"agreed": "达成协议", "not_agreed": "未达成协议", "continued": "继续调解"}


class CaseHidden(LookupError):
    """No such case, or the user may not see it (both look the same to the user)."""


class NotAllowed(PermissionError):
    """The user may see the case but not make this change."""


class InvalidInput(ValueError):
    """A form value is missing or malformed; the message is Chinese, for the page."""


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page shows."""

    view: str = "mine"  # mine | unassigned | region
    status: str = ""
    risk: str = ""
    category: str = ""
    due: str = ""
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue."""

    case_number: str
    subject: str
    category: str | None
    status: str
    status_label: str
    risk_level: str
    due_date: date | None
    days_left: int | None
    assigned_person_name: str | None
    location_text: str | None
    human_requested: bool


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue with its totals."""

    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    categories: list[str] = field(default_factory=list)


def queue(session: Session, principal: Principal, flt: QueueFilter, today: date) -> QueuePage:
    """Return one page of the cases the user may see, ordered by deadline (soonest first).

    Args:
        session: open database session.
        principal: the signed-in user.
        flt: view, filters and page number.
        today: the date deadlines are counted from.
    """
    where = [visibility_clause(principal)]
    if flt.view == "mine":
        where.append(Case.assigned_person_id == principal.person_id)
    elif flt.view == "unassigned":
        where.append(Case.assigned_person_id.is_(None))
    if flt.status:
        where.append(Case.status == flt.status)
    else:
        where.append(Case.status.not_in(sorted(TERMINAL)))
    if flt.risk in RISK_LABELS:
        where.append(Case.risk_level == flt.risk)
    if flt.category:
        where.append(Case.category == flt.category)
    if flt.due == "overdue":
        where.append(Case.due_date < today)
    elif flt.due in ("3d", "7d"):
        where.append(Case.due_date <= today + timedelta(days=3 if flt.due == "3d" else 7))
    total = int(session.execute(select(func.count()).select_from(Case).where(*where)).scalar() or 0)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, flt.page), pages)
    columns = (
        Case.case_number, Case.subject, Case.category, Case.status, Case.risk_level, Case.due_date,
        Case.assigned_person_name, Case.location_text, Case.human_requested,
    )
    result = session.execute(
        select(*columns)
        .where(*where)
        .order_by(Case.due_date.asc().nulls_last(), Case.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    rows = [
        QueueRow(
            case_number=r.case_number,
            subject=mask_pii(r.subject)[:80],
            category=r.category,
            status=r.status,
            status_label=status_label(r.status),
            risk_level=r.risk_level,
            due_date=r.due_date,
            days_left=(r.due_date - today).days if r.due_date else None,
            assigned_person_name=r.assigned_person_name,
            location_text=r.location_text,
            human_requested=bool(r.human_requested),
        )
        for r in result
    ]
    return QueuePage(rows=rows, total=total, page=page, pages=pages)


def categories(session: Session, principal: Principal) -> list[str]:
    """Return the categories present among the user's visible open cases (for the filter)."""
    rows = session.execute(
        select(Case.category)
        .where(visibility_clause(principal), Case.category.is_not(None), Case.status.not_in(sorted(TERMINAL)))
        .distinct()
    ).scalars()
    return sorted(r for r in rows if r)


def load_case(session: Session, principal: Principal, case_number: str) -> Case:
    """Return the case if the user may see it.

    Raises:
        CaseHidden: no such case, or not visible to this user.
    """
    case = session.execute(select(Case).where(Case.case_number == case_number.strip().upper())).scalar()
    if case is None or not may_view(principal, case):
        raise CaseHidden(case_number)
    return case


def require_work(principal: Principal, case: Case) -> None:
    """Raise :class:`NotAllowed` unless the user may change the case."""
    if not may_work(principal, case):
        raise NotAllowed("work")


@dataclass(frozen=True)
class CaseFile:
    """Everything the case page shows (PII masked unless revealed)."""

    case: Case
    subject: str
    respondent: str | None
    demand: str | None
    narrative: str
    contact_phone: str | None
    revealed: bool
    can_reveal: bool
    can_work: bool
    events: list[dict[str, Any]]
    materials: list[dict[str, Any]]
    notes: list[CaseNote]
    contacts: list[ContactLog]
    mediations: list[MediationRecord]
    agreements: list[MediationAgreement]
    earlier: list[dict[str, Any]]
    risk_reasons: list[str]
    deadlines: list[dict[str, Any]]


def _mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    masked = mask_pii(phone)
    if masked == phone and len(phone) >= 7:  # a number mask_pii does not recognise
        masked = phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
    return masked


def case_file(session: Session, principal: Principal, case: Case, reveal: bool = False) -> CaseFile:
    """Assemble the case page; ``reveal`` shows ID and phone numbers if the user may.

    Raises:
        NotAllowed: ``reveal`` was asked without the permission.
    """
    if reveal and not may_reveal(principal, case):
        raise NotAllowed("reveal_pii")
    show = (lambda s: s) if reveal else mask_pii
    events = session.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).scalars().all()
    event_rows = [
        {"seq": e.seq, "kind": e.kind, "actor": e.actor, "reason": show(e.reason or ""),
         "status": status_label(e.status_after), "at": e.created_at}
        for e in events
    ]
    materials = [
        {"at": e.created_at, "text": show(str((e.payload or {}).get("text", "")))}
        for e in events
        if e.kind == "material_added"
    ]
    risk_reasons = [e.reason or "" for e in events if e.kind in ("risk_assessed", "alert_raised") and e.reason]
    deadlines = []
    if case.due_date:
        deadlines.append({"what": "办理期限", "due": case.due_date})
    for e in events:
        due = (e.payload or {}).get("due") or (e.payload or {}).get("due_date")
        if due:
            deadlines.append({"what": e.reason or e.kind, "due": due})
    earlier_rows = session.execute(
        select(Case.case_number, Case.subject, Case.status, Case.created_at)
        .where(or_(and_(Case.channel == case.channel, Case.channel_user_id == case.channel_user_id),
                   Case.contact_phone_index == phone_index(case.contact_phone) if case.contact_phone else false()),
               Case.id != case.id)
        .order_by(Case.id.desc())
        .limit(20)
    ).all()
    earlier = [
        {"case_number": r.case_number, "subject": mask_pii(r.subject)[:60], "status": status_label(r.status),
         "at": r.created_at}
        for r in earlier_rows
    ]
    return CaseFile(
        case=case,
        subject=show(case.subject),
        respondent=show(case.respondent) if case.respondent else None,
        demand=show(case.demand) if case.demand else None,
        narrative=show(case.narrative_original),
        contact_phone=case.contact_phone if reveal else _mask_phone(case.contact_phone),
        revealed=reveal,
        can_reveal=may_reveal(principal, case),
        can_work=may_work(principal, case),
        events=event_rows,
        materials=materials,
        notes=list(session.execute(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)).scalars()),
        contacts=list(
            session.execute(select(ContactLog).where(ContactLog.case_id == case.id).order_by(ContactLog.id)).scalars()
        ),
        mediations=list(
            session.execute(
                select(MediationRecord).where(MediationRecord.case_id == case.id).order_by(MediationRecord.id)
            ).scalars()
        ),
        agreements=list(
            session.execute(
                select(MediationAgreement).where(MediationAgreement.case_id == case.id).order_by(MediationAgreement.id)
            ).scalars()
        ),
        earlier=earlier,
        risk_reasons=risk_reasons,
        deadlines=deadlines,
    )


def _text(form: dict[str, str], name: str, label: str, limit: int = 4000, required: bool = True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{label}。")
    if len(value) > limit:
        raise InvalidInput(f"{label}太长（最多{limit}字）。")
    return value


def _date(form: dict[str, str], name: str, label: str, required: bool = True) -> date | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"请填写{label}。")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{label}格式应为 YYYY-MM-DD。") from exc


def add_note(session: Session, principal: Principal, case: Case, form: dict[str, str]) -> CaseNote:
    """Add a private note (staff only)."""
    require_work(principal, case)
    note = CaseNote(case_id=case.id, author_id=principal.user_id, author_name=principal.display_name,
                    body=_text(form, "body", "备注内容"))
    session.add(note)
    return note


def add_contact(session: Session, principal: Principal, case: Case, form: dict[str, str]) -> ContactLog:
    """Log a contact with a party."""
    require_work(principal, case)
    method = form.get("method", "")
    if method not in CONTACT_METHODS:
        raise InvalidInput("请选择联系方式。")
    entry = ContactLog(case_id=case.id, author_id=principal.user_id, author_name=principal.display_name,
                       method=method, party=_text(form, "party", "联系对象", 128),
                       summary=_text(form, "summary", "联系情况"))
    session.add(entry)
    return entry


def add_mediation(session: Session, principal: Principal, case: Case, form: dict[str, str]) -> MediationRecord:
    """Record a mediation session (调解记录)."""
    require_work(principal, case)
    result = form.get("result", "")
    if result not in MEDIATION_RESULTS:
        raise InvalidInput("请选择调解结果。")
    record = MediationRecord(
        case_id=case.id, author_id=principal.user_id,
        held_on=_date(form, "held_on", "调解日期"), place=_text(form, "place", "调解地点", 128),
        mediators=_text(form, "mediators", "调解员", 256), attendees=_text(form, "attendees", "到场人员"),
        proceedings=_text(form, "proceedings", "调解经过"), result=result,
    )
    session.add(record)
    return record


def parse_parties(form: dict[str, str]) -> list[dict[str, str]]:
    """Read up to four parties (name, role, details) from ``party{N}_name`` style fields."""
    parties = []
    for n in range(1, 5):
        name = (form.get(f"party{n}_name") or "").strip()
        if not name:
            continue
        parties.append({
            "name": name[:64],
            "role": (form.get(f"party{n}_role") or "当事人").strip()[:16],
            "details": (form.get(f"party{n}_details") or "").strip()[:500],
        })
    if len(parties) < 2:
        raise InvalidInput("调解协议书至少需要两方当事人（人民调解法第二十九条第一项）。")
    return parties


def add_agreement(
    session: Session, principal: Principal, case: Case, form: dict[str, str], today: date
) -> MediationAgreement:
    """Record a 调解协议书 carrying the matters of 人民调解法 第二十九条.

    (一) the parties' basic facts; (二) the main facts, the matters in dispute and each party's
    responsibility; (三) what was agreed, how and by when it is performed.
    """
    require_work(principal, case)
    count = session.execute(
        select(func.count()).select_from(MediationAgreement).where(MediationAgreement.case_id == case.id)
    ).scalar() or 0
    agreement = MediationAgreement(
        case_id=case.id,
        number=f"{case.case_number}-XY{count + 1:02d}",
        committee=_text(form, "committee", "人民调解委员会名称", 128),
        parties=parse_parties(form),
        facts=_text(form, "facts", "纠纷的主要事实"),
        issues=_text(form, "issues", "争议事项"),
        responsibilities=_text(form, "responsibilities", "各方当事人的责任"),
        terms=_text(form, "terms", "调解协议内容"),
        performance_method=_text(form, "performance_method", "履行方式"),
        performance_deadline=_date(form, "performance_deadline", "履行期限", required=False),
        mediators=_text(form, "mediators", "人民调解员", 256),
        signed_on=_date(form, "signed_on", "签订日期", required=False) or today,
        author_id=principal.user_id,
    )
    session.add(agreement)
    session.flush()
    return agreement


def find_agreement(session: Session, case: Case, agreement_id: int) -> MediationAgreement:
    """Return an agreement of this case.

    Raises:
        CaseHidden: no such agreement on this case.
    """
    agreement = session.get(MediationAgreement, agreement_id)
    if agreement is None or agreement.case_id != case.id:
        raise CaseHidden(str(agreement_id))
    return agreement


def canned_for(session: Session, category: str | None) -> list[CannedResponse]:
    """Return the canned replies for a category, plus the general ones."""
    rows = session.execute(select(CannedResponse).order_by(CannedResponse.id)).scalars()
    return [r for r in rows if not r.category or r.category == category]


def colleagues(session: Session, principal: Principal) -> list[ConsoleUser]:
    """Return the active workers sharing a region with the user (assign / transfer targets)."""
    from gateway.console.accounts.access import covered_codes

    mine = covered_codes(principal.regions)
    users = session.execute(
        select(ConsoleUser).where(ConsoleUser.active.is_(True), ConsoleUser.role.in_(["grid_worker", "mediator", "director"]))
    ).scalars().all()
    out = []
    for user in users:
        codes = session.execute(
            select(ConsoleUserRegion.division_code).where(ConsoleUserRegion.user_id == user.id)
        ).scalars().all()
        if set(codes) & mine:
            out.append(user)
    return out


def now_local_date(now: datetime | None = None) -> date:
    """Return today's date in China Standard Time."""
    from datetime import UTC

    return ((now or datetime.now(UTC)) + timedelta(hours=8)).date()

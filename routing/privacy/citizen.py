"""The citizen's rights in the chat: see what is held (masked), delete it, withdraw consent.

个人信息保护法 第四十四至四十七条: a citizen may see what is held about them and have it deleted;
what the law requires to be kept (an open case being handled, a legal hold, 挂牌督办, the
retention period of a closed case's file) is kept, and the answer says what and until when.
Deletion reuses the retention purge's scrub, so "deleted" means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from routing.cases.values import STATUS_LABELS
from routing.persistence.case_tables import Case
from routing.persistence.console_tables import AuditEntry
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage
from routing.privacy.retention import (
    PurgeReport,
    RetentionPolicy,
    _scrub_case,
    held_case_ids,
    load_policy,
)
from routing.understanding.text import mask_pii


@dataclass(frozen=True)
class HeldCase:
    """One case as the citizen may see it: masked."""

    case_number: str
    status: str
    subject: str
    phone: str | None
    place: str | None


@dataclass
class Erasure:
    """What a deletion request removed and what it had to keep (case number, why, until)."""

    erased: list[str] = field(default_factory=list)
    kept: list[tuple[str, str, str | None]] = field(default_factory=list)
    messages: int = 0


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    masked = mask_pii(phone)
    return masked if masked != phone else phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:]


def holdings(session: Session, owner: str) -> list[HeldCase]:
    """Return the cases held about this channel user (purged ones excluded), masked."""
    rows = session.execute(select(Case).where(Case.channel_user_id == owner, Case.purged_at.is_(None))
                           .order_by(Case.id.desc()).limit(20)).scalars()
    return [HeldCase(c.case_number, STATUS_LABELS.get(c.status, c.status), mask_pii(c.subject or "")[:30],
                     _mask_phone(c.contact_phone), c.location_text) for c in rows]


def _kept_reason(case: Case, held: set[int], policy: RetentionPolicy, now: datetime) -> tuple[str, str | None] | None:
    """Why a case must be kept, and until when (None: it may be deleted now)."""
    if case.id in held:
        return "依法保全或挂牌督办中", None
    if case.status in policy.after_end_days:
        until = _aware(case.updated_at) + timedelta(days=policy.after_end_days[case.status])
        if until > now:
            return "已办结案件的档案须保存至保存期限届满", until.date().isoformat()
        return None
    return "案件正在办理中，办结后按保存期限保存", None


def erase(session: Session, owner: str, conversation_id: str, now: datetime, *,
          policy: RetentionPolicy | None = None) -> Erasure:
    """Delete what may be deleted of this citizen's data now; report what must be kept.

    A case is deleted at the citizen's request only when no law requires keeping it (第四十七条:
    a retention period not yet over is an exception; processing then stops except storage):
    never while it is handled, held or within its file's retention. Always deleted: the
    conversation's delivered messages. The caller commits.
    """
    policy = policy or load_policy()
    result = Erasure()
    held = held_case_ids(session, now, policy)
    cases = list(session.execute(select(Case).where(Case.channel_user_id == owner, Case.purged_at.is_(None))
                                 .order_by(Case.id)).scalars())
    report = PurgeReport(dry_run=False)
    for case in cases:
        reason = _kept_reason(case, held, policy, now)
        if reason is not None:
            result.kept.append((case.case_number, *reason))
            continue
        _scrub_case(session, case, now, policy, report)
        result.erased.append(case.case_number)
    result.messages = int(getattr(session.execute(delete(InboxMessage).where(
        InboxMessage.conversation_id == conversation_id, InboxMessage.processed_at.is_not(None),
        InboxMessage.status.not_in(("pending", "held")))), "rowcount", 0) or 0)
    result.messages += int(getattr(session.execute(delete(OutboxMessage).where(
        OutboxMessage.conversation_id == conversation_id, OutboxMessage.status != "pending")), "rowcount", 0) or 0)
    session.add(AuditEntry(user_id=None, username="citizen", action="citizen_erasure",
                           detail={"erased": len(result.erased), "kept": len(result.kept), "messages": result.messages}))
    return result

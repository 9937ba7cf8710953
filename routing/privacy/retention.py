"""The retention purge: remove the personal data of cases past their retention, everywhere.

``purge(sessions, now, dry_run=...)`` finds the cases whose retention (``retention.yaml``, per
final status) has run out and that no legal hold keeps, blanks their personal fields in the case
store, events, contact logs, notes, mediation minutes and crisis alerts, deletes their
conversation's delivered messages, deletes delivered messages and idle Rasa trackers past their
own limits, and writes one audit entry with counts only. The rows, statuses, categories, places,
dates and events' kinds stay, so the centre's figures do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from routing.persistence.case_tables import Alert, Case, CaseEvent
from routing.persistence.centre_tables import Supervision
from routing.persistence.console_tables import AuditEntry, CaseNote, ContactLog, MediationRecord
from routing.persistence.life_tables import ReceptionBookingRow
from routing.persistence.messaging_tables import InboxMessage, OutboxMessage
from routing.persistence.privacy_tables import LegalHold

POLICY_FILE = Path(__file__).with_name("retention.yaml")
PURGED = "（已按保存期限删除）"


@dataclass(frozen=True)
class RetentionPolicy:
    """The policy file as values."""

    after_end_days: dict[str, int]
    messages_days: int
    tracker_idle_days: int
    supervision_states: tuple[str, ...]
    personal_payload_keys: frozenset[str]


@lru_cache(maxsize=1)
def load_policy(path: Path = POLICY_FILE) -> RetentionPolicy:
    """Read ``retention.yaml``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return RetentionPolicy(after_end_days={str(k): int(v) for k, v in raw["after_end_days"].items()},
                           messages_days=int(raw["messages_days"]), tracker_idle_days=int(raw["tracker_idle_days"]),
                           supervision_states=tuple(raw["holds"]["supervision_states"]),
                           personal_payload_keys=frozenset(raw["personal_payload_keys"]))


@dataclass
class PurgeReport:
    """Counts of what a purge removed (or would remove); never a value."""

    dry_run: bool
    cases: int = 0
    held: int = 0
    events: int = 0
    contacts: int = 0
    notes: int = 0
    mediation_records: int = 0
    alerts: int = 0
    bookings: int = 0
    inbox: int = 0
    outbox: int = 0
    trackers: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The counts as a JSON-ready dict."""
        return dict(self.__dict__)


def held_case_ids(session: Session, now: datetime, policy: RetentionPolicy) -> set[int]:
    """Return the ids of cases a legal hold or an open supervision keeps."""
    holds = session.execute(select(LegalHold.case_id).where(
        LegalHold.released_at.is_(None), or_(LegalHold.until.is_(None), LegalHold.until > now))).scalars()
    supervised = session.execute(select(Supervision.case_id).where(
        Supervision.case_id.is_not(None), Supervision.state.in_(policy.supervision_states))).scalars()
    return {int(c) for c in (*holds, *supervised) if c is not None}


def expired_case_ids(session: Session, now: datetime, policy: RetentionPolicy) -> tuple[list[int], int]:
    """Return the ids of cases past retention and not held, and how many more a hold keeps.

    A case ended at its last status change; it is past retention when it is in a final status
    of the policy and no status change of it is newer than that status's limit.
    """
    due: list[int] = []
    for status, days in sorted(policy.after_end_days.items()):
        cutoff = now - timedelta(days=days)
        newer = select(CaseEvent.id).where(CaseEvent.case_id == Case.id, CaseEvent.kind == "status_changed",
                                           CaseEvent.created_at >= cutoff).exists()
        due += session.execute(select(Case.id).where(Case.status == status, Case.purged_at.is_(None),
                                                      Case.created_at < cutoff, ~newer)).scalars()
    held = held_case_ids(session, now, policy)
    return sorted(c for c in due if c not in held), sum(1 for c in due if c in held)


def _scrub_events(session: Session, case_id: int, policy: RetentionPolicy) -> int:
    n = 0
    for ev in session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)).scalars():
        payload = dict(ev.payload or {})
        if ev.reason is None and not (policy.personal_payload_keys & payload.keys()) or payload.get("purged"):
            continue
        kept = {k: v for k, v in payload.items() if k not in policy.personal_payload_keys}
        # The append-only trigger allows exactly this update (migration 0013_privacy).
        session.execute(update(CaseEvent).where(CaseEvent.id == ev.id).values(reason=None, payload={**kept, "purged": True}))
        n += 1
    return n


def _n(session: Session, statement: Any) -> int:
    """Execute an UPDATE or DELETE; return how many rows it touched."""
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def _inbox_closed() -> Any:
    """An inbound message already answered (never a pending one or one held during a crisis)."""
    return and_(InboxMessage.status.not_in(("pending", "held")), InboxMessage.processed_at.is_not(None))


def _old_messages(before: datetime) -> tuple[Any, Any]:
    """Conditions of delivered messages older than ``before``: (inbox, outbox)."""
    return (and_(_inbox_closed(), InboxMessage.processed_at < before),
            and_(OutboxMessage.status != "pending", OutboxMessage.created_at < before))


def _scrub_case(session: Session, case: Case, now: datetime, policy: RetentionPolicy, report: PurgeReport) -> str:
    """Blank one case's personal data; return its conversation id (for messages and trackers)."""
    conversation = case.conversation_id
    report.events += _scrub_events(session, case.id, policy)
    report.contacts += _n(session, update(ContactLog).where(ContactLog.case_id == case.id)
                                       .values(party=PURGED, summary=PURGED))
    report.notes += _n(session, update(CaseNote).where(CaseNote.case_id == case.id).values(body=PURGED))
    report.mediation_records += _n(session, update(MediationRecord).where(MediationRecord.case_id == case.id)
                                                .values(attendees=PURGED, proceedings=PURGED))
    report.alerts += _n(session, update(Alert).where(Alert.case_id == case.id)
                                     .values(excerpt="", place=None))
    report.bookings += _n(session, update(ReceptionBookingRow).where(
        ReceptionBookingRow.case_number == case.case_number).values(citizen_id="purged"))
    report.inbox += _n(session, delete(InboxMessage).where(
        InboxMessage.conversation_id == conversation, _inbox_closed()))
    report.outbox += _n(session, delete(OutboxMessage).where(
        OutboxMessage.conversation_id == conversation, OutboxMessage.status != "pending"))
    case.subject = case.narrative_original = case.narrative_normalised = PURGED
    case.location_text = case.respondent = case.demand = case.contact_phone = None
    case.channel_user_id = case.conversation_id = f"purged:{case.id}"
    case.purged_at = now
    return conversation


def purge_trackers(tracker: Engine | None, conversations: set[str], idle_before: datetime) -> int:
    """Delete Rasa's SQL tracker events of these conversations and of trackers idle since ``idle_before``."""
    if tracker is None:
        return 0
    from sqlalchemy import Column as C
    from sqlalchemy import Float, MetaData, String, Table, inspect

    if not inspect(tracker).has_table("events"):
        return 0
    events = Table("events", MetaData(), C("sender_id", String), C("timestamp", Float))
    with tracker.begin() as conn:
        idle = select(events.c.sender_id).group_by(events.c.sender_id).having(
            func.max(events.c.timestamp) < idle_before.timestamp())
        senders = set(conn.execute(idle).scalars()) | conversations
        if not senders:
            return 0
        n = conn.execute(select(func.count(func.distinct(events.c.sender_id)))
                         .where(events.c.sender_id.in_(sorted(senders)))).scalar() or 0
        conn.execute(delete(events).where(events.c.sender_id.in_(sorted(senders))))
        return int(n)


def purge(sessions: sessionmaker, now: datetime, *, dry_run: bool = False, tracker: Engine | None = None,
          policy: RetentionPolicy | None = None) -> PurgeReport:
    """Run the retention purge once (one transaction); ``dry_run`` counts without changing anything."""
    policy = policy or load_policy()
    report = PurgeReport(dry_run=dry_run)
    conversations: set[str] = set()
    with sessions() as session, session.begin():
        ids, report.held = expired_case_ids(session, now, policy)
        cases = list(session.execute(select(Case).where(Case.id.in_(ids)).order_by(Case.id)).scalars()) if ids else []
        report.cases = len(cases)
        for c in cases:
            report.by_status[c.status] = report.by_status.get(c.status, 0) + 1
        old_in, old_out = _old_messages(now - timedelta(days=policy.messages_days))
        if not dry_run:
            for c in cases:
                conversations.add(_scrub_case(session, c, now, policy, report))
            report.inbox += _n(session, delete(InboxMessage).where(old_in))
            report.outbox += _n(session, delete(OutboxMessage).where(old_out))
        else:
            report.inbox = int(session.execute(select(func.count()).select_from(InboxMessage).where(old_in)).scalar() or 0)
            report.outbox = int(session.execute(select(func.count()).select_from(OutboxMessage).where(old_out)).scalar() or 0)
        if not dry_run:
            session.add(AuditEntry(user_id=None, username="system:retention", action="retention_purge",
                                   detail=report.to_dict()))
    if not dry_run:
        report.trackers = purge_trackers(tracker, conversations, now - timedelta(days=policy.tracker_idle_days))
    return report

"""``routing.cases.ports.PetitionHistory`` over the case store: a person's earlier cases as ``PetitionRef``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from routing.cases.repeat import PetitionRef
from routing.cases.statuses import HANDLING_CLOCKS
from routing.orgs.registry import OrgDataError, Orgs
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.life_tables import CaseClock

__all__ = ["HANDLING_CLOCKS", "SqlPetitionHistory", "petition_ref", "tier_of"]


def tier_of(orgs: Orgs, body_id: str | None) -> str | None:
    """Return the ladder tier code of a body id (None when unknown)."""
    if not body_id:
        return None
    try:
        return orgs.body(body_id).tier
    except OrgDataError:
        return None


def petition_ref(session: Session, case: Case, orgs: Orgs) -> PetitionRef:
    """Describe one stored case for repeat detection."""
    due = session.execute(
        select(CaseClock.due).where(CaseClock.case_id == case.id, CaseClock.clock.in_(HANDLING_CLOCKS))
        .order_by(CaseClock.id.desc())).scalar()
    payloads = session.execute(
        select(CaseEvent.payload).where(CaseEvent.case_id == case.id, CaseEvent.kind == "status_changed",
                                        CaseEvent.status_after == "resolved")).scalars()
    final = any((p or {}).get("action") == "decide_recheck" for p in payloads)
    return PetitionRef(case_id=case.case_number, person_id=case.channel_user_id, text=case.narrative_normalised,
                       division=case.location_code or "", status=case.status, respondent=case.respondent,
                       body_tier=tier_of(orgs, case.body_id), handle_due=due or case.due_date,
                       recheck_final=final, channel=case.channel)


class SqlPetitionHistory:
    """Earlier petitions of a person (same channel user id, or same phone by its blind index), newest first."""

    def __init__(self, session: Session, orgs: Orgs, *, exclude_case_id: int | None = None, limit: int = 50,
                 phone_index: str | None = None) -> None:
        """Bind to an open session; ``phone_index`` also finds the person's cases from other channels."""
        self._session, self._orgs, self._exclude, self._limit = session, orgs, exclude_case_id, limit
        self._phone_index = phone_index

    def petitions_of(self, person_id: str) -> Sequence[PetitionRef]:
        """Return the person's earlier cases."""
        same = Case.channel_user_id == person_id
        q = select(Case).where(or_(same, Case.contact_phone_index == self._phone_index) if self._phone_index else same)
        if self._exclude is not None:
            q = q.where(Case.id != self._exclude)
        rows = self._session.execute(q.order_by(Case.id.desc()).limit(self._limit)).scalars()
        # A case found by the phone's blind index is the same person's, whatever channel filed it.
        return [replace(petition_ref(self._session, c, self._orgs), person_id=person_id) for c in rows]

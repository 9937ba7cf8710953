"""``routing.cases.ports.WorkloadRepository`` inside an open session (same transaction as the change)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.cases.statuses import OPEN_STATUSES
from routing.persistence.case_tables import Case


class SessionWorkload:
    """Open cases per person, counted in the caller's session."""

    def __init__(self, session: Session) -> None:
        """Bind to an open session."""
        self._session = session

    def open_case_counts(self, person_ids: Sequence[str]) -> Mapping[str, int]:
        """Return open cases per person id (missing ids count as 0)."""
        if not person_ids:
            return {}
        rows = self._session.execute(
            select(Case.assigned_person_id, func.count())
            .where(Case.assigned_person_id.in_(list(person_ids)), Case.status.in_(sorted(OPEN_STATUSES)))
            .group_by(Case.assigned_person_id)).all()
        return {p: n for p, n in rows if p is not None}

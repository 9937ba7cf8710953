"""Open311 requests: file through the chat's own path, read by scope, take department updates.

A filing is analysed by ``routing.understanding.intake.analyse`` (classifier, entities, risk) and filed with
``CaseService.file_case`` — the call the chat's ``action_file_case`` makes — so routing, clocks,
repeat checks and the case number are the chat's. A red-risk filing raises the alert the chat's
crisis net raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from routing.cases.service import CaseService
from routing.open311.fields import notice, record_from, statuses_for
from routing.open311.filing import (
    MAX_DESCRIPTION,
    ApiError,
    Filing,
    build_draft,
    field_text,
    filer_id,
    fingerprint,
    locate,
    parse_filing,
    parse_w3c,
)
from routing.open311.keys import Client
from routing.open311.listing import SORT, lean_select
from routing.open311.services import catalogue
from routing.persistence.case_tables import Case, CaseEvent, utcnow
from routing.persistence.console_tables import AuditEntry
from routing.persistence.open311_tables import ApiCaseMeta, ApiIdempotency
from routing.understanding.intake import Analysis, analyse

MAX_RESULTS = 1000
MAX_WINDOW = timedelta(days=90)
CLOSING = {"closed", "fixed", "no_further_action", "duplicate", "not_councils_responsibility"}
PROGRESS = {"open", "in_progress", "action_scheduled", "investigating", "internal_referral"}


class Open311:
    """The API's use cases on the case store."""

    def __init__(self, sessions: sessionmaker, cases: CaseService,
                 analyser: Callable[[str], Analysis] = analyse, now: Callable[[], datetime] = utcnow) -> None:
        """Wire the API to the case store and the chat's analyser."""
        self.sessions = sessions
        self.cases = cases
        self.analyser = analyser
        self.now = now

    # ------------------------------------------------------------------ filing
    def file(self, client: Client, form: Mapping[str, str], idem: str | None = None) -> list[dict[str, Any]]:
        """File a request; the same `Idempotency-Key` returns the first answer and files once.

        Raises:
            ApiError: 400/404 for a bad form, a place outside Zhejiang or a reused key.
        """
        print_ = fingerprint(form)
        if idem:
            earlier = self._earlier(client, idem, print_)
            if earlier is not None:
                return earlier
        filing = parse_filing(form)
        analysis = self.analyser(filing.description)
        place = locate(filing, analysis)
        draft = build_draft(client, filing, analysis, place, filer_id(client, filing, idem))
        filed = self.cases.file_case(draft, actor=f"api:{client.name}"[:64])
        view = filed.view
        answer = [{"service_request_id": view.case_number,
                   "service_notice": notice(view.case_number, view.handling_body, view.tier, view.due_date),
                   "account_id": filing.contact.get("account_id", "")}]
        case = self._add_meta(view.case_number, client, filing)
        if filed.created and (analysis.crisis or analysis.risk_level == "red" or case.risk_level == "red"):
            reasons = "；".join(analysis.risk_reasons) or "高风险诉求（接口登记）"
            self.cases.raise_alert(draft.conversation_id, "red", reasons, filing.description)
        if idem:
            return self._remember(client, idem, print_, view.case_number, answer)
        return answer

    def _add_meta(self, number: str, client: Client, filing: Filing) -> Case:
        """Keep what the filing gave beyond the case (once: a concurrent retry may have done it)."""
        with self.sessions() as session:
            case = session.execute(select(Case).where(Case.case_number == number)).scalar_one()
        try:
            with self.sessions.begin() as session:
                if session.get(ApiCaseMeta, case.id) is None:
                    session.add(ApiCaseMeta(
                        case_id=case.id, api_key_id=client.id, service_code=filing.service.code, lat=filing.lat,
                        long=filing.long, address_string=filing.address_string, media_url=filing.media_url,
                        contact=filing.contact, attributes=filing.attributes))
        except IntegrityError:
            pass  # the concurrent retry stored the same facts
        return case

    def _earlier(self, client: Client, idem: str, print_: str) -> list[dict[str, Any]] | None:
        with self.sessions() as session:
            row = session.execute(select(ApiIdempotency).where(
                ApiIdempotency.api_key_id == client.id, ApiIdempotency.idem_key == idem)).scalar()
            if row is None:
                return None
            if row.fingerprint != print_:
                raise ApiError(400, "Idempotency-Key was already used for a different request")
            return row.answer

    def _remember(self, client: Client, idem: str, print_: str, number: str,
                  answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            with self.sessions.begin() as session:
                session.add(ApiIdempotency(api_key_id=client.id, idem_key=idem, fingerprint=print_,
                                           case_number=number, answer=answer))
        except IntegrityError:  # a concurrent retry stored its answer first: the same case
            earlier = self._earlier(client, idem, print_)
            return earlier if earlier is not None else answer
        return answer

    # ------------------------------------------------------------------ reading
    def window(self, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        """Return the requested_datetime window of a list query (≤ 90 days; default: the last 90).

        Raises:
            ApiError: 400 for an end before the start or a span over 90 days.
        """
        if start is None and end is None:
            end = self.now()
        if start is None:
            assert end is not None
            start = end - MAX_WINDOW
        if end is None:
            end = start + MAX_WINDOW
        if end < start:
            raise ApiError(400, "end_date is before start_date")
        if end - start > MAX_WINDOW:
            raise ApiError(400, "start_date and end_date may not span more than 90 days")
        return start, end

    def search(self, client: Client | None, *, ids: list[str] | None = None, codes: list[str] | None = None,
               start: datetime | None = None, end: datetime | None = None,
               status: set[str] | None = None) -> list[dict[str, Any]]:
        """Return request records, newest first, at most 1,000.

        With ``ids`` the other filters are ignored (as the specification says).

        Raises:
            ApiError: 400 for a bad window.
        """
        geo = bool(client and client.can("geo"))
        personal = bool(client and client.can("personal"))
        base = lean_select(geo, personal)
        if ids:
            query = base.where(Case.case_number.in_([i.strip().upper() for i in ids[:MAX_RESULTS]]))
        else:
            low, high = self.window(start, end)
            base = base.where(Case.created_at >= low.astimezone(UTC), Case.created_at <= high.astimezone(UTC))
            wanted = statuses_for(status or set())
            if wanted is not None:
                base = base.where(Case.status.in_(sorted(wanted)))
            query = self._by_services(base, codes) if codes else base
            if query is None:
                return []
        newest = query.selected_columns
        query = query.order_by(newest[SORT[0]].desc(), newest[SORT[1]].desc()).limit(MAX_RESULTS)
        # a plain read: no transaction to open and roll back, no ORM (Core rows)
        with self.sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            rows = conn.execute(query).fetchall()
        return self._records(client, [r[:-len(SORT)] for r in rows])

    @staticmethod
    def _by_services(base: Any, codes: list[str]) -> Any:
        """Restrict to services: one newest-first branch per service (each an ordered range of
        the service index), merged — a single OR would make the database sort every match."""
        paths = list(dict.fromkeys(catalogue()[c].path for c in codes if c in catalogue()))
        if not paths:
            return None
        branches = [base.where(Case.category == a, Case.category_l2 == b, Case.category_l3 == c)
                    for a, b, c in paths]
        if len(branches) == 1:
            return branches[0]
        limited = [select(*b.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_RESULTS).subquery().c)
                   for b in branches]
        return union_all(*limited).subquery().select()

    def _records(self, client: Client | None, rows: list[Any]) -> list[dict[str, Any]]:
        geo = bool(client and client.can("geo"))
        personal = bool(client and client.can("personal"))
        records = [record_from(tuple(r), geo, personal) for r in rows]
        if personal and records and client is not None:
            with self.sessions.begin() as audit_session:
                audit_session.add(AuditEntry(
                    user_id=None, username=f"api:{client.name}"[:64], action="api_personal_read",
                    case_number=records[0]["service_request_id"] if len(records) == 1 else None,
                    detail={"cases": [r["service_request_id"] for r in records]}, ip="", at=utcnow()))
        return records

    def one(self, client: Client | None, number: str) -> list[dict[str, Any]]:
        """Return one request as a one-element list.

        Raises:
            ApiError: 404 when there is no such request.
        """
        found = self.search(client, ids=[number])
        if not found:
            raise ApiError(404, f"no request {number[:30]}")
        return found

    # ------------------------------------------------------------------ department updates
    def update(self, client: Client, number: str, form: Mapping[str, str],
               life: Any) -> list[dict[str, Any]]:
        """Record a department's progress or closure as case events (idempotent by ``update_id``).

        Args:
            client: a key with the ``write`` scope.
            number: the case number.
            form: ``status`` (open/closed or FixMyStreet's values), ``description``, optional
                ``update_id`` and ``updated_datetime``.
            life: the ``CaseLife`` service (moves the case to handling / resolved).

        Raises:
            ApiError: 400 for a bad form, 404 for an unknown request.
        """
        status = (form.get("status") or "").strip().lower()
        if status not in CLOSING | PROGRESS:
            raise ApiError(400, "status must be open or closed (or a FixMyStreet update state)")
        note = field_text(form, "description", MAX_DESCRIPTION)
        if not note:
            raise ApiError(400, "description is required")
        update_id = field_text(form, "update_id", 64) or hashlib.sha256(
            f"{number}{status}{note}".encode()).hexdigest()[:16]
        with self.sessions() as session:
            case = session.execute(select(Case).where(Case.case_number == number.strip().upper())).scalar()
            if case is None:
                raise ApiError(404, f"no request {number[:30]}")
            earlier = session.execute(select(CaseEvent.payload).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "department_update")).scalars().all()
        if not any(p.get("update_id") == update_id for p in earlier):
            actor = f"api:{client.name}"[:64]
            self.cases.record(case.case_number, "department_update", actor, note,
                              {"update_id": update_id, "status": status, "client": client.name})
            self._move(life, case.case_number, status, actor, note)
        record = self.one(client, case.case_number)[0]
        return [{"update_id": update_id, "service_request_id": case.case_number, "status": record["status"],
                 "updated_datetime": record["updated_datetime"], "description": note}]

    @staticmethod
    def _move(life: Any, number: str, status: str, actor: str, note: str) -> None:
        current = life.view(number).status
        if current == "assigned":
            life.start_handling(number, actor)
            current = "handling"
        if status in CLOSING and current in ("handling", "mediating", "reception_booked"):
            life.resolve(number, actor, agreement=True, notes=note)


__all__ = ["ApiError", "Open311", "parse_w3c"]

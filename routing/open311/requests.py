"""Open311 requests: file through the chat's own path, read by scope, take department updates.

A filing is analysed by ``routing.intake.analyse`` (classifier, entities, risk) and filed with
``CaseService.file_case`` — the call the chat's ``action_file_case`` makes — so routing, clocks,
repeat checks and the case number are the chat's. A red-risk filing raises the alert the chat's
crisis net raises.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from routing.accounts.models import AuditEntry
from routing.intake import Analysis, analyse, find_phone, resolve_place
from routing.open311.fields import COLUMNS, CST, notice, record_from, statuses_for
from routing.open311.keys import Client
from routing.open311.services import Service, attributes, catalogue
from routing.open311.tables import ApiCaseMeta, ApiIdempotency
from routing.orm import Case, CaseEvent, utcnow
from routing.places import PlaceMatch, load_divisions
from routing.service import CaseDraft, CaseService
from routing.text import strip_invisible

MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
MAX_WINDOW = timedelta(days=90)
# Approximate seats of Zhejiang's eleven cities: lat/long without an address is resolved to the
# nearest one; farther than MAX_KM from all of them is outside the province.
CITY_SEATS = {
    "330100": (30.274, 120.155), "330200": (29.868, 121.544), "330300": (27.994, 120.699),
    "330400": (30.746, 120.755), "330500": (30.894, 120.087), "330600": (30.000, 120.580),
    "330700": (29.079, 119.647), "330800": (28.970, 118.859), "330900": (29.985, 122.207),
    "331000": (28.656, 121.421), "331100": (28.452, 119.923),
}
MAX_KM = 110.0
CLOSING = {"closed", "fixed", "no_further_action", "duplicate", "not_councils_responsibility"}
PROGRESS = {"open", "in_progress", "action_scheduled", "investigating", "internal_referral"}


class ApiError(Exception):
    """An error GeoReport v2 reports as ``[{code, description}]`` with that HTTP status."""

    def __init__(self, status: int, description: str) -> None:
        """Keep the HTTP status (also the error's code) and a plain description."""
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class Filing:
    """A parsed POST requests form."""

    service: Service
    description: str
    lat: float | None
    long: float | None
    address_string: str | None
    attributes: dict[str, str]
    contact: dict[str, str]
    media_url: str | None


def _text(form: Mapping[str, str], name: str, limit: int) -> str | None:
    value = strip_invisible(form.get(name) or "").strip()
    if len(value) > limit:
        raise ApiError(400, f"{name} is longer than {limit} characters")
    return value or None


def _coordinate(form: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a decimal number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(400, f"{name} is out of range")
    return value


def parse_filing(form: Mapping[str, str]) -> Filing:
    """Check a POST requests form.

    Raises:
        ApiError: 400 with what is wrong.
    """
    code = (form.get("service_code") or "").strip()
    if not code:
        raise ApiError(400, "service_code is required")
    service = catalogue().get(code)
    if service is None:
        raise ApiError(404, f"service_code {code[:40]} is not a service of this endpoint")
    description = _text(form, "description", MAX_DESCRIPTION)
    if not description or len(description) < 4:
        raise ApiError(400, "description is required (at least 4 characters)")
    lat, long = _coordinate(form, "lat", -90, 90), _coordinate(form, "long", -180, 180)
    if (lat is None) != (long is None):
        raise ApiError(400, "lat and long must be given together")
    address = _text(form, "address_string", 500)
    if lat is None and not address:
        raise ApiError(400, "a location is required: lat and long, or address_string")
    known = {a.code: a for a in attributes()}
    attrs: dict[str, str] = {}
    for key in form:
        if key.startswith("attribute[") and key.endswith("]"):
            name = key[len("attribute["):-1]
            attr = known.get(name)
            if attr is None:
                raise ApiError(400, f"unknown attribute {name[:40]}")
            clean = _text(form, key, 500) or ""
            if attr.values and clean and clean not in {v for v, _ in attr.values}:
                raise ApiError(400, f"attribute[{name}] must be one of the listed values")
            if attr.datatype == "number" and clean and not clean.isdigit():
                raise ApiError(400, f"attribute[{name}] must be a whole number")
            if clean:
                attrs[name] = clean
    contact = {k: v for k in ("email", "first_name", "last_name", "phone", "device_id", "account_id")
               if (v := _text(form, k, 200))}
    media = _text(form, "media_url", 1000)
    if media and not media.startswith(("https://", "http://")):
        raise ApiError(400, "media_url must be an http(s) URL")
    return Filing(service, description, lat, long, address, attrs, contact, media)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def locate(filing: Filing, analysis: Analysis) -> PlaceMatch:
    """Resolve the filing's place to a Zhejiang division.

    ``address_string`` is read by the place resolver; lat/long alone give the nearest city,
    refined by a place the description names inside that city.

    Raises:
        ApiError: 400 when the place is not in Zhejiang (or not a place at all).
    """
    if filing.address_string:
        match = resolve_place(filing.address_string)
        if match is None:
            raise ApiError(400, "address_string is not a place in Zhejiang province (浙江省) this service covers")
        return match
    assert filing.lat is not None and filing.long is not None
    point = (filing.lat, filing.long)
    code, seat = min(CITY_SEATS.items(), key=lambda kv: _distance_km(point, kv[1]))
    if _distance_km(point, seat) > MAX_KM:
        raise ApiError(400, "lat/long is outside Zhejiang province (浙江省) this service covers")
    if analysis.place is not None and any(d.code == code for d in analysis.place.path):
        return analysis.place
    match = load_divisions().resolve(load_divisions().get(code).name)  # type: ignore[union-attr]
    assert match is not None
    return match


def _who(client: Client, filing: Filing, idem: str | None) -> str:
    """The filer's stable id under this client (hashed: no contact data in ids)."""
    for key in ("account_id", "device_id", "email", "phone"):
        if key in filing.contact:
            return hashlib.sha256(f"{key}:{filing.contact[key]}".encode()).hexdigest()[:20]
    seed = idem or uuid.uuid4().hex
    return "anon-" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def build_draft(client: Client, filing: Filing, analysis: Analysis, place: PlaceMatch, who: str) -> CaseDraft:
    """Build the case draft an API filing files (the chat's ``draft_from`` for the API)."""
    attrs = filing.attributes
    user = f"open311:{client.id}:{who}"
    return CaseDraft(
        narrative_original=filing.description,
        narrative_normalised=analysis.normalised,
        subject=filing.description[:500],
        channel="open311",
        channel_user_id=user,
        conversation_id=user,
        category=filing.service.path[0],
        category_path=filing.service.path,
        dispute_type=attrs.get("dispute_type") or analysis.dispute_type,
        classifier_confidence=analysis.confidence if analysis.category == filing.service.path[0] else None,
        script=analysis.script,
        location_text=place.label,
        location_code=place.division.code,
        county_code=place.county.code if place.county else None,
        respondent=attrs.get("respondent") or analysis.respondent,
        demand=attrs.get("demand") or analysis.demand,
        contact_phone=find_phone(filing.contact.get("phone", "")) or analysis.phone,
        risk_level=analysis.risk_level,
        risk_reasons=analysis.risk_reasons,
    )


def fingerprint(form: Mapping[str, str]) -> str:
    """Hash a form without its key, to tell a retry from a different request under one key."""
    items = sorted((k, v) for k, v in form.items() if k != "api_key")
    return hashlib.sha256(repr(items).encode("utf-8")).hexdigest()


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
        draft = build_draft(client, filing, analysis, place, _who(client, filing, idem))
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
    @staticmethod
    def _columns():  # type: ignore[no-untyped-def]
        meta = {"lat", "long", "media_url"}
        return tuple(getattr(ApiCaseMeta if name in meta else Case, name) for name in COLUMNS)

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
        base = select(*self._columns(), Case.id).outerjoin(ApiCaseMeta, ApiCaseMeta.case_id == Case.id)
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
        query = query.order_by(query.selected_columns.created_at.desc(), query.selected_columns.id.desc()).limit(MAX_RESULTS)
        with self.sessions() as session:
            rows = session.connection().execute(query).fetchall()  # Core rows: the list is read-only
        return self._records(client, [r[:-1] for r in rows])

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
        note = _text(form, "description", MAX_DESCRIPTION)
        if not note:
            raise ApiError(400, "description is required")
        update_id = _text(form, "update_id", 64) or hashlib.sha256(
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


def parse_w3c(value: str | None, name: str) -> datetime | None:
    """Parse a W3C datetime (a date alone is midnight in China Standard Time).

    Raises:
        ApiError: 400 when it is not a W3C datetime.
    """
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be a W3C datetime such as 2026-04-27T09:00:00+08:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CST)

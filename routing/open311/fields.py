"""What a reader of a case may see through the API and webhooks, by scope.

Without a key: the public fields of GeoReport v2 (status, agency, dates, township-level address).
``geo`` adds lat/long; ``personal`` adds the narrative (every such read is audited by the caller).
Names, phone and ID numbers are never part of a request record.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from routing.cases.service import STATUS_LABELS
from routing.open311.services import service_of
from routing.understanding.places import load_divisions

CST = timezone(timedelta(hours=8), "CST")
_CST_OFFSET = timedelta(hours=8)
# GeoReport v2 knows two states; a case counts as closed once it is resolved or ended.
CLOSED = frozenset({"resolved", "referred", "follow_up", "archived", "rejected", "withdrawn"})


def w3c(moment: datetime | str | None) -> str | None:
    """Return a W3C datetime in China Standard Time (``2026-04-27T09:30:00+08:00``).

    Formatted by hand: ``astimezone`` + ``isoformat`` were most of a list's time. A string is
    already formatted (the request lists have the database do it, ``routing.open311.listing``).
    """
    if moment is None or isinstance(moment, str):
        return moment
    offset = moment.utcoffset()
    if offset:  # PostgreSQL answers in the session's zone; SQLite drops the zone (the store writes UTC)
        moment = moment - offset
    m = moment + _CST_OFFSET
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}+08:00"


@lru_cache(maxsize=4096)
def due_w3c(due: date | None) -> str | None:
    """Return the end of a due day as a W3C datetime (the case is due by then)."""
    if due is None:
        return None
    return datetime.combine(due, time(23, 59, 59), CST).isoformat(timespec="seconds")


def open_closed(status: str) -> str:
    """Map a case status to GeoReport's ``open`` / ``closed``."""
    return "closed" if status in CLOSED else "open"


def statuses_for(wanted: set[str]) -> set[str] | None:
    """Return the case statuses behind ``open``/``closed`` (None: no filter)."""
    if wanted >= {"open", "closed"} or not wanted:
        return None
    if wanted == {"closed"}:
        return set(CLOSED)
    return set(STATUS_LABELS) - CLOSED


@lru_cache(maxsize=4096)
def township_address(location_code: str | None) -> str | None:
    """Return the division path down to township level (never a village, estate or street)."""
    if not location_code:
        return None
    index = load_divisions()
    path = index.path(location_code) if location_code in index else []
    kept = [d.name for d in path if d.level in ("province", "city", "county", "township")]
    return "".join(kept) or None


# The columns a request record is made of, in the order `record_from` unpacks them.
COLUMNS = ("case_number", "status", "category", "category_l2", "category_l3", "narrative_original",
           "handling_body", "tier", "due_date", "created_at", "updated_at", "location_code", "lat", "long",
           "media_url")


def request_record(row: Any, *, geo: bool = False, personal: bool = False) -> dict[str, Any]:
    """Return one GeoReport v2 request record from an object with the attributes `COLUMNS` names."""
    return record_from(tuple(getattr(row, name) for name in COLUMNS), geo, personal)


@lru_cache(maxsize=1024)
def _service_fields(category: str | None, l2: str | None, l3: str | None) -> tuple[str, str]:
    service = service_of(category, l2, l3)
    return (service.name, service.code) if service else (category or "", "")


@lru_cache(maxsize=64)
def _status_fields(status: str) -> tuple[str, str]:
    return open_closed(status), STATUS_LABELS.get(status, status)


def record_from(values: tuple[Any, ...], geo: bool = False, personal: bool = False) -> dict[str, Any]:
    """Return one GeoReport v2 request record from the values of `COLUMNS` (a result row).

    Args:
        values: the case's columns and its API meta (``lat``, ``long``, ``media_url``: None when
            the case came through the chat).
        geo: the reader's key has the ``geo`` scope.
        personal: the reader's key has the ``personal`` scope.
    """
    (number, status, category, l2, l3, narrative, body, tier, due, created, updated, location, lat, long,
     media) = values
    name, code = _service_fields(category, l2, l3)
    state, notes = _status_fields(status)
    record: dict[str, Any] = {
        "service_request_id": number,
        "status": state,
        "status_notes": notes,
        "service_name": name,
        "service_code": code,
        "description": narrative if personal else "",
        "agency_responsible": body or "",
        "service_notice": notice(number, body, tier, due),
        "requested_datetime": w3c(created),
        "updated_datetime": w3c(updated),
        "expected_datetime": due_w3c(due),
        "address": township_address(location) or "",
        "address_id": "",
        "zipcode": "",
        "media_url": (media or "") if personal else "",
    }
    if geo and lat is not None and long is not None:
        record["lat"] = lat
        record["long"] = long
    return record


def notice(case_number: str, body: str | None, tier: str | None, due: date | None) -> str:
    """Return the service notice: who handles the case and by when."""
    return f"已受理，编号{case_number}。{_notice_tail(body, tier, due)}"


@lru_cache(maxsize=4096)
def _notice_tail(body: str | None, tier: str | None, due: date | None) -> str:
    text = f"承办单位：{body or '待分派'}"
    if tier:
        text += f"（{tier}）"
    return text + (f"，办理期限：{due.isoformat()}。" if due else "，依法定期限办理。")

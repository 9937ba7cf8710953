"""What a reader of a case may see through the API and webhooks, by scope.

Without a key: the public fields of GeoReport v2 (status, agency, dates, township-level address).
``geo`` adds lat/long; ``personal`` adds the narrative (every such read is audited by the caller).
Names, phone and ID numbers are never part of a request record.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any

from routing.open311.services import service_of
from routing.places import load_divisions
from routing.service import STATUS_LABELS

CST = timezone(timedelta(hours=8), "CST")
# GeoReport v2 knows two states; a case counts as closed once it is resolved or ended.
CLOSED = frozenset({"resolved", "referred", "follow_up", "archived", "rejected", "withdrawn"})


def w3c(moment: datetime | None) -> str | None:
    """Return a W3C datetime in China Standard Time (``2026-04-27T09:30:00+08:00``)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store writes UTC; SQLite drops the zone
    return moment.astimezone(CST).isoformat(timespec="seconds")


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


def request_record(row: Any, *, geo: bool = False, personal: bool = False) -> dict[str, Any]:
    """Return one GeoReport v2 request record from a case row (and its API meta, if any).

    Args:
        row: an object with the case columns and ``lat``, ``long``, ``media_url`` (None when
            the case came through the chat).
        geo: the reader's key has the ``geo`` scope.
        personal: the reader's key has the ``personal`` scope.
    """
    service = service_of(row.category, row.category_l2, row.category_l3)
    record: dict[str, Any] = {
        "service_request_id": row.case_number,
        "status": open_closed(row.status),
        "status_notes": STATUS_LABELS.get(row.status, row.status),
        "service_name": service.name if service else (row.category or ""),
        "service_code": service.code if service else "",
        "description": row.narrative_original if personal else "",
        "agency_responsible": row.handling_body or "",
        "service_notice": notice(row.case_number, row.handling_body, row.tier, row.due_date),
        "requested_datetime": w3c(row.created_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": due_w3c(row.due_date),
        "address": township_address(row.location_code) or "",
        "address_id": "",
        "zipcode": "",
        "media_url": (row.media_url or "") if personal else "",
    }
    if geo and row.lat is not None and row.long is not None:
        record["lat"] = row.lat
        record["long"] = row.long
    return record


def notice(case_number: str, body: str | None, tier: str | None, due: date | None) -> str:
    """Return the service notice: who handles the case and by when."""
    text = f"已受理，编号{case_number}。承办单位：{body or '待分派'}"
    if tier:
        text += f"（{tier}）"
    return text + (f"，办理期限：{due.isoformat()}。" if due else "，依法定期限办理。")

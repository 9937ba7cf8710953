"""An Open311 filing form: checked, located in Zhejiang, turned into the chat's case draft."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from routing.cases.service import CaseDraft
from routing.open311.fields import CST
from routing.open311.keys import Client
from routing.open311.services import Service, attributes, catalogue
from routing.understanding.intake import Analysis, find_phone, resolve_place
from routing.understanding.places import PlaceMatch, load_divisions
from routing.understanding.text import strip_invisible

MAX_DESCRIPTION = 4000
# Approximate seats of Zhejiang's eleven cities: lat/long without an address is resolved to the
# nearest one; farther than MAX_KM from all of them is outside the province.
CITY_SEATS = {
    "330100": (30.274, 120.155), "330200": (29.868, 121.544), "330300": (27.994, 120.699),
    "330400": (30.746, 120.755), "330500": (30.894, 120.087), "330600": (30.000, 120.580),
    "330700": (29.079, 119.647), "330800": (28.970, 118.859), "330900": (29.985, 122.207),
    "331000": (28.656, 121.421), "331100": (28.452, 119.923),
}
MAX_KM = 110.0


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


def field_text(form: Mapping[str, str], name: str, limit: int) -> str | None:
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
    description = field_text(form, "description", MAX_DESCRIPTION)
    if not description or len(description) < 4:
        raise ApiError(400, "description is required (at least 4 characters)")
    lat, long = _coordinate(form, "lat", -90, 90), _coordinate(form, "long", -180, 180)
    if (lat is None) != (long is None):
        raise ApiError(400, "lat and long must be given together")
    address = field_text(form, "address_string", 500)
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
            clean = field_text(form, key, 500) or ""
            if attr.values and clean and clean not in {v for v, _ in attr.values}:
                raise ApiError(400, f"attribute[{name}] must be one of the listed values")
            if attr.datatype == "number" and clean and not clean.isdigit():
                raise ApiError(400, f"attribute[{name}] must be a whole number")
            if clean:
                attrs[name] = clean
    contact = {k: v for k in ("email", "first_name", "last_name", "phone", "device_id", "account_id")
               if (v := field_text(form, k, 200))}
    media = field_text(form, "media_url", 1000)
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


def filer_id(client: Client, filing: Filing, idem: str | None) -> str:
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

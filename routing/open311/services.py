"""The hotline taxonomy as Open311 services, and the attributes a filing may carry.

A ``service_code`` is derived from the category path itself (not from a row number), so a code
stays the same when rows are added to or removed from the taxonomy file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from routing.understanding.classifier.data import dispute_types, taxonomy


@dataclass(frozen=True)
class Service:
    """One Open311 service: a third-level category of the hotline taxonomy."""

    code: str
    path: tuple[str, str, str]

    @property
    def name(self) -> str:
        """The service's Chinese name (the third level)."""
        return self.path[2]

    @property
    def group(self) -> str:
        """The first level of the taxonomy."""
        return self.path[0]

    @property
    def description(self) -> str:
        """The full path in Chinese."""
        return " / ".join(self.path)

    @property
    def keywords(self) -> list[str]:
        """The three levels as search words."""
        return list(dict.fromkeys(self.path))


@dataclass(frozen=True)
class Attribute:
    """A fact the filing may give besides the description (GeoReport v2 service definition)."""

    code: str
    datatype: str
    description: str
    required: bool = False
    values: tuple[tuple[str, str], ...] = ()
    variable: bool = True


def service_code(path: tuple[str, str, str]) -> str:
    """Return the stable code of a category path (``fq`` + 8 hex digits of its SHA-256)."""
    return "fq" + hashlib.sha256("/".join(path).encode("utf-8")).hexdigest()[:8]


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Service]:
    """Return every service by code, in taxonomy order.

    Raises:
        RuntimeError: two paths hash to one code (never seen; a guard, not a branch).
    """
    found: dict[str, Service] = {}
    for path in taxonomy():
        code = service_code(path)
        if code in found and found[code].path != path:
            raise RuntimeError(f"service code collision: {path} / {found[code].path}")
        found[code] = Service(code, path)
    return found


@lru_cache(maxsize=1)
def by_path() -> dict[tuple[str, str, str], Service]:
    """Return every service by its category path."""
    return {s.path: s for s in catalogue().values()}


def service_of(category: str | None, l2: str | None, l3: str | None) -> Service | None:
    """Return the service of a case's category path, if the path is a full taxonomy row."""
    if not (category and l2 and l3):
        return None
    return by_path().get((category, l2, l3))


@lru_cache(maxsize=1)
def attributes() -> tuple[Attribute, ...]:
    """The facts intake asks for, as service attributes (the same for every service)."""
    kinds = tuple((code, name) for code, name in dispute_types().items())
    return (
        Attribute("respondent", "string", "对方当事人或被反映单位（没有可不填）"),
        Attribute("demand", "text", "诉求：希望如何解决"),
        Attribute("dispute_type", "singlevaluelist", "纠纷或举报类型", values=kinds),
        Attribute("people_count", "number", "涉及人数"),
        Attribute("incident_date", "datetime", "事情发生的日期"),
    )

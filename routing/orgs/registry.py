"""Organisations as data: bodies by tier, county departments, people, and the ladder rules.

Files in ``routing/data/orgs/`` (edited by an administrator, no code): ``bodies.yaml``
(grids, village / township committees, county centres and specialised committees),
``departments.csv`` (county departments per first-level hotline category, and the bodies for
litigation / arbitration / administrative review), ``people.csv`` and ``ladder.yaml``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from routing.orgs.body import Body

DATA_DIR = Path(__file__).parents[1] / "data" / "orgs"
DISPUTE_TYPES = Path(__file__).parents[1] / "data" / "dispute_types.csv"
BODY_TIERS = ("grid", "village", "township", "committee", "department", "county", "city")
ROLES = ("grid_worker", "mediator", "director", "reception_office")


class OrgDataError(ValueError):
    """The organisation data is inconsistent (unknown tier, body, specialty ...)."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who takes cases in a body."""

    id: str
    name: str
    role: str
    body_id: str
    division: str
    specialties: frozenset[str]
    capacity: int
    available: bool


@dataclass(frozen=True, slots=True)
class SpecialtyRule:
    """Where a specialty starts on the ladder and which committee / department serves it."""

    start: str
    committee: str | None = None
    department_category: str | None = None
    clock: str = "mediation"


@dataclass(frozen=True, slots=True)
class LadderRules:
    """The ladder as read from ``ladder.yaml``."""

    tiers: tuple[str, ...]
    tier_labels: Mapping[str, str]
    risk_floor: Mapping[str, str]
    specialties: Mapping[str, SpecialtyRule]
    channels: Mapping[str, tuple[str, str]]  # channel -> (label, department key)
    accusation_category: str

    def rank(self, tier: str) -> int:
        """Rank of a tier on the ladder (department ranks with the committees)."""
        return self.tiers.index("committee" if tier == "department" else tier)


@dataclass(frozen=True, slots=True)
class DisputeType:
    """A row of ``dispute_types.csv``."""

    code: str
    name: str
    kind: str
    specialty: str


@dataclass(frozen=True)
class Orgs:
    """Every body, person and rule, indexed for the router."""

    bodies: Mapping[str, Body]
    people: tuple[Person, ...]
    rules: LadderRules
    dispute_types: Mapping[str, DisputeType]
    grid_admitted: frozenset[str] | None = None  # 网格事务准入清单 (None: no list, all admitted)
    _by_division: dict[str, list[Body]] = field(default_factory=dict, repr=False)
    _by_body: dict[str, list[Person]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for body in self.bodies.values():
            self._by_division.setdefault(body.division, []).append(body)
        for person in self.people:
            self._by_body.setdefault(person.body_id, []).append(person)

    def body(self, body_id: str) -> Body:
        """Return a body by id or raise :class:`OrgDataError`."""
        try:
            return self.bodies[body_id]
        except KeyError:
            raise OrgDataError(f"unknown body {body_id!r}") from None

    def bodies_in(self, division: str) -> list[Body]:
        """Return the bodies whose served division is exactly ``division``."""
        return self._by_division.get(division, [])

    def people_of(self, body_id: str) -> list[Person]:
        """Return the people working in a body."""
        return self._by_body.get(body_id, [])

    def specialty_of(self, dispute_type: str | None) -> str:
        """Return the specialty code of a dispute type (``general`` when unknown)."""
        dt = self.dispute_types.get(dispute_type or "")
        return dt.specialty if dt else "general"


def _split(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.split(";") if isinstance(value, str) else value
    return frozenset(s.strip() for s in items if s and s.strip())


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    return list(csv.DictReader(lines))


def _read_yaml(path: Path) -> dict:
    import yaml  # lazy

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _check_tier(body: Body) -> Body:
    if body.tier not in BODY_TIERS:
        raise OrgDataError(f"body {body.id}: unknown tier {body.tier!r}")
    return body


def read_bodies(data_dir: Path) -> dict[str, Body]:
    """Read ``bodies.yaml`` and ``departments.csv`` into bodies by id."""
    bodies: dict[str, Body] = {}
    for raw in _read_yaml(data_dir / "bodies.yaml").get("bodies", []):
        body = Body(str(raw["id"]), str(raw["name"]), str(raw["tier"]), str(raw["division"]),
                    _split(raw.get("specialties")), _split(raw.get("categories")))
        bodies[body.id] = _check_tier(body)
    for row in _read_csv(data_dir / "departments.csv"):
        body = Body(row["id"], row["name"], "department", row["division"], _split(row["specialties"]),
                    _split(row["categories"]), _split(row.get("channels")))
        if body.id in bodies:
            raise OrgDataError(f"duplicate body id {body.id}")
        bodies[body.id] = body
    return bodies


def read_people(data_dir: Path, bodies: Mapping[str, Body]) -> tuple[Person, ...]:
    """Read ``people.csv``; every person must belong to a known body and role."""
    people = []
    for row in _read_csv(data_dir / "people.csv"):
        if row["body_id"] not in bodies:
            raise OrgDataError(f"person {row['id']}: unknown body {row['body_id']!r}")
        if row["role"] not in ROLES:
            raise OrgDataError(f"person {row['id']}: unknown role {row['role']!r}")
        people.append(Person(row["id"], row["name"], row["role"], row["body_id"], row["division"],
                             _split(row["specialties"]), int(row["capacity"]),
                             row["available"].strip().lower() in ("true", "1", "yes")))
    return tuple(people)


def read_rules(data_dir: Path) -> LadderRules:
    """Read ``ladder.yaml``."""
    raw = _read_yaml(data_dir / "ladder.yaml")
    specs = {k: SpecialtyRule(str(v["start"]), v.get("committee"), v.get("department_category"),
                              str(v.get("clock", "mediation")))
             for k, v in raw["specialties"].items()}
    channels = {k: (str(v["label"]), str(v["body_key"])) for k, v in raw["channels"].items()}
    return LadderRules(tuple(raw["tiers"]), dict(raw["tier_labels"]), dict(raw["risk_floor"]),
                       specs, channels, str(raw["accusation_category"]))


def read_dispute_types(path: Path = DISPUTE_TYPES) -> dict[str, DisputeType]:
    """Read ``dispute_types.csv`` (code, name, kind, specialty)."""
    return {r["code"]: DisputeType(r["code"], r["name"], r["kind"], r["specialty"]) for r in _read_csv(path)}


def build_orgs(data_dir: Path = DATA_DIR, dispute_types: Path = DISPUTE_TYPES,
               defaults: bool | None = None) -> Orgs:
    """Read every org file under ``data_dir`` (uncached; use :func:`load_orgs` in services).

    Args:
        data_dir: the organisation files.
        dispute_types: the dispute-type list.
        defaults: add a default county centre for every county-level division (and a township
            centre for every township) the data has none for; on by default for the packaged data.

    Raises:
        OrgDataError: inconsistent data.
    """
    bodies = read_bodies(data_dir)
    if defaults if defaults is not None else data_dir == DATA_DIR:
        from routing.orgs.defaults import default_bodies  # lazy: reads the divisions data

        bodies.update(default_bodies(bodies))
    admission = data_dir / "grid_admission.yaml"
    admitted = None
    if admission.exists():
        admitted = frozenset(str(r["code"]) for r in _read_yaml(admission).get("dispute_types", []))
    return Orgs(bodies, read_people(data_dir, bodies), read_rules(data_dir),
                read_dispute_types(dispute_types), admitted)


@lru_cache(maxsize=4)
def load_orgs(data_dir: Path | None = None) -> Orgs:
    """Load (once per directory) the organisation data."""
    return build_orgs(Path(data_dir) if data_dir else DATA_DIR)

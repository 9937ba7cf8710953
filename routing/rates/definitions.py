"""The rate definitions file (``routing/data/rates.yaml``) as typed, checked data."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RATES_PATH = Path(__file__).resolve().parent.parent / "data" / "rates.yaml"
PERIOD_RULES = ("filed", "register_decided", "closed", "due", "mediation_ended", "rated")
FACTS = ("registered", "register_decided", "accepted", "register_on_time", "due_in_period", "closed_on_time",
         "mediation_ended", "mediation_agreement", "resolved", "resolved_locally", "closed", "escalated",
         "dispatched", "returned", "repeat", "followed_up", "rated", "satisfied", "unsatisfied",
         "unsatisfied_followed", "judicially_confirmed", "working_days")


@dataclass(frozen=True)
class RateDef:
    """One rate: what it counts, over what, in which month, on what authority."""

    id: str
    name: str
    numerator: str
    denominator: str
    period: str
    source: str
    events: tuple[str, ...]
    kind: str = "rate"  # rate | mean
    better: str = "higher"
    min_denominator: int = 5
    extra: dict[str, str] = field(default_factory=dict)
    scale_days: float = 60.0

    @property
    def is_rate(self) -> bool:
        """A share in [0, 1] (not a mean such as working days)."""
        return self.kind == "rate"


@dataclass(frozen=True)
class RateBook:
    """All rate definitions, in the file's order."""

    rates: tuple[RateDef, ...]
    min_denominator: int

    def get(self, rate_id: str) -> RateDef:
        """Return one definition (KeyError for an unknown id)."""
        for r in self.rates:
            if r.id == rate_id:
                return r
        raise KeyError(rate_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """The rate ids in order."""
        return tuple(r.id for r in self.rates)


def parse(raw: dict[str, Any]) -> RateBook:
    """Check and build the definitions from the parsed YAML.

    Raises:
        ValueError: an unknown fact or period rule, a duplicate id, a missing field.
    """
    default_min = int(raw.get("min_denominator", 5))
    out: list[RateDef] = []
    seen: set[str] = set()
    for entry in raw.get("rates") or []:
        for key in ("id", "name", "numerator", "denominator", "period", "source", "events"):
            if key not in entry:
                raise ValueError(f"rate {entry.get('id', '?')}: missing {key}")
        rid = str(entry["id"])
        if rid in seen:
            raise ValueError(f"duplicate rate id {rid}")
        seen.add(rid)
        for key in ("numerator", "denominator"):
            if entry[key] not in FACTS:
                raise ValueError(f"rate {rid}: unknown fact {entry[key]!r}")
        if entry["period"] not in PERIOD_RULES:
            raise ValueError(f"rate {rid}: unknown period rule {entry['period']!r}")
        kind = str(entry.get("kind", "rate"))
        if kind not in ("rate", "mean"):
            raise ValueError(f"rate {rid}: kind must be rate or mean")
        out.append(RateDef(id=rid, name=str(entry["name"]), numerator=entry["numerator"],
                           denominator=entry["denominator"], period=entry["period"], source=str(entry["source"]),
                           events=tuple(str(e) for e in entry["events"]), kind=kind,
                           better=str(entry.get("better", "higher")),
                           min_denominator=int(entry.get("min_denominator", default_min)),
                           extra={str(k): str(v) for k, v in (entry.get("extra") or {}).items()},
                           scale_days=float(entry.get("scale_days", 60))))
    return RateBook(tuple(out), default_min)


@lru_cache(maxsize=4)
def load_rates(path: str | None = None) -> RateBook:
    """Read the definitions file (cached)."""
    with open(path or RATES_PATH, encoding="utf-8") as fh:
        return parse(yaml.safe_load(fh))

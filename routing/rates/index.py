"""The 矛盾纠纷化解指数: a weighted score of the rates (weights in ``routing/data/rates_index.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from routing.rates.compute import Figure

INDEX_PATH = Path(__file__).resolve().parent.parent / "data" / "rates_index.yaml"


@dataclass(frozen=True)
class Weights:
    """Weights per rate id and the share of weight an index needs."""

    weights: dict[str, float]
    min_weight_share: float


@lru_cache(maxsize=2)
def load_weights(path: str | None = None) -> Weights:
    """Read the index weights (cached)."""
    with open(path or INDEX_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Weights({str(k): float(v) for k, v in raw["weights"].items()}, float(raw.get("min_weight_share", 0.5)))


def score(fig: Figure) -> float | None:
    """The rate turned into a score in [0, 1] where higher is better (None when 样本不足)."""
    if fig.insufficient or fig.value is None:
        return None
    if not fig.rate.is_rate:
        return max(0.0, 1.0 - fig.value / fig.rate.scale_days)
    return fig.value if fig.rate.better == "higher" else 1.0 - fig.value


def index_of(figs: dict[str, Figure], weights: Weights | None = None) -> float | None:
    """The index (0–100) of one place and month, or None when too few rates have a sample."""
    w = weights or load_weights()
    total = used = acc = 0.0
    for rid, weight in w.weights.items():
        total += weight
        fig = figs.get(rid)
        s = score(fig) if fig is not None else None
        if s is not None:
            used += weight
            acc += weight * s
    if not total or used < w.min_weight_share * total:
        return None
    return round(100.0 * acc / used, 1)


@dataclass(frozen=True)
class Ranked:
    """One place's index in a month, its rank and the change against the month before."""

    code: str
    value: float | None
    rank: int | None
    change: float | None


def rank(current: dict[str, float | None], previous: dict[str, float | None]) -> list[Ranked]:
    """Rank places by index (highest first; no index, no rank) with the month-on-month change."""
    have = sorted((v, c) for c, v in current.items() if v is not None)
    have.reverse()
    out: list[Ranked] = []
    last_v: float | None = None
    last_rank = 0
    for pos, (v, code) in enumerate(have, start=1):
        r = last_rank if v == last_v else pos
        last_v, last_rank = v, r
        prev = previous.get(code)
        out.append(Ranked(code, v, r, round(v - prev, 1) if prev is not None else None))
    out += [Ranked(c, None, None, None) for c, v in sorted(current.items()) if v is None]
    return out

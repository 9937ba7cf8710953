"""All rates of any region × month × body × category, added up from the cases' facts.

Each case contributes to a rate at most once: to the month of its anchor date (the rate's period
rule), 1 or 0 above the line (or its working days for a mean) and 1 below. A figure keeps its
numerator, denominator and the cases behind each, and is 样本不足 below the rate's minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from routing.rates.definitions import RateBook, RateDef
from routing.rates.facts import CaseFacts

INSUFFICIENT = "样本不足"


def month_of(day: object) -> str:
    """``YYYY-MM`` of a date."""
    return f"{day.year:04d}-{day.month:02d}"  # type: ignore[attr-defined]


def contributions(f: CaseFacts, book: RateBook) -> Iterator[tuple[RateDef, str, float]]:
    """Yield (rate, month, value above the line) for every rate whose denominator counts the case."""
    for r in book.rates:
        anchor = f.anchors.get(r.period)
        if anchor is None or r.denominator not in f.flags:
            continue
        if r.kind == "mean":
            value = f.working_days if f.working_days is not None else 0.0
        else:
            value = 1.0 if r.numerator in f.flags else 0.0
        yield r, month_of(anchor), value


def extras(f: CaseFacts, r: RateDef) -> Iterator[str]:
    """The extra counts (e.g. 不满意, 不满意已回访) a case adds to a rate."""
    for fact in r.extra:
        if fact in f.flags:
            yield fact


@dataclass
class Figure:
    """One rate for one scope: the figure, its numerator and denominator, and the cases behind them."""

    rate: RateDef
    numerator: float = 0.0
    denominator: int = 0
    numerator_cases: list[str] = field(default_factory=list)
    denominator_cases: list[str] = field(default_factory=list)
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def insufficient(self) -> bool:
        """Below the minimum denominator: shown as 样本不足 and not ranked."""
        return self.denominator < self.rate.min_denominator

    @property
    def value(self) -> float | None:
        """numerator ÷ denominator (None with no denominator)."""
        return self.numerator / self.denominator if self.denominator else None

    def shown(self) -> str:
        """The figure as shown: a percentage, days, or 样本不足."""
        if self.insufficient or self.value is None:
            return INSUFFICIENT
        if self.rate.is_rate:
            return f"{self.value * 100:.1f}%"
        return f"{self.value:.1f}"

    def add(self, value: float, den: int = 1) -> None:
        """Add a tally (a precomputed row or one case)."""
        self.numerator += value
        self.denominator += den


def figures(facts: Iterable[CaseFacts], book: RateBook, months: Iterable[str],
            keep: Callable[[CaseFacts], bool] | None = None, with_cases: bool = True) -> dict[str, Figure]:
    """Compute every rate over the cases in ``months`` (those ``keep`` accepts)."""
    wanted = set(months)
    out = {r.id: Figure(r) for r in book.rates}
    for f in facts:
        if keep is not None and not keep(f):
            continue
        for r, month, value in contributions(f, book):
            if month not in wanted:
                continue
            fig = out[r.id]
            fig.add(value)
            for name in extras(f, r):
                fig.extra[name] = fig.extra.get(name, 0) + 1
            if with_cases:
                fig.denominator_cases.append(f.case.case_number)
                if value and r.is_rate:
                    fig.numerator_cases.append(f.case.case_number)
    return out


Key = tuple[str, str, str, str, str, str]  # rate (or rate.extra), month, county, township, body, category


def tallies(facts: Iterable[CaseFacts], book: RateBook) -> dict[Key, list[float]]:
    """Sum contributions at the finest grain kept (the monthly table's rows): key → [numerator, denominator]."""
    out: dict[Key, list[float]] = {}
    for f in facts:
        c = f.case
        where = (c.county_code or "", c.township or "", c.body_id or "", c.category or "")
        for r, month, value in contributions(f, book):
            t = out.setdefault((r.id, month, *where), [0.0, 0.0])
            t[0] += value
            t[1] += 1
            for name in extras(f, r):
                e = out.setdefault((f"{r.id}.{name}", month, *where), [0.0, 0.0])
                e[0] += 1
                e[1] += 1
    return out

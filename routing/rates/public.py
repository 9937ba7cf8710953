"""What the public page shows: index and rates per township (or county) for the last 12 months.

Only figures whose denominator reaches the rate's minimum are shown; below it the figure, its
numerator and its denominator are all withheld (样本不足), so no single citizen can be recognised.
No narratives, no case numbers, no names: counts and shares of the monthly tallies only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from routing.centre import places
from routing.persistence.rates_tables import RateRefresh
from routing.rates import monthly
from routing.rates.compute import Figure
from routing.rates.definitions import load_rates
from routing.rates.index import index_of
from routing.rates.report import shift


def survey_open(day: date, mode: str = "auto") -> bool:
    """Whether the 平安浙江文化周 survey is open: the second week of May (8–14 May), or forced."""
    if mode == "open":
        return True
    if mode == "closed":
        return False
    return day.month == 5 and 8 <= day.day <= 14


def _public(f: Figure) -> dict[str, Any]:
    if f.insufficient or f.value is None:
        return {"value": None, "suppressed": True}
    return {"value": round(f.value, 4), "denominator": f.denominator, "suppressed": False}


def figures(session: Session, region: str, today: date) -> dict[str, Any]:
    """Index and rates of ``region`` and of its townships (or counties) for the 12 months to ``today``."""
    div = places.division(region)
    if div is None or div.level not in ("province", "city", "county"):
        raise ValueError(f"not a county or above: {region}")
    book = load_rates()
    this = f"{today.year:04d}-{today.month:02d}"
    months = [shift(this, -k) for k in range(11, -1, -1)]
    by = "township" if div.level == "county" else "county"
    table = monthly.read(session, region, months, by=by, book=book)
    whole = monthly.read(session, region, months, book=book)
    children = sorted({g for g, _m in table.figures})
    # the rates table shows the newest complete month with figures (this month only when none has)
    shown = next((m for m in reversed(months[:-1]) if any((c, m) in table.figures for c in children)), months[-1])
    rows = []
    for code in children:
        per_month = [table.figures.get((code, m)) for m in months]
        last = table.figures.get((code, shown))
        rows.append({"code": code, "name": places.label(code),
                     "index": [index_of(f) if f else None for f in per_month],
                     "data": [f is not None for f in per_month],
                     "rates": {rid: _public(last[rid]) for rid in book.ids} if last else {}})
    region_months = [whole.figures.get((region, m)) for m in months]
    refreshed = session.execute(select(func.max(RateRefresh.computed_at))
                                .where(RateRefresh.county_code.in_(monthly.counties_of(region)))).scalar()
    return {
        "region": region, "region_name": places.label(region), "months": months, "by": by, "rates_month": shown,
        "rates": [{"id": r.id, "name": r.name, "kind": r.kind, "source": r.source, "min": r.min_denominator}
                  for r in book.rates],
        "index": [index_of(f) if f else None for f in region_months],
        "region_rates": [{rid: _public(f[rid]) for rid in book.ids} if f else {} for f in region_months],
        "places": rows, "refreshed": refreshed.isoformat(timespec="minutes") if refreshed else None,
    }

"""Precomputed monthly tallies (``rate_monthly``): refreshed from the event log, added up on reading.

``refresh`` recomputes whole months county by county (idempotent: a month's rows are replaced).
``read`` adds rows up per township, county or body for a region and months; it never reads cases,
so the public page and the report's ranking stay fast at a million cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from routing.centre import places
from routing.persistence.case_tables import utcnow
from routing.persistence.rates_tables import RateMonthly, RateRefresh
from routing.rates.compute import Figure, Key, tallies
from routing.rates.definitions import RateBook, load_rates
from routing.rates.facts import derive_all, today_cst
from routing.rates.store import load


def counties_of(region: str) -> list[str]:
    """The counties at or below a region (the region's own county when it is below one)."""
    div = places.division(region)
    if div is None:
        return []
    if div.level in ("province", "city", "county"):
        return sorted(c for c in places.covered(region) if (d := places.division(c)) and d.level == "county")
    county = places.index().county_of(region)
    return [county.code] if county else []


ALL = "*"  # body_id and category of a township's total row (what the public page and the ranking read)


def rollup(fine: dict[Key, list[float]]) -> dict[Key, list[float]]:
    """Township totals over bodies and categories: one row per (rate, month, county, township)."""
    out: dict[Key, list[float]] = {}
    for (rid, month, county, town, _body, _cat), (num, den) in fine.items():
        t = out.setdefault((rid, month, county, town, ALL, ALL), [0.0, 0.0])
        t[0] += num
        t[1] += den
    return out


def refresh(sessions: sessionmaker, months: Iterable[str], region: str = "33",
            book: RateBook | None = None, as_of: date | None = None) -> int:
    """Recompute the tallies of ``months`` for every county of ``region``; return the cases read."""
    book = book or load_rates()
    months = sorted(set(months))
    total = 0
    for county in counties_of(region):
        with sessions.begin() as s:
            recs = load(s, county, months)
            total += len(recs)
            s.execute(delete(RateRefresh).where(RateRefresh.county_code == county, RateRefresh.month.in_(months)))
            s.add_all([RateRefresh(month=m, county_code=county, cases=len(recs), computed_at=utcnow())
                       for m in months])
            fine = {k: v for k, v in tallies(derive_all(recs, as_of or today_cst()), book).items() if k[1] in months}
            rows = [{"rate_id": k[0], "month": k[1], "county_code": k[2] or county, "township": k[3],
                     "body_id": k[4], "category": k[5], "numerator": v[0], "denominator": int(v[1])}
                    for k, v in {**fine, **rollup(fine)}.items()]
            s.execute(delete(RateMonthly).where(RateMonthly.county_code == county, RateMonthly.month.in_(months)))
            if rows:
                s.execute(insert(RateMonthly), rows)
    return total


def stale(session: Session, region: str, months: Iterable[str], max_age: timedelta = timedelta(minutes=10),
          now: datetime | None = None) -> list[str]:
    """The months whose tallies for ``region`` are missing, or may still change and are older than ``max_age``.

    A month computed two days after it ended is final (the monthly run refreshes the last two
    months anyway, for late-arriving events).
    """
    from routing.rates.store import month_bounds

    now = now or utcnow()
    counties = counties_of(region)
    rows = session.execute(select(RateRefresh.month, func.min(RateRefresh.computed_at), func.count())
                           .where(RateRefresh.county_code.in_(counties), RateRefresh.month.in_(list(months)))
                           .group_by(RateRefresh.month)).all()
    done = {m: (at if at.tzinfo else at.replace(tzinfo=UTC), n) for m, at, n in rows}
    out = []
    for m in months:
        if m not in done or done[m][1] < len(counties):
            out.append(m)
            continue
        at = done[m][0]
        final = datetime.combine(month_bounds(m)[1] + timedelta(days=2), datetime.min.time(), UTC)
        if at < final and now - at > max_age:
            out.append(m)
    return out


def _where(region: str) -> list:  # type: ignore[type-arg]
    div = places.division(region)
    if div is None:
        return [RateMonthly.county_code == "__none__"]
    if div.level in ("province", "city", "county"):
        return [RateMonthly.county_code.in_(counties_of(region))]
    return [RateMonthly.township.in_(sorted(places.covered(region)))]


@dataclass
class Table:
    """Figures per group (township, county, body or the whole region) and month."""

    figures: dict[tuple[str, str], dict[str, Figure]]  # (group, month) -> rate id -> figure
    extra: dict[tuple[str, str], dict[str, float]]


def read(session: Session, region: str, months: Iterable[str], by: str = "region",
         book: RateBook | None = None, category: str = "", body: str = "") -> Table:
    """Add up the monthly rows of ``region`` in ``months`` grouped ``by`` region | county | township | body."""
    book = book or load_rates()
    months = sorted(set(months))
    group = {"region": None, "county": RateMonthly.county_code, "township": RateMonthly.township,
             "body": RateMonthly.body_id}[by]
    cols = [RateMonthly.month, RateMonthly.rate_id, func.sum(RateMonthly.numerator),
            func.sum(RateMonthly.denominator)]
    keys = [RateMonthly.month, RateMonthly.rate_id]
    if group is not None:
        cols.insert(0, group)
        keys.insert(0, group)
    conds = [*_where(region), RateMonthly.month.in_(months)]
    if category or body:
        conds += [RateMonthly.body_id != ALL, RateMonthly.category != ALL]
        if category:
            conds.append(RateMonthly.category == category)
        if body:
            conds.append(RateMonthly.body_id == body)
    elif by == "body":
        conds += [RateMonthly.body_id != ALL]
    else:
        conds += [RateMonthly.body_id == ALL, RateMonthly.category == ALL]
    figs: dict[tuple[str, str], dict[str, Figure]] = {}
    extra: dict[tuple[str, str], dict[str, float]] = {}
    defs = {r.id: r for r in book.rates}
    for row in session.execute(select(*cols).where(*conds).group_by(*keys)):
        values: tuple[Any, ...] = tuple(row) if group is not None else (region, *row)
        g, month, rid, num, den = values
        key = (g, month)
        if rid in defs:
            slot = figs.setdefault(key, {})
            slot[rid] = Figure(defs[rid], float(num or 0), int(den or 0))
        else:
            extra.setdefault(key, {})[rid] = float(num or 0)
    for key, ex in extra.items():
        slot = figs.setdefault(key, {})
        for name, n in ex.items():
            rid, _, fact = name.partition(".")
            if rid in slot:
                slot[rid].extra[fact] = int(n)
    for slot in figs.values():  # a rate no case counted in: 0 of 0
        for rid, r in defs.items():
            if rid not in slot:
                slot[rid] = Figure(r)
    return Table(figs, extra)

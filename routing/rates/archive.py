"""Stored monthly reports (a past one opens as it was) and the monthly run that writes them.

``monthly_run`` is what cron calls (``fengqiao report --schedule monthly``): under a database
lease it refreshes the tallies of the last two months and of this month so far, then stores last
month's report of every county (and of the region asked) that has none yet. Run it any number of
times: a stored report is never rewritten; ``store`` with ``force`` adds a new version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from routing.centre.sweep import acquire, holder_id, release
from routing.persistence.rates_tables import StoredReport
from routing.rates import monthly, render, report

LOCK = "monthly_report"


def month_of(day: date) -> str:
    """``YYYY-MM`` of a day."""
    return f"{day.year:04d}-{day.month:02d}"


def latest(session: Session, region: str, period: str) -> StoredReport | None:
    """The newest stored report of a region and month."""
    return session.execute(select(StoredReport).where(StoredReport.region == region, StoredReport.period == period)
                           .order_by(StoredReport.version.desc()).limit(1)).scalar()


def store(session: Session, data: dict[str, Any], actor: str, *, force: bool = False) -> StoredReport:
    """Keep a built report (its data and its HTML); an existing one is kept unless ``force``."""
    old = latest(session, data["region"], data["period"])
    if old is not None and not force:
        return old
    row = StoredReport(region=data["region"], period=data["period"], version=(old.version + 1) if old else 1,
                       data=data, html=render.html(data), generated_by=actor[:64])
    session.add(row)
    session.flush()
    return row


def listing(session: Session, regions: frozenset[str], limit: int = 60) -> list[StoredReport]:
    """Stored reports of the given regions, newest first."""
    return list(session.execute(select(StoredReport).where(StoredReport.region.in_(sorted(regions)))
                                .order_by(StoredReport.period.desc(), StoredReport.region,
                                          StoredReport.version.desc()).limit(limit)).scalars())


def monthly_run(sessions: sessionmaker, today: date, region: str = "33", now: datetime | None = None,
                actor: str = "system:monthly") -> dict[str, Any] | None:
    """Refresh the tallies and store last month's reports; None when another run holds the lease."""
    now = now or datetime.now(UTC)
    who = holder_id()
    if not acquire(sessions, LOCK, who, 120, now):
        return None
    try:
        this = month_of(today)
        last = report.shift(this, -1)
        cases = monthly.refresh(sessions, [report.shift(this, -2), last, this], region)
        stored = []
        targets = [*monthly.counties_of(region), region] if region not in monthly.counties_of(region) else [region]
        for code in dict.fromkeys(targets):
            with sessions.begin() as s:
                if latest(s, code, last) is not None:
                    continue
                data = report.build(s, code, last, now)
                stored.append(store(s, data, actor).id)
        with sessions() as s:
            total = s.execute(select(func.count()).select_from(StoredReport)).scalar()
        return {"period": last, "cases_read": cases, "stored": len(stored), "stored_total": int(total or 0)}
    finally:
        release(sessions, LOCK, who, now)

"""The one composition root: build the process's services once, on first use.

Nothing happens at import. Every process (action server, gateway and console, the `fengqiao`
command, the sweep) gets its case services from :func:`build_services`, so all of them use the
same deadline rules and the same holiday calendar: published notices (``routing/data/calendar``
and ``HOLIDAY_NOTICES_FILE``), the ``chinese-calendar`` package, and estimated working days for a
year neither source covers yet (case processing must not stop in December; such clocks are
marked as estimated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy.orm import sessionmaker

from fengqiao.settings import Settings, get_settings
from routing.cases.deadlines import HolidayCalendar, load_calendar
from routing.cases.filing_policy import make_policy
from routing.cases.life import CaseLife
from routing.cases.service import CaseService, utc_today
from routing.cases.uow import UnitOfWork, sql_units_of_work
from routing.centre.watch import on_filed
from routing.persistence.db import make_engine, make_session_factory


@dataclass(frozen=True)
class Services:
    """The case services of one process, sharing one database, clock and calendar."""

    sessions: sessionmaker
    cases: CaseService
    life: CaseLife
    calendar: HolidayCalendar


def holiday_calendar(settings: Settings) -> HolidayCalendar:
    """Return the calendar case processing counts on (estimates years no source covers yet)."""
    extra = (settings.holiday_notices_file,) if settings.holiday_notices_file else ()
    return load_calendar(estimate_unknown_years=True, extra_notices=extra)


def strict_calendar(settings: Settings) -> HolidayCalendar:
    """Return the same official sources without estimates (`fengqiao deadline` answers exactly or not at all)."""
    extra = (settings.holiday_notices_file,) if settings.holiday_notices_file else ()
    return load_calendar(estimate_unknown_years=False, extra_notices=extra)


def units_of_work(sessions: sessionmaker) -> Callable[[], UnitOfWork]:
    """The case store's units of work with the centre's early warnings run inside each filing."""
    return sql_units_of_work(sessions, after_filing=(on_filed,))


def build_services(settings: Settings, sessions: sessionmaker,
                   today: Callable[[], date] = utc_today) -> Services:
    """Wire the case services on ``sessions`` with the process's rules and calendar.

    Args:
        settings: the process settings (deadline rules, holiday notices file).
        sessions: the case database's session factory.
        today: the clock (China Standard Time dates; tests fix it).
    """
    calendar = holiday_calendar(settings)
    rules = settings.deadline_rules
    uows = units_of_work(sessions)
    cases = CaseService(sessions, make_policy(rules, sessions, calendar), today, uows=uows)
    life = CaseLife(sessions, today, rules=rules, calendar=calendar, uows=uows)
    return Services(sessions, cases, life, calendar)


@lru_cache(maxsize=1)
def _services() -> Services:
    settings = get_settings()
    return build_services(settings, make_session_factory(make_engine(settings.database_url)))


def case_service() -> CaseService:
    """Return the case service bound to `DATABASE_URL` (the action server's)."""
    return _services().cases


def sessions() -> sessionmaker:
    """Return the case database's session factory (the action server's)."""
    return _services().sessions


def case_life() -> CaseLife:
    """Return the case-life service (lifecycle, clocks, reception days) on the same database."""
    return _services().life


def reset() -> None:
    """Forget the built services (tests change DATABASE_URL between cases)."""
    _services.cache_clear()

"""Build the process's services once, on first use (nothing happens at import)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import sessionmaker

from fengqiao.settings import get_settings
from routing.case_life import CaseLife
from routing.db import make_engine, make_session_factory
from routing.deadlines import allow_provisional
from routing.intake_policy import make_policy
from routing.service import CaseService, utc_today


@lru_cache(maxsize=1)
def _sessions() -> sessionmaker:
    # Case processing must not stop when a clock runs into a year whose holidays are not
    # published yet: such days are estimated, and the case says so (routing.deadlines).
    allow_provisional(True)
    return make_session_factory(make_engine(get_settings().database_url))


@lru_cache(maxsize=1)
def case_service() -> CaseService:
    """Return the case service bound to `DATABASE_URL`."""
    sessions = _sessions()
    return CaseService(sessions, make_policy(get_settings().deadline_rules, sessions), utc_today)


@lru_cache(maxsize=1)
def case_life() -> CaseLife:
    """Return the case-life service (lifecycle, clocks, reception days) on the same database."""
    return CaseLife(_sessions(), utc_today, rules=get_settings().deadline_rules)


def reset() -> None:
    """Forget the built services (tests change DATABASE_URL between cases)."""
    for cached in (_sessions, case_service, case_life):
        cached.cache_clear()

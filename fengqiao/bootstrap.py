"""Build the process's services once, on first use (nothing happens at import)."""

from __future__ import annotations

from functools import lru_cache

from fengqiao.settings import get_settings
from routing.db import make_engine, make_session_factory
from routing.intake_policy import make_policy
from routing.service import CaseService, utc_today


@lru_cache(maxsize=1)
def case_service() -> CaseService:
    """Return the case service bound to `DATABASE_URL`."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    return CaseService(sessions, make_policy(settings.deadline_rules, sessions), utc_today)

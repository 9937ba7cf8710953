"""The volume generator: consistent with its events (reconcile finds no difference) and its
planted hotspots are found by the sweep, once each."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from fengqiao.migrate import upgrade
from routing.centre.generate import Plan, generate
from routing.centre.hotspots import hotspot_key
from routing.centre.reconcile import reconcile
from routing.centre.sweep import centre_pass
from routing.persistence.case_tables import Case
from routing.persistence.centre_tables import CentreAlert
from routing.persistence.db import make_engine, make_session_factory

TODAY = date(2026, 4, 27)


def test_generated_cases_reconcile_and_planted_hotspots_are_found(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'gen.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        result = generate(sessions, Plan(cases=1500, region="330681", months=6, today=TODAY, hotspots=3, seed=3))
        assert result.cases == 1500 and len(result.planted) == 3
        with sessions() as s:
            assert s.execute(select(func.count()).select_from(Case)).scalar() == 1500
            report = reconcile(s, "330681", TODAY)
        assert report.differences == [] and report.cases == 1500
        centre_pass(sessions, TODAY, datetime.combine(TODAY, datetime.min.time(), UTC))
        with sessions() as s:
            keys = set(s.execute(select(CentreAlert.key).where(CentreAlert.kind == "hotspot")).scalars())
        for p in result.planted:
            assert hotspot_key(p["place"], f"l2:{p['problem']}") in keys, p
        again = centre_pass(sessions, TODAY, datetime.combine(TODAY, datetime.min.time(), UTC))
        assert again.raised["hotspot"] == 0
    finally:
        engine.dispose()

"""The monthly tallies, the stored report and ``fengqiao report`` on a small generated county (SQLite)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fengqiao.cli import main
from fengqiao.migrate import upgrade
from routing.centre.generate import Plan, generate
from routing.persistence.case_tables import Case, CaseEvent
from routing.persistence.db import make_engine, make_session_factory
from routing.persistence.rates_tables import RateMonthly, StoredReport
from routing.rates import archive, monthly, report
from routing.rates.compute import figures
from routing.rates.definitions import load_rates
from routing.rates.facts import derive
from routing.rates.store import load

TODAY = date(2026, 12, 4)
REGION = "330681"


@pytest.fixture(scope="module")
def db(tmp_path_factory):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('rates') / 'cases.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    generate(sessions, Plan(cases=500, region=REGION, months=2, today=TODAY, hotspots=0, seed=5))
    yield url, sessions
    engine.dispose()


def test_tallies_add_up_to_the_rates_from_the_event_log(db) -> None:  # type: ignore[no-untyped-def]
    _url, sessions = db
    monthly.refresh(sessions, ["2026-11"], REGION, as_of=TODAY)
    monthly.refresh(sessions, ["2026-11"], REGION, as_of=TODAY)  # idempotent: the month's rows are replaced
    with sessions() as s:
        direct = figures([derive(r, TODAY) for r in load(s, REGION, ["2026-11"])], load_rates(), ["2026-11"])
        whole = monthly.read(s, REGION, ["2026-11"]).figures[(REGION, "2026-11")]
        towns = monthly.read(s, REGION, ["2026-11"], by="township").figures
        by_body = monthly.read(s, REGION, ["2026-11"], by="body").figures
    for rid, fig in direct.items():
        assert (whole[rid].numerator, whole[rid].denominator) == (pytest.approx(fig.numerator), fig.denominator)
        assert sum(f[rid].denominator for (_t, m), f in towns.items() if m == "2026-11") == fig.denominator
        assert sum(f[rid].denominator for (_b, m), f in by_body.items() if m == "2026-11") == fig.denominator
    assert direct["mediation_success_rate"].denominator > 0


def test_a_stored_report_opens_as_it_was(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, sessions = db
    now = datetime(2026, 12, 4, 2, tzinfo=UTC)
    summary = archive.monthly_run(sessions, TODAY, REGION, now=now)
    assert summary is not None and summary["period"] == "2026-11" and summary["stored"] == 1
    again = archive.monthly_run(sessions, TODAY, REGION, now=now + timedelta(minutes=1))
    assert again is not None and again["stored"] == 0
    with sessions() as s:
        stored = archive.latest(s, REGION, "2026-11")
        assert stored is not None
        before = stored.data["volumes"]["filed"]
    # a late-arriving case of November changes a fresh report, not the stored one
    with sessions.begin() as s:
        src = s.execute(select(Case).where(Case.county_code == REGION).limit(1)).scalar_one()
        values = {c.key: getattr(src, c.key) for c in Case.__table__.columns if c.key != "id"}
        values.update(case_number="FQ-2026-LATE01", idempotency_key="late:1",
                      created_at=datetime(2026, 11, 20, 3, tzinfo=UTC))
        late = Case(**values)
        s.add(late)
        s.flush()
        s.add(CaseEvent(case_id=late.id, seq=1, kind="status_changed", actor="system", status_after="accepted",
                        payload={"from": None, "to": "accepted", "action": "accept"}, created_at=late.created_at))
    with sessions() as s:
        assert report.build(s, REGION, "2026-11")["volumes"]["filed"] == before + 1
        assert s.execute(select(func.count()).select_from(StoredReport)).scalar() == 1
    out = tmp_path / "stored.csv"
    assert main(["report", "--url", url, "--region", REGION, "--period", "2026-11", "--stored", "--format", "csv",
                 "--out", str(out)]) == 0
    with sessions() as s:
        row = archive.latest(s, REGION, "2026-11")
        assert row is not None and row.data["volumes"]["filed"] == before
    assert out.read_text(encoding="utf-8-sig").startswith("期间,地区代码,地区,比率")
    assert main(["report", "--url", url, "--region", "nowhere", "--period", "2026-11"]) == 2
    assert main(["report", "--url", url, "--region", REGION, "--period", "2026-13"]) == 2


def test_the_summary_states_computed_figures(db) -> None:  # type: ignore[no-untyped-def]
    _url, sessions = db
    monthly.refresh(sessions, ["2026-10", "2026-11"], REGION)
    with sessions() as s:
        d = report.build(s, REGION, "2026-11", now=datetime(2026, 12, 4, tzinfo=UTC) + timedelta(hours=1))
    med = next(r for r in d["rates"]["rates"] if r["id"] == "mediation_success_rate")
    line = (f"化解率为{med['value'] * 100:.1f}%（{int(med['numerator'])}/{med['denominator']}）。"
            if not med["insufficient"] else f"化解率样本不足（{med['denominator']}件），不作排名。")
    assert line in d["summary"]
    assert d["summary"][0].startswith(f"2026-11，诸暨市共受理矛盾纠纷和信访事项{d['volumes']['filed']}件")
    ranked = [p for p in d["rates"]["places"] if p["rank"] is not None]
    assert [p["rank"] for p in ranked] == sorted(p["rank"] for p in ranked)
    with sessions() as s:
        assert s.execute(select(func.count()).select_from(RateMonthly)
                         .where(RateMonthly.body_id == monthly.ALL)).scalar()

"""The Open311 list's SQL: the partial index of open cases matches GeoReport's "open", and the
database formats times exactly as the Python formatter does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, select
from sqlalchemy.dialects import postgresql

from routing.open311.fields import statuses_for, w3c
from routing.open311.listing import lean_select, w3c_cst
from routing.persistence.case_tables import API_OPEN_STATUSES


def test_the_open_index_covers_exactly_the_open_statuses() -> None:
    assert sorted(statuses_for({"open"}) or ()) == sorted(API_OPEN_STATUSES)


def test_sqlite_formats_times_as_python_does() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        for moment in (datetime(2026, 4, 27, 1, 30, 5, 123456), datetime(2026, 12, 31, 20, 0, 0)):
            stored = moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # how the store's DateTime is kept in SQLite
            got = conn.execute(select(w3c_cst(stored))).scalar_one()
            assert got == w3c(moment.replace(tzinfo=UTC))
    engine.dispose()


def test_readers_without_scopes_get_no_narrative_and_no_join() -> None:
    plain = str(lean_select(False, False).compile(dialect=postgresql.dialect()))
    assert "cases.narrative_original" not in plain and "api_case_meta" not in plain and "to_char" in plain
    full = str(lean_select(True, True).compile(dialect=postgresql.dialect()))
    assert "cases.narrative_original" in full and "LEFT OUTER JOIN api_case_meta" in full

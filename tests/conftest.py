"""Shared fixtures: real databases (a SQLite file and the machine's PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from fengqiao.bootstrap import units_of_work
from fengqiao.migrate import upgrade
from routing.cases.filing_policy import make_policy
from routing.cases.service import CaseService
from routing.persistence.db import make_engine, make_session_factory

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_base() -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """Create a throw-away PostgreSQL database for this test session and drop it after."""
    name = f"fq_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{_pg_base()}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated, empty case database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cases.db'}"
        upgrade(url)
        yield url
        return
    base = request.getfixturevalue("pg_database")
    schema_db = f"{base}"
    engine = make_engine(schema_db)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(schema_db)
    yield schema_db


@pytest.fixture
def service(database_url: str) -> Iterator[CaseService]:
    """A case service on the migrated database, with the date fixed to 2026-04-27."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    yield CaseService(sessions, make_policy("stricter", sessions), lambda: date(2026, 4, 27), uows=units_of_work(sessions))
    engine.dispose()


@pytest.fixture
def app_database(tmp_path, monkeypatch) -> Iterator[str]:
    """Point the process's settings (DATABASE_URL) at a fresh migrated SQLite file."""
    from fengqiao import bootstrap, settings

    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    settings.get_settings.cache_clear()
    bootstrap.reset()
    yield url
    settings.get_settings.cache_clear()
    bootstrap.reset()

"""Database engine and session factory (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, sessionmaker

REPO_ROOT = Path(__file__).resolve().parents[2]


class Base(DeclarativeBase):
    """Declarative base of every table of the case store."""


# Every module that declares tables on Base. Alembic (migrations/env.py) and the test that
# compares the migrations with the models read this list: a new table module goes here.
TABLE_MODULES: tuple[str, ...] = (
    "routing.persistence.case_tables",  # cases, events, counters, alerts, hand-offs
    "routing.persistence.life_tables",  # statutory clocks, reception days, bookings, 包案
    "routing.persistence.console_tables",  # console accounts, sessions, notes, audit
    "routing.persistence.messaging_tables",  # inbox, outbox, conversation state
    "routing.persistence.open311_tables",  # Open311 API keys, idempotency, webhooks
    "routing.persistence.centre_tables",  # the centre's desk: alert members and steps, supervision, run locks
    "routing.persistence.rates_tables",  # monthly rate tallies, stored reports, the public survey
    "routing.persistence.privacy_tables",  # legal holds on personal data
)


def load_all_tables() -> MetaData:
    """Import every table module and return the metadata that holds them all."""
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata


def default_database_url() -> str:
    """Return `DATABASE_URL`, or the embedded SQLite file under `var/`."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{REPO_ROOT / 'var' / 'fengqiao.db'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers and one writer work at once; busy_timeout waits for the writer
    # instead of failing with "database is locked" (RELIABILITY R5).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for `url` (default: `default_database_url()`).

    Args:
        url: a SQLAlchemy URL; ``postgresql://`` URLs use the psycopg 3 driver.

    Returns:
        An engine with WAL and a busy timeout on SQLite, pre-ping on PostgreSQL.
    """
    url = url or default_database_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def make_session_factory(engine: Engine) -> sessionmaker:
    """Return a session factory bound to `engine` that keeps objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)

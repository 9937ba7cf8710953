"""The migrations build exactly the tables the models declare (SQLite and PostgreSQL).

``alembic check`` runs ``migrations/env.py`` in a fresh process, as an operator would, and fails
when an autogenerate would propose any change: a table module env.py forgets to import shows as
a table to drop, a model column without a migration as one to add.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from fengqiao.migrate import upgrade
from routing.persistence.db import REPO_ROOT, load_all_tables, make_engine


def test_alembic_check_through_env_py_finds_no_difference(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "alembic.ini"), "check"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr


def test_autogenerate_diff_against_every_model_is_empty(database_url: str) -> None:
    metadata = load_all_tables()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
    assert {"case_clocks", "reception_days", "reception_bookings"} <= set(metadata.tables)


@pytest.fixture(params=["sqlite", "postgresql"])
def at_0005(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database migrated only up to 0005 (before status events had one form)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url, "0005_case_life")
    yield url


def test_legacy_status_kinds_are_rewritten_once_and_replay(at_0005: str) -> None:
    from routing.cases.life import CaseLife
    from routing.persistence.db import make_session_factory

    engine = make_engine(at_0005)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (id, case_number, idempotency_key, status, subject, narrative_original, "
            "narrative_normalised, script, channel, channel_user_id, conversation_id, risk_level, human_requested, "
            "confidential, hidden_from, created_at, updated_at) VALUES (1, 'FQ-2025-000001', 'k1', 'withdrawn', "
            "'s', 'n', 'n', 'simplified', 'web', 'web:a', 'web:a', 'blue', false, false, '[]', "
            "'2025-05-01 08:00:00', '2025-05-01 08:00:00')"))
        for seq, kind in enumerate(("filed", "routed", "assigned", "withdrawn"), start=1):
            conn.execute(text(
                "INSERT INTO case_events (case_id, seq, kind, actor, status_after, payload, created_at) "
                "VALUES (1, :seq, :kind, 'system', 'x', '{}', '2025-05-01 08:00:00')"), {"seq": seq, "kind": kind})
    engine.dispose()
    upgrade(at_0005)
    engine = make_engine(at_0005)
    try:
        events = CaseLife(make_session_factory(engine)).audit("FQ-2025-000001")  # replays without translation
        assert [e.kind for e in events] == ["status_changed", "routed", "status_changed", "status_changed"]
        assert [e.payload.get("recorded_as") for e in events] == ["filed", None, "assigned", "withdrawn"]
        with engine.connect() as conn, pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE case_events SET reason = 'changed'"))
    finally:
        engine.dispose()

"""The migrations build exactly the tables the models declare (SQLite and PostgreSQL).

``alembic check`` runs ``migrations/env.py`` in a fresh process, as an operator would, and fails
when an autogenerate would propose any change: a table module env.py forgets to import shows as
a table to drop, a model column without a migration as one to add.
"""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from routing.db import REPO_ROOT, load_all_tables, make_engine


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

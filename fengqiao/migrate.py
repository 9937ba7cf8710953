"""Run Alembic migrations from code (used by `fengqiao db upgrade` and by tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from routing.persistence.db import REPO_ROOT, make_engine


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    engine = make_engine(url)
    try:
        config.attributes["engine"] = engine
        command.upgrade(config, revision)
    finally:
        engine.dispose()

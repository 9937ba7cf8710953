"""Alembic environment: migrates the database named by DATABASE_URL (SQLite by default)."""

from alembic import context

import routing.accounts.models  # noqa: F401  (console tables)
import routing.messaging_orm  # noqa: F401  (inbox, outbox, conversation state)
import routing.centre.tables  # noqa: F401  (the centre's desk)
import routing.orm  # noqa: F401  (registers the tables on Base.metadata)
from routing.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on a live connection (the URL may be passed by the caller)."""
    engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

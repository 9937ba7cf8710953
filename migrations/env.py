"""Alembic environment: migrates the database named by DATABASE_URL (SQLite by default)."""

from alembic import context

from routing.persistence.db import load_all_tables, make_engine

config = context.config
target_metadata = load_all_tables()  # every table module (routing.persistence.db.TABLE_MODULES)


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

"""Alembic environment: migrate the database named by MIGRATE_DATABASE_URL (api.config)."""

from alembic import context
from sqlalchemy import create_engine, pool

from api.config import load_settings
from api.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations over one connection, in one transaction."""
    connection = context.config.attributes.get("connection")
    if connection is not None:  # given by `python -m api migrate`
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(load_settings().MIGRATE_DATABASE_URL, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

"""Operator commands: `python -m api migrate`, `settings` and `openapi`."""

import json
import time
from importlib import resources

import click
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from .app_role import grant_app_role
from .config import ConfigError, Settings, load_settings
from .logs import one_line
from .pooler import PoolerError, check_pooled_budget, pgbouncer_config
from .seed import seed

# Connections the stack opens besides the API: the exporter, migrate, an operator's psql.
RESERVED_CONNECTIONS = 10


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def cli() -> None:
    """Operate the API's database and inspect its configuration."""


@cli.command()
@click.option("--wait", default=60, show_default=True, help="Seconds to wait for the database.")
def migrate(wait: int) -> None:
    """Wait for the database, upgrade it to the newest schema, seed reference data, and give
    the API's role its rights (as the owner, MIGRATE_DATABASE_URL)."""
    settings = _settings()
    engine = create_engine(settings.MIGRATE_DATABASE_URL, poolclass=pool.NullPool)
    target = make_url(settings.MIGRATE_DATABASE_URL).render_as_string(hide_password=True)

    click.echo(f"1/5 waiting up to {wait} s for {target}")
    _wait_for_database(engine, wait)

    click.echo("2/5 alembic upgrade head")
    config = Config()
    config.set_main_option("script_location", str(resources.files("api") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    click.echo("3/5 seeding reference data")
    with engine.begin() as connection:
        added = seed(connection)
    click.echo(f"    added {added['world']} world and {added['fortune']} fortune rows")

    click.echo("4/5 granting the API's role DML on its tables")
    with engine.begin() as connection:
        role = grant_app_role(connection, settings.DATABASE_URL, settings.DB_STATEMENT_TIMEOUT_MS)
    click.echo(f"    role {role}" if role else "    the API connects as the owner (one role)")

    click.echo("5/5 checking DB_CONNECTION_BUDGET against max_connections")
    with engine.connect() as connection:
        max_connections = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    available = max_connections - reserved - RESERVED_CONNECTIONS
    if settings.DB_POOLER == "pgbouncer":
        try:
            config = pgbouncer_config(settings.DATABASE_URL, wait)
            click.echo(
                "    " + check_pooled_budget(settings.DB_CONNECTION_BUDGET, available, config)
            )
        except PoolerError as exc:
            raise click.ClickException(str(exc)) from None
        return
    if available < settings.DB_CONNECTION_BUDGET:
        raise click.ClickException(
            f"DB_CONNECTION_BUDGET={settings.DB_CONNECTION_BUDGET} exceeds what the database "
            f"allows: max_connections={max_connections} - {reserved} reserved for superusers "
            f"- {RESERVED_CONNECTIONS} for tools = {available}"
        )
    click.echo(f"    budget {settings.DB_CONNECTION_BUDGET} <= {available} usable connections")


@cli.command("settings")
def show_settings() -> None:
    """Print the effective settings, derived values included (password hidden)."""
    settings = _settings()
    for name, value in settings.effective().items():
        if name in ("DATABASE_URL", "MIGRATE_DATABASE_URL"):
            value = make_url(value).render_as_string(hide_password=True)
        click.echo(f"{name}={value}")
    click.echo(f"# database connections at most: {settings.connections_needed}")


@cli.command("cleanup-idempotency-keys")
def cleanup_idempotency_keys() -> None:
    """Delete the Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_HOURS, in batches."""
    from .idempotency_cleanup import delete_expired_keys

    settings = _settings()
    engine = create_engine(settings.DATABASE_URL, poolclass=pool.NullPool)
    deleted = delete_expired_keys(engine, settings.IDEMPOTENCY_KEY_TTL_HOURS)
    click.echo(
        f"deleted {deleted} idempotency keys older than {settings.IDEMPOTENCY_KEY_TTL_HOURS} h"
    )


@cli.command("openapi")
def print_openapi() -> None:
    """Print the OpenAPI document (docs/openapi.json is this output)."""
    from .app import create_app
    from .openapi import openapi_document

    with create_app().app_context():  # no connection is opened
        click.echo(json.dumps(openapi_document(), indent=2))


def _wait_for_database(engine, seconds: int) -> None:
    """Retry a connection once a second until it works or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except Exception as exc:
            if time.monotonic() >= deadline:
                message = f"database not reachable after {seconds} s: {one_line(exc)}"
                raise click.ClickException(message) from None
            time.sleep(1)


def main() -> None:
    cli(prog_name="python -m api")

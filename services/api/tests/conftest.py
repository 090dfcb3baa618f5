"""Fixtures: a throwaway PostgreSQL for the session, and a fresh app and client per test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.gunicorn import migrate_database
from testkit.postgres import ThrowawayPostgres, ThrowawayPostgresUnavailable

API_DIR = Path(__file__).resolve().parent.parent
# The settings the API reads; a developer's own values must not leak into the tests.
_SETTINGS_ENV = [
    name
    for name in os.environ
    # API_IMAGE is the Compose stack's image tag, not an API setting: later suites (e2e, swarm,
    # the planner) build and run it, and without it fall back to the tag every checkout shares.
    if name.startswith(("DB_", "GUNICORN_", "METRICS_", "API_", "EVENT_LOOP_"))
    and name != "API_IMAGE"
    or name
    in (
        "DATABASE_URL",
        "WEB_CONCURRENCY",
        "APP_ENV",
        "LOG_LEVEL",
        "FORWARDED_ALLOW_IPS",
        "PROMETHEUS_MULTIPROC_DIR",
    )
]
for _name in _SETTINGS_ENV:
    del os.environ[_name]


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of our own for the whole session, migrated and seeded."""
    try:
        server = ThrowawayPostgres().start()
    except ThrowawayPostgresUnavailable as exc:
        pytest.exit(str(exc), returncode=2)
    try:
        migrate_database(server.url)
        yield server
    finally:
        server.stop()


def run_api_command(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `python -m api ARGS` with `env` added, as operators do; never raises."""
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        cwd=API_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


@pytest.fixture
def api_command():
    """api_command("migrate", DATABASE_URL=...) -> CompletedProcess of `python -m api ...`."""
    return run_api_command


@pytest.fixture
def database_url(postgres):
    """The test database's URL; items written by a test are removed after it."""
    yield postgres.url
    postgres.execute_admin("TRUNCATE items, idempotency_keys RESTART IDENTITY CASCADE")


@pytest.fixture
def app(database_url):
    """A fresh application on the test database."""
    from api.app import create_app

    return create_app({"DATABASE_URL": database_url, "WEB_CONCURRENCY": 1})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def count_rows(postgres):
    """count_rows("items") -> the number of rows in a table, read outside the app."""

    def count(table: str) -> int:
        return postgres.execute_admin(f"SELECT count(*) FROM {table}")[0][0]

    return count

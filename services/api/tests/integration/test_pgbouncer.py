"""The API through a real PgBouncer in transaction pooling (DB_POOLER=pgbouncer): the
statement timeout still holds (PgBouncer drops the per-connection option, the role carries
it), idempotent writes and readiness work, and migrate checks the budget against PgBouncer's
own limits, so replicas x workers x pool may exceed max_connections.
"""

import os
import subprocess
import sys

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from api.config import load_settings
from api.db import build_engine
from testkit.gunicorn import API_DIR
from testkit.pgbouncer import PgBouncer, pgbouncer_unavailable

pytestmark = pytest.mark.docker

ROLE, PASSWORD = "api_pooled", "pooled-test-only"
TIMEOUT_MS = 300
MAX_CLIENT_CONN = 500


def migrate(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api", "migrate", "--wait", "10"],
        cwd=API_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def pooled_env(postgres):
    """PgBouncer in front of the test server, migrate run through it: the API's environment."""
    why_not = pgbouncer_unavailable()
    if why_not:
        pytest.skip(why_not)
    postgres.execute_admin("ALTER ROLE app CREATEROLE")  # the owner manages the API's role
    with PgBouncer(postgres.port, ROLE, PASSWORD, MAX_CLIENT_CONN=MAX_CLIENT_CONN) as bouncer:
        role_url = postgres.url.replace("app:test-only@", f"{ROLE}:{PASSWORD}@")
        env = {
            "DATABASE_URL": bouncer.url_for(role_url),
            "MIGRATE_DATABASE_URL": postgres.url,
            "DB_POOLER": "pgbouncer",
            "DB_STATEMENT_TIMEOUT_MS": str(TIMEOUT_MS),
            # More client connections than the server's max_connections (300).
            "DB_CONNECTION_BUDGET": "400",
        }
        result = migrate(**env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"PgBouncer's max_client_conn {MAX_CLIENT_CONN}" in result.stdout
        yield env
    postgres.execute_admin(f"DROP OWNED BY {ROLE}")
    postgres.execute_admin(f"DROP ROLE {ROLE}")


def test_statement_timeout_holds_through_pgbouncer(pooled_env):
    settings = load_settings(pooled_env)
    engine = build_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "300ms"
            with pytest.raises(OperationalError, match="statement timeout"):
                connection.execute(text("SELECT pg_sleep(2)"))
    finally:
        engine.dispose()


def test_api_serves_through_pgbouncer(start_gunicorn, pooled_env):
    server = start_gunicorn(**pooled_env)
    assert server.get("/db").status_code == 200
    assert server.get("/readyz").status_code == 200  # SET LOCAL inside its transaction
    assert server.get("/db/sleep?ms=50").status_code == 200
    assert server.get("/db/sleep?ms=2000").status_code == 503  # cancelled at 300 ms
    item = {"name": "pooled", "quantity": 1, "price": "1.00"}
    key = {"Idempotency-Key": "pooled-key-1"}
    first = requests.post(f"{server.url}/api/items", json=item, headers=key, timeout=10)
    again = requests.post(f"{server.url}/api/items", json=item, headers=key, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert requests.delete(f"{server.url}/api/items/{first.json()['id']}", timeout=10).ok


def test_migrate_refuses_a_budget_above_max_client_conn(pooled_env):
    result = migrate(**{**pooled_env, "DB_CONNECTION_BUDGET": str(MAX_CLIENT_CONN + 1)})
    assert result.returncode == 1
    assert f"exceeds PgBouncer's max_client_conn={MAX_CLIENT_CONN}" in result.stderr


def test_without_the_pooler_the_same_budget_must_fit_max_connections(pooled_env):
    direct = {**pooled_env, "DB_POOLER": "none"}
    result = migrate(**direct)
    assert result.returncode == 1
    assert "DB_CONNECTION_BUDGET=400 exceeds what the database allows" in result.stderr

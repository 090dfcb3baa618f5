"""The API connects as a least-privilege role: rows yes, schema no. migrate creates it."""

import psycopg2
import pytest
import requests

APP_ROLE, APP_PASSWORD = "api_least", "role-test-only"


@pytest.fixture(scope="module")
def app_role_url(postgres):
    """migrate as the owner, with the API's URL naming its own role; the role's URL."""
    import os
    import subprocess
    import sys

    from testkit.gunicorn import API_DIR

    # The owner manages the API's role: in Compose it is the image's superuser; here the
    # database's owner, given just that right.
    postgres.execute_admin("ALTER ROLE app CREATEROLE")
    url = postgres.url.replace("app:test-only@", f"{APP_ROLE}:{APP_PASSWORD}@")
    result = subprocess.run(
        [sys.executable, "-m", "api", "migrate", "--wait", "10"],
        cwd=API_DIR,
        env={**os.environ, "DATABASE_URL": url, "MIGRATE_DATABASE_URL": postgres.url},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"role {APP_ROLE}" in result.stdout
    return url


def connect_as_app(postgres):
    connection = psycopg2.connect(
        host="127.0.0.1", port=postgres.port, user=APP_ROLE, password=APP_PASSWORD, dbname="app"
    )
    connection.autocommit = True
    return connection


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE items",
        "ALTER TABLE items ADD COLUMN colour text",
        "TRUNCATE items",
        "CREATE INDEX ix_intruder ON items (name)",
        "UPDATE alembic_version SET version_num = 'x'",
        "CREATE ROLE intruder",
    ],
)
def test_app_role_cannot_change_the_schema(postgres, app_role_url, ddl):
    connection = connect_as_app(postgres)
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), connection.cursor() as cursor:
            cursor.execute(ddl)
    finally:
        connection.close()


def test_app_role_is_neither_owner_nor_superuser(postgres, app_role_url):
    [(superuser, create_db, create_role)] = postgres.execute_admin(
        f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '{APP_ROLE}'"
    )
    assert not (superuser or create_db or create_role)
    owners = postgres.execute_admin(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
    )
    assert owners == [("app",)]


def test_api_works_as_the_app_role(start_gunicorn, app_role_url, database_url):
    server = start_gunicorn(DATABASE_URL=app_role_url)
    assert server.get("/db").status_code == 200
    assert server.get("/updates?queries=2").status_code == 200
    created = requests.post(
        server.url + "/api/items",
        json={"name": "least", "quantity": 1, "price": "1.00"},
        headers={"Idempotency-Key": "least-privilege"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    location = server.url + created.headers["Location"]
    assert requests.patch(location, json={"quantity": 2}, timeout=10).status_code == 200
    assert requests.delete(location, timeout=10).status_code == 204


def test_migrate_again_updates_the_password(postgres, app_role_url, api_command):
    new_url = app_role_url.replace(APP_PASSWORD, "rotated-password")
    result = api_command("migrate", DATABASE_URL=new_url, MIGRATE_DATABASE_URL=postgres.url)
    assert result.returncode == 0, result.stderr
    connection = psycopg2.connect(
        host="127.0.0.1",
        port=postgres.port,
        user=APP_ROLE,
        password="rotated-password",
        dbname="app",
    )
    connection.close()
    # Back to the module's password for the other tests.
    api_command("migrate", DATABASE_URL=app_role_url, MIGRATE_DATABASE_URL=postgres.url)

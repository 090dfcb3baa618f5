"""Idempotency-Keys expire: batched deletes of keys past the TTL that skip locked rows."""

import threading

import psycopg2
from sqlalchemy import create_engine, pool

from api.idempotency_cleanup import delete_expired_keys

VALID = {"name": "bolt", "quantity": 3, "price": "1.50"}


def add_key(postgres, key: str, age_hours: float) -> None:
    postgres.execute_admin(
        "INSERT INTO idempotency_keys (key, request_hash, created_at) "
        f"VALUES ('{key}', 'h', now() - interval '{age_hours} hours')"
    )


def keys(postgres) -> set[str]:
    return {row[0] for row in postgres.execute_admin("SELECT key FROM idempotency_keys")}


def test_cli_deletes_only_expired_keys(postgres, database_url, api_command):
    add_key(postgres, "old", 25)
    add_key(postgres, "fresh", 23)
    result = api_command("cleanup-idempotency-keys", DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert "deleted 1 idempotency keys older than 24 h" in result.stdout
    assert keys(postgres) == {"fresh"}


def test_ttl_is_a_setting(postgres, database_url, api_command):
    add_key(postgres, "two-hours-old", 2)
    result = api_command(
        "cleanup-idempotency-keys", DATABASE_URL=database_url, IDEMPOTENCY_KEY_TTL_HOURS="1"
    )
    assert result.returncode == 0, result.stderr
    assert keys(postgres) == set()


def test_cleanup_skips_a_locked_key_instead_of_waiting(postgres, database_url):
    for n in range(3):
        add_key(postgres, f"old-{n}", 30)
    holder = psycopg2.connect(
        host="127.0.0.1", port=postgres.port, user="postgres", password="test-only", dbname="app"
    )
    try:
        with holder.cursor() as cursor:  # a transaction holds one expired row
            cursor.execute("SELECT key FROM idempotency_keys WHERE key = 'old-1' FOR UPDATE")
        done = threading.Event()
        engine = create_engine(database_url, poolclass=pool.NullPool)
        deleted = []
        worker = threading.Thread(
            target=lambda: (deleted.append(delete_expired_keys(engine, 24)), done.set())
        )
        worker.start()
        assert done.wait(10), "the cleanup waited for the locked row"
        assert deleted == [2]
        assert keys(postgres) == {"old-1"}
    finally:
        holder.rollback()
        holder.close()


def test_retry_after_expiry_creates_a_new_item(client, postgres, database_url, api_command):
    first = client.post("/api/items", json=VALID, headers={"Idempotency-Key": "late"})
    postgres.execute_admin("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    api_command("cleanup-idempotency-keys", DATABASE_URL=database_url)
    retry = client.post("/api/items", json=VALID, headers={"Idempotency-Key": "late"})
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json["id"] != first.json["id"]


def test_created_at_is_indexed(postgres):
    indexes = postgres.execute_admin(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'idempotency_keys'"
    )
    assert any("(created_at)" in definition for (definition,) in indexes)

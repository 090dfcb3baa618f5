"""Idempotent POSTs across worker processes: concurrent retries create one item; expired keys go."""

from concurrent.futures import ThreadPoolExecutor

import requests

from testkit.net import wait_until

RETRIES = 20


def test_concurrent_posts_with_one_key_create_one_row(start_gunicorn, count_rows):
    server = start_gunicorn(WEB_CONCURRENCY=2)
    body = {"name": "widget", "quantity": 1, "price": "9.99"}

    def post(_):
        return requests.post(
            f"{server.url}/api/items", json=body, headers={"Idempotency-Key": "once"}, timeout=30
        )

    with ThreadPoolExecutor(RETRIES) as pool:
        responses = list(pool.map(post, range(RETRIES)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (RETRIES - 1) + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert count_rows("items") == 1
    assert count_rows("idempotency_keys") == 1


def test_workers_delete_expired_keys_periodically(start_gunicorn, postgres):
    postgres.execute_admin(
        "INSERT INTO idempotency_keys (key, request_hash, created_at) "
        "VALUES ('expired', 'h', now() - interval '2 days'), ('live', 'h', now())"
    )
    start_gunicorn(IDEMPOTENCY_CLEANUP_INTERVAL_SECONDS=1)

    def remaining():
        return {row[0] for row in postgres.execute_admin("SELECT key FROM idempotency_keys")}

    wait_until(lambda: "expired" not in remaining(), 10, "the periodic cleanup")
    assert "live" in remaining()
    postgres.execute_admin("DELETE FROM idempotency_keys WHERE key = 'live'")

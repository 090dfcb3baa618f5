"""Concurrent retries of one POST, across worker processes, create exactly one item."""

from concurrent.futures import ThreadPoolExecutor

import requests

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

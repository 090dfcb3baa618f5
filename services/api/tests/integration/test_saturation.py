"""Saturation, backlog and load shedding, as the gunicorn master reports them under load."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from testkit.net import wait_until

WORKER_CONNECTIONS = 2
CLIENTS = 12
HOLD_MS = 1500


@pytest.fixture
def saturated_server(start_gunicorn):
    """A one-worker server with 2 worker connections, and 12 clients holding /sleep on it."""
    server = start_gunicorn(GUNICORN_WORKER_CONNECTIONS=WORKER_CONNECTIONS)
    pool = ThreadPoolExecutor(CLIENTS)
    # Connection: close, or each finished client's idle keep-alive connection would keep
    # holding one of the two slots (see test_idle_keepalive_connections_hold_slots).
    futures = [
        pool.submit(
            requests.get,
            f"{server.url}/sleep?ms={HOLD_MS}",
            headers={"Connection": "close"},
            timeout=60,
        )
        for _ in range(CLIENTS)
    ]
    yield server, futures
    pool.shutdown(wait=True)


def saturation(server) -> float:
    inflight = server.metric("api_inflight_requests")
    capacity = server.metric("api_worker_connections")
    return inflight / capacity


def test_backlog_and_saturation_rise_under_load_and_fall_after(saturated_server):
    server, futures = saturated_server
    # The master samples the accept queue once a second.
    wait_until(lambda: server.metric("api_listen_backlog") > 0, 5, "a backlog reading")
    # min(GUNICORN_BACKLOG=2048, net.core.somaxconn)
    assert 0 < server.metric("api_listen_backlog_limit") <= 2048
    assert saturation(server) == pytest.approx(1.0)

    assert [future.result().status_code for future in futures] == [200] * CLIENTS
    wait_until(lambda: server.metric("api_listen_backlog") == 0, 5, "the backlog to drain")
    # Sampled every 100 ms by the worker: the last reading may predate the last response.
    wait_until(lambda: saturation(server) == 0, 2, "saturation to fall")


def test_metrics_answer_promptly_while_every_worker_connection_is_busy(saturated_server):
    server, futures = saturated_server
    wait_until(lambda: saturation(server) == 1.0, 5, "the worker to fill up")
    for _ in range(5):
        start = time.perf_counter()
        text = server.metrics_text(timeout=2)
        assert time.perf_counter() - start < 0.2
        assert "api_inflight_requests" in text
    # Meanwhile the app port itself is queueing: its requests are still in flight.
    assert not all(future.done() for future in futures)


def test_pool_exhaustion_sheds_promptly_with_retry_after(start_gunicorn):
    pool_timeout = 1.0
    server = start_gunicorn(DB_POOL_SIZE=1, DB_POOL_TIMEOUT=pool_timeout)
    holder = threading.Thread(target=server.get, args=("/db/sleep?ms=3000",))
    holder.start()
    wait_until(lambda: server.metric("api_db_pool_checked_out") == 1, 5, "the pool to be taken")

    start = time.perf_counter()
    response = server.get("/db")
    elapsed = time.perf_counter() - start
    holder.join()

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Retry-After"] == "1"
    assert pool_timeout * 0.9 <= elapsed < pool_timeout + 0.5
    assert server.metric("api_db_pool_timeouts_total") == 1
    # The shed request waited the whole timeout, and the checkout histogram saw it.
    assert server.metric("api_db_pool_checkout_seconds_bucket", le="0.5") < server.metric(
        "api_db_pool_checkout_seconds_count"
    )


def test_statement_timeout_frees_the_connection(start_gunicorn):
    server = start_gunicorn(DB_STATEMENT_TIMEOUT_MS=300)
    response = server.get("/db/sleep?ms=2000")
    assert response.status_code == 503
    assert server.get("/db").status_code == 200


def test_idle_keepalive_connections_hold_slots(start_gunicorn):
    server = start_gunicorn(GUNICORN_WORKER_CONNECTIONS=WORKER_CONNECTIONS)
    sessions = [requests.Session() for _ in range(WORKER_CONNECTIONS)]
    try:
        for session in sessions:
            assert session.get(f"{server.url}/json", timeout=5).status_code == 200
        # No request is in flight, yet both slots are taken: new clients queue.
        wait_until(
            lambda: (
                server.metric("api_open_connections") == 2
                and server.metric("api_inflight_requests") == 0
            ),
            5,
            "two open connections, no request in flight",
        )
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(requests.get, f"{server.url}/json", timeout=3)
            wait_until(lambda: server.metric("api_listen_backlog") == 1, 2.5, "a queued client")
            with pytest.raises(requests.Timeout):
                waiting.result()
    finally:
        for session in sessions:
            session.close()

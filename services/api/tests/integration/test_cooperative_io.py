"""One gevent worker overlaps database waits: psycopg2 through psycogreen, psycopg 3 by itself."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

CONCURRENT = 20
SLEEP_MS = 200


def run_concurrently(url: str, count: int) -> tuple[float, list[int]]:
    """GET `url` from `count` threads at once; return (wall seconds, status codes)."""
    with ThreadPoolExecutor(count) as pool:
        start = time.perf_counter()
        statuses = list(pool.map(lambda _: requests.get(url, timeout=30).status_code, range(count)))
        return time.perf_counter() - start, statuses


# psycopg 3 (the benchmark matrix compares it) is cooperative when imported after gevent's
# patch, which the worker does before it loads the app.
@pytest.mark.parametrize("driver", ["postgresql+psycopg2", "postgresql+psycopg"])
def test_concurrent_queries_overlap_in_one_worker(start_gunicorn, postgres, driver):
    server = start_gunicorn(
        DATABASE_URL=postgres.url.replace("postgresql+psycopg2", driver),
        DB_POOL_SIZE=CONCURRENT,
        DB_CONNECTION_BUDGET=CONCURRENT,
    )
    url = f"{server.url}/db/sleep?ms={SLEEP_MS}"
    run_concurrently(url, CONCURRENT)  # open the pool's connections first
    elapsed, statuses = run_concurrently(url, CONCURRENT)
    assert statuses == [200] * CONCURRENT
    # Serially: 20 x 200 ms = 4 s. Overlapped: about 200 ms, more on a busy machine; a
    # quarter of the serial time still tells the two apart.
    assert elapsed < CONCURRENT * SLEEP_MS / 1000 / 4


def test_without_psycogreen_the_worker_serialises_and_reports_blocking(start_gunicorn):
    server = start_gunicorn(
        DB_POOL_SIZE=CONCURRENT, DB_CONNECTION_BUDGET=CONCURRENT, DB_COOPERATIVE_IO="false"
    )
    elapsed, statuses = run_concurrently(f"{server.url}/db/sleep?ms={SLEEP_MS}", 5)
    assert statuses == [200] * 5
    assert elapsed >= 0.9 * 5 * SLEEP_MS / 1000
    # The hub was blocked for 200 ms at a time: gevent's monitor thread saw it.
    time.sleep(0.5)  # the count reaches the metric on the next lag tick
    assert server.metric("api_event_loop_blocked_total") >= 1

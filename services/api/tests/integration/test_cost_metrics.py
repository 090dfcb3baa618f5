"""What a request costs, as the capacity model reads it: CPU per worker, pool time per route."""

import os
import signal

from prometheus_client.parser import text_string_to_metric_families

from api import config
from testkit.net import wait_until


def samples(server, name: str) -> dict[tuple, float]:
    """{label values: value} of every sample called `name`."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(server.metrics_text())
        for sample in family.samples
        if sample.name == name
    }


def cpu_by_worker(server) -> dict[int, float]:
    return {
        int(dict(labels)["worker"]): value
        for labels, value in samples(server, "api_worker_cpu_seconds_total").items()
    }


def test_worker_cpu_seconds_are_per_live_worker_and_grow_with_work(start_gunicorn):
    server = start_gunicorn(WEB_CONCURRENCY=2)
    before = cpu_by_worker(server)
    assert sorted(before) == sorted(server.worker_pids())
    for _ in range(300):
        server.get("/fortunes")
    after = cpu_by_worker(server)
    assert sum(after.values()) > sum(before.values())
    assert all(after[pid] >= before[pid] for pid in before)


def test_a_restarted_worker_is_a_new_cpu_series_and_the_dead_one_is_gone(start_gunicorn):
    server = start_gunicorn(WEB_CONCURRENCY=2)
    killed, kept = server.worker_pids()
    os.kill(killed, signal.SIGKILL)
    wait_until(
        lambda: len(server.worker_pids()) == 2 and killed not in server.worker_pids(),
        10,
        "a replacement worker",
    )
    (replacement,) = set(server.worker_pids()) - {kept}
    wait_until(lambda: replacement in cpu_by_worker(server), 5, "the replacement's CPU series")
    assert sorted(cpu_by_worker(server)) == sorted([kept, replacement])


def test_cpus_available_is_the_replicas_cpu_limit(gunicorn_server):
    assert gunicorn_server.metric("api_cpus_available") == config.cpu_limit()


def test_connection_held_seconds_are_counted_per_route(gunicorn_server):
    for _ in range(3):
        assert gunicorn_server.get("/db/sleep?ms=200").status_code == 200
    assert gunicorn_server.get("/db").status_code == 200
    assert gunicorn_server.get("/json").status_code == 200
    counted = samples(gunicorn_server, "api_db_connection_held_seconds_total")
    held = {(dict(labels)["method"], dict(labels)["path"]): v for labels, v in counted.items()}
    # Every slow query held its connection at least as long as it slept.
    assert held[("GET", "/db/sleep")] >= 3 * 0.2
    assert 0 < held[("GET", "/db")] < 0.2
    assert ("GET", "/json") not in held  # no database, no pool time

"""Graceful stop, worker replacement and restart counting, start-up refusal."""

import http.client
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from testkit.gunicorn import API_DIR, GunicornServer
from testkit.net import port_open, wait_until


def test_sigterm_lets_in_flight_requests_finish(gunicorn_server):
    result = {}
    request = threading.Thread(
        target=lambda: result.update(response=gunicorn_server.get("/sleep?ms=2000"))
    )
    request.start()
    wait_until(lambda: gunicorn_server.metric("api_inflight_requests") == 1, 5, "the request")
    gunicorn_server.signal(signal.SIGTERM)
    # New connections are refused at once ...
    wait_until(lambda: not port_open(gunicorn_server.port), 5, "the listener to close")
    request.join()
    # ... while the one in flight completes.
    assert result["response"].status_code == 200
    assert gunicorn_server.process.wait(10) == 0


def test_killed_worker_is_replaced_and_counted(gunicorn_server):
    (worker,) = gunicorn_server.worker_pids()
    os.kill(worker, signal.SIGKILL)
    wait_until(
        lambda: (
            gunicorn_server.worker_pids() not in ([], [worker])
            and gunicorn_server.metric("api_workers") == 1
        ),
        15,
        "a replacement worker",
    )
    assert gunicorn_server.metric("api_worker_restarts_total", reason="killed") == 1
    assert gunicorn_server.metric("api_worker_restarts_total", reason="timeout") == 0
    # The dead worker's gauges are gone; only the new worker's remain.
    assert gunicorn_server.get("/db").status_code == 200
    text = gunicorn_server.metrics_text()
    assert f'worker="{worker}"' not in text


def test_blocked_worker_is_killed_after_timeout_and_counted(start_gunicorn):
    # Without psycogreen a slow query blocks the hub, so heartbeats stop.
    server = start_gunicorn(DB_COOPERATIVE_IO="false", GUNICORN_TIMEOUT=2)
    with pytest.raises(requests.ConnectionError):
        server.get("/db/sleep?ms=4500")
    wait_until(
        lambda: server.metric("api_worker_restarts_total", reason="timeout") == 1,
        15,
        "the timeout to be counted",
    )
    assert "WORKER TIMEOUT" in server.log()


def test_recycled_worker_counts_as_exit(start_gunicorn):
    server = start_gunicorn(GUNICORN_MAX_REQUESTS=5)
    for _ in range(8):
        server.get("/json")
    wait_until(
        lambda: server.metric("api_worker_restarts_total", reason="exit") == 1,
        10,
        "the recycled worker to be counted",
    )


def run_gunicorn_expecting_refusal(
    postgres_url: str, *flags: str, **env
) -> subprocess.CompletedProcess:
    """Run gunicorn (with command-line `flags` before the app) until it exits."""
    server = GunicornServer(postgres_url, **env)
    *command, app = server.command()
    try:
        return subprocess.run(
            [*command, *flags, app],
            cwd=API_DIR,
            env=server.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DB_CONNECTION_BUDGET": 10, "DB_POOL_SIZE": 20}, "DB_CONNECTION_BUDGET=10 is too small"),
        ({"GUNICORN_BACKLOG": "many"}, "GUNICORN_BACKLOG='many'"),
        ({"APP_ENV": "production"}, "development password"),
    ],
)
def test_bad_configuration_refuses_to_start_with_one_line(postgres, env, named):
    result = run_gunicorn_expecting_refusal(postgres.url.replace("test-only", "changethis"), **env)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert output.startswith("api: invalid configuration") or output.startswith("api: DB_")
    assert named in output
    assert len(output.splitlines()) == 1
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("flags", "env", "named"),
    [
        (
            ["-w", "3"],
            {},
            "gunicorn's -w/--workers=3 (command line or GUNICORN_CMD_ARGS) "
            "disagrees with WEB_CONCURRENCY=1: set WEB_CONCURRENCY instead",
        ),
        ([], {"GUNICORN_CMD_ARGS": "--worker-connections 50"}, "--worker-connections=50"),
        (["-k", "sync"], {}, "disagrees with GUNICORN_WORKER_CLASS=gevent"),
    ],
)
def test_gunicorn_flags_that_contradict_the_settings_are_refused(postgres, flags, env, named):
    # They would bypass the pool size and connection budget derived from the settings.
    result = run_gunicorn_expecting_refusal(postgres.url, *flags, **env)
    assert result.returncode != 0
    last_line = (result.stdout + result.stderr).strip().splitlines()[-1]
    assert last_line.startswith("api: ")
    assert named in last_line
    assert "Traceback" not in result.stdout + result.stderr


def test_gunicorn_flags_that_agree_with_the_settings_are_accepted(start_gunicorn):
    server = start_gunicorn(WEB_CONCURRENCY=1, GUNICORN_CMD_ARGS="--workers 1 --backlog 2048")
    assert server.get("/json").ok


def test_stop_does_not_wait_for_idle_keepalive_connections(start_gunicorn):
    server = start_gunicorn(GUNICORN_GRACEFUL_TIMEOUT=30, GUNICORN_KEEPALIVE=75)
    with requests.Session() as session:  # keeps its connection open and idle, like nginx
        assert session.get(f"{server.url}/json", timeout=5).status_code == 200
        start = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.process.wait(25) == 0
        # gunicorn's own gevent worker would wait out graceful_timeout (30 s) here.
        assert time.monotonic() - start < 10


def test_stop_serves_a_request_sent_on_an_idle_connection_before_shutting_it(start_gunicorn):
    # nginx may send on an idle upstream connection just as the replica stops; it cannot resend
    # a POST that met a closed connection, so the worker keeps idle ones until it is quiet.
    server = start_gunicorn(GUNICORN_GRACEFUL_TIMEOUT=30, GUNICORN_KEEPALIVE=75)
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    idle.request("GET", "/json")
    assert idle.getresponse().read()
    start = time.monotonic()
    server.signal(signal.SIGTERM)
    time.sleep(0.3)
    idle.request("GET", "/json")  # the same connection: http.client reopens only a closed one
    response = idle.getresponse()
    assert response.status == 200
    assert response.getheader("Connection") == "close"
    idle.close()
    assert server.process.wait(25) == 0
    assert time.monotonic() - start < 10

"""The container healthcheck (api.healthcheck) against real gunicorn: idle, saturated, gone."""

import signal
import subprocess
import sys
import threading

import requests

from testkit.gunicorn import API_DIR
from testkit.net import wait_until


def healthcheck(server) -> subprocess.CompletedProcess:
    """`python -m api.healthcheck` as the image runs it, with the server's environment."""
    return subprocess.run(
        [sys.executable, "-m", "api.healthcheck"],
        cwd=API_DIR,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_idle_server_is_healthy(gunicorn_server):
    assert healthcheck(gunicorn_server).returncode == 0


def test_saturated_server_is_healthy_although_healthz_times_out(start_gunicorn):
    # Swarm replaces a task whose check fails: overload must not look like a broken replica.
    server = start_gunicorn(GUNICORN_WORKER_CONNECTIONS=2, GUNICORN_BACKLOG=64)
    clients = [
        threading.Thread(target=server.get, args=("/sleep?ms=6000",), kwargs={"timeout": 20})
        for _ in range(6)  # 2 served, 4 waiting in the accept queue
    ]
    for client in clients:
        client.start()
    wait_until(lambda: server.metric("api_listen_backlog") >= 1, 5, "a full accept queue")
    try:
        requests.get(f"{server.url}/healthz", timeout=2)
        raise AssertionError("/healthz answered although every connection is busy")
    except requests.Timeout:
        pass
    result = healthcheck(server)
    for client in clients:
        client.join()
    assert result.returncode == 0, result.stderr


def test_stopped_server_is_unhealthy(start_gunicorn):
    server = start_gunicorn()
    server.signal(signal.SIGTERM)
    server.process.wait(30)
    result = healthcheck(server)
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy: /healthz:")
    assert len(result.stderr.splitlines()) == 1

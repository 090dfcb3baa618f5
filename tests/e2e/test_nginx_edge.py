"""The stack's nginx alone (its image, deploy/nginx/, no replica behind it): what a client gets
when no replica answers, which requests get a second round, and the per-client limits.

One container, published on a free loopback port, run as the Compose file runs it (its user,
read-only root, tmpfs mounts, no capabilities), with per-client limits low enough to reach: the
variables the Compose file passes are set here to small values.
"""

import json
import subprocess
import time

import pytest
import requests
import yaml

from testkit.docker import docker_available
from testkit.net import free_port, wait_until
from tests.e2e.compose import COMPOSE_FILE, REPO

pytestmark = pytest.mark.docker

NGINX = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["nginx"]
RENDERED = NGINX["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"]  # where the templates go
LIMITS = {"NGINX_CLIENT_RATE": "1", "NGINX_CLIENT_BURST": "20", "NGINX_CLIENT_CONNECTIONS": "50"}
TLS_VALUES = {"NGINX_TLS_PORT": "8443", "NGINX_HSTS_MAX_AGE": "60"}  # rendered, unused (TLS off)


@pytest.fixture(scope="module")
def edge():
    """(base URL, container id) of nginx with the stack's configuration; `api` is an address
    where nothing listens."""
    if not docker_available():
        pytest.skip("no Docker engine")
    port = free_port()
    nginx = REPO / "deploy/nginx"
    command = ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8080"]
    command += ["--user", NGINX["user"], "--read-only", "--cap-drop", "ALL"]
    command += ["--security-opt", "no-new-privileges:true"]
    for mount in NGINX["tmpfs"]:
        command += ["--tmpfs", mount]
    command += ["-v", f"{nginx}/nginx.conf:/etc/nginx/nginx.conf:ro"]
    command += ["-v", f"{nginx}/conf.d:/etc/nginx/conf.d:ro"]
    command += ["-v", f"{nginx}/templates:/etc/nginx/templates:ro"]
    command += ["-e", f"NGINX_ENVSUBST_OUTPUT_DIR={RENDERED}"]
    for name, value in {**LIMITS, **TLS_VALUES}.items():
        command += ["-e", f"{name}={value}"]
    command += ["--add-host", "api:127.0.0.1", NGINX["image"]]
    container = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/nginx-health"), 20, "nginx")
        yield url, container
    finally:
        subprocess.run(["docker", "stop", "-t", "1", container], capture_output=True)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def access_log(container: str, request_id: str) -> dict:
    """The request's access log line (Docker may take a moment to have it)."""
    found = []

    def logged() -> bool:
        logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
        found[:] = [json.loads(line) for line in logs.stdout.splitlines() if request_id in line]
        return bool(found)

    wait_until(logged, 5, f"the access log line of {request_id}")
    [line] = found
    return line


@pytest.mark.parametrize(
    ("method", "headers", "rounds"),
    [
        ("GET", {}, 2),  # nginx resends GET: a second round in @retry
        ("POST", {"Idempotency-Key": "edge-1"}, 2),  # a keyed POST is safe to resend
        ("POST", {}, 1),  # a plain POST is never resent
    ],
    ids=["get", "keyed-post", "plain-post"],
)
def test_no_replica_answering_is_a_502_problem(edge, method, headers, rounds):
    url, container = edge
    request_id = f"edge-{method}-{rounds}-{time.monotonic_ns()}"
    response = requests.request(
        method, url + "/api/items", json={}, headers={**headers, "X-Request-ID": request_id}
    )
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["request_id"] == request_id
    # One group of upstream addresses per round, " : " between rounds (nginx's notation).
    assert len(access_log(container, request_id)["upstream_addr"].split(" : ")) == rounds


def test_a_client_over_its_limit_gets_429_with_retry_after(edge):
    url, _ = edge
    # Rate 1/s, burst 20: of 40 requests at once, the ones beyond the burst are refused.
    statuses = [requests.get(url + "/json", timeout=5) for _ in range(40)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused
    assert refused[0].headers["Content-Type"] == "application/problem+json"
    assert refused[0].headers["Retry-After"] == "1"
    assert refused[0].json()["status"] == 429

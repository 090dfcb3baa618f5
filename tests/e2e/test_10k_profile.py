"""The 10,000-connections profile (deploy/compose/10k-connections.yml): its numbers hold 10,000
requests at every hop, and the containers really get its limits. The load itself is measured
in docs/benchmarks.md, never asserted here."""

import re

import pytest
import yaml

from tests.e2e.compose import COMPOSE_FILE, REPO, Stack

CONNECTIONS = 10_000
PROFILE_FILE = REPO / "deploy/compose/10k-connections.yml"
PROFILE = yaml.safe_load(PROFILE_FILE.read_text())["services"]
BASE = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
NGINX_CONF = (REPO / "deploy/nginx/nginx.conf").read_text()
PROFILE_KEEPALIVE = (REPO / "deploy/nginx/upstream-10k.d/keepalive.conf").read_text()


def directive(text: str, name: str) -> int:
    [value] = re.findall(rf"^\s*{name}\s+(\d+);", text, re.M)
    return int(value)


def test_the_api_has_a_slot_for_every_upstream_connection():
    api = PROFILE["api"]
    workers = int(api["deploy"]["resources"]["limits"]["cpus"])  # one worker per CPU
    assert workers * api["environment"]["GUNICORN_WORKER_CONNECTIONS"] >= CONNECTIONS
    assert api["environment"]["GUNICORN_BACKLOG"] <= api["sysctls"]["net.core.somaxconn"]


def test_nginx_holds_a_client_and_an_upstream_connection_per_request():
    # Two workers (one per CPU), each with half the clients and their upstream connections.
    worker_connections = directive(NGINX_CONF, "worker_connections")
    assert 2 * worker_connections >= 2 * CONNECTIONS
    assert worker_connections < directive(NGINX_CONF, "worker_rlimit_nofile")
    assert directive(NGINX_CONF, "worker_rlimit_nofile") <= BASE["nginx"]["ulimits"]["nofile"]
    # Every upstream connection stays open between requests (no reconnect per request).
    assert 2 * directive(PROFILE_KEEPALIVE, "keepalive") >= CONNECTIONS


@pytest.mark.docker
def test_the_containers_get_the_profiles_limits(stack):
    # `stack` builds the API image; this runs one-off containers of a stack with the profile.
    profiled = Stack.for_tests("e2e-10k", overlays=[PROFILE_FILE])
    probe = "ulimit -n; cat /proc/sys/net/core/somaxconn"
    try:
        # Through the image's entrypoint, which renders templates/ before running `nginx -T`.
        nginx_t = "/docker-entrypoint.sh nginx -T 2>/dev/null"
        nginx = profiled.compose(
            "run", "--rm", "--no-deps", "nginx", "sh", "-c", f"{probe}; {nginx_t}"
        ).stdout
        api = profiled.compose(
            "run", "--rm", "--no-deps", "api", "sh", "-c", f"{probe}; python -m api settings"
        ).stdout
    finally:
        profiled.down()
    assert nginx.split()[:2] == ["20000", "8192"]
    assert re.search(r"^\s*keepalive 8192;", nginx, re.M)
    assert re.search(r"listen 8080 reuseport backlog=8192;", nginx)
    assert api.split()[:2] == ["20000", "8192"]
    assert "GUNICORN_WORKER_CONNECTIONS=6000" in api
    assert "GUNICORN_BACKLOG=8192" in api

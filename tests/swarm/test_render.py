"""The stack file deploy/swarm/render.py makes of docker-compose.yml + compose.swarm.yml: what
Swarm would reject or silently drop is gone or replaced. No engine needed (docker compose
config only), so it runs in well under a second and catches a Compose change that Swarm would
not follow (as the nginx tmpfs did: the stack deployed, and nginx failed to start)."""

import os
import shutil
import subprocess

import pytest
import yaml

from deploy.swarm import render

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="no docker CLI")

SECRET_FILES = ("SWARM_POSTGRES_PASSWORD_FILE", "SWARM_API_DB_PASSWORD_FILE")


@pytest.fixture(scope="module")
def models(monkeypatch_module):
    for name in (*SECRET_FILES, "SWARM_GRAFANA_PASSWORD_FILE"):
        monkeypatch_module.setenv(name, os.devnull)
    monkeypatch_module.setenv("COMPOSE_ENV_FILES", os.devnull)
    plain = subprocess.run(
        ["docker", "compose", "-f", str(render.COMPOSE_FILES[0]), "-p", "render-test", "config"],
        capture_output=True,
        text=True,
        check=True,
    )
    merged = render.compose_model("render-test", [])  # + compose.swarm.yml
    return yaml.safe_load(plain.stdout), render.to_stack_file(merged)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_nothing_swarm_rejects_is_left(models):
    _, stack = models
    assert "name" not in stack and not [key for key in stack if key.startswith("x-")]
    for name, service in stack["services"].items():
        assert not {"depends_on", "profiles", "build"} & set(service), name
        for kind in ("limits", "reservations"):
            cpus = service.get("deploy", {}).get("resources", {}).get(kind, {}).get("cpus")
            assert cpus is None or isinstance(cpus, str), name
        for port in service.get("ports", []):
            assert isinstance(port["published"], int) and port["mode"] == "host", name


def test_every_service_is_in_dnsrr_mode(models):
    _, stack = models
    assert {s["deploy"]["endpoint_mode"] for s in stack["services"].values()} == {"dnsrr"}


def test_every_tmpfs_swarm_would_drop_is_replaced(models):
    base, stack = models
    moved = {("api", "/run/api-metrics")}  # PROMETHEUS_MULTIPROC_DIR is in /dev/shm instead
    for name, service in stack["services"].items():
        assert "tmpfs" not in service, f"{name}: Swarm drops short-syntax tmpfs mounts"
        mounts = {v["target"] for v in service.get("volumes", []) if v["type"] == "tmpfs"}
        for entry in base["services"][name].get("tmpfs", []):
            target = entry.split(":")[0]
            assert target in mounts or (name, target) in moved, f"{name}: {target}"

"""Drive scripts/swarm (what `make swarm-*` runs) from tests, on the Swarm of this engine.

    stack = SwarmStack.for_tests(api_image)   # its own stack name, state dir and nginx port
    stack.up()                                 # scripts/swarm up
    stack.get("/json")                         # through nginx
    stack.query("up{job='api'}")               # Prometheus' HTTP API, from inside its container
    stack.down()                               # scripts/swarm down, VOLUMES=1

The developer's .env never applies (COMPOSE_ENV_FILES=/dev/null): only the values given here.
Containers are looked up on this node, so the helpers that read them assume a single node.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import requests

from testkit.net import free_port, wait_until
from tests.rollout import item_rows

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "swarm"
_INHERITED_ENV = ("PATH", "HOME", "LANG", "DOCKER_HOST", "DOCKER_CONFIG", "DOCKER_CONTEXT")


def docker(*args: str, timeout: float = 60, check: bool = True) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} -> {result.returncode}: {result.stderr}")
    return result.stdout


def swarm_state() -> str:
    """This engine's Swarm state: inactive, active, ..."""
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()


class SwarmStack:
    def __init__(self, name: str, api_image: str, **env: str):
        self.name = name
        self.state_dir = tempfile.mkdtemp(prefix=f"{name}-state-")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {key: os.environ[key] for key in _INHERITED_ENV if key in os.environ}
        self.env.update(
            SWARM_STACK=name,
            SWARM_STATE_DIR=self.state_dir,
            NGINX_PORT=str(self.port),
            API_IMAGE=api_image,
            COMPOSE_ENV_FILES=os.devnull,  # not the developer's .env
            PYTHON=str(REPO / ".venv" / "bin" / "python"),
            **env,
        )

    @classmethod
    def for_tests(cls, api_image: str, **env: str) -> SwarmStack:
        return cls(f"swarm-test-{uuid.uuid4().hex[:6]}", api_image, **env)

    # ------------------------------------------------------------------ scripts/swarm
    def run(self, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
        """scripts/swarm ARGS; the result (not raised on failure), output kept for messages."""
        return subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**self.env, **env},
            cwd=REPO,
        )

    def checked(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        result = self.run(*args, **env)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/swarm {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result

    def up(self) -> None:
        self.checked("up")

    def scale(self, replicas: int) -> None:
        self.checked("scale", str(replicas))

    def rollout(self, image: str) -> subprocess.CompletedProcess:
        return self.run("rollout", API_IMAGE=image)

    def down(self) -> subprocess.CompletedProcess:
        return self.run("down", VOLUMES="1")

    # ------------------------------------------------------------------ services and tasks
    def service(self, name: str) -> str:
        return f"{self.name}_{name}"

    def inspect_service(self, name: str) -> dict:
        return json.loads(docker("service", "inspect", self.service(name)))[0]

    def containers(self, name: str) -> list[str]:
        """Ids of the service's running containers on this node."""
        label = f"label=com.docker.swarm.service.name={self.service(name)}"
        return docker("ps", "-q", "--filter", label).split()

    def task_addresses(self, name: str, network: str) -> set[str]:
        """Addresses of the service's running tasks on one of the stack's networks by role
        ("edge": where nginx reaches them, "metrics-api": where Prometheus does)."""
        addresses = set()
        for container_id in self.containers(name):
            networks = json.loads(docker("inspect", container_id))[0]["NetworkSettings"]
            addresses.add(networks["Networks"][f"{self.name}_{network}"]["IPAddress"])
        return addresses

    def running_tasks(self, name: str, template: str) -> list[str]:
        """`template` (a `docker service ps` format) of each task of the service that should run."""
        args = ["service", "ps", "--filter", "desired-state=running", "--format", template]
        return docker(*args, self.service(name)).splitlines()

    def task_images(self, name: str) -> list[str]:
        """Images of the service's tasks that should run."""
        return self.running_tasks(name, "{{.Image}}")

    def exec(self, name: str, *command: str) -> str:
        [container_id] = self.containers(name)[:1]
        return docker("exec", container_id, *command, timeout=30)

    # ------------------------------------------------------------------ what they say
    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return requests.get(self.base_url + path, **kwargs)

    def query(self, expr: str) -> list[dict]:
        """A PromQL instant query, from inside the Prometheus container (not published)."""
        url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        return json.loads(self.exec("prometheus", "wget", "-qO-", url))["data"]["result"]

    def access_log(self, since: float) -> list[dict]:
        """nginx's JSON access log lines since `since` (a Unix time)."""
        [container_id] = self.containers("nginx")[:1]
        result = subprocess.run(
            ["docker", "logs", "--since", f"{since - 1:.0f}", container_id],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = [line for line in result.stdout.splitlines() if line.startswith('{"time"')]
        return [record for record in map(json.loads, lines) if record["msec"] >= since]

    def psql(self, *args: str) -> str:
        """psql in the database container (as the stack's database user)."""
        return self.exec("db", "psql", "-U", "app", "-d", "app", *args)

    def item_rows(self, prefix: str) -> list[tuple[str, int]]:
        """(name, id) of the items whose name starts with `prefix` (MixedLoad.audit's rows)."""
        return item_rows(self.psql, prefix)

    def leftovers(self) -> dict[str, list[str]]:
        """Everything of this stack that still exists on this node."""
        label = f"label=com.docker.stack.namespace={self.name}"
        found = {}
        if swarm_state() == "active":
            for kind in ("service", "secret", "config"):
                found[kind] = docker(kind, "ls", "-q", "--filter", label).split()
        found["container"] = docker("ps", "-aq", "--filter", label).split()
        found["network"] = docker("network", "ls", "-q", "--filter", label).split()
        found["volume"] = docker("volume", "ls", "-q", "--filter", label).split()
        return {kind: ids for kind, ids in found.items() if ids}

    def wait_for(self, condition, timeout: float, what: str, interval: float = 0.5) -> float:
        """Poll `condition()` until true; return the seconds it took."""
        started = time.monotonic()
        wait_until(condition, timeout, what, interval)
        return time.monotonic() - started

"""Drive the repository's docker-compose.yml from tests and benchmarks.

`Stack` runs `docker compose` under its own project name and free host ports, so it never
touches a developer's running stack, and ignores the developer's .env and shell settings: only
the values passed to it apply. Typical use (the e2e tests, a k6 run against a fresh stack):

    stack = Stack.for_tests()
    stack.build()
    stack.up()                          # every service whose image exists (Grafana may not)
    stack.get("/json")                  # through nginx
    stack.query("up{job='api'}")        # Prometheus' HTTP API
    stack.compose("--profile", "loadtest", "run", "--rm", "k6")
    stack.down()                        # containers, network and volumes
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from testkit.docker import docker_available, image_present
from testkit.net import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
# Services that may be missing where no registry can be reached (deploy/offline-images/).
OPTIONAL_SERVICES = ("grafana",)
# What the docker CLI needs from the caller's environment, and the CA bundle for building the
# API image (docker-compose.yml, secrets); no other setting leaks in.
_INHERITED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "PIP_CA_BUNDLE",
    "API_IMAGE",  # a tag of its own per checkout, so parallel checkouts never share one build
)


def docker_unavailable() -> str | None:
    """Why no Docker engine with Compose v2 can be used here, or None if one can."""
    if not docker_available():
        return "no Docker engine answers"
    version = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
    return None if version.returncode == 0 else "no Compose v2 plugin (docker compose)"


class Stack:
    """One Compose project of docker-compose.yml, with its own name and host ports."""

    def __init__(self, project: str, env: dict[str, str] | None = None, overlays=()):
        self.project = project
        self.overlays = [str(path) for path in overlays]  # compose files merged over the main one
        self.env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
        self.env.update(env or {})
        host = self.env.setdefault("BIND_ADDRESS", "127.0.0.1")
        self.base_url = f"http://{host}:{self.env.setdefault('NGINX_PORT', str(free_port()))}"
        prometheus_port = self.env.setdefault("PROMETHEUS_PORT", str(free_port()))
        self.prometheus_url = f"http://{host}:{prometheus_port}"
        self.env.setdefault("GRAFANA_PORT", str(free_port()))
        self.env.setdefault("LOCUST_PORT", str(free_port()))

    @classmethod
    def for_tests(cls, prefix: str = "e2e", overlays=(), **env: str) -> Stack:
        """A stack with a unique project name, e.g. `e2e-1a2b3c4d`."""
        return cls(f"{prefix}-{uuid.uuid4().hex[:8]}", env, overlays)

    # ------------------------------------------------------------------ docker compose
    def compose(
        self, *args: str, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess:
        """Run `docker compose ARGS` for this project; raise with its output if it fails."""
        command = ["docker", "compose", "-f", str(COMPOSE_FILE)]
        for overlay in self.overlays:
            command += ["-f", overlay]
        command += ["-p", self.project]
        # An empty env file: the developer's .env (read by default) must not apply.
        command += ["--env-file", os.devnull, *args]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=self.env, cwd=REPO
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command[2:])} -> exit {result.returncode}\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def config(self) -> dict:
        """The resolved compose model (`docker compose config`) as a dict."""
        return json.loads(self.compose("config", "--format", "json").stdout)

    def startable_services(self) -> list[str]:
        """Default services, less optional ones whose image is not on this machine."""
        services = self.config()["services"]
        startable = []
        for name, service in services.items():
            if name in OPTIONAL_SERVICES and not image_present(service["image"]):
                continue
            startable.append(name)
        return startable

    def build(self, timeout: float = 600) -> None:
        """Build the images of services with a `build:` section (the API)."""
        self.compose("build", timeout=timeout)  # --quiet trips buildx bake's entitlement check

    def up(self, *services: str, timeout: float = 300) -> None:
        """`up -d --wait` for `services` (default: every startable one) and what they need."""
        services = services or tuple(self.startable_services())
        wait = ["--wait", "--wait-timeout", str(int(timeout))]
        self.compose("up", "-d", *wait, *services, timeout=timeout + 30)

    def scale(self, service: str, replicas: int, wait: bool = False) -> None:
        """Scale one service without touching its dependencies, as `make scale` does: first
        remove its stopped containers (Compose counts them as replicas, and scaling down would
        remove running ones and restart a stopped one instead), then `up --scale`."""
        self.compose("rm", "--force", service)  # without --stop: stopped containers only
        args = ["up", "-d", "--no-deps", "--scale", f"{service}={replicas}"]
        self.compose(*args, *(["--wait"] if wait else []), service)

    def save_logs(self, path: Path) -> None:
        """Write every container's log (with timestamps) to `path`, for a failure's diagnosis."""
        logs = self.compose("logs", "--no-color", "--timestamps", check=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(logs.stdout + logs.stderr)

    def down(self) -> None:
        """Remove the project's containers, networks and volumes."""
        self.compose("down", "-v", "--remove-orphans", "--timeout", "40", timeout=180)

    def leftovers(self) -> dict[str, list[str]]:
        """The project's containers, networks and volumes that still exist."""
        label = f"label=com.docker.compose.project={self.project}"
        found = {}
        for kind in ("container", "network", "volume"):
            args = ["ls", "-a"] if kind == "container" else ["ls"]
            result = subprocess.run(
                ["docker", kind, *args, "-q", "--filter", label],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            found[kind] = result.stdout.split()
        return found

    # ------------------------------------------------------------------ containers
    def container_ids(self, service: str) -> list[str]:
        """Ids of the service's running containers."""
        return self.compose("ps", "-q", service).stdout.split()

    def inspect(self, *container_ids: str) -> list[dict]:
        """`docker inspect` of the given containers."""
        if not container_ids:
            return []
        result = subprocess.run(
            ["docker", "inspect", *container_ids],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return json.loads(result.stdout)

    def address(self, container: dict, network: str) -> str:
        """A container's (`docker inspect`) IP address on one of the stack's networks, by the
        compose file's name for it: "edge", "data", "metrics-api", ..."""
        return container["NetworkSettings"]["Networks"][f"{self.project}_{network}"]["IPAddress"]

    def addresses(self, service: str, network: str) -> set[str]:
        """The IP addresses of the service's running containers on one of its networks: each
        network by role has its own (nginx sees a replica at its "edge" address, Prometheus at
        its "metrics-api" one)."""
        containers = self.inspect(*self.container_ids(service))
        return {self.address(container, network) for container in containers}

    def access_log(self, since: float | None = None) -> list[dict]:
        """nginx's JSON access log lines (from `since`, a Unix time, if given)."""
        args = ["logs", "--no-log-prefix", "--no-color"]
        if since is not None:
            args += ["--since", f"{since - 1:.0f}"]  # whole seconds; filtered below
        lines = self.compose(*args, "nginx").stdout.splitlines()
        records = [json.loads(line) for line in lines if line.startswith('{"time"')]
        return [r for r in records if since is None or r["msec"] >= since]

    # ------------------------------------------------------------------ HTTP
    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs) -> requests.Response:
        """GET through nginx."""
        kwargs.setdefault("timeout", 10)
        return requests.get(self.url(path), **kwargs)

    def query(self, expr: str, **params) -> list[dict]:
        """Evaluate a PromQL instant query (now, or at `time=`); return its result vector."""
        response = requests.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": expr, **params}, timeout=10
        )
        response.raise_for_status()
        return response.json()["data"]["result"]

    def wait_for(self, condition, timeout: float, what: str, interval: float = 0.25) -> float:
        """Poll `condition()` until true; return the seconds it took."""
        started = time.monotonic()
        wait_until(condition, timeout, what, interval)
        return time.monotonic() - started


@dataclass
class Outcome:
    """One request of a RequestLoop: when it was sent, and its status or error."""

    sent_at: float  # Unix time
    path: str
    request_id: str
    status: int | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 500


class RequestLoop:
    """Threads that GET `paths` through nginx back to back, each on its own keep-alive
    connection, until the `with` block ends (or `max_seconds`, so it always stops).

        with RequestLoop(stack, ["/json", "/db"], threads=4) as loop:
            stack.scale("api", 1)
        assert not loop.failures()
    """

    def __init__(
        self,
        stack: Stack,
        paths: list[str],
        threads: int = 4,
        pause: float = 0.0,
        max_seconds: float = 120,
        prefix: str = "loop",
    ):
        self.stack = stack
        self.paths = paths
        self.pause = pause
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:6]}"
        self.outcomes: list[Outcome] = []
        self._deadline = time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(threads)
        ]

    def __enter__(self) -> RequestLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, number: int) -> None:
        with requests.Session() as session:
            sent = 0
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                path = self.paths[sent % len(self.paths)]
                request_id = f"{self.prefix}-{number}-{sent}"
                outcome = Outcome(time.time(), path, request_id, None)
                try:
                    response = session.get(
                        self.stack.url(path), headers={"X-Request-ID": request_id}, timeout=30
                    )
                    outcome.status = response.status_code
                except requests.RequestException as exc:
                    outcome.error = f"{type(exc).__name__}: {exc}"
                self.outcomes.append(outcome)  # list.append is atomic
                sent += 1
                if self.pause:
                    time.sleep(self.pause)

    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.failed]

    def log_records(self) -> list[dict]:
        """This loop's lines of nginx's access log."""
        since = min((o.sent_at for o in self.outcomes), default=time.time())
        return [
            record
            for record in self.stack.access_log(since)
            if record["request_id"].startswith(self.prefix)
        ]

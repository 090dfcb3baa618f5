"""A throwaway Compose stack on this machine, a k6 stress run against it, the node sampled.

The planner measures costs on one (its own, with the project's defaults) and verifies a plan on
another (with the plan's settings): tests/e2e/compose.py's Stack gives each its own project
name and ports, so neither touches a stack someone else runs.
"""

import json
import os
import time
from pathlib import Path

import requests

from loadtest.report import runner
from testkit.net import wait_until
from tests.e2e.compose import Stack, docker_unavailable

from .costs import REPO
from .measure import NODE_FILE
from .node import NodeSampler

PROJECT_PREFIX = "plan"
IDLE_SECONDS = 8  # sampled before the load: what the node does without it
CONTAINERS_FILE = "containers.json"
READY_TIMEOUT, READY_IN_A_ROW = 60, 3
SERVICES = ("api", "db", "nginx", "prometheus", "postgres-exporter", "nginx-exporter")


class ComposeStack:
    """with ComposeStack(env) as stack: stack.stress(settings, into) -> the run's directory."""

    def __init__(self, env: dict[str, str]):
        # COMPOSE_FILE (a plan with PgBouncer) becomes the Stack's overlays: it runs with -f.
        files = env.get("COMPOSE_FILE", "").split(":")[1:]
        self.env = {name: value for name, value in env.items() if name != "COMPOSE_FILE"}
        self.overlays = tuple(str(REPO / f) for f in files)
        self.stack: Stack | None = None

    def __enter__(self) -> "ComposeStack":
        why_not = docker_unavailable()
        if why_not:
            raise RuntimeError(f"no Docker engine to run the stack on ({why_not})")
        self.stack = Stack.for_tests(PROJECT_PREFIX, self.overlays, **self.env)
        try:
            self.stack.build()
            self.stack.up()
        except RuntimeError:
            why = self._last_log_line()
            self.stack.down()
            raise RuntimeError(f"the Compose stack did not start: {why}") from None
        except BaseException:
            self.stack.down()
            raise
        return self

    def _last_log_line(self) -> str:
        """The last line the one-shot migration or the API logged (why `up` failed)."""
        logs = self.stack.compose("logs", "--no-log-prefix", "migrate", "api", check=False)
        lines = [line for line in logs.stdout.splitlines() if line.strip()]
        return lines[-1].strip() if lines else "no log lines (docker compose up failed)"

    def __exit__(self, *_exc) -> None:
        self.stack.down()

    def containers(self) -> dict[str, str]:
        """{"api-1": id, "db-1": id, ...} of the stack's running containers."""
        found = {}
        for service in SERVICES:
            for number, container_id in enumerate(self.stack.container_ids(service), start=1):
                found[f"{service}-{number}"] = container_id
        return found

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until /readyz answers 200 through nginx READY_IN_A_ROW times: `up --wait` only knows
        the containers are healthy, not that nginx has resolved the API's address yet."""
        in_a_row = 0

        def ready() -> bool:
            nonlocal in_a_row
            try:
                ok = self.stack.get("/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                ok = False
            in_a_row = in_a_row + 1 if ok else 0
            return in_a_row >= READY_IN_A_ROW

        try:
            wait_until(ready, timeout, "the API through nginx", interval=0.5)
        except TimeoutError as exc:
            raise RuntimeError(str(exc)) from None

    def stress(self, settings: dict[str, str], into: Path) -> Path:
        """Run k6's stress scenario with `settings` (START_RATE, ...) into a new directory under
        `into`, with the node sampled from IDLE_SECONDS before it; return that directory."""
        into.mkdir(parents=True, exist_ok=True)
        before = set(into.iterdir())
        env = {
            **{k: v for k, v in os.environ.items() if k not in runner.script_settings()},
            "BASE_URL": self.stack.base_url,
            "PROMETHEUS_URL": self.stack.prometheus_url,
            "LOADTEST_RESULTS": str(into),
            "LOADTEST_RUNNER": "native",
            **settings,
        }
        self.wait_until_ready()
        with NodeSampler(self.containers()) as sampler:
            time.sleep(IDLE_SECONDS)
            runner.execute("k6", "stress", env)
        (results,) = set(into.iterdir()) - before
        sampler.node.save(results / NODE_FILE)
        (results / CONTAINERS_FILE).write_text(json.dumps(self.container_states(), indent=2))
        return results

    def container_states(self) -> dict[str, dict]:
        """Per container: restarts, whether the OOM killer ended it, whether it runs now (a
        replica that died during a run explains its 502s)."""
        states = {}
        for name, container_id in self.containers().items():
            (info,) = self.stack.inspect(container_id)
            states[name] = {
                "restarts": info["RestartCount"],
                "oom_killed": info["State"]["OOMKilled"],
                "running": info["State"]["Running"],
            }
        return states

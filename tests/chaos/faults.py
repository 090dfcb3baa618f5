"""The faults the suite injects into a running Compose stack, and how each is undone.

Each Fault's `inject` runs against a FaultTarget (the stack plus what the faults need: container
pids, the database, nginx's configuration) and returns once the fault has been applied — or,
for faults with a duration (the database paused, its connections taken), once it has ended.
The load keeps running for `settle_seconds` after that, so recovery is measured too.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.compose import REPO, Stack

REPLICAS = 3
FAULT_SECONDS = 5  # how long the database stays paused or its connections taken
PAUSE_ATTEMPTS = 5
DATABASE = {"user": "app", "password": "changethis", "dbname": "app"}  # the stack's defaults
POOL_IN_USE = "api_db_pool_checked_out"


class FaultTarget:
    """A Compose stack of REPLICAS API replicas whose nginx configuration the suite can edit."""

    def __init__(self, project_prefix: str = "chaos"):
        self._workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
        self.nginx_conf_dir = self._workdir / "conf.d"
        shutil.copytree(REPO / "deploy/nginx/conf.d", self.nginx_conf_dir)
        overlay = self._workdir / "nginx-conf.yml"
        # Volumes merge by target: this replaces the repository's conf.d with an editable copy.
        overlay.write_text(
            "services:\n  nginx:\n    volumes:\n"
            f"      - type: bind\n        source: {self.nginx_conf_dir}\n"
            "        target: /etc/nginx/conf.d\n        read_only: true\n"
        )
        self.stack = Stack.for_tests(project_prefix, overlays=[overlay], API_SCALE=str(REPLICAS))

    def remove_workdir(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    # ------------------------------------------------------------------ API replicas
    def api_containers(self) -> list[dict]:
        return self.stack.inspect(*self.stack.container_ids("api"))

    def restore(self) -> None:
        """Back to REPLICAS healthy API replicas, a running database and nginx."""
        self.stack.compose("unpause", "db", check=False)
        self.stack.compose("up", "-d", "--wait", "--no-deps", "db", "nginx")
        self.stack.scale("api", REPLICAS, wait=True)

    def replica_address(self) -> str:
        """A replica's address where nginx reaches it (the host reaches it there too)."""
        return self.stack.address(self.api_containers()[0], "edge")

    def pool_connections_in_use(self) -> float | None:
        """api_db_pool_checked_out summed over every replica, read from each master's /metrics;
        None while a replica does not answer (restarting)."""
        in_use = 0.0
        for container in self.api_containers():
            address = self.stack.address(container, "metrics-api")
            try:
                text = requests.get(f"http://{address}:9200/metrics", timeout=5).text
            except requests.RequestException:
                return None
            for family in text_string_to_metric_families(text):
                in_use += sum(s.value for s in family.samples if s.name == POOL_IN_USE)
        return in_use

    def alerts_since(self, started: float) -> set[str]:
        """Alerts that were pending or firing at any evaluation since `started` (a time())."""
        window = max(1, int(time.time() - started) + 1)
        return self._alert_names(f"max_over_time(ALERTS[{window}s])")

    def alerts_at(self, moment: float) -> set[str]:
        """Alerts that were pending or firing at `moment` (a time())."""
        return self._alert_names("ALERTS", time=moment)

    def _alert_names(self, expr: str, **params) -> set[str]:
        result = self.stack.query(f"count by (alertname) ({expr})", **params)
        return {sample["metric"]["alertname"] for sample in result}

    def errors_logged(self, since: float, limit: int = 3) -> dict[str, list[str]]:
        """The first `limit` error lines each of the API (with tracebacks) and nginx logged
        since `since` (a time()): what a failed assertion shows, as CI keeps no container logs.
        A 5xx neither logged came from elsewhere (a gunicorn worker killed mid-response)."""
        markers = {"api": ('"level": "ERROR"',), "nginx": ("[error]", "[crit]", "[alert]")}
        found = {}
        for service, service_markers in markers.items():
            logs = self.stack.compose(
                "logs",
                "--no-color",
                "--no-log-prefix",
                "--since",
                f"{since:.3f}",
                service,
                check=False,
            )
            lines = (logs.stdout + logs.stderr).splitlines()
            found[service] = [ln for ln in lines if any(m in ln for m in service_markers)][:limit]
        return found

    # ------------------------------------------------------------------ the database
    def db_address(self) -> str:
        [address] = self.stack.addresses("db", "data")
        return address

    def connect_db(self, **options):
        """A connection to the stack's PostgreSQL, from the host: it reaches the db's address on
        the internal `data` network directly (that network has no gateway for containers, but
        the host has its bridge)."""
        return psycopg2.connect(host=self.db_address(), connect_timeout=3, **DATABASE, **options)

    def item_rows(self, prefix: str) -> list[tuple[str, int]]:
        """(name, id) of every item whose name starts with `prefix`."""
        with self.connect_db() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT name, id FROM items WHERE name LIKE %s", (prefix + "%",))
            rows = cursor.fetchall()
        connection.close()
        return rows


# ---------------------------------------------------------------------- the faults
def kill_api_container(target: FaultTarget) -> None:
    """`docker kill -s KILL` one replica: Docker treats it as stopped on purpose (stays down)."""
    container = target.api_containers()[0]
    subprocess.run(
        ["docker", "kill", "-s", "KILL", container["Id"]], check=True, capture_output=True
    )


def crash_api_container(target: FaultTarget) -> None:
    """SIGKILL a replica's gunicorn master from the host, as a crash: Docker restarts it."""
    os.kill(target.api_containers()[0]["State"]["Pid"], signal.SIGKILL)


def kill_api_worker(target: FaultTarget) -> None:
    """SIGKILL one gunicorn worker of one replica: its master forks a new one."""
    master = target.api_containers()[-1]["State"]["Pid"]
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    os.kill(int(children[0]), signal.SIGKILL)


def scale_api_down(target: FaultTarget) -> None:
    """3 -> 1 replicas, as `make scale N=1` does."""
    target.stack.scale("api", 1, wait=True)


def leave_a_replica_killed(target: FaultTarget) -> None:
    """Before the load: one replica killed earlier (`docker kill`: it stays stopped)."""
    kill_api_container(target)
    time.sleep(2)  # nginx no longer resolves it (valid=1s)


def scale_to_one_replica(target: FaultTarget) -> None:
    """Before the load: one replica, the only one nginx resolves (valid=5s)."""
    target.stack.scale("api", 1, wait=True)
    time.sleep(6)


def scale_api_up(target: FaultTarget) -> None:
    """1 -> 3 replicas, as `make scale N=3` does."""
    target.stack.scale("api", REPLICAS, wait=True)


def restart_db(target: FaultTarget) -> None:
    """`docker compose restart db`: every connection of every pool is cut."""
    target.stack.compose("restart", "db")


def pause_db(target: FaultTarget) -> None:
    """Freeze the database (`docker compose pause db`) for FAULT_SECONDS: it answers nothing."""
    # cgroup v1's freezer gives up ("unable to freeze") when processes keep forking while it
    # works, as PostgreSQL does for each new connection under this load: try again, as an
    # operator would.
    for _ in range(PAUSE_ATTEMPTS):
        result = target.stack.compose("pause", "db", check=False)
        if result.returncode == 0 or "unable to freeze" not in result.stderr:
            break
        time.sleep(0.2)
    if result.returncode != 0:
        raise RuntimeError(f"docker compose pause db failed: {result.stderr.strip()}")
    time.sleep(FAULT_SECONDS)
    target.stack.compose("unpause", "db")


def exhaust_db_connections(target: FaultTarget) -> None:
    """Another client takes every connection slot, and the API's connections are cut (as a
    failover or a DBA would): the API must reconnect and is refused for FAULT_SECONDS."""
    hog = [target.connect_db()]
    hog[0].autocommit = True
    with hog[0].cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'api'"
        )
    deadline = time.monotonic() + FAULT_SECONDS
    while time.monotonic() < deadline:
        try:
            hog.append(target.connect_db())
        except psycopg2.OperationalError as exc:
            if "too many clients" not in str(exc) and "remaining connection slots" not in str(exc):
                raise
            time.sleep(0.01)  # full: keep every slot that frees up
    for connection in hog:
        connection.close()


def reload_nginx(target: FaultTarget) -> None:
    """Change nginx's configuration and `nginx -s reload`: new workers, old ones drain."""
    conf = target.nginx_conf_dir / "stack.conf"
    text = conf.read_text()
    count = int(re.search(r"keepalive_requests (\d+);", text).group(1))
    conf.write_text(
        text.replace(f"keepalive_requests {count};", f"keepalive_requests {count + 1};")
    )
    target.stack.compose("exec", "-T", "nginx", "nginx", "-s", "reload")


def restart_nginx(target: FaultTarget) -> None:
    """`docker compose restart nginx`: drops client connections by design (reported only)."""
    target.stack.compose("restart", "nginx")


def block_event_loop(target: FaultTarget) -> None:
    """A CPU-bound request blocks one replica's only worker for FAULT_SECONDS while others serve."""
    url = f"http://{target.replica_address()}:8000/cpu?ms={FAULT_SECONDS * 1000}"
    requests.get(url, timeout=60).raise_for_status()


@dataclass(frozen=True)
class Fault:
    """One scenario of the suite."""

    name: str
    inject: Callable[[FaultTarget], None]
    prepare: Callable[[FaultTarget], None] | None = None  # before the load starts
    database: bool = False  # a database fault: 503 + Retry-After is the right answer
    alerts: tuple[str, ...] = ()  # must be pending or firing soon after the fault
    asserted: bool = True  # False: reported only (drops connections by design)
    settle_seconds: float = 8  # load after `inject` returns

    @property
    def description(self) -> str:
        return (self.inject.__doc__ or "").split("\n")[0].strip()


FAULTS = [
    Fault("api container killed", kill_api_container),
    Fault("api container crashed", crash_api_container),
    Fault("api worker killed", kill_api_worker, alerts=("ApiWorkerRestarts",)),
    Fault("scale 3 -> 1", scale_api_down),
    # Compose counts stopped containers as replicas: this is where scaling down used to
    # remove the running replicas and start the stopped one.
    Fault("scale 3 -> 1 after a kill", scale_api_down, prepare=leave_a_replica_killed),
    Fault("scale 1 -> 3", scale_api_up, prepare=scale_to_one_replica),
    Fault("db restarted", restart_db, database=True, alerts=("ApiDatabaseUnavailable",)),
    Fault("db paused 5 s", pause_db, database=True),
    Fault(
        "db connections exhausted",
        exhaust_db_connections,
        database=True,
        alerts=("ApiDatabaseUnavailable",),
    ),
    Fault("nginx reloaded (changed config)", reload_nginx),
    Fault("nginx restarted", restart_nginx, asserted=False),
    Fault("api event loop blocked", block_event_loop, alerts=("ApiEventLoopBlocked",)),
]

"""The observability proof's run: the stack's components natively, one replica overloaded by k6.

    with ObservedStack(rule_files) as stack:
        run = stack.run_overload()        # k6, ~50 s; returns the phase times and alerts seen
        stack.prometheus.query_range(...)

Components (all on 127.0.0.1): a throwaway PostgreSQL, two API replicas under real gunicorn,
nginx in front of replica B, nginx-prometheus-exporter and postgres_exporter (containers on the
host network, the stack's images), and a native Prometheus scraping them every second with the
project's rules. k6 writes its own metrics into that Prometheus by remote write.

Replica A is small on purpose: 4 worker connections, a 32-connection accept queue and a 1-connection
pool with a 0.3 s timeout, so 24 clients on slow endpoints saturate it, fill its backlog and make
it shed. Replica B runs without the cooperative psycopg2 wait callback, so a slow query blocks its
event loop, and one of its workers is SIGKILLed during the overload (a worker restart).
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .docker import Container
from .gunicorn import GunicornServer, migrate_database
from .net import free_port, free_ports, port_open, wait_until
from .postgres import ThrowawayPostgres
from .prometheus import NativePrometheus

K6_SCRIPT = Path(__file__).resolve().parent / "k6" / "overload.js"
SCRAPE_INTERVAL_SECONDS = 1
TEST_ID = "overload-proof"
NGINX_IMAGE = os.environ.get("TEST_NGINX_IMAGE", "nginx:1.30.6")
NGINX_EXPORTER_IMAGE = os.environ.get(
    "TEST_NGINX_EXPORTER_IMAGE", "nginx/nginx-prometheus-exporter:1.5.1"
)
POSTGRES_EXPORTER_IMAGE = os.environ.get(
    "TEST_POSTGRES_EXPORTER_IMAGE", "quay.io/prometheuscommunity/postgres-exporter:v0.19.1"
)
IMAGES = (NGINX_IMAGE, NGINX_EXPORTER_IMAGE, POSTGRES_EXPORTER_IMAGE)

REPLICA_A = {  # the one to overload
    "GUNICORN_WORKER_CONNECTIONS": 4,
    "GUNICORN_BACKLOG": 32,
    "GUNICORN_KEEPALIVE": 2,
    "DB_POOL_SIZE": 1,
    "DB_POOL_TIMEOUT": 0.3,
}
REPLICA_B = {"DB_COOPERATIVE_IO": "false", "GUNICORN_KEEPALIVE": 2}

NGINX_CONF = """\
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    upstream api {{ server 127.0.0.1:{upstream_port}; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://api; }}
    }}
    server {{
        listen 127.0.0.1:{status_port};
        location = /stub_status {{ stub_status; }}
    }}
}}
"""


def rules_for_test(rule_files: list[Path], directory: Path, hold: str = "3s") -> list[Path]:
    """Copies of the rule files with every non-zero `for:` shortened to `hold`.

    The expressions stay exactly as shipped; only the time an alert must hold before firing
    changes, so a one-minute overload can show each alert firing (the real `for:` windows are
    covered by the promtool unit tests).
    """
    copies = []
    for path in rule_files:
        text = re.sub(r"(?m)^(\s+for: )(?!0m\b)\S+$", rf"\g<1>{hold}", path.read_text())
        copy = directory / path.name
        copy.write_text(text)
        copies.append(copy)
    return copies


@dataclass
class OverloadRun:
    """Epoch seconds of the phases, and when each alert was first seen firing."""

    start: float
    overload_start: float
    overload_end: float
    end: float
    fired: dict[str, float] = field(default_factory=dict)
    k6_output: str = ""


class ObservedStack:
    """Start everything in __enter__, stop everything (by pid / container id) in __exit__."""

    def __init__(self, rule_files: list[Path], *, steady_s=10, overload_s=25, recovery_s=15):
        self.rule_files = rule_files
        self.steady_s, self.overload_s, self.recovery_s = steady_s, overload_s, recovery_s
        self._dir = Path(tempfile.mkdtemp(prefix="observed-stack-"))
        self._started: list = []
        self.postgres: ThrowawayPostgres | None = None
        self.replica_a: GunicornServer | None = None
        self.replica_b: GunicornServer | None = None
        self.prometheus: NativePrometheus | None = None
        self.edge_url = ""

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> "ObservedStack":
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for component in reversed(self._started):
            try:
                component.stop()
            except Exception as error:  # keep stopping the others
                print(f"stopping {component!r}: {error}", file=sys.stderr)
        self._started.clear()

    def _keep(self, component):
        self._started.append(component)
        return component

    def _start(self) -> None:
        self.postgres = self._keep(ThrowawayPostgres()).start()
        migrate_database(self.postgres.url)
        self.replica_a = self._keep(GunicornServer(self.postgres.url, **REPLICA_A)).start()
        self.replica_b = self._keep(GunicornServer(self.postgres.url, **REPLICA_B)).start()

        edge_port, status_port = free_ports(2)
        conf = self._dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                upstream_port=self.replica_b.port, port=edge_port, status_port=status_port
            )
        )
        nginx = Container(
            NGINX_IMAGE, "nginx", "-g", "daemon off;", volumes=[(conf, "/etc/nginx/nginx.conf")]
        )
        self._keep(nginx).start()
        wait_until(lambda: port_open(status_port), 15, "nginx")
        self.edge_url = f"http://127.0.0.1:{edge_port}"

        nginx_exporter_port, postgres_exporter_port = free_ports(2)
        self._keep(
            Container(
                NGINX_EXPORTER_IMAGE,
                f"--nginx.scrape-uri=http://127.0.0.1:{status_port}/stub_status",
                f"--web.listen-address=127.0.0.1:{nginx_exporter_port}",
            )
        ).start()
        dsn = f"postgresql://postgres:test-only@127.0.0.1:{self.postgres.port}/app?sslmode=disable"
        self._keep(
            Container(
                POSTGRES_EXPORTER_IMAGE,
                f"--web.listen-address=127.0.0.1:{postgres_exporter_port}",
                env={"DATA_SOURCE_NAME": dsn},
            )
        ).start()

        def job(name: str, *ports: int) -> dict:
            targets = [f"127.0.0.1:{port}" for port in ports]
            return {"job_name": name, "static_configs": [{"targets": targets}]}

        interval = f"{SCRAPE_INTERVAL_SECONDS}s"
        config = {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,
                "evaluation_interval": interval,
            },
            "scrape_configs": [
                job("api", self.replica_a.metrics_port, self.replica_b.metrics_port),
                job("nginx", nginx_exporter_port),
                job("postgres", postgres_exporter_port),
                # Nothing listens here: an exporter that is down (TargetExporterDown).
                job("offline-exporter", free_port()),
            ],
        }
        rules = rules_for_test(self.rule_files, self._dir)
        self.prometheus = self._keep(NativePrometheus(config, rules)).start()
        self.prometheus.wait_for_targets({"api", "nginx", "postgres"})

    # ------------------------------------------------------------ the run
    def run_overload(self) -> OverloadRun:
        """Drive the three phases with k6; watch the alerts API meanwhile."""
        fired: dict[str, float] = {}
        stop = threading.Event()

        def watch_alerts() -> None:
            while not stop.wait(1):
                try:
                    for alert in self.prometheus.alerts():
                        if alert["state"] == "firing":
                            fired.setdefault(alert["labels"]["alertname"], time.time())
                except Exception:  # a slow answer under load: try again next second
                    continue

        watcher = threading.Thread(target=watch_alerts, name="alerts-watcher", daemon=True)
        watcher.start()
        start = time.time()
        overload_start = start + self.steady_s
        k6 = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("k6")),
                "run",
                "--quiet",
                "--no-usage-report",
                "--tag",
                f"testid={TEST_ID}",
                "-o",
                "experimental-prometheus-rw",
                str(K6_SCRIPT),
            ],
            env={
                **os.environ,
                "A_URL": self.replica_a.url,
                "B_URL": self.replica_b.url,
                "EDGE_URL": self.edge_url,
                "STEADY_S": str(self.steady_s),
                "OVERLOAD_S": str(self.overload_s),
                "RECOVERY_S": str(self.recovery_s),
                "K6_PROMETHEUS_RW_SERVER_URL": self.prometheus.remote_write_url,
                "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM": "true",
                "K6_PROMETHEUS_RW_PUSH_INTERVAL": "1s",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # A worker of B dies mid-overload; its master replaces it (a restart, "killed").
            time.sleep(max(0.0, overload_start + 8 - time.time()))
            os.kill(self.replica_b.worker_pids()[0], signal.SIGKILL)
            total = self.steady_s + self.overload_s + self.recovery_s
            output, _ = k6.communicate(timeout=total + 60)
        finally:
            if k6.poll() is None:
                k6.kill()
                k6.wait()
        # Two more scrapes and rule evaluations after the last request.
        time.sleep(3 * SCRAPE_INTERVAL_SECONDS)
        stop.set()
        watcher.join()
        if k6.returncode != 0:
            raise RuntimeError(f"k6 exited with {k6.returncode}:\n{output[-3000:]}")
        return OverloadRun(
            start=start,
            overload_start=overload_start,
            overload_end=overload_start + self.overload_s,
            end=time.time(),
            fired=fired,
            k6_output=output,
        )

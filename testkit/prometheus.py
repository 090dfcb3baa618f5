"""A throwaway native Prometheus (the `prometheus` binary) with a generated config, and queries.

Accepts remote write (k6's output) and native histograms (k6's trend metrics arrive as native
histograms), as the Compose stack's Prometheus does.
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import yaml

from .net import free_port, wait_until

FLAGS = ("--web.enable-remote-write-receiver", "--enable-feature=native-histograms")


class PrometheusUnavailable(RuntimeError):
    """No `prometheus` binary on PATH."""


class QueryError(RuntimeError):
    """Prometheus answered a query with an error."""


class NativePrometheus:
    """start() a Prometheus on a free loopback port with `config` (a dict), stop() it."""

    def __init__(self, config: dict, rule_files: list[Path] = ()):
        if shutil.which("prometheus") is None:
            raise PrometheusUnavailable(
                "the test needs the prometheus binary (scripts/install-test-tools installs it)"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="throwaway-prometheus-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.remote_write_url = f"{self.url}/api/v1/write"
        self.config = {**config, "rule_files": [str(path) for path in rule_files]}
        self.log_path = self._dir / "prometheus.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "NativePrometheus":
        config_path = self._dir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={self._dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    *FLAGS,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(self._ready, timeout, f"prometheus (log: {self.log_path})", interval=0.2)
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"prometheus exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    # ------------------------------------------------------------ HTTP API
    def _get(self, path: str, **params) -> dict | list:
        response = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = response.json()
        if body.get("status") != "success":
            raise QueryError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """An instant query's result (a vector: [{metric, value}])."""
        params = {"query": expr} if at is None else {"query": expr, "time": at}
        return self._get("query", **params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        """A range query's result (a matrix: [{metric, values}])."""
        return self._get("query_range", query=expr, start=start, end=end, step=step)["result"]

    def label_values(self, label: str, match: str, start: float, end: float) -> list[str]:
        """What Grafana's label_values(match, label) variable query returns."""
        return self._get(f"label/{label}/values", **{"match[]": match, "start": start, "end": end})

    def alerts(self) -> list[dict]:
        return self._get("alerts")["alerts"]

    def metadata(self) -> dict[str, list[dict]]:
        return self._get("metadata")

    def targets(self) -> list[dict]:
        return self._get("targets")["activeTargets"]

    def wait_for_targets(self, jobs: set[str], timeout: float = 30) -> None:
        """Wait until every target of `jobs` has been scraped successfully."""

        def healthy() -> bool:
            targets = [t for t in self.targets() if t["labels"]["job"] in jobs]
            seen = {t["labels"]["job"] for t in targets if t["health"] == "up"}
            return seen == jobs and all(t["health"] == "up" for t in targets)

        wait_until(healthy, timeout, f"targets {sorted(jobs)} up", interval=0.5)


def last_value(series: list[dict]) -> float:
    """The newest sample of the first series of a range or instant result."""
    first = series[0]
    return float(first["values"][-1][1] if "values" in first else first["value"][1])


def max_value(series: list[dict]) -> float:
    """The largest finite sample over every series of a range result (-inf if none)."""
    values = [float(v) for s in series for _, v in s["values"] if v not in ("NaN", "+Inf", "-Inf")]
    return max(values, default=float("-inf"))


def now() -> float:
    return time.time()

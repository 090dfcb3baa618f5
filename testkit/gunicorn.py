"""The API under real gunicorn, started from services/api/gunicorn.conf.py."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from .net import free_ports, port_open, wait_until

API_DIR = Path(__file__).resolve().parent.parent / "services" / "api"


def migrate_database(database_url: str) -> None:
    """Prepare a database for the API as operators do: `python -m api migrate`."""
    result = subprocess.run(
        [sys.executable, "-m", "api", "migrate", "--wait", "10"],
        cwd=API_DIR,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"python -m api migrate failed: {result.stderr.strip()}")


class GunicornServer:
    """gunicorn -c gunicorn.conf.py api.wsgi:app with `env` overrides, on free ports."""

    def __init__(self, database_url: str, **env: str | int):
        self.port, self.metrics_port = free_ports(2)
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self._metrics_dir = tempfile.mkdtemp(prefix="gunicorn-test-metrics-")
        self.log_path = Path(tempfile.mkstemp(prefix="gunicorn-test-", suffix=".log")[1])
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "METRICS_PORT": str(self.metrics_port),
            "PROMETHEUS_MULTIPROC_DIR": self._metrics_dir,
            "WEB_CONCURRENCY": "1",
            **{key: str(value) for key, value in env.items()},
        }
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        return [str(gunicorn), "-c", "gunicorn.conf.py", "api.wsgi:app"]

    def start(self, timeout: float = 30) -> "GunicornServer":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=API_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self._ready, timeout, f"gunicorn (log: {self.log_path})")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
        if not (port_open(self.port) and port_open(self.metrics_port)):
            return False
        workers = self.metric("api_workers")
        return workers == int(self.env["WEB_CONCURRENCY"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def metrics_text(self, timeout: float = 5) -> str:
        return requests.get(self.metrics_url, timeout=timeout).text

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of one sample (summed over series matching `labels`), or None."""
        from prometheus_client.parser import text_string_to_metric_families

        total = None
        for family in text_string_to_metric_families(self.metrics_text()):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    total = (total or 0) + sample.value
        return total

    def worker_pids(self) -> list[int]:
        output = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in output.split()]

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 35) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_path.unlink(missing_ok=True)
        for entry in Path(self._metrics_dir).glob("*"):
            entry.unlink()
        os.rmdir(self._metrics_dir)

"""Fixtures: the stack without Docker (PostgreSQL, the API, Prometheus) and the runner."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.report import runner
from testkit.native_stack import NativeStack
from testkit.postgres import ThrowawayPostgresUnavailable
from testkit.prometheus import PrometheusUnavailable

RUNNER_SETTINGS = (
    "BASE_URL",
    "PROMETHEUS_URL",
    "API_JOB",
    "REMOTE_WRITE",
    "LOADTEST_RUNNER",
    "LOADTEST_RESULTS",
    "LOADTEST_K6",
)


@pytest.fixture(scope="session")
def native_stack():
    """One API worker behind nothing, scraped every second by a Prometheus of our own."""
    try:
        stack = NativeStack(workers=1, scrape_interval="1s").start()
    except (ThrowawayPostgresUnavailable, PrometheusUnavailable) as exc:
        pytest.skip(str(exc))
    yield stack
    stack.stop()


def clean_env() -> dict[str, str]:
    """This process's environment without any load-test setting a developer may have set."""
    drop = set(runner.script_settings()) | set(RUNNER_SETTINGS)
    return {name: value for name, value in os.environ.items() if name not in drop}


@pytest.fixture
def run_loadtest(native_stack, tmp_path):
    """run_loadtest("k6", "smoke", RATE=4) -> (exit status, results dir, summary.json)."""

    def run(*args: str, **settings) -> tuple[int, Path, dict]:
        env = {
            **clean_env(),
            "BASE_URL": native_stack.base_url,
            "PROMETHEUS_URL": native_stack.prometheus_url,
            "LOADTEST_RESULTS": str(tmp_path),
            **{name: str(value) for name, value in settings.items()},
        }
        completed = subprocess.run(
            [sys.executable, "-m", "loadtest.report", "run", *args],
            cwd=runner.REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        (results,) = tmp_path.iterdir()
        summary_path = results / "summary.json"
        if not summary_path.exists():
            pytest.fail(f"no summary.json; output:\n{completed.stdout}\n{completed.stderr}")
        return completed.returncode, results, json.loads(summary_path.read_text())

    return run

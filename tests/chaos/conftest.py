"""One Compose stack of three API replicas for the fault suite, removed at the end.

The figures of every scenario are printed as a table in the terminal summary and written as
JSON (CHAOS_RESULTS, default tests/chaos/results/latest.json) for later runs to compare.
"""

import json
import os
import time
from pathlib import Path

import pytest

from tests.chaos.faults import FaultTarget
from tests.chaos.report import table
from tests.e2e.compose import docker_unavailable

RESULTS = Path(os.environ.get("CHAOS_RESULTS", Path(__file__).parent / "results/latest.json"))
# Filled by the tests: one row per scenario.
ROWS: list[dict] = []


@pytest.fixture(scope="session")
def fault_target():
    """The stack the faults are injected into: built, up with three replicas, then `down -v`."""
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not}); see scripts/install-docker-engine")
    target = FaultTarget()
    try:
        target.stack.build()
        target.stack.up()
        yield target
    finally:
        # The containers' own account of the run, kept next to the results for diagnosis.
        target.stack.save_logs(RESULTS.with_suffix(".log"))
        target.stack.down()
        target.remove_workdir()


@pytest.fixture(scope="session")
def record_scenario():
    """Keep one scenario's figures for the table and the JSON file."""
    return ROWS.append


def pytest_terminal_summary(terminalreporter):
    if not ROWS:
        return
    terminalreporter.section("Fault suite (client side, cross-checked against the database)")
    for line in table(ROWS).splitlines():
        terminalreporter.write_line(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"time": time.time(), "scenarios": ROWS}, indent=2) + "\n")
    terminalreporter.write_line(f"written to {RESULTS}")

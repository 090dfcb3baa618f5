"""One Compose stack for the whole e2e session, removed at the end even when a test fails.

Skips (one line) when no Docker engine with Compose v2 answers. The measured numbers
(scale-up, scale-down, database restart) are printed in the terminal summary.
"""

import time
from pathlib import Path

import pytest

from tests.e2e.compose import Stack, docker_unavailable

# The containers' logs of the session, kept for diagnosis (gitignored).
LOGS = Path(__file__).parent / "results/stack.log"
# Filled by the tests, printed by pytest_terminal_summary: {section: {measure: value}}.
MEASUREMENTS: dict[str, dict[str, object]] = {}


@pytest.fixture(scope="session")
def stack():
    """A fresh stack (own project name and ports): built, `up -d --wait`, then `down -v`."""
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not}); see scripts/install-docker-engine")
    stack = Stack.for_tests()
    started = time.monotonic()
    try:
        stack.build()
        built = time.monotonic()
        stack.down()  # nothing to remove under a new name; as the CI workflow does
        stack.up()
        record("start", build_s=built - started, up_wait_s=time.monotonic() - built)
        yield stack
    finally:
        stack.save_logs(LOGS)
        stack.down()


@pytest.fixture(scope="session")
def measurements():
    """Record named numbers for the terminal summary: measurements("scale_up", seconds=1.2)."""
    return record


def record(section: str, **values) -> None:
    MEASUREMENTS.setdefault(section, {}).update(values)


def pytest_terminal_summary(terminalreporter):
    if not MEASUREMENTS:
        return
    terminalreporter.section("Compose stack measurements")
    for section, values in MEASUREMENTS.items():
        shown = ", ".join(
            f"{name}={value:.2f}" if isinstance(value, float) else f"{name}={value}"
            for name, value in values.items()
        )
        terminalreporter.write_line(f"{section}: {shown}")

"""What the stack tests (tests/e2e, swarm, deploy, swarm_multinode) share: measured numbers."""

import pytest

from testkit.measurements import MEASUREMENTS


@pytest.fixture(scope="session")
def measurements():
    """Record named numbers for the terminal summary: measurements("scale_up", seconds=1.2)."""
    return MEASUREMENTS.record


def pytest_terminal_summary(terminalreporter):
    MEASUREMENTS.write(terminalreporter)

"""The Compose rolling deploy's measured numbers, printed in the terminal summary."""

import pytest

from testkit.measurements import Measurements

MEASUREMENTS = Measurements("Compose deploy measurements")


@pytest.fixture(scope="session")
def measurements():
    """Record named numbers for the terminal summary: measurements("deploy", seconds=1.2)."""
    return MEASUREMENTS.record


def pytest_terminal_summary(terminalreporter):
    MEASUREMENTS.write(terminalreporter)

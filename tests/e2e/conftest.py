"""One Compose stack for the whole e2e session, removed at the end even when a test fails.

Skips (one line) when no Docker engine with Compose v2 answers. The measured numbers
(scale-up, scale-down, database restart) are printed in the terminal summary.
"""

import time
from pathlib import Path

import pytest

from testkit.measurements import MEASUREMENTS
from tests.e2e.compose import Stack, docker_unavailable

# The containers' logs of the session, kept for diagnosis (gitignored).
LOGS = Path(__file__).parent / "results/stack.log"


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
        MEASUREMENTS.record("start", build_s=built - started, up_wait_s=time.monotonic() - built)
        yield stack
    finally:
        stack.save_logs(LOGS)
        stack.down()

"""One stack on Docker Swarm for the swarm tests, removed at the end even when a test fails.

The Swarm is this engine's: `scripts/swarm up` initialises a single-node Swarm if the engine is
in none, and `down` leaves it as it was found. Skips (one line) when no Docker engine with
Compose v2 answers. The measured numbers are printed in the terminal summary.
"""

import os
import subprocess
import time
from dataclasses import dataclass

import pytest

from testkit.measurements import MEASUREMENTS
from tests.e2e.compose import Stack, docker_unavailable
from tests.swarm.stack import SwarmStack, docker, swarm_state

# An image whose healthcheck fails within ~3 s (start period 1 s, then 2 failures 1 s apart;
# a 0 would inherit the API image's 30 s start period).
UNHEALTHY = 'HEALTHCHECK --interval=1s --timeout=1s --start-period=1s --retries=2 CMD ["false"]'


@dataclass
class ApiImages:
    current: str  # built from this checkout
    next: str  # the same, one layer on: what a rollout deploys
    unhealthy: str  # the same with a healthcheck that fails: what a rollout must roll back


def build_from(base: str, tag: str, instruction: str) -> None:
    dockerfile = f"ARG BASE\nFROM ${{BASE}}\n{instruction}\n"
    subprocess.run(
        ["docker", "build", "-q", "--build-arg", f"BASE={base}", "-t", tag, "-"],
        input=dockerfile,
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def api_images():
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not}); see scripts/install-docker-engine")
    Stack.for_tests(prefix="swarm-build").build()  # API_IMAGE, as `make build` does
    current = os.environ.get("API_IMAGE", "reference-stack/api:local")
    images = ApiImages(current, f"{current}-next", f"{current}-unhealthy")
    build_from(current, images.next, 'LABEL org.opencontainers.image.version="next"')
    build_from(current, images.unhealthy, UNHEALTHY)
    yield images
    docker("image", "rm", images.next, images.unhealthy, check=False)


@pytest.fixture(scope="session")
def swarm_stack(api_images):
    """A fresh stack (own name, state dir and nginx port): `up`, then `down` with volumes."""
    stack = SwarmStack.for_tests(api_images.current, SWARM_UPDATE_MONITOR="5s")
    stack.swarm_state_before = swarm_state()
    started = time.monotonic()
    try:
        stack.up()
        MEASUREMENTS.record("swarm_up", seconds=time.monotonic() - started)
        yield stack
    finally:
        stack.down()

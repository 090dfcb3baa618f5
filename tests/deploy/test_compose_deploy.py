"""`make deploy` (scripts/deploy) on Compose under mixed load: every API container replaced by
one of a freshly built image, no failed request, no lost write. A stack of its own.

    .venv/bin/python -m pytest tests/deploy -m docker
"""

import subprocess
import time

import pytest

from testkit.mixed_load import MixedLoad
from tests.e2e.compose import COMPOSE_FILE, REPO, Stack, docker_unavailable
from tests.rollout import READERS, WRITERS, assert_nothing_failed_or_lost, item_rows, summary

pytestmark = pytest.mark.docker

REPLICAS = 2


@pytest.fixture(scope="module")
def stack():
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not}); see scripts/install-docker-engine")
    stack = Stack.for_tests(prefix="deploy", API_SCALE=str(REPLICAS))
    try:
        stack.build()
        stack.up()
        yield stack
    finally:
        stack.down()


def deploy(stack) -> subprocess.CompletedProcess:
    """scripts/deploy against the test's project, as `make deploy` runs it."""
    compose = f"docker compose -f {COMPOSE_FILE} -p {stack.project} --env-file /dev/null"
    return subprocess.run(
        [str(REPO / "scripts" / "deploy")],
        env={**stack.env, "COMPOSE": compose},
        capture_output=True,
        text=True,
        timeout=600,
    )


def psql(stack, *args: str) -> str:
    return stack.compose("exec", "-T", "db", "psql", "-U", "app", "-d", "app", *args).stdout


def test_deploy_replaces_every_api_container_failing_no_request_losing_no_write(
    stack, measurements
):
    before = set(stack.container_ids("api"))
    assert len(before) == REPLICAS
    with MixedLoad(stack.base_url, READERS, WRITERS, max_seconds=600, prefix="deploy") as load:
        time.sleep(2)
        started = time.monotonic()
        result = deploy(stack)
        seconds = time.monotonic() - started
        time.sleep(2)
    assert result.returncode == 0, result.stdout + result.stderr
    after = set(stack.container_ids("api"))
    figures = load.figures()
    audit = load.audit(item_rows(lambda *args: psql(stack, *args), load.prefix))
    measurements("compose_deploy", replicas=REPLICAS, seconds=seconds, **summary(figures, audit))
    assert len(after) == REPLICAS and not after & before  # all new
    assert_nothing_failed_or_lost(figures, audit)

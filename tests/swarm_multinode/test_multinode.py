"""The stack on a Swarm of three nodes (Docker-in-Docker, scripts/swarm-dind), for real:
spread across them, then one node drained under mixed load, with no failed request and no lost
write. Slow (three engines, each loaded with the stack's images), so not part of `make test`:

    make swarm-multinode-test        # SWARM_MULTINODE=1 pytest tests/swarm_multinode
"""

import os
import subprocess
import time

import pytest

from testkit.mixed_load import MixedLoad
from tests.e2e.compose import Stack, docker_unavailable
from tests.rollout import READERS, WRITERS, assert_nothing_failed_or_lost, summary
from tests.swarm.stack import REPO, SwarmStack, docker

pytestmark = [pytest.mark.docker, pytest.mark.swarm]

NODES, API_TASKS = 3, 6
DIND = REPO / "scripts" / "swarm-dind"
PREFIX = "swarm-multinode"
STATE = f"/tmp/{PREFIX}"


def dind(*args: str, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(DIND), *args],
        env={**os.environ, "SWARM_DIND_PREFIX": PREFIX, "SWARM_DIND_DIR": STATE, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/swarm-dind {' '.join(args)}:\n{result.stdout}{result.stderr}")
    return result


@pytest.fixture(scope="module")
def cluster(measurements):
    """Three nodes, one Swarm, the stack deployed from the manager; all removed afterwards."""
    if os.environ.get("SWARM_MULTINODE") != "1":
        pytest.skip("the multi-node Swarm test runs with make swarm-multinode-test")
    why_not = docker_unavailable()
    if why_not:
        pytest.skip(f"no Docker engine ({why_not})")
    Stack.for_tests(prefix="multinode-build").build()
    api_image = os.environ.get("API_IMAGE", "reference-stack/api:local")
    manager = f"unix://{STATE}/node1/docker.sock"
    started = time.monotonic()
    try:
        dind("up", str(NODES), API_IMAGE=api_image)
        measurements("multinode_nodes_up", nodes=NODES, seconds=time.monotonic() - started)
        os.environ["DOCKER_HOST"] = manager  # the helpers below ask the manager's engine
        stack = SwarmStack.for_tests(api_image, DOCKER_HOST=manager, API_SCALE=str(API_TASKS))
        deployed = time.monotonic()
        stack.up()
        measurements("multinode_stack_up", seconds=time.monotonic() - deployed)
        stack.base_url = f"http://{node_address(1)}:{stack.port}"  # nginx runs on node 1
        yield stack
        stack.down()
    finally:
        os.environ.pop("DOCKER_HOST", None)
        dind("down")


def node_address(number: int) -> str:
    """The node container's address on the host's bridge network (reachable from here)."""
    template = f'{{{{(index .NetworkSettings.Networks "{PREFIX}").IPAddress}}}}'
    result = subprocess.run(
        ["docker", "inspect", "-f", template, f"{PREFIX}-{number}"],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "DOCKER_HOST"},
        check=True,
    )
    return result.stdout.strip()


def api_tasks_by_node(stack) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in stack.running_tasks("api", "{{.Node}} {{.CurrentState}}"):
        node, state = line.split()[:2]
        if state == "Running":
            counts[node] = counts.get(node, 0) + 1
    return counts


def test_the_api_tasks_spread_across_the_nodes(cluster):
    spread = api_tasks_by_node(cluster)
    assert sum(spread.values()) == API_TASKS
    assert len(spread) == NODES, spread
    assert cluster.get("/db").status_code == 200


def test_draining_a_node_under_load_fails_no_request_and_loses_no_write(cluster, measurements):
    drained = f"{PREFIX}-2"
    with MixedLoad(cluster.base_url, READERS, WRITERS, max_seconds=600, prefix="drain") as load:
        time.sleep(2)
        started = time.monotonic()
        docker("node", "update", "--availability", "drain", drained)
        moved_s = cluster.wait_for(
            lambda: (
                drained not in api_tasks_by_node(cluster)
                and sum(api_tasks_by_node(cluster).values()) == API_TASKS
            ),
            180,
            f"the API tasks of {drained} running elsewhere",
        )
        time.sleep(3)
    docker("node", "update", "--availability", "active", drained)
    figures, audit = load.figures(), load.audit(cluster.item_rows(load.prefix))
    measurements(
        "multinode_drain",
        tasks_moved_s=moved_s,
        seconds=time.monotonic() - started,
        **summary(figures, audit),
    )
    assert_nothing_failed_or_lost(figures, audit)

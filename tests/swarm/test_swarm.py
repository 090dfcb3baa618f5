"""The stack on Docker Swarm, end to end: deploy, scale 1 -> 4, a rolling update and an
automatic rollback under mixed load, and `down` leaving nothing (not even the Swarm, if `up`
created it). The tests share one stack (conftest.py) and run in file order.

    .venv/bin/python -m pytest tests/swarm -m swarm
"""

import json
import time

import pytest

from testkit.mixed_load import MixedLoad
from tests.least_privilege import NETWORKS, PUBLISHING, capabilities_and_user, netprobe
from tests.rollout import READERS, WRITERS, assert_nothing_failed_or_lost, summary
from tests.swarm.stack import docker, swarm_state

pytestmark = [pytest.mark.docker, pytest.mark.swarm]

SCALE_DEADLINE_S = 60  # generous: 2 shared cores; the measured times are reported


def test_up_deploys_every_service_in_dnsrr_mode_and_the_api_answers(swarm_stack):
    for service in ("nginx", "api", "db", "prometheus", "postgres-exporter", "nginx-exporter"):
        spec = swarm_stack.inspect_service(service)["Spec"]
        assert spec["EndpointSpec"]["Mode"] == "dnsrr", service  # VIPs need iptables
    api = swarm_stack.inspect_service("api")["Spec"]
    update = api["UpdateConfig"]
    assert (update["Order"], update["Parallelism"], update["FailureAction"]) == (
        "start-first",
        1,
        "rollback",
    )
    db = swarm_stack.inspect_service("db")["Spec"]["TaskTemplate"]["Placement"]
    assert db["Constraints"] == ["node.labels.reference-stack.db == true"]
    assert swarm_stack.get("/json").status_code == 200
    assert swarm_stack.get("/db").status_code == 200  # the migrate job ran


# What a compromised task would try next (tests/e2e/test_security.py tries more on Compose).
FORBIDDEN = [("nginx", "db", 5432), ("nginx", "prometheus", 9090), ("prometheus", "db", 5432)]


def task_containers(stack) -> dict[str, dict]:
    """`docker inspect` of one running container of each service of the stack on this node."""
    found = {}
    for service in NETWORKS:
        ids = stack.containers(service)
        if ids:  # Grafana where its image is absent; the migrate job, which has exited
            found[service] = json.loads(docker("inspect", ids[0]))[0]
    return found


def test_every_task_runs_unprivileged_on_the_networks_of_its_role(swarm_stack):
    containers = task_containers(swarm_stack)
    assert {"nginx", "api", "db", "prometheus"} <= set(containers)
    prefix = f"{swarm_stack.name}_"
    for service, container in containers.items():
        networks = container["NetworkSettings"]["Networks"]
        assert {n.removeprefix(prefix) for n in networks if n.startswith(prefix)} == NETWORKS[
            service
        ], service
        host_config = container["HostConfig"]
        assert host_config["ReadonlyRootfs"] is True, service
        assert host_config["CapDrop"] == ["ALL"] and not host_config["CapAdd"], service
        assert host_config["PidsLimit"] and host_config["PidsLimit"] > 0, service
        granted = capabilities_and_user(container)
        assert "0" not in granted["uids"], service
        for capabilities in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert granted[capabilities] == 0, (service, capabilities)
    for network in set().union(*NETWORKS.values()):
        spec = json.loads(docker("network", "inspect", prefix + network))[0]
        assert (spec["Driver"], spec["Internal"]) == ("overlay", network not in PUBLISHING)


def test_forbidden_connections_fail_between_tasks(swarm_stack, api_images):
    containers = task_containers(swarm_stack)
    for source, target, port in FORBIDDEN:
        networks = containers[target]["NetworkSettings"]["Networks"].values()
        addresses = [network["IPAddress"] for network in networks]
        targets = [f"{host}:{port}" for host in (target, *addresses)]
        by_name, *by_address = netprobe(
            api_images.current, f"container:{containers[source]['Id']}", targets
        )
        assert by_name["outcome"] == "no such name", (source, target, by_name)
        assert all(a["outcome"] != "connected" for a in by_address), (source, target, by_address)


def api_targets_up(stack) -> set[str]:
    return {sample["metric"]["instance"] for sample in stack.query('up{job="api"} == 1')}


def test_scale_to_4_gives_every_task_traffic_and_a_scrape(swarm_stack, measurements):
    with MixedLoad(swarm_stack.base_url, readers=2, writers=0, prefix="scale") as load:
        started = time.time()
        swarm_stack.scale(4)
        scaled_s = time.time() - started
        tasks = swarm_stack.task_addresses("api", "edge")  # where nginx sends requests
        assert len(tasks) == 4
        scraped = swarm_stack.task_addresses("api", "metrics-api")  # where Prometheus scrapes

        def served() -> set[str]:
            log = swarm_stack.access_log(started)
            return {r["upstream_addr"].rsplit(":", 1)[0] for r in log if r["status"] == 200}

        traffic_s = scaled_s + swarm_stack.wait_for(
            lambda: tasks <= served(), SCALE_DEADLINE_S, "requests reaching all 4 tasks"
        )
        scraped_s = scaled_s + swarm_stack.wait_for(
            lambda: api_targets_up(swarm_stack) == scraped, SCALE_DEADLINE_S, "4 tasks scraped"
        )
    measurements(
        "swarm_scale_1_to_4",
        command_s=scaled_s,
        all_tasks_served_s=traffic_s,
        all_tasks_scraped_s=scraped_s,
        requests=len(load.attempts),
        failed=load.figures().failed_idempotent,
    )
    assert load.figures().failed_idempotent == 0, load.figures().failure_samples


def roll_out_under_load(stack, image: str):
    """Roll the API out to `image` while readers and writers run; return the load and result."""
    with MixedLoad(stack.base_url, READERS, WRITERS, max_seconds=600, prefix="rollout") as load:
        time.sleep(2)  # under way before the rollout starts
        started = time.monotonic()
        result = stack.rollout(image)
        seconds = time.monotonic() - started
        time.sleep(2)
    return load, result, seconds


def test_rollout_replaces_every_task_failing_no_request_losing_no_write(
    swarm_stack, api_images, measurements
):
    load, result, seconds = roll_out_under_load(swarm_stack, api_images.next)
    assert result.returncode == 0, result.stdout + result.stderr
    assert swarm_stack.task_images("api") == [api_images.next] * 4
    figures, audit = load.figures(), load.audit(swarm_stack.item_rows(load.prefix))
    measurements(
        "swarm_rollout_4_tasks",
        seconds=seconds,
        seconds_per_task=seconds / 4,
        **summary(figures, audit),
    )
    assert_nothing_failed_or_lost(figures, audit)


def test_image_failing_its_healthcheck_is_rolled_back_failing_no_request(
    swarm_stack, api_images, measurements
):
    load, result, seconds = roll_out_under_load(swarm_stack, api_images.unhealthy)
    assert result.returncode == 1
    assert "rollback_completed" in result.stderr, result.stdout + result.stderr
    assert swarm_stack.task_images("api") == [api_images.next] * 4  # all back on the old one
    figures, audit = load.figures(), load.audit(swarm_stack.item_rows(load.prefix))
    measurements("swarm_rollback", seconds=seconds, **summary(figures, audit))
    assert_nothing_failed_or_lost(figures, audit)


def test_down_leaves_nothing_and_the_swarm_as_found(swarm_stack, measurements):
    started = time.monotonic()
    result = swarm_stack.down()
    measurements("swarm_down", seconds=time.monotonic() - started)
    assert result.returncode == 0, result.stdout + result.stderr
    assert swarm_stack.leftovers() == {}
    assert swarm_state() == swarm_stack.swarm_state_before

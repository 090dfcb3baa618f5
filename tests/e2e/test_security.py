"""Least privilege, proven on the running stack (docs/security.md): each service on the networks
of its connections only, the connections the stack needs made and the others refused from
inside the containers, and every process non-root, without capabilities or a way to gain any,
on a read-only root filesystem with writes only where the service needs them.

Connections are tried from each container's own network namespace: a probe container joins it
(`docker run --network container:ID`) and runs netprobe.py, the same method for every image
(the exporters' official images have no shell). The matrix of every attempt is written to
tests/e2e/results/network-matrix.json.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.least_privilege import (
    NETWORKS,
    PUBLISHING,
    capabilities_and_user,
    docker,
    netprobe,
)

pytestmark = pytest.mark.docker

MATRIX = Path(__file__).parent / "results/network-matrix.json"

# (from, to, port): every connection the stack is made of.
NEEDED = [
    ("nginx", "api", 8000),
    ("api", "db", 5432),
    ("prometheus", "api", 9200),
    ("prometheus", "nginx-exporter", 9113),
    ("prometheus", "postgres-exporter", 9187),
    ("nginx-exporter", "nginx", 8081),
    ("postgres-exporter", "db", 5432),
    ("grafana", "prometheus", 9090),
]
# (from, to, port): what a compromised container would try next; each by name and by every
# address of the target.
FORBIDDEN = [
    ("nginx", "db", 5432),
    ("nginx", "postgres-exporter", 9187),
    ("nginx", "prometheus", 9090),
    ("nginx", "grafana", 3000),
    ("api", "nginx-exporter", 9113),
    ("api", "postgres-exporter", 9187),
    ("api", "grafana", 3000),
    ("prometheus", "db", 5432),
    ("prometheus", "nginx", 8081),
    ("nginx-exporter", "api", 8000),
    ("nginx-exporter", "db", 5432),
    ("nginx-exporter", "postgres-exporter", 9187),
    ("postgres-exporter", "api", 8000),
    ("postgres-exporter", "nginx", 8081),
    ("db", "nginx", 8080),
    ("db", "prometheus", 9090),
]

# Where each service may write (tmpfs and volumes), besides Docker's own /dev, /dev/shm and
# /dev/mqueue; everything else is read-only.
WRITABLE = {
    "nginx": {"/etc/nginx/limits.d", "/tmp"},
    "api": {"/run/api-metrics", "/tmp"},
    "db": {"/var/lib/postgresql/data", "/run/postgresql"},  # /var/run links to /run
    "prometheus": {"/prometheus"},
    "grafana": {"/var/lib/grafana", "/tmp"},
    "nginx-exporter": set(),
    "postgres-exporter": set(),
}


@pytest.fixture(scope="module")
def containers(stack) -> dict[str, dict]:
    """`docker inspect` of one container of each service, the exited migrate included."""
    ids = stack.compose("ps", "-a", "-q").stdout.split()
    found = {}
    for container in stack.inspect(*ids):
        found.setdefault(container["Config"]["Labels"]["com.docker.compose.service"], container)
    return found


def networks_of(stack, container: dict) -> set[str]:
    prefix = f"{stack.project}_"
    return {name.removeprefix(prefix) for name in container["NetworkSettings"]["Networks"]}


def probe_image(stack) -> str:
    return stack.config()["services"]["api"]["image"]  # has python; built by the session


@pytest.fixture(scope="module")
def engine_routes_between_networks(stack) -> bool:
    """Whether this engine routes between two of its bridge networks that have a gateway. An
    engine with its firewall (Docker's default) drops that traffic; one run without it
    (`dockerd --iptables=false`, as on this project's machines) forwards it through the host."""
    networks = [f"{stack.project}-canary-{side}" for side in ("a", "b")]
    listener = f"{stack.project}-canary-listener"
    image = probe_image(stack)
    try:
        for network in networks:
            docker("network", "create", network)
        run = ["run", "-d", "--name", listener, "--network", networks[1], "--user", "65534"]
        docker(*run, image, "python", "-m", "http.server", "8000")
        [container] = json.loads(docker("inspect", listener).stdout)
        address = container["NetworkSettings"]["Networks"][networks[1]]["IPAddress"]
        [result] = netprobe(image, networks[0], [f"{address}:8000"])
    finally:
        docker("rm", "-f", listener, check=False)
        for network in networks:
            docker("network", "rm", network, check=False)
    # Refused is routed too: it came back from the listener's address, up or not yet.
    return result["outcome"] in ("connected", "ECONNREFUSED")


def has_gateway(networks: set[str]) -> bool:
    return bool(networks & PUBLISHING)


@pytest.fixture(scope="module")
def attempts(stack, containers) -> dict[tuple[str, str, int], list[dict]]:
    """Every connection of NEEDED and FORBIDDEN tried from its source container: by name, and
    for FORBIDDEN also by every address of the target. Keyed by (from, to, port)."""
    addresses = {
        service: sorted(n["IPAddress"] for n in c["NetworkSettings"]["Networks"].values())
        for service, c in containers.items()
        if c["State"]["Running"]
    }
    plans: dict[str, list[tuple[tuple[str, str, int], str]]] = {}
    for pairs, by_address in ((NEEDED, False), (FORBIDDEN, True)):
        for source, target, port in pairs:
            if source not in addresses or target not in addresses:
                continue  # Grafana where its image is absent
            targets = [target] + (addresses[target] if by_address else [])
            plans.setdefault(source, []).extend(
                ((source, target, port), f"{host}:{port}") for host in targets
            )
    image = probe_image(stack)

    def run(source: str) -> list[tuple[tuple[str, str, int], dict]]:
        keys, targets = zip(*plans[source], strict=True)
        network = f"container:{containers[source]['Id']}"
        return list(zip(keys, netprobe(image, network, list(targets)), strict=True))

    found: dict[tuple[str, str, int], list[dict]] = {}
    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        for results in pool.map(run, plans):
            for key, result in results:
                found.setdefault(key, []).append(result)
    MATRIX.parent.mkdir(parents=True, exist_ok=True)
    MATRIX.write_text(
        json.dumps(
            [
                {"from": s, "to": t, "port": p, "needed": (s, t, p) in NEEDED, "attempts": r}
                for (s, t, p), r in found.items()
            ],
            indent=2,
        )
        + "\n"
    )
    return found


# ---------------------------------------------------------------------- networks
def test_each_service_is_on_the_networks_of_its_connections_only(stack, containers):
    for service, container in containers.items():
        assert networks_of(stack, container) == NETWORKS[service], service
    assert not networks_of(stack, containers["db"]) & networks_of(stack, containers["nginx"])
    for network in set().union(*NETWORKS.values()):
        [spec] = json.loads(docker("network", "inspect", f"{stack.project}_{network}").stdout)
        assert spec["Internal"] is (network not in PUBLISHING), network


def test_containers_off_the_published_networks_have_no_gateway(stack, containers):
    # No default route: such a container reaches its networks' subnets and nothing else.
    for service, container in containers.items():
        for name, network in container["NetworkSettings"]["Networks"].items():
            published = name.removeprefix(f"{stack.project}_") in PUBLISHING
            assert bool(network["Gateway"]) is published, (service, name)


def test_every_needed_connection_is_made(attempts, measurements):
    made = {key: [a["outcome"] for a in found] for key, found in attempts.items() if key in NEEDED}
    measurements("network_needed", tried=len(made))
    assert made and all(outcomes == ["connected"] for outcomes in made.values()), made


def test_every_forbidden_connection_fails(
    attempts, containers, stack, engine_routes_between_networks, measurements
):
    refused, through_host = 0, []
    for key, found in attempts.items():
        if key in NEEDED:
            continue
        source, target, port = key
        by_name, *by_address = found
        assert by_name["outcome"] == "no such name", (key, by_name)  # DNS is per network
        # Both ends with a gateway: only the engine's firewall separates them.
        engine_decides = has_gateway(networks_of(stack, containers[source])) and has_gateway(
            networks_of(stack, containers[target])
        )
        for attempt in by_address:
            if engine_decides and engine_routes_between_networks:
                through_host.append(f"{source}->{target}:{port}@{attempt['address']}")
                continue  # reported in docs/security.md: the platform's part
            assert attempt["outcome"] != "connected", (key, attempt)
            refused += 1
    measurements(
        "network_forbidden",
        attempts_refused=refused,
        engine_routes_between_networks=engine_routes_between_networks,
        reachable_only_through_the_hosts_routing=len(through_host),
    )
    # Only pairs of containers with published ports (nginx, Prometheus, Grafana) depend on it.
    assert all(re.match(r"(nginx|prometheus|grafana)->", pair) for pair in through_host)


def test_nginx_own_shell_cannot_reach_the_database(stack, containers):
    # The same as the probe, from a process of nginx's container itself (bash's /dev/tcp).
    results = {}
    for host in ("db", stack.address(containers["db"], "data")):
        bash = f"exec 3<>/dev/tcp/{host}/5432"
        command = ["exec", containers["nginx"]["Id"], "timeout", "3", "bash", "-c", bash]
        results[host] = docker(*command, check=False)
    assert all(result.returncode != 0 for result in results.values()), results
    assert "Name or service not known" in results["db"].stderr


# ---------------------------------------------------------------------- privileges
def test_every_service_runs_unprivileged(containers):
    for service, container in containers.items():
        host_config = container["HostConfig"]
        assert host_config["ReadonlyRootfs"] is True, service
        assert host_config["CapDrop"] == ["ALL"] and not host_config["CapAdd"], service
        assert "no-new-privileges:true" in host_config["SecurityOpt"], service
        assert host_config["PidsLimit"] and host_config["PidsLimit"] > 0, service
        assert container["Config"]["User"] not in ("", "0", "root"), service
        if not container["State"]["Running"]:
            continue  # migrate has done its work
        granted = capabilities_and_user(container)
        assert "0" not in granted["uids"], service
        for capabilities in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert granted[capabilities] == 0, (service, capabilities)
        assert granted["no_new_privs"], service


def writable_mounts(container: dict) -> set[str]:
    """Mount points the container's processes may write to, less Docker's kernel ones."""
    text = Path(f"/proc/{container['State']['Pid']}/mountinfo").read_text()
    writable = set()
    for line in text.splitlines():
        fields = line.split()
        target, options = fields[4], fields[5].split(",")
        if "rw" in options and not re.match(r"/(proc|sys|dev)(/|$)", target):
            writable.add(target)
    return writable


def test_only_tmpfs_and_volumes_are_writable(containers):
    for service, container in containers.items():
        if container["State"]["Running"]:
            assert writable_mounts(container) == WRITABLE[service], service


def test_writing_to_the_root_filesystem_fails(containers):
    for service, container in containers.items():
        if not container["State"]["Running"]:
            continue
        result = docker("exec", container["Id"], "touch", "/etc/written", check=False)
        if "executable file not found" in result.stderr:
            continue  # no touch in the image (scratch): the mount table above says enough
        assert result.returncode != 0 and "Read-only file system" in result.stderr, service


def test_the_database_pids_limit_leaves_room_for_every_connection(stack, containers):
    # A backend process per connection, the server's own and parallel workers (docs/security.md).
    psql = ["psql", "-U", "app", "-d", "app", "-tAc", "SHOW max_connections"]
    shown = stack.compose("exec", "-T", "db", *psql).stdout
    assert containers["db"]["HostConfig"]["PidsLimit"] >= int(shown) + 50

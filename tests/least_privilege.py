"""What the least-privilege tests (tests/e2e/test_security.py on Compose, tests/swarm on Swarm)
share: the networks by role of each service, the connection attempts from inside a container,
and what the kernel says of a container's main process."""

import json
import subprocess
from pathlib import Path

NETPROBE = (Path(__file__).parent / "e2e/netprobe.py").read_text()

# The stack's networks each service is on (docker-compose.yml, `networks:`).
NETWORKS = {
    "nginx": {"public", "edge", "nginx-status"},
    "api": {"edge", "data", "metrics-api"},
    "migrate": {"data"},
    "db": {"data", "db-status"},
    "prometheus": {"metrics-api", "metrics-nginx", "metrics-postgres", "ops"},
    "grafana": {"ops"},
    "nginx-exporter": {"nginx-status", "metrics-nginx"},
    "postgres-exporter": {"db-status", "metrics-postgres"},
}
# The networks of published ports: the only ones with a gateway (the others are internal).
PUBLISHING = {"public", "ops"}


def docker(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


def netprobe(image: str, network: str, targets: list[str]) -> list[dict]:
    """netprobe.py in a throwaway unprivileged container on `network` ("container:ID" joins
    that container's network namespace); `image` needs python (the API's)."""
    command = ["run", "--rm", "--network", network, "--user", "65534:65534", "--read-only"]
    command += ["--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"]
    result = docker(*command, image, "python", "-c", NETPROBE, *targets)
    return json.loads(result.stdout)


def proc_status(container: dict) -> dict[str, str]:
    """/proc/PID/status of the container's main process, read on the host (the engine's)."""
    text = Path(f"/proc/{container['State']['Pid']}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def capabilities_and_user(container: dict) -> dict:
    """What the kernel grants the container's main process: its uids and capability sets."""
    status = proc_status(container)
    sets = ("CapPrm", "CapEff", "CapBnd", "CapAmb")
    return {
        "uids": status["Uid"].split(),  # real, effective, saved, filesystem
        **{name: int(status[name], 16) for name in sets},
        "no_new_privs": status["NoNewPrivs"].strip() == "1",
    }

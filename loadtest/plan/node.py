"""The CPU of the machine the Compose stack runs on, sampled once a second during a run.

On one node every container shares the same cores with the load generator and whatever else
runs there (other people's tests, here): the API's own CPU counter cannot see that. The
sampler reads the host's busy time (/proc/stat), each container's CPU time (its cgroup) and
the load generator's (this process's children: the runner starts k6), so the plan can tell the
API's share from the database's, nginx's, k6's and everyone else's.
"""

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 1.0
# A container's CPU time: cgroup v1 (cpuacct, ns), then v2 with the systemd or cgroupfs driver.
_CGROUP_CPU = (
    ("/sys/fs/cgroup/cpuacct/docker/{id}/cpuacct.usage", "ns"),
    ("/sys/fs/cgroup/system.slice/docker-{id}.scope/cpu.stat", "usage_usec"),
    ("/sys/fs/cgroup/docker/{id}/cpu.stat", "usage_usec"),
)


def host_busy_seconds() -> float:
    """CPU seconds all cores of this machine have spent not idle (nor waiting for I/O)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / CLOCK_TICKS


def container_cpu_seconds(container_id: str) -> float | None:
    """CPU seconds a container has used, from its cgroup; None where none can be read."""
    for pattern, unit in _CGROUP_CPU:
        try:
            with open(pattern.format(id=container_id)) as f:
                text = f.read()
        except OSError:
            continue
        if unit == "ns":
            return int(text) / 1e9
        fields = dict(line.split() for line in text.splitlines() if line)
        return int(fields[unit]) / 1e6
    return None


LOAD_GENERATOR = "k6"  # the name its CPU is recorded under, beside the containers'


def children_cpu_seconds(parent: int | None = None) -> dict[int, float]:
    """{pid: CPU seconds} of the live child processes of `parent` (this process)."""
    parent = os.getpid() if parent is None else parent
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # proc(5): from field 3 (state) on
        if int(fields[1]) == parent:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


@dataclass
class NodeSamples:
    """Samples of (time, host busy s, {part: CPU s}) and the node's core count; a part is a
    container (by service and replica number) or the load generator."""

    cores: int
    samples: list[tuple[float, float, dict[str, float]]] = field(default_factory=list)

    def busy(self, start: float, end: float) -> tuple[float, dict[str, float]] | None:
        """Cores busy on average over [start, end]: the host's, and each part's."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return None
        (t0, host0, c0), (t1, host1, c1) = inside[0], inside[-1]
        span = t1 - t0
        parts = {name: max(0.0, c1[name] - c0[name]) / span for name in c1 if name in c0}
        return (host1 - host0) / span, parts

    def to_dict(self) -> dict:
        return {"cores": self.cores, "samples": self.samples}

    @classmethod
    def from_dict(cls, data: dict) -> "NodeSamples":
        return cls(data["cores"], [tuple(s) for s in data["samples"]])

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict()) + "\n")

    @classmethod
    def load(cls, path: Path) -> "NodeSamples | None":
        return cls.from_dict(json.loads(path.read_text())) if path.exists() else None


class NodeSampler:
    """with NodeSampler(containers) as sampler: ... -> sampler.node (NodeSamples).

    `containers` maps a name (the Compose service, with a replica number) to a container id.
    """

    def __init__(self, containers: dict[str, str]):
        self.containers = containers
        self.node = NodeSamples(cores=len(os.sched_getaffinity(0)))
        self._children: dict[int, float] = {}  # every child seen, with its last CPU reading
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="node-sampler", daemon=True)

    def sample(self) -> None:
        cpu = {name: container_cpu_seconds(cid) for name, cid in self.containers.items()}
        parts = {name: seconds for name, seconds in cpu.items() if seconds is not None}
        # Children that exited keep their last reading, so the sum never goes back.
        self._children.update(children_cpu_seconds())
        parts[LOAD_GENERATOR] = sum(self._children.values())
        self.node.samples.append((time.time(), host_busy_seconds(), parts))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self) -> "NodeSampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()

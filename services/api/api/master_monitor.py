"""What only the gunicorn master can see, and the /metrics endpoint it serves.

The master never runs requests, so it answers scrapes while every worker is saturated, and
it can read the kernel's accept queue, which a worker stuck behind that queue cannot report.
"""

import logging
import os
import socket
import struct
import threading
import time

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from . import config, metrics

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_SECONDS = 1.0
RESTART_REASONS = ("exit", "timeout", "killed")
# struct tcp_info (include/uapi/linux/tcp.h): 8 u8 fields, then u32 fields; on a listening
# socket tcpi_unacked (index 12) is the accept queue length and tcpi_sacked (13) its limit.
_TCP_INFO = struct.Struct("8B24I")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of utime and stime in /proc/PID/stat


def accept_queue(sock: socket.socket) -> tuple[int, int]:
    """Return (connections waiting for accept(), effective backlog limit) of a TCP listener."""
    fields = _TCP_INFO.unpack(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO.size))
    return fields[12], fields[13]


def sample(arbiter) -> None:
    """Publish the backlog of every TCP listener and the number of live workers."""
    waiting = limit = 0
    for listener in arbiter.LISTENERS:
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6):
            queued, maximum = accept_queue(listener.sock)
            waiting, limit = waiting + queued, limit + maximum
    metrics.LISTEN_BACKLOG.set(waiting)
    metrics.LISTEN_BACKLOG_LIMIT.set(limit)
    metrics.WORKERS.set(len(arbiter.WORKERS))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used (all its threads), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # proc(5): the fields after "(comm)", which may hold spaces, start at field 3 (state);
    # utime and stime are fields 14 and 15.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class WorkerCpuCollector:
    """api_worker_cpu_seconds_total{worker}: each live worker's CPU time, read from /proc when
    Prometheus scrapes.

    Multiprocess mode collects no process metrics, and a busy worker could not report on
    time; the master reads /proc instead, at no cost to requests, and writes no files. A
    restarted worker is a new series starting near 0, as process_cpu_seconds_total of a
    restarted process is: rate() handles it; only a dead worker's last seconds since the
    previous scrape go uncounted.
    """

    def __init__(self, arbiter):
        self.arbiter = arbiter

    def collect(self):
        family = CounterMetricFamily(
            "api_worker_cpu_seconds",
            "CPU seconds (user + system) a live worker has used since it started.",
            labels=["worker"],
        )
        for pid in list(self.arbiter.WORKERS):
            seconds = cpu_seconds(pid)
            if seconds is not None:  # reaped since the list was taken
                family.add_metric([str(pid)], seconds)
        yield family


def _sample_forever(arbiter) -> None:
    while True:
        try:
            sample(arbiter)
        except OSError as exc:  # a listener closed under us (reload, shutdown): try again
            log.debug("backlog sample failed: %s", exc)
        time.sleep(SAMPLE_INTERVAL_SECONDS)


def start(arbiter, host: str, port: int) -> None:
    """Serve /metrics from the multiprocess directory and start sampling, in the master."""
    metrics.set_build_info()
    metrics.CPUS_AVAILABLE.set(config.cpu_limit())
    for reason in RESTART_REASONS:
        metrics.WORKER_RESTARTS.labels(reason=reason)  # series exist before the first restart
    sample(arbiter)
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(WorkerCpuCollector(arbiter))
    start_http_server(port, host, registry=registry)
    threading.Thread(
        target=_sample_forever, args=(arbiter,), name="backlog-sampler", daemon=True
    ).start()
    log.info("metrics on http://%s:%d/metrics (served by the master)", host, port)


def clean_exit_marker(pid: int) -> str:
    """The file a worker leaves when it exits on its own (gunicorn's worker_exit hook)."""
    return os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], f"clean-exit-{pid}")


def record_worker_exit(arbiter, worker) -> None:
    """Forget a dead worker's live gauges and count its restart by reason."""
    marker = clean_exit_marker(worker.pid)
    exited_cleanly = os.path.exists(marker)
    if exited_cleanly:
        os.unlink(marker)
    if worker.aborted:  # the master sent SIGABRT after `timeout` without a heartbeat
        reason = "timeout"
    elif exited_cleanly:
        reason = "exit"
    else:  # no worker_exit ran: SIGKILL (OOM killer, operator) or a crash
        reason = "killed"
    mark_process_dead(worker.pid)
    # During shutdown the master has closed its listeners; those exits are not restarts.
    if arbiter.LISTENERS:
        metrics.WORKER_RESTARTS.labels(reason=reason).inc()

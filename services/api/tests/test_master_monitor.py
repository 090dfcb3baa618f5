"""The master's view: accept-queue readings and the classification of worker exits."""

import os
import socket
import time
from types import SimpleNamespace

import pytest

from api import master_monitor, metrics


def test_accept_queue_counts_connections_waiting_for_accept():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(7)
        clients = [socket.create_connection(listener.getsockname()) for _ in range(3)]
        try:
            assert master_monitor.accept_queue(listener) == (3, 7)
            listener.accept()[0].close()
            assert master_monitor.accept_queue(listener) == (2, 7)
        finally:
            for client in clients:
                client.close()


def test_sample_sums_tcp_listeners_and_counts_workers():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        client = socket.create_connection(listener.getsockname())
        arbiter = SimpleNamespace(
            LISTENERS=[SimpleNamespace(sock=listener)], WORKERS={1: None, 2: None}
        )
        master_monitor.sample(arbiter)
        client.close()
    assert metrics.LISTEN_BACKLOG._value.get() == 1
    assert metrics.LISTEN_BACKLOG_LIMIT._value.get() == 5
    assert metrics.WORKERS._value.get() == 2


@pytest.fixture
def metrics_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def restarts(reason: str) -> float:
    return metrics.WORKER_RESTARTS.labels(reason=reason)._value.get()


@pytest.mark.parametrize(
    ("aborted", "clean_exit", "reason"),
    [
        (True, True, "timeout"),
        (True, False, "timeout"),
        (False, True, "exit"),
        (False, False, "killed"),
    ],
)
def test_worker_exit_reason(metrics_dir, aborted, clean_exit, reason):
    worker = SimpleNamespace(pid=4242, aborted=aborted)
    if clean_exit:
        open(master_monitor.clean_exit_marker(worker.pid), "w").close()
    before = restarts(reason)
    master_monitor.record_worker_exit(SimpleNamespace(LISTENERS=["listening"]), worker)
    assert restarts(reason) == before + 1
    assert not os.listdir(metrics_dir)  # the marker is consumed


def test_exits_during_shutdown_are_not_restarts(metrics_dir):
    before = restarts("killed")
    master_monitor.record_worker_exit(
        SimpleNamespace(LISTENERS=[]), SimpleNamespace(pid=4243, aborted=False)
    )
    assert restarts("killed") == before


def test_cpu_seconds_of_a_process_is_what_it_used():
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn some CPU in this process
        pass
    # /proc counts in clock ticks (10 ms); the two readings are a few statements apart.
    assert master_monitor.cpu_seconds(os.getpid()) == pytest.approx(time.process_time(), abs=0.05)


def test_cpu_seconds_of_a_process_that_is_gone_is_none():
    assert master_monitor.cpu_seconds(2**22 + 1) is None  # above the kernel's pid_max

"""Loopback ports and readiness polling."""

import contextlib
import socket
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    [port] = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """`count` different TCP ports on 127.0.0.1 that nothing listens on right now. Held open
    together while chosen: ports picked one after the other can repeat (the kernel may hand a
    just-closed port out again), and a server given the same port twice answers one of its
    ports with the other's content."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def becomes_true(condition, timeout: float, interval: float = 0.1) -> bool:
    """Poll `condition()` until true (True) or for `timeout` seconds (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def wait_until(condition, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `condition()` until true; after `timeout` s raise TimeoutError naming `what`."""
    if not becomes_true(condition, timeout, interval):
        raise TimeoutError(f"{what} not ready after {timeout} s")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False

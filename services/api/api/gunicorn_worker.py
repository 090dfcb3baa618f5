"""gunicorn's gevent worker, with two fixes for keep-alive connections and a gauge.

Fair turns. gevent switches greenlets only when I/O would block. Under keep-alive load the
next request of a connection is often already in the socket when its greenlet finishes a
response, so that greenlet serves request after request while the worker's other connections
wait: measured here on /json with 64 connections, p50 0.7 ms but p99 0.6-1.6 s. Yielding
once between two requests of a connection serves connections in turn (p99 about 55 ms, for
about 5 % of throughput; docs/benchmarks.md).

Prompt stop. On SIGTERM gunicorn's gevent worker stops accepting, lets in-flight requests
finish, then waits until every connection is gone. An idle keep-alive connection only goes
after `keepalive` seconds (75 here, above nginx's upstream keepalive_timeout), so a worker
behind nginx's pool of idle upstream connections waited the full graceful_timeout on every
stop. This worker shuts idle connections down at once and closes each busy one after its
response; nginx sees a closed idle upstream connection and opens another, to a live replica.

It also keeps its open connections (`clients`, sampled as api_open_connections): each one, busy
or idle, holds one of worker_connections.
"""

import contextlib
import socket

import gevent
from gunicorn.workers import ggevent


class _WaitForRequest:
    """gunicorn's wait for a connection's next request (timeout_ctx). Between two requests it
    yields to the worker's other greenlets; once the worker is stopping, a connection that has
    been served is closed instead of waited on."""

    def __init__(self, worker: "GeventWorker"):
        self._worker = worker
        self._timeout = gevent.Timeout(worker.cfg.keepalive, False)

    def __enter__(self):
        me = gevent.getcurrent()
        if me in self._worker.served:
            if not self._worker.alive:
                raise StopIteration("worker is stopping")  # gunicorn closes the connection
            self._worker.idle.add(me)
            gevent.sleep(0)  # let the other connections have their turn first
        return self._timeout.__enter__()

    def __exit__(self, *exc_info):
        me = gevent.getcurrent()
        self._worker.idle.discard(me)
        self._worker.served.add(me)
        return self._timeout.__exit__(*exc_info)


class GeventWorker(ggevent.GeventWorker):
    """gunicorn's GeventWorker serving keep-alive connections in turn, stopping promptly."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clients: dict[gevent.Greenlet, socket.socket] = {}
        self.served: set[gevent.Greenlet] = set()  # connections past their first request
        self.idle: set[gevent.Greenlet] = set()  # ... now waiting for the next one

    def handle(self, listener, client, addr):
        me = gevent.getcurrent()
        self.clients[me] = client
        try:
            super().handle(listener, client, addr)
        finally:
            self.clients.pop(me, None)
            self.served.discard(me)

    def timeout_ctx(self):
        return _WaitForRequest(self)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        gevent.spawn(self._shut_idle_connections)  # not inside the signal handler (#1126)

    def _shut_idle_connections(self) -> None:
        for greenlet in list(self.idle):
            client = self.clients.get(greenlet)
            if client is not None:
                with contextlib.suppress(OSError):  # already closed by the peer
                    client.shutdown(socket.SHUT_RDWR)  # wakes the waiting read with EOF

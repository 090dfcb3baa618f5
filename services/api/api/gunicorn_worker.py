"""gunicorn's gevent worker, made to close idle keep-alive connections when it stops.

On SIGTERM gunicorn's gevent worker stops accepting, lets in-flight requests finish, then
waits until every connection is gone. An idle keep-alive connection only goes away after
`keepalive` seconds (75 here, above nginx's upstream keepalive_timeout), so a worker behind
nginx's pool of idle upstream connections waited the full graceful_timeout on every stop.
This worker shuts idle connections down at once and closes each busy one after its response.
nginx sees a closed idle upstream connection and opens another (to a live replica).

It also counts open connections: each one, busy or idle, holds one of worker_connections.
"""

import contextlib
import socket

import gevent
from gunicorn.workers.ggevent import GeventWorker

from . import metrics


class _WaitForRequest:
    """gunicorn's wait for a connection's next request (timeout_ctx). Once the worker is
    stopping, a connection that has been served is closed instead of waited on."""

    def __init__(self, worker: "DrainingGeventWorker"):
        self._worker = worker
        self._timeout = gevent.Timeout(worker.cfg.keepalive, False)

    def __enter__(self):
        me = gevent.getcurrent()
        if me in self._worker.served:
            if not self._worker.alive:
                raise StopIteration("worker is stopping")  # gunicorn closes the connection
            self._worker.idle.add(me)
        return self._timeout.__enter__()

    def __exit__(self, *exc_info):
        me = gevent.getcurrent()
        self._worker.idle.discard(me)
        self._worker.served.add(me)
        return self._timeout.__exit__(*exc_info)


class DrainingGeventWorker(GeventWorker):
    """GeventWorker whose stop takes as long as the slowest in-flight request, no longer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clients: dict[gevent.Greenlet, socket.socket] = {}
        self.served: set[gevent.Greenlet] = set()  # connections past their first request
        self.idle: set[gevent.Greenlet] = set()  # ... now waiting for the next one

    def handle(self, listener, client, addr):
        me = gevent.getcurrent()
        self.clients[me] = client
        open_connections = metrics.OPEN_CONNECTIONS.labels(worker=metrics.worker_label())
        open_connections.inc()
        try:
            super().handle(listener, client, addr)
        finally:
            open_connections.dec()
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

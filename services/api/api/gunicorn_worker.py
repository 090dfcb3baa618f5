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
stop. This worker closes its listeners at once (gunicorn's loop would only notice the signal
within a second, while nginx kept opening connections that a later close reset: a POST in one
is lost to nginx, a 502), closes each busy connection after its response (gunicorn answers with
`Connection: close` once the worker stops) and shuts the idle ones down as soon as no request
has arrived for QUIET_SECONDS. Not at once: nginx may be sending a request on an idle
connection at that very moment, and it cannot resend a POST that met a closed connection (a
502; seen here in rolling deploys). Meanwhile such requests are served, and nginx's new
connections are refused, which it retries elsewhere for every method and which take this
replica out of its rotation (fail_timeout, 5 s): a quiet second means nginx has stopped
choosing it, so nothing is on its way when the idle connections go.

Bounded request I/O. gevent sockets have no timeout, so a client that sends less body than
its Content-Length announced held its connection (and a worker_connections slot) for as long
as it liked. While a request is served its socket gets API_BODY_TIMEOUT (seconds per read or
write, like nginx's client_body_timeout); a body the application left unread is discarded
under the same bound before the connection is reused, or the connection is closed.

Problem documents. Requests gunicorn's HTTP parser refuses (a request line or headers over
the limits, bad chunking, HTTP/0.9, ...) are answered by gunicorn itself with an HTML page;
here they get the API's RFC 9457 problem document (docs/api.md), with gunicorn's status.

One write per response. gunicorn writes a response's headers, then its body, in two writes:
a worker killed between the two (OOM killer, operator) left nginx a response it had begun to
forward and could neither finish nor retry, and the client got a truncated answer. Here the
headers go out with the first body bytes; a worker that dies before that write sends nothing,
and nginx retries the request on another replica.

It also keeps its open connections (`clients`, sampled as api_open_connections): each one, busy
or idle, holds one of worker_connections.
"""

import contextlib
import json
import socket
import time

import gevent
from gevent.server import StreamServer
from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.http.errors import ParseException
from gunicorn.workers import ggevent

# After SIGTERM, idle keep-alive connections are shut once no request has arrived for this
# long (see above); well below nginx's fail_timeout (deploy/nginx/conf.d/stack.conf, 5 s).
QUIET_SECONDS = 1.0

# Unread body the worker discards to keep a connection alive; beyond it, it closes instead.
DISCARD_MAX_BYTES = 64 * 1024


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's replacement: the same error as a problem document."""
    if status_int == 501:
        # An unsupported transfer coding is the client's error, a 400 as nginx answers it here
        # (gunicorn follows RFC 9112's 501): a 5xx would count against the API's error budget.
        status_int, reason = 400, "Bad Request"
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def _discard_unread_body(req) -> bool:
    """Read and drop what the application left of the body; False: close the connection."""
    if req.body is None:
        return True
    if req.body.failed:  # a read raised: where the next request starts is unknown
        return False
    discarded = 0
    try:
        while data := req.body.read(8192):
            discarded += len(data)
            if discarded > DISCARD_MAX_BYTES:
                return False
    except (OSError, ParseException):  # a timeout, a disconnect, malformed chunking
        # Left to gunicorn, malformed chunking would be answered with a second response
        # after the application's own.
        return False
    return not req.body.failed


class _Captured:
    """A socket stand-in that keeps what gunicorn writes to it."""

    def __init__(self):
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class Response(wsgi.Response):
    """gunicorn's response, sending its headers in the same write as the first body bytes."""

    _head = b""

    def send_headers(self):
        if self.headers_sent:
            return
        self._head = self._captured(super().send_headers)

    def _emit_body(self, data):
        if not self._head:
            return super()._emit_body(data)
        framed = self._captured(super()._emit_body, data)  # chunk framing, if any
        head, self._head = self._head, b""
        util.write(self.sock, head + framed)

    def sendfile(self, respiter):
        self.send_headers()
        self._flush_head()  # os.sendfile writes to the socket itself
        return super().sendfile(respiter)

    def close(self):
        self.send_headers()
        self._flush_head()  # a response without a body (204, HEAD)
        super().close()

    def _flush_head(self) -> None:
        head, self._head = self._head, b""
        if head:
            util.write(self.sock, head)

    def _captured(self, write, *args) -> bytes:
        real, self.sock = self.sock, _Captured()
        try:
            write(*args)
            return self.sock.data
        finally:
            self.sock = real


class _WaitForRequest:
    """gunicorn's wait for a connection's next request (timeout_ctx). Between two requests it
    yields to the worker's other greenlets; once the worker has shut its idle connections, a
    connection that has been served is closed instead of waited on."""

    def __init__(self, worker: "GeventWorker"):
        self._worker = worker
        self._timeout = gevent.Timeout(worker.cfg.keepalive, False)

    def __enter__(self):
        me = gevent.getcurrent()
        if me in self._worker.served:
            if self._worker.idle_shut:
                raise StopIteration("worker is stopping")  # gunicorn closes the connection
            self._worker.idle.add(me)
            gevent.sleep(0)  # let the other connections have their turn first
        return self._timeout.__enter__()

    def __exit__(self, *exc_info):
        me = gevent.getcurrent()
        self._worker.last_request = time.monotonic()  # a request came (or the wait timed out)
        self._worker.idle.discard(me)
        self._worker.served.add(me)
        return self._timeout.__exit__(*exc_info)


class _StreamServer(StreamServer):
    """gevent's StreamServer, listed so that the worker can close it as soon as it stops."""

    instances: list[StreamServer] = []  # per worker process

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _StreamServer.instances.append(self)


class GeventWorker(ggevent.GeventWorker):
    """gunicorn's GeventWorker serving keep-alive connections in turn, stopping promptly."""

    # Seconds a read or write of a request being served may wait; set from API_BODY_TIMEOUT
    # (gunicorn_hooks.post_worker_init).
    io_timeout: float | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clients: dict[gevent.Greenlet, socket.socket] = {}
        self.served: set[gevent.Greenlet] = set()  # connections past their first request
        self.idle: set[gevent.Greenlet] = set()  # ... now waiting for the next one
        self.idle_shut = False  # stopping, and quiet: idle connections are shut
        self.last_request = 0.0  # time.monotonic() of the last request's arrival

    def handle(self, listener, client, addr):
        me = gevent.getcurrent()
        self.clients[me] = client
        try:
            super().handle(listener, client, addr)
        finally:
            self.clients.pop(me, None)
            self.served.discard(me)

    def init_process(self):
        # gunicorn has no hook for its own error responses: handle_error() picks the status and
        # hands it to util.write_error(), its only caller.
        util.write_error = write_problem
        wsgi.Response = Response  # what wsgi.create() builds for every request
        super().init_process()

    def handle_request(self, listener_name, req, sock, addr):
        sock.settimeout(self.io_timeout)
        try:
            keep_alive = super().handle_request(listener_name, req, sock, addr)
            if not _discard_unread_body(req):
                raise StopIteration("request body unreadable")  # gunicorn closes the connection
            return keep_alive
        finally:
            sock.settimeout(None)  # the keep-alive wait is bounded by timeout_ctx instead

    def timeout_ctx(self):
        return _WaitForRequest(self)

    def run(self):
        ggevent.StreamServer = _StreamServer  # the class gunicorn's run() makes its servers of
        super().run()

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        gevent.spawn(self._stop)  # not inside the signal handler (gunicorn #1126)

    def _stop(self) -> None:
        for server in _StreamServer.instances:
            server.close()  # new connections are refused from now on; gunicorn's close is a no-op
        self._shut_idle_connections_when_quiet()

    def _shut_idle_connections_when_quiet(self) -> None:
        while (quiet_in := self.last_request + QUIET_SECONDS - time.monotonic()) > 0:
            gevent.sleep(quiet_in)
        self.idle_shut = True
        for greenlet in list(self.idle):
            client = self.clients.get(greenlet)
            if client is not None:
                with contextlib.suppress(OSError):  # already closed by the peer
                    client.shutdown(socket.SHUT_RDWR)  # wakes the waiting read with EOF

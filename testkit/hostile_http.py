"""Malformed HTTP/1.x requests sent over a raw socket, for the API and for nginx in front of it.

    response = send(port, CASES["cl_and_te"].request)   # -> RawResponse(status, headers, body)

Every case that carries a body carries a valid item: if a server accepted the request anyway,
a row would appear, so "nothing written" is checked by counting rows.
"""

import json
import socket
import time
from dataclasses import dataclass, field

ITEM = json.dumps({"name": "hostile", "quantity": 1, "price": "1.00"}).encode()
# Seconds a client waits for an answer: longer than any timeout of the servers (nginx's
# client_body_timeout and client_header_timeout, 10 s), so a hang shows as a timeout here.
CLIENT_TIMEOUT_S = 15


def _request(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode("latin-1") + body


def _post(headers: str, body: bytes) -> bytes:
    head = f"POST /api/items HTTP/1.1\nHost: test\nContent-Type: application/json\n{headers}\n"
    return _request(head) + body


def _chunked(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


@dataclass
class Case:
    """A malformed request and why a server must refuse it."""

    request: bytes
    why: str


CASES = {
    "header_too_large": Case(
        _request(f"GET /json HTTP/1.1\nHost: test\nX-Big: {'a' * 10_000}\n\n"),
        "a 10,000-byte header (gunicorn's limit is 8,190, nginx's 8 KiB buffers)",
    ),
    "too_many_headers": Case(
        _request("GET /json HTTP/1.1\nHost: test\n" + "".join(f"X-{n}: a\n" for n in range(150)))
        + b"\r\n",
        "150 headers (gunicorn's limit is 100; nginx has none and passes them on)",
    ),
    "request_line_over_gunicorn_limit": Case(
        _request(f"GET /api/items?cursor={'a' * 5000} HTTP/1.1\nHost: test\n\n"),
        "a 5,000-character cursor (gunicorn's request line limit is 4,094)",
    ),
    "request_line_over_nginx_limit": Case(
        _request(f"GET /api/items?cursor={'a' * 9000} HTTP/1.1\nHost: test\n\n"),
        "a 9,000-character cursor (beyond nginx's 8 KiB buffer too)",
    ),
    "cl_and_te": Case(
        _post(f"Content-Length: {len(ITEM)}\nTransfer-Encoding: chunked\n", _chunked(ITEM)),
        "Content-Length and Transfer-Encoding together (request smuggling)",
    ),
    "invalid_chunk_size": Case(
        _post("Transfer-Encoding: chunked\n", b"zz\r\n" + ITEM + b"\r\n0\r\n\r\n"),
        "a chunk size that is not hexadecimal",
    ),
    "unknown_transfer_coding": Case(
        _post("Transfer-Encoding: sparkles\n", ITEM), "a transfer coding nobody implements"
    ),
    "short_body": Case(
        _post(f"Content-Length: {len(ITEM) + 100}\n", ITEM),
        "a body 100 bytes shorter than its Content-Length, the connection kept open",
    ),
    "http_0_9": Case(b"GET /json\r\n", "an HTTP/0.9 request line"),
    "non_numeric_content_length": Case(
        _post("Content-Length: twelve\n", ITEM), "Content-Length: twelve"
    ),
    "nul_in_header": Case(
        _request("GET /json HTTP/1.1\nHost: test\nX-Bad: a\0b\n\n"), "a NUL byte in a header value"
    ),
    "unknown_http_version": Case(
        _request("GET /json HTTP/3.7\nHost: test\n\n"), "HTTP/3.7 on an HTTP/1 connection"
    ),
}


@dataclass
class RawResponse:
    """The first response read from the connection; status None for a bare HTTP/0.9 body."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    seconds: float = 0.0
    timed_out: bool = False  # the server neither answered nor closed within the timeout
    trailing: bytes = b""  # what followed the first response (read_to_end=True)

    @property
    def closed_without_answer(self) -> bool:
        return self.status is None and not self.body and not self.timed_out

    def problem(self) -> dict:
        return json.loads(self.body)


def send(
    port: int, request: bytes, timeout: float = CLIENT_TIMEOUT_S, read_to_end: bool = False
) -> RawResponse:
    """Send `request` to 127.0.0.1:`port` as is; read the first response (or the EOF), and
    with `read_to_end` everything until the server closes the connection."""
    started = time.monotonic()
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
            while read_to_end or not _complete(received):
                data = sock.recv(65536)
                if not data:
                    break
                received += data
        except TimeoutError:
            return RawResponse(None, seconds=time.monotonic() - started, timed_out=True)
        except ConnectionResetError:
            pass  # the server closed without reading everything: what it sent still counts
    response = _parse(received)
    response.seconds = time.monotonic() - started
    return response


def _response_length(received: bytes) -> int | None:
    """The length of the response at the start of `received`, if it has a Content-Length."""
    head, separator, _ = received.partition(b"\r\n\r\n")
    if not separator or not head.startswith(b"HTTP/"):
        return None
    length = _parse_headers(head).get("content-length")
    return None if length is None else len(head) + len(separator) + int(length)


def _complete(received: bytes) -> bool:
    """Whether `received` holds a whole response with a Content-Length."""
    length = _response_length(received)
    return length is not None and len(received) >= length


def _parse_headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {
        name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in lines)
    }


def _parse(received: bytes) -> RawResponse:
    if not received.startswith(b"HTTP/"):  # HTTP/0.9: a body, no status line
        return RawResponse(None, body=received)
    head, _, body = received.partition(b"\r\n\r\n")
    end = _response_length(received) or len(received)
    body = received[len(head) + 4 : end]
    return RawResponse(
        int(head.split(b" ", 2)[1]), _parse_headers(head), body, trailing=received[end:]
    )

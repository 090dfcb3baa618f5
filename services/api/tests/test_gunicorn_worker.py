"""The worker's response: headers leave in the same write as the first body bytes.

A SOCK_SEQPACKET socket pair keeps the boundaries of each write, so the first message the
client reads is exactly what the first write sent. gunicorn's own parser and Response logic run
unchanged; only the socket is local.
"""

import socket

import pytest
from gunicorn.config import Config
from gunicorn.http.parser import RequestParser

from api.gunicorn_worker import Response


@pytest.fixture
def exchange():
    """(server socket, client socket, parsed request) of one GET over a socket pair."""
    server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    client.sendall(b"GET /json HTTP/1.1\r\nHost: test\r\n\r\n")
    request = next(RequestParser(Config(), server, ("127.0.0.1", 1)))
    yield server, client, request
    server.close()
    client.close()


def test_headers_and_body_leave_in_one_write(exchange):
    server, client, request = exchange
    response = Response(request, server, Config())
    response.start_response("200 OK", [("Content-Length", "5")])
    response.write(b"hello")
    response.close()
    first = client.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and first.endswith(b"\r\n\r\nhello")


def test_response_without_a_body_still_sends_its_headers(exchange):
    server, client, request = exchange
    response = Response(request, server, Config())
    response.start_response("204 No Content", [])
    response.close()
    assert client.recv(65536).startswith(b"HTTP/1.1 204 No Content\r\n")


def test_chunked_body_is_framed_after_the_headers(exchange):
    server, client, request = exchange
    response = Response(request, server, Config())
    response.start_response("200 OK", [])  # no length: chunked for HTTP/1.1
    response.write(b"hello")
    response.close()
    first = client.recv(65536)
    assert b"Transfer-Encoding: chunked" in first and first.endswith(b"\r\n\r\n5\r\nhello\r\n")
    assert client.recv(65536) == b"0\r\n\r\n"

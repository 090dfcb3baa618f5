"""Malformed HTTP sent straight to gunicorn (as an internal client or a broken proxy would):
a 4xx problem document, never a 5xx, never a hang, nothing written. The same cases through
nginx: tests/e2e/test_hostile_http.py."""

import pytest

from testkit.gunicorn import GunicornServer
from testkit.hostile_http import CASES, ITEM, send

# API_BODY_TIMEOUT here: how long the short body waits (10 s by default).
BODY_TIMEOUT_S = 1

EXPECTED_STATUS = {
    "header_too_large": 431,
    "too_many_headers": 431,
    "request_line_over_gunicorn_limit": 414,
    "request_line_over_nginx_limit": 414,
    "cl_and_te": 400,
    "invalid_chunk_size": 400,
    "unknown_transfer_coding": 400,  # gunicorn's 501, made a client error (gunicorn_worker.py)
    "short_body": 408,
    "http_0_9": 400,
    "non_numeric_content_length": 400,
    "nul_in_header": 400,
    "unknown_http_version": 400,
}


@pytest.fixture(scope="module")
def api(postgres):
    server = GunicornServer(postgres.url, API_BODY_TIMEOUT=BODY_TIMEOUT_S).start()
    yield server
    server.stop()


@pytest.fixture
def written(count_rows):
    """written() -> rows added to items and idempotency_keys since the test started."""
    before = count_rows("items") + count_rows("idempotency_keys")
    return lambda: count_rows("items") + count_rows("idempotency_keys") - before


def test_every_case_has_an_expected_status():
    assert EXPECTED_STATUS.keys() == CASES.keys()


@pytest.mark.parametrize("name", CASES)
def test_malformed_request_gets_a_4xx_problem_and_writes_nothing(api, written, name):
    response = send(api.port, CASES[name].request)
    assert not response.timed_out
    assert response.status == EXPECTED_STATUS[name], response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert response.problem()["status"] == response.status
    assert written() == 0
    assert api.get("/healthz").status_code == 200


def test_short_body_waits_only_the_body_timeout(api):
    response = send(api.port, CASES["short_body"].request)
    assert response.status == 408
    assert BODY_TIMEOUT_S <= response.seconds < BODY_TIMEOUT_S + 5


def test_unread_malformed_body_closes_the_connection_after_one_response(api):
    # /json never reads a body: gunicorn used to find the bad chunk afterwards and write a
    # second response (a 400 after the 200) on the same connection.
    request = (
        b"GET /json HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        + ITEM
        + b"\r\n0\r\n\r\n"
    )
    response = send(api.port, request, read_to_end=True)
    assert response.status == 200
    assert response.trailing == b""


def test_body_is_discarded_and_the_connection_reused(api):
    # A GET with a (well-formed) body the view ignores, then a second request on the same
    # connection: the body is skipped, not parsed as the next request.
    request = b"GET /json HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n%s" % (
        len(ITEM),
        ITEM,
    )
    second = b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    response = send(api.port, request + second, read_to_end=True)
    assert response.status == 200
    assert response.trailing.startswith(b"HTTP/1.1 200 ")

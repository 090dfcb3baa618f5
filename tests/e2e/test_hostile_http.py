"""Malformed HTTP through the stack's nginx (deploy/nginx/, the Compose stack): a 4xx problem
document from nginx or the API, never a 5xx, never a hang, nothing written. The same cases
straight to gunicorn: services/api/tests/integration/test_hostile_http.py."""

import json
from urllib.parse import urlsplit

import pytest

from testkit.hostile_http import CASES, send

pytestmark = pytest.mark.docker

# Who answers, and with what, through nginx.
EXPECTED_STATUS = {
    "header_too_large": 431,  # nginx (its 494)
    "too_many_headers": 431,  # nginx has no count limit: gunicorn's answer, passed on
    "request_line_over_gunicorn_limit": 414,  # gunicorn
    "request_line_over_nginx_limit": 414,  # nginx
    "cl_and_te": 400,
    "invalid_chunk_size": 400,
    "unknown_transfer_coding": 400,  # nginx's 501, made a client error
    "non_numeric_content_length": 400,
    "nul_in_header": 400,
    "unknown_http_version": 400,  # nginx's 505, made a client error
}
# nginx's client_body_timeout (deploy/nginx/conf.d/stack.conf): a stalled body is cut after it.
CLIENT_BODY_TIMEOUT_S = 10


def rows_written(stack) -> int:
    sql = "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM idempotency_keys)"
    result = stack.compose("exec", "-T", "db", "psql", "-U", "app", "-d", "app", "-tAc", sql)
    return int(result.stdout)


@pytest.fixture
def nginx_port(stack) -> int:
    return urlsplit(stack.base_url).port


def test_every_case_is_covered():
    assert {*EXPECTED_STATUS, "short_body", "http_0_9"} == CASES.keys()


@pytest.mark.parametrize("name", EXPECTED_STATUS)
def test_malformed_request_gets_a_4xx_problem_and_writes_nothing(stack, nginx_port, name):
    before = rows_written(stack)
    response = send(nginx_port, CASES[name].request)
    assert not response.timed_out
    assert response.status == EXPECTED_STATUS[name], response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert response.problem()["status"] == response.status
    assert rows_written(stack) == before


def test_http_0_9_gets_the_400_problem_body_alone(stack, nginx_port):
    # HTTP/0.9 has no status line: the answer is the body of a 400 problem, not a proxied page.
    response = send(nginx_port, CASES["http_0_9"].request)
    assert response.status is None
    assert json.loads(response.body)["status"] == 400


def test_short_body_is_cut_after_client_body_timeout(stack, nginx_port):
    before = rows_written(stack)
    response = send(nginx_port, CASES["short_body"].request)
    # nginx answers a client timeout (408, in its access log) by closing the connection.
    assert response.closed_without_answer
    assert CLIENT_BODY_TIMEOUT_S - 1 <= response.seconds < CLIENT_BODY_TIMEOUT_S + 4
    assert rows_written(stack) == before

"""TFB rules that only a real server shows: headers on every response, and a fresh Date."""

import time

import pytest

ENDPOINTS = ["/json", "/plaintext", "/db", "/queries?queries=2", "/updates?queries=2", "/fortunes"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_response_has_the_required_headers(gunicorn_server, path):
    response = gunicorn_server.get(path)
    assert response.status_code == 200
    assert response.headers["Server"]
    assert response.headers["Date"]
    assert response.headers["Content-Type"]
    assert "Content-Length" in response.headers or "Transfer-Encoding" in response.headers
    assert "Content-Encoding" not in response.headers


def test_date_is_current(gunicorn_server):
    first = gunicorn_server.get("/json").headers["Date"]
    time.sleep(1.5)
    assert gunicorn_server.get("/json").headers["Date"] != first

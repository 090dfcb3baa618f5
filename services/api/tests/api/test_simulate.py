"""The simulation endpoints: /sleep (an upstream call), /db/sleep (a slow query), /cpu."""

import time

import pytest


@pytest.mark.parametrize("path", ["/sleep", "/db/sleep", "/cpu"])
def test_simulation_waits_the_requested_time(client, path):
    started = time.perf_counter()
    response = client.get(f"{path}?ms=50")
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.05


@pytest.mark.parametrize("path", ["/sleep", "/db/sleep", "/cpu"])
@pytest.mark.parametrize("ms", ["", "-1", "10001", "soon"])
def test_simulation_refuses_a_bad_duration(client, path, ms):
    response = client.get(f"{path}?ms={ms}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_cpu_reports_its_busy_time(client):
    assert client.get("/cpu?ms=5").json == {"busy_ms": 5}

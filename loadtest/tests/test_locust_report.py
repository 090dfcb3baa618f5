"""Reading locust's output: final stats with histograms (JSON) and the per-second history."""

import csv
import json

import pytest

from loadtest.report import locust

START = 1_700_000_000
HISTORY_HEADER = ["Timestamp", "User Count", "Type", "Name", "50%", "95%", "99%"]


@pytest.fixture
def locust_run(tmp_path):
    entries = [
        {
            "method": "GET",
            "name": "/json",
            "num_requests": 30,
            "num_failures": 0,
            "response_times": {"2": 29, "40": 1},
            "num_reqs_per_sec": {str(START + s): 10 for s in range(3)},
            "num_fail_per_sec": {},
        },
        {
            "method": "POST",
            "name": "/api/items",
            "num_requests": 10,
            "num_failures": 2,
            "response_times": {"8": 8, "900": 2},
            "num_reqs_per_sec": {str(START + 1): 5, str(START + 2): 5},
            "num_fail_per_sec": {str(START + 2): 2},
        },
    ]
    (tmp_path / locust.STATS_FILE).write_text(json.dumps(entries))
    with open(tmp_path / locust.HISTORY_FILE, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HISTORY_HEADER)
        writer.writerow([START, 0, "", "Aggregated", "N/A", "N/A", "N/A"])
        writer.writerow([START + 1, 5, "GET", "/json", 2, 2, 2])  # not Aggregated: ignored
        writer.writerow([START + 1, 10, "", "Aggregated", 2, 40, 40])
        writer.writerow([START + 2, 10, "", "Aggregated", 3, 900, 900])
    return tmp_path


def test_read_keys_populations_like_k6(locust_run):
    result = locust.read(locust_run, env={})
    assert set(result.populations) == {"tfb_clients", "item_writers"}
    assert result.totals.requests == 40
    assert result.totals.failures == 2
    assert result.endpoints["POST /api/items"].p95_ms == 900
    assert result.populations["tfb_clients"].seconds == 3


def test_thresholds_follow_the_runs_settings(locust_run):
    strict = {(t.metric, t.rule): t.ok for t in locust.read(locust_run, {}).thresholds}
    assert strict["item_writers", "rate<0.01"] is False
    assert strict["tfb_clients", "p(95)<250"] is True
    lenient = locust.read(
        locust_run, {"SLO_ERROR_RATE": "0.5", "SLO_P95_MS": "1000", "SLO_P99_MS": "1000"}
    )
    assert all(t.ok for t in lenient.thresholds)


def test_series_per_second(locust_run):
    series = locust.read(locust_run, {}).series
    assert series.requests["tfb_clients"] == [10, 10, 10]
    assert series.requests["item_writers"] == [0, 5, 5]
    assert series.errors == {"failed": [0, 0, 2]}
    assert series.active == [0, 10, 10]
    assert series.p95_ms[1:] == [40, 900]
    assert series.p95_ms[0] != series.p95_ms[0]  # NaN: no request yet

"""The matrix's wrk parsing, statistics and mode definitions (the runs themselves are
`make bench-matrix` and `make bench-goals`)."""

import pytest

from benchmarks.matrix.modes import BASELINE, MODES, MODES_BY_NAME
from benchmarks.matrix.report import medians, ratio
from benchmarks.matrix.run import parse_cells, parse_wrk

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/db
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    80.12ms   20.01ms 1.20s    90.00%
  Latency Distribution
     50%   75.50ms
     75%   90.00ms
     90%  110.00ms
     99%    1.05s
  15000 requests in 5.00s, 2.10MB read
  Socket errors: connect 0, read 12, write 0, timeout 30
  Non-2xx or 3xx responses: 7
Requests/sec:   3000.50
Transfer/sec:    430.00KB
"""


def test_parse_wrk_reads_rate_percentiles_and_every_error():
    assert parse_wrk(WRK_OUTPUT) == {
        "rps": 3000.50,
        "p50": pytest.approx(0.0755),
        "p99": pytest.approx(1.05),
        "errors": 12 + 30 + 7,
        "requests": 15000,
    }


def test_medians_and_ratio_to_the_baseline():
    raw = {
        "results": [
            {"mode": mode, "workload": "db", "concurrency": 64, "rps": rps, "p99": 0.1, "errors": 0}
            for mode, rps in [(BASELINE, 100), (BASELINE, 300), (BASELINE, 200), ("x", 50)]
        ]
    }
    summary = medians(raw)
    assert summary[BASELINE, "db", 64]["rps"] == 200
    assert ratio(summary, "x", "db", 64) == 0.25


def test_mode_names_are_unique_and_the_baseline_is_one_of_them():
    names = [mode.name for mode in MODES]
    assert len(names) == len(set(names))
    assert BASELINE in names


def test_cells_name_a_workload_and_a_concurrency():
    assert parse_cells("db@64,sleep@1000") == [("db", 64), ("sleep", 1000)]
    with pytest.raises(SystemExit):
        parse_cells("db")


def test_a_baseline_mode_runs_the_other_commits_configuration(tmp_path):
    mode = MODES_BY_NAME[BASELINE].at("abc123", tmp_path)
    assert mode.name == f"{BASELINE}@abc123"
    assert str(tmp_path / "services/api/gunicorn.conf.py") in mode.command
    assert mode.api_dir == tmp_path / "services/api"
    assert MODES_BY_NAME[BASELINE].runs_the_project
    assert not mode.runs_the_project  # this checkout's configuration, not the other commit's
    assert not MODES_BY_NAME["raw-wsgi-gevent"].runs_the_project

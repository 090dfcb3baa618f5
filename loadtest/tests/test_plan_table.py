"""The table of verified plans: known verify.json files give known rows and errors."""

import json

from loadtest.plan import table, verify


def verification(target: float, served: float, p99: float, verdict: str) -> dict:
    u = {"predicted": 0.5, "predicted_here": 0.6, "achieved": 0.7}
    check = {
        "target_rps": target,
        "served_rps": served,
        "background_cores": {"predicted": 0.4, "achieved": 0.9},
        "p99_excess_ms": {"predicted": 40.0, "predicted_here": 50.0, "achieved": p99},
        "pool_wait_p99_ms": {"predicted": 0.0, "achieved": 1.5},
        "utilisation": {"cpu": {**u, "predicted": 0.3}, "node": u},
        "first_to_saturate": "node",
    }
    return {
        "target": {"rps": target, "p99_ms": 500.0},
        "plan": {
            "API_REPLICAS": 1,
            "WEB_CONCURRENCY": 1,
            "GUNICORN_WORKER_CONNECTIONS": 150,
            "DB_POOL_SIZE": 4,
            "DB_MAX_OVERFLOW": 0,
            "POSTGRES_MAX_CONNECTIONS": 17,
        },
        "binding": "node",
        "capacity_rps": 250.0,
        "verdict": verdict,
        "at_target": check,
        "pushed": check,
    }


def test_a_row_says_plan_prediction_and_achievement(tmp_path):
    (tmp_path / verify.DATA_FILE).write_text(json.dumps(verification(100, 95, 60, "PASS")))
    text = table.table([tmp_path])
    row = text.splitlines()[2]
    assert row == (
        "| 100 req/s, p99 ≤ 500 ms | 1 × 1 worker, 150 slots, pool 4+0, max_connections 17 "
        "| node 50%, 40 ms, node at 250 req/s | 95.0 (-5.0%), 60 ms, 1.5 ms | 0.40 / 0.90 "
        "| node (named node) | **PASS** |"
    )


def test_the_error_is_the_median_and_range_over_runs(tmp_path):
    dirs = []
    for n, (served, p99) in enumerate([(90, 40), (100, 60), (110, 80)]):
        d = tmp_path / str(n)
        d.mkdir()
        (d / verify.DATA_FILE).write_text(json.dumps(verification(100, served, p99, "PASS")))
        dirs.append(d)
    text = table.table(dirs)
    assert "over the 3 conclusive runs" in text
    assert "- throughput, % of the target: +0 (-10 to +10)" in text
    assert "- p99, % of predicted (plan): +50 (+0 to +100)" in text
    assert "- p99, % of predicted (node load seen): +20 (-20 to +60)" in text
    assert "- node utilisation, points (node load seen): +10 (+10 to +10)" in text


def test_the_plot_is_a_png(tmp_path):
    (tmp_path / verify.DATA_FILE).write_text(json.dumps(verification(100, 95, 60, "PASS")))
    table.plot([tmp_path], tmp_path / "verified.png")
    assert (tmp_path / "verified.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

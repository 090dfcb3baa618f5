"""The container's healthcheck: `python -m api.healthcheck` (the image's HEALTHCHECK).

Healthy means "serves, or is busy serving": Docker Swarm replaces a task whose healthcheck
fails, so a check that queues behind the load would turn overload into restarts (measured:
with every worker connection busy, GET /healthz on the app port timed out after 5 s while
the gunicorn master's /metrics answered in under 10 ms; docs/deployment.md).

1. GET /healthz on the app port answers 200 within TIMEOUT_SECONDS: healthy. Any other answer,
   or a refused connection: unhealthy.
2. No answer in time: ask the master, out of band, on the metrics port. With live workers and
   connections waiting in the accept queue (api_listen_backlog > 0), the replica is saturated,
   not broken: healthy. A worker whose event loop is stuck stops its heartbeat and is replaced
   by the master after GUNICORN_TIMEOUT, which a restart of the container would not improve.
"""

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 2.0
# The three settings it needs, read directly: importing api.config (pydantic) costs ~0.3 s of
# CPU, every 10 s, in every replica, saturated ones included. Defaults as in api.config
# (tests/test_healthcheck.py checks that they agree).
DEFAULTS = {"GUNICORN_BIND": "127.0.0.1:8000", "METRICS_ENABLED": "true", "METRICS_PORT": "9200"}


def _setting(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
        return response.read().decode()


def _gauge(exposition: str, name: str) -> float:
    """The sum of a metric's samples in a Prometheus text exposition (0 if absent)."""
    total = 0.0
    for line in exposition.splitlines():
        if line.startswith(name) and line[len(name)] in " {":
            total += float(line.rsplit(" ", 1)[1])
    return total


def check() -> str | None:
    """None if healthy, else why not (one line)."""
    port = _setting("GUNICORN_BIND").rsplit(":", 1)[1]
    try:
        _get(f"http://127.0.0.1:{port}/healthz")
        return None
    except (urllib.error.URLError, OSError) as exc:
        if not isinstance(getattr(exc, "reason", exc), TimeoutError):
            return f"/healthz: {exc}"  # refused, or an error status
        # No answer in time: queued behind the load (or stuck); ask the master.
    if _setting("METRICS_ENABLED").lower() in ("false", "0", "no", "off"):
        return f"/healthz did not answer within {TIMEOUT_SECONDS} s"
    try:
        metrics = _get(f"http://127.0.0.1:{_setting('METRICS_PORT')}/metrics")
    except (urllib.error.URLError, OSError) as exc:
        return f"/healthz did not answer within {TIMEOUT_SECONDS} s, nor the master: {exc}"
    workers, queued = _gauge(metrics, "api_workers"), _gauge(metrics, "api_listen_backlog")
    if workers >= 1 and queued > 0:
        return None  # saturated: every worker connection busy, requests waiting
    late = f"/healthz did not answer within {TIMEOUT_SECONDS} s"
    return f"{late} ({workers:g} workers, {queued:g} queued)"


def main() -> None:
    problem = check()
    if problem:
        sys.exit(f"unhealthy: {problem}")


if __name__ == "__main__":
    main()

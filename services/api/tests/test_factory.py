"""The application factory, and the import order multiprocess metrics depend on."""

import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from api.config import get_settings

API_DIR = Path(__file__).resolve().parents[1]


def test_test_config_overrides_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("API_MAX_BODY_BYTES", "2048")
    app = create_app({"DATABASE_URL": database_url, "API_MAX_BODY_BYTES": 4096})
    assert app.config["MAX_CONTENT_LENGTH"] == 4096


def test_factory_opens_no_database_connection():
    # An unreachable database must not stop the app from being built (readiness reports it).
    create_app({"DATABASE_URL": "postgresql://app:x@127.0.0.1:1/app"})


def test_every_response_carries_a_request_id(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )


@pytest.mark.parametrize("unsafe", ["has space", 'quote"', "x" * 129, "<script>"])
def test_unsafe_request_id_is_replaced(client, unsafe):
    response = client.get("/healthz", headers={"X-Request-ID": unsafe})
    assert len(response.headers["X-Request-ID"]) == 32


def test_factory_uses_the_settings_the_server_built():
    # gunicorn.conf.py builds them in the master; forked workers inherit the same object.
    assert create_app().extensions["settings"] is get_settings()


# prometheus_client chooses in-memory or multiprocess storage when it is first imported.
# gunicorn.conf.py imports api.config and api.multiproc, points PROMETHEUS_MULTIPROC_DIR at an
# empty directory, and only then imports the rest: if anything before that pulled in
# prometheus_client, every worker's metrics would stay in its own memory, unseen by /metrics.
_IMPORT_ORDER_PROBE = """
import runpy, sys
import api, api.config, api.multiproc
assert "prometheus_client" not in sys.modules, "imported before the metrics directory is set"
runpy.run_path("gunicorn.conf.py")  # makes a temporary metrics directory
api.multiproc.cleanup()
from prometheus_client import values
print(values.ValueClass.__qualname__)
"""


def test_gunicorn_conf_sets_the_metrics_directory_before_prometheus_client_loads():
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ORDER_PROBE],
        cwd=API_DIR,
        env={"PATH": "/usr/bin:/bin"},  # no PROMETHEUS_MULTIPROC_DIR: gunicorn.conf.py sets it
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "MultiProcessValue.<locals>.MmapedValue"

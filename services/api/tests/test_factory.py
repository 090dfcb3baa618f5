"""The application factory."""

import pytest

from api import create_app


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

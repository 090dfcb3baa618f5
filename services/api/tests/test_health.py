"""Liveness and readiness."""

from api.app import create_app


def test_liveness_needs_no_database():
    app = create_app({"DATABASE_URL": "postgresql://app:x@127.0.0.1:1/app"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_not_ready_when_the_database_is_unreachable():
    app = create_app({"DATABASE_URL": "postgresql://app:x@127.0.0.1:1/app"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "1"

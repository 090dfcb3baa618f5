"""Database errors: a connection the database drops is a 503, never a 500 nor a lost pool slot."""

import contextlib

import psycopg2
import psycopg2.extensions
import pytest
from psycogreen.gevent import gevent_wait_callback
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc

from api import db
from api.db import get_engine


@pytest.fixture(params=[False, True], ids=["blocking", "cooperative"])
def wait_callback(request):
    """psycopg2 as the tests' process runs it, and as gevent workers do (psycogreen)."""
    if request.param:
        psycopg2.extensions.set_wait_callback(gevent_wait_callback)
    yield
    psycopg2.extensions.set_wait_callback(None)


@pytest.mark.parametrize("autocommit", [False, True], ids=["transaction", "autocommit"])
def test_connection_dropped_after_the_response_is_made_changes_nothing(
    app, postgres, wait_callback, autocommit
):
    # As when the database restarts between a request's last query and the end of the request:
    # the response stands, the pool gets its slot back, and later requests get a live connection.
    def query_then_lose_the_connection():
        with db.connection() if autocommit else db.session() as handle:
            connection = handle if autocommit else handle.connection()
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            postgres.execute_admin(f"SELECT pg_terminate_backend({pid})")
        return {"pid": pid}

    app.add_url_rule("/lose-connection", view_func=query_then_lose_the_connection)
    client = app.test_client()
    assert client.get("/lose-connection").status_code == 200
    assert get_engine(app).pool.checkedout() == 0  # the slot came back
    # A dead connection back in the pool costs its next request a 503 (and is discarded then).
    assert client.get("/db").status_code in (200, 503)
    assert client.get("/db").status_code == 200
    assert get_engine(app).pool.checkedout() == 0


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        sa_exc.DatabaseError("SELECT 1", {}, Exception("lost"), connection_invalidated=True),
    ],
    ids=["operational", "interface", "invalidated"],
)
def test_database_unavailable_is_a_503_with_retry_after(app, error):
    def fail():
        raise error

    app.add_url_rule("/fail", view_func=fail)
    response = app.test_client().get("/fail")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.mimetype == "application/problem+json"


def test_other_database_errors_are_a_500(app):
    def fail():
        raise sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    app.add_url_rule("/fail", view_func=fail)
    assert app.test_client().get("/fail").status_code == 500


@pytest.mark.parametrize(
    "poison",
    [
        lambda driver: driver.cursor().execute("SELECT 1"),  # a transaction left open
        lambda driver: driver.cursor().execute("SELECT 1/0"),  # one left failed
        lambda driver: driver.close(),  # closed by the driver, not yet discarded
    ],
    ids=["in-transaction", "failed-transaction", "closed"],
)
def test_a_pooled_connection_left_unusable_is_replaced_not_a_500(app, wait_callback, poison):
    # As a fault can leave one: every request drawing it would otherwise fail until discarded.
    engine = get_engine(app)
    client = app.test_client()
    assert client.get("/db").status_code == 200  # one connection, now in the pool

    def poison_in_the_pool(dbapi_connection, _record):
        with contextlib.suppress(psycopg2.Error):  # the failed transaction's own error
            poison(dbapi_connection)

    # Check-in events run after the pool's reset: the connection goes back poisoned.
    event.listen(engine, "checkin", poison_in_the_pool, once=True)
    assert client.get("/db").status_code == 200
    for _ in range(3):  # whichever pooled connection it draws
        assert client.get("/db").status_code == 200
    assert engine.pool.checkedout() == 0

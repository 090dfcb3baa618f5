"""The database: one engine and connection pool per worker process, one session per request.

Under gevent, thousands of greenlets share DB_POOL_SIZE connections: the wait for one is
bounded by DB_POOL_TIMEOUT (then the request is shed with 503, see api.errors) and measured.
"""

import contextlib
import time

import gevent
from flask import Flask, current_app, g
from gevent import monkey
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from . import metrics


class InstrumentedQueuePool(QueuePool):
    """A QueuePool that records how long each checkout waited, how full the pool is, and how
    long each route held its connection."""

    def connect(self):
        start = time.perf_counter()
        try:
            connection = super().connect()
        finally:
            metrics.DB_POOL_CHECKOUT.observe(time.perf_counter() - start)
            self._publish_usage()
        # Charged to the request's route when the connection comes back: one counter write.
        connection._connection_record.api_held = (
            time.perf_counter(),
            metrics.connection_held_counter(),
        )
        return connection

    def _do_return_conn(self, record) -> None:
        since, counter = getattr(record, "api_held", None) or (0.0, None)
        record.api_held = None
        if counter is not None:
            counter.inc(time.perf_counter() - since)
        super()._do_return_conn(record)
        self._publish_usage()

    def publish_state(self) -> None:
        """Publish the pool's size (fixed) and usage; called once per worker at start."""
        metrics.for_this_worker(metrics.DB_POOL_SIZE).set(self.size())
        self._publish_usage()

    def _publish_usage(self) -> None:
        # On every checkout and return: two gauge writes, not more (each is an mmap write).
        metrics.for_this_worker(metrics.DB_POOL_CHECKED_OUT).set(self.checkedout())
        # SQLAlchemy counts overflow from -pool_size up; only connections beyond it matter.
        metrics.for_this_worker(metrics.DB_POOL_OVERFLOW).set(max(0, self.overflow()))


def build_engine(config: dict) -> Engine:
    """Create the engine from the DB_* settings; no connection is opened here."""
    connect_args = {
        "application_name": "api",
        "connect_timeout": config["DB_CONNECT_TIMEOUT"],
        # Per connection, so a runaway query frees its connection (and greenlet) in time.
        "options": f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']}",
    }
    engine = create_engine(
        config["DATABASE_URL"],
        poolclass=InstrumentedQueuePool if config["METRICS_ENABLED"] else QueuePool,
        pool_size=config["DB_POOL_SIZE"],
        max_overflow=config["DB_MAX_OVERFLOW"],
        pool_timeout=config["DB_POOL_TIMEOUT"],
        pool_recycle=config["DB_POOL_RECYCLE"],
        connect_args=connect_args,
    )
    return engine


def init_app(app: Flask) -> None:
    """Create the engine and session factory, and close each request's session at teardown."""
    engine = build_engine(app.config)
    app.extensions["db"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """Return the request's session, creating it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db"]()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, returning its connection to the pool."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def get_engine(app: Flask) -> Engine:
    """Return the app's engine."""
    return app.extensions["db"].kw["bind"]


def ping(timeout: float) -> None:
    """Run SELECT 1, raising if the database does not answer within `timeout` seconds."""
    # Under gevent a Timeout interrupts the cooperative wait (SQLAlchemy then invalidates the
    # connection); elsewhere the statement timeout bounds the query itself.
    green = monkey.is_module_patched("socket")
    try:
        with gevent.Timeout(timeout) if green else contextlib.nullcontext():
            session = get_session()
            session.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
            session.execute(text("SELECT 1"))
            session.rollback()
    except gevent.Timeout:
        raise TimeoutError(f"the database did not answer within {timeout} s") from None


def prepare_worker(app: Flask, *, gevent_worker: bool, preloaded: bool) -> None:
    """Make a freshly forked worker safe: cooperative psycopg2, no connections from the parent."""
    if gevent_worker and app.config["DB_COOPERATIVE_IO"]:
        # Without a wait callback psycopg2 blocks the whole hub for the duration of each query
        # (docs/facts: 18 req/s instead of 344 on pg_sleep(0.05)).
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    if preloaded:
        # The engine was created in the master: drop (without closing) anything it inherited.
        get_engine(app).dispose(close=False)

"""The database: one engine and connection pool per worker process.

Reads run Core statements on a pooled connection in autocommit (`connection()`): no ORM
session, no BEGIN and ROLLBACK round trips, which the hot read paths (the TechEmpower
endpoints, item reads) spent most of their time on. Writes use an ORM session in a transaction
(`session()`). Both draw from the same pool.

Under gevent, thousands of greenlets share DB_POOL_SIZE connections: the wait for one is
bounded by DB_POOL_TIMEOUT (then the request is shed with 503, see api.errors) and measured.
"""

import contextlib
import time
from collections.abc import Iterator

import gevent
from flask import Flask, current_app
from gevent import monkey
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from . import metrics
from .config import Settings

# The pool's connections are in autocommit; a session asks for a transaction on checkout.
_TRANSACTIONAL = {"isolation_level": "READ COMMITTED"}


class InstrumentedQueuePool(QueuePool):
    """A QueuePool that records how long each checkout waited (its usage is sampled)."""

    def connect(self):
        start = time.perf_counter()
        try:
            return super().connect()
        finally:
            metrics.DB_POOL_CHECKOUT.observe(time.perf_counter() - start)

    def publish_state(self) -> None:
        """Publish the pool's size and usage (the worker's sampler calls it)."""
        metrics.for_this_worker(metrics.DB_POOL_SIZE).set(self.size())
        metrics.for_this_worker(metrics.DB_POOL_CHECKED_OUT).set(self.checkedout())
        # SQLAlchemy counts overflow from -pool_size up; only connections beyond it matter.
        metrics.for_this_worker(metrics.DB_POOL_OVERFLOW).set(max(0, self.overflow()))


class Database:
    """The worker's engine (autocommit connections) and its session factory (transactions)."""

    def __init__(self, settings: Settings):
        self.engine = build_engine(settings)
        self.sessions = sessionmaker(
            self.engine.execution_options(**_TRANSACTIONAL), expire_on_commit=False
        )


def build_engine(settings: Settings) -> Engine:
    """Create the engine from the DB_* settings; no connection is opened here."""
    connect_args = {
        "application_name": "api",
        "connect_timeout": settings.DB_CONNECT_TIMEOUT,
        # Per connection, so a runaway query frees its connection (and greenlet) in time.
        "options": f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}",
    }
    return create_engine(
        settings.DATABASE_URL,
        isolation_level="AUTOCOMMIT",  # set once per connection, not per checkout
        poolclass=InstrumentedQueuePool if settings.METRICS_ENABLED else QueuePool,
        pool_size=settings.pool_size,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_recycle=settings.DB_POOL_RECYCLE,
        connect_args=connect_args,
    )


def init_app(app: Flask, settings: Settings) -> None:
    """Create the worker's Database; nothing connects until the first request."""
    app.extensions["db"] = Database(settings)


def connection() -> Connection:
    """A pooled connection in autocommit, for reads: `with connection() as conn: ...`."""
    return current_app.extensions["db"].engine.connect()


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """An ORM session in a transaction, closed (its connection returned) at the end."""
    with current_app.extensions["db"].sessions() as orm_session:
        yield orm_session


def get_engine(app: Flask) -> Engine:
    """Return the app's engine."""
    return app.extensions["db"].engine


def ping(timeout: float) -> None:
    """Run SELECT 1, raising if the database does not answer within `timeout` seconds."""
    # Under gevent a Timeout interrupts the cooperative wait (SQLAlchemy then invalidates the
    # connection); elsewhere the statement timeout bounds the query itself.
    green = monkey.is_module_patched("socket")
    try:
        with (
            gevent.Timeout(timeout) if green else contextlib.nullcontext(),
            connection() as conn,
            conn.execution_options(**_TRANSACTIONAL).begin(),
        ):
            conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
            conn.execute(text("SELECT 1"))
    except gevent.Timeout:
        raise TimeoutError(f"the database did not answer within {timeout} s") from None


def prepare_worker(app: Flask, settings: Settings, *, gevent_worker: bool, preloaded: bool) -> None:
    """Make a freshly forked worker safe: cooperative psycopg2, no connections from the parent."""
    psycopg2 = settings.DATABASE_URL.startswith("postgresql+psycopg2://")
    if gevent_worker and settings.DB_COOPERATIVE_IO and psycopg2:
        # Without a wait callback psycopg2 blocks the whole hub for the duration of each query
        # (docs/facts: 18 req/s instead of 344 on pg_sleep(0.05)). psycopg 3 needs none: it
        # waits cooperatively when imported after gevent's patch (it is: no preload).
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    if preloaded:
        # The engine was created in the master: drop (without closing) anything it inherited.
        get_engine(app).dispose(close=False)

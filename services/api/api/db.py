"""The database: one engine and connection pool per worker process.

Reads run Core statements on a pooled connection in autocommit (`connection()`): no ORM
session, no BEGIN and ROLLBACK round trips, which the hot read paths (the TechEmpower
endpoints, item reads) spent most of their time on. Writes use an ORM session in a transaction
(`session()`). Both draw from the same pool.

Under gevent, thousands of greenlets share DB_POOL_SIZE connections: the wait for one is
bounded by DB_POOL_TIMEOUT (then the request is shed with 503, see api.errors) and measured.
"""

import contextlib
import logging
import time
from collections.abc import Iterator

import gevent
import psycopg2
import psycopg2.extensions
from flask import Flask, current_app
from gevent import monkey
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from . import logs, metrics
from .config import Settings

log = logging.getLogger(__name__)


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


def build_engine(settings: Settings) -> Engine:
    """Create the engine from the DB_* settings; no connection is opened here."""
    connect_args = {
        "application_name": "api",
        "connect_timeout": settings.DB_CONNECT_TIMEOUT,
    }
    if settings.DB_POOLER == "none":
        # Per connection, so a runaway query frees its connection (and greenlet) in time. A
        # pooler shares server connections between clients and drops (or refuses) startup
        # options: there the API's role carries the timeout (ALTER ROLE, api/app_role.py).
        connect_args["options"] = f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}"
    engine = create_engine(
        settings.DATABASE_URL,
        poolclass=InstrumentedQueuePool if settings.METRICS_ENABLED else QueuePool,
        pool_size=settings.pool_size,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_recycle=settings.DB_POOL_RECYCLE,
        connect_args=connect_args,
    )
    event.listen(engine, "checkout", _discard_if_unusable)
    event.listen(engine, "reset", _leave_autocommit)
    return engine


def _discard_if_unusable(dbapi_connection, _record, _proxy) -> None:
    """Pool checkout: a connection the driver has closed, or one still inside a transaction,
    is replaced by a new one (SQLAlchemy's answer to DisconnectionError) instead of failing
    every request that draws it until it is discarded. Local state only: no round trip.

    A fault can leave one so in the pool: the driver closes its connection when a wait it was
    in is interrupted (a greenlet's timeout), and SQLAlchemy, handling another error at that
    moment, may not have invalidated it. Setting autocommit on such a connection raises the
    driver's own error, which is not SQLAlchemy's and would answer 500.
    """
    if dbapi_connection.closed:
        state = "closed by the driver"
    elif dbapi_connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        state = f"in transaction state {dbapi_connection.info.transaction_status}"
    else:
        return
    log.warning("replacing a pooled connection %s", state)
    raise sa_exc.DisconnectionError(state)


def init_app(app: Flask, settings: Settings) -> None:
    """Create the worker's engine and session factory; nothing connects until a request."""
    app.extensions["db"] = sessionmaker(build_engine(settings), expire_on_commit=False)


def connection() -> Connection:
    """A pooled connection in autocommit, for reads: `with connection() as conn: ...`.

    Each statement commits on its own, without a transaction's BEGIN and ROLLBACK round
    trips. Set on the driver's connection, not with SQLAlchemy's isolation_level option: that
    option is undone at check-in outside the pool's error handling, so a connection the
    database had dropped meanwhile raised there and never came back to the pool.
    `_leave_autocommit` undoes it in the pool's reset, where such a connection is discarded.
    """
    conn = get_engine(current_app).connect()
    conn.connection.driver_connection.autocommit = True  # a flag: no round trip
    return conn


def _leave_autocommit(dbapi_connection, _record, _reset_state) -> None:
    """Pool reset (every check-in): back to transactions, for the next session."""
    if dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """An ORM session in a transaction, for writes; closed (its connection back in the pool)
    at the end of the block."""
    orm_session = current_app.extensions["db"]()
    try:
        yield orm_session
    finally:
        _close(orm_session)


def _close(orm_session: Session) -> None:
    """Close a session without raising.

    The database may have dropped the connection after the last statement (a restart, a
    failover), which the closing rollback is the first to notice. SQLAlchemy has then
    discarded the connection; what the block did (a commit) stands, and so does its response.
    """
    try:
        orm_session.close()
    except (sa_exc.DBAPIError, psycopg2.Error) as exc:
        log.warning("connection lost after the last statement: %s", logs.one_line(exc))


def get_engine(app: Flask) -> Engine:
    """Return the app's engine."""
    return app.extensions["db"].kw["bind"]


def ping(timeout: float) -> None:
    """Run SELECT 1, raising if the database does not answer within `timeout` seconds."""
    # Under gevent a Timeout interrupts the cooperative wait (SQLAlchemy then invalidates the
    # connection); elsewhere the statement timeout bounds the query itself.
    green = monkey.is_module_patched("socket")
    try:
        with (
            gevent.Timeout(timeout) if green else contextlib.nullcontext(),
            get_engine(current_app).connect() as conn,  # a transaction, for SET LOCAL
        ):
            conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout * 1000)}"))
            conn.execute(text("SELECT 1"))
    except gevent.Timeout:
        raise TimeoutError(f"the database did not answer within {timeout} s") from None


def prepare_worker(app: Flask, settings: Settings, *, gevent_worker: bool, preloaded: bool) -> None:
    """Make a freshly forked worker safe: cooperative psycopg2, no connections from the parent."""
    psycopg2_driver = settings.DATABASE_URL.startswith("postgresql+psycopg2://")
    if gevent_worker and settings.DB_COOPERATIVE_IO and psycopg2_driver:
        # Without a wait callback psycopg2 blocks the whole hub for the duration of each query
        # (docs/facts: 18 req/s instead of 344 on pg_sleep(0.05)). psycopg 3 needs none: it
        # waits cooperatively when imported after gevent's patch (it is: no preload).
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
    if preloaded:
        # The engine was created in the master: drop (without closing) anything it inherited.
        get_engine(app).dispose(close=False)

"""PgBouncer between the API and PostgreSQL (DB_POOLER=pgbouncer): its limits, for migrate.

With transaction pooling the API's pools are client connections to PgBouncer, which shares
a few server connections among them. So replicas × workers × pool may exceed PostgreSQL's
max_connections; what must fit are (1) DB_CONNECTION_BUDGET in PgBouncer's max_client_conn
and (2) PgBouncer's server pool for the API (default_pool_size + reserve_pool_size, per
database and user) in what max_connections leaves. Both read from PgBouncer itself (SHOW
CONFIG on its admin console, as the API's role, a stats user), so they never disagree with it.
"""

import time

import psycopg2
from sqlalchemy.engine import make_url

from .logs import one_line


class PoolerError(Exception):
    """PgBouncer cannot be asked, or its limits do not fit; one line."""


def pgbouncer_config(database_url: str, wait_seconds: float) -> dict[str, str]:
    """SHOW CONFIG of the PgBouncer at DATABASE_URL's host and port, retried while it starts."""
    url = make_url(database_url)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = psycopg2.connect(
                host=url.host,
                port=url.port or 6432,
                user=url.username,
                password=url.password,
                dbname="pgbouncer",
                connect_timeout=5,
            )
            break
        except psycopg2.OperationalError as exc:
            if time.monotonic() >= deadline:
                message = f"PgBouncer at {url.host}:{url.port} not reachable: {one_line(exc)}"
                raise PoolerError(message) from None
            time.sleep(1)
    try:
        connection.autocommit = True  # the admin console has no transactions
        with connection.cursor() as cursor:
            cursor.execute("SHOW CONFIG")
            return {row[0]: row[1] for row in cursor.fetchall()}
    finally:
        connection.close()


def check_pooled_budget(budget: int, usable: int, config: dict[str, str]) -> str:
    """Check DB_CONNECTION_BUDGET and PgBouncer's server pool; describe them, or raise."""
    if config["pool_mode"] != "transaction":
        raise PoolerError(
            f"DB_POOLER=pgbouncer needs pool_mode=transaction, PgBouncer has {config['pool_mode']}"
        )
    max_client_conn = int(config["max_client_conn"])
    if budget > max_client_conn:
        raise PoolerError(
            f"DB_CONNECTION_BUDGET={budget} exceeds PgBouncer's max_client_conn={max_client_conn}"
        )
    default, reserve = int(config["default_pool_size"]), int(config["reserve_pool_size"])
    if default + reserve > usable:
        raise PoolerError(
            f"PgBouncer's default_pool_size={default} + reserve_pool_size={reserve} exceeds "
            f"the {usable} connections the database leaves for it"
        )
    return (
        f"budget {budget} client connections <= PgBouncer's max_client_conn {max_client_conn}; "
        f"its {default + reserve} server connections <= {usable} usable"
    )

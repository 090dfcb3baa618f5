"""A framework-free WSGI app serving the same four endpoints: the ceiling for Flask + SQLAlchemy.

Plain psycopg2 (cooperative through psycogreen), a gevent queue as the connection pool, no
routing library, no ORM, no metrics: what is left is gunicorn's and gevent's own cost.
"""

import json
import os
import random

import gevent.queue
import psycopg2
from psycogreen.gevent import patch_psycopg

POOL_SIZE = int(os.environ.get("RAW_POOL_SIZE", "20"))
_pool: gevent.queue.Queue | None = None


def _connections() -> gevent.queue.Queue:
    """The worker's pool, filled on first use (after the fork and gevent's patching)."""
    global _pool
    if _pool is None:
        patch_psycopg()
        dsn = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
        _pool = gevent.queue.Queue()
        for _ in range(POOL_SIZE):
            connection = psycopg2.connect(dsn)
            connection.autocommit = True
            _pool.put(connection)
    return _pool


def query(sql: str, params: tuple) -> tuple:
    """Run one statement on a pooled connection; return its first row."""
    pool = _connections()
    connection = pool.get()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        pool.put(connection)


def _respond(start_response, body: bytes, content_type: str):
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/plaintext":
        return _respond(start_response, b"Hello, World!", "text/plain")
    if path == "/json":
        body = json.dumps({"message": "Hello, World!"}).encode()
        return _respond(start_response, body, "application/json")
    if path == "/db":
        row = query("SELECT id, randomnumber FROM world WHERE id = %s", (random.randint(1, 10000),))
        body = json.dumps({"id": row[0], "randomNumber": row[1]}).encode()
        return _respond(start_response, body, "application/json")
    if path == "/db/sleep":
        ms = int(environ.get("QUERY_STRING", "ms=0").partition("=")[2] or 0)
        query("SELECT pg_sleep(%s)", (ms / 1000,))
        return _respond(start_response, b'{"slept_ms": %d}' % ms, "application/json")
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]

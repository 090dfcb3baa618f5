"""Endpoints that hold a request for a chosen time: an upstream call, or a slow query."""

import time

from flask import Blueprint
from sqlalchemy import text

from .. import db
from ..schemas import SleepQuery
from ..validation import parse_query

bp = Blueprint("simulate", __name__)


@bp.get("/sleep")
def sleep():
    """Wait ?ms= milliseconds without the database (cooperatively under gevent)."""
    ms = parse_query(SleepQuery).ms
    time.sleep(ms / 1000)  # monkey-patched to gevent.sleep in gevent workers
    return {"slept_ms": ms}


@bp.get("/db/sleep")
def db_sleep():
    """Hold a pool connection for ?ms= milliseconds with pg_sleep."""
    ms = parse_query(SleepQuery).ms
    with db.connection() as conn:
        conn.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": ms / 1000})
    return {"slept_ms": ms}

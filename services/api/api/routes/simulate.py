"""Endpoints that hold a request for a chosen time: an upstream call, a slow query, CPU work."""

import time

from flask import Blueprint
from sqlalchemy import text

from .. import db
from ..openapi import Answers, document
from ..schemas import Busy, SleepQuery, Slept
from ..validation import parse_query

bp = Blueprint("simulate", __name__)


@bp.get("/sleep")
@document(query=SleepQuery, answers=Answers({200: Slept}, errors=(422,)), tag="simulate")
def sleep():
    """Wait ?ms= milliseconds without the database (cooperatively under gevent)."""
    ms = parse_query(SleepQuery).ms
    time.sleep(ms / 1000)  # monkey-patched to gevent.sleep in gevent workers
    return {"slept_ms": ms}


@bp.get("/db/sleep")
@document(query=SleepQuery, answers=Answers({200: Slept}, errors=(422, 503)), tag="simulate")
def db_sleep():
    """Hold a pool connection for ?ms= milliseconds with pg_sleep."""
    ms = parse_query(SleepQuery).ms
    with db.connection() as conn:
        conn.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": ms / 1000})
    return {"slept_ms": ms}


@bp.get("/cpu")
@document(query=SleepQuery, answers=Answers({200: Busy}, errors=(422,)), tag="simulate")
def burn_cpu():
    """Compute for ?ms= milliseconds without yielding: a CPU-bound request blocks its worker."""
    ms = parse_query(SleepQuery).ms
    deadline = time.perf_counter() + ms / 1000
    while time.perf_counter() < deadline:
        pass
    return {"busy_ms": ms}

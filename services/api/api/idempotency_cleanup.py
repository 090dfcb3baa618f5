"""Expired Idempotency-Keys are deleted in small batches that never wait for a locked row.

A key is remembered for IDEMPOTENCY_KEY_TTL_HOURS. Every gevent worker runs the cleanup every
IDEMPOTENCY_CLEANUP_INTERVAL_SECONDS (with jitter, so replicas do not run in step), on a
connection of its own pool; `python -m api cleanup-idempotency-keys` runs it once (cron).
Several cleaners at once are harmless: each skips the rows another one holds.
"""

import logging
import random

import gevent
from flask import Flask
from sqlalchemy import Connection, text

from .db import get_engine

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
# SKIP LOCKED: a row a request (or another cleaner) holds is left for the next round, so the
# cleanup never waits on, nor blocks, a live key. The index on created_at finds the batch.
_DELETE_EXPIRED = text(
    "DELETE FROM idempotency_keys WHERE key IN ("
    " SELECT key FROM idempotency_keys"
    " WHERE created_at < now() - make_interval(hours => :ttl_hours)"
    " LIMIT :batch FOR UPDATE SKIP LOCKED)"
)


def delete_expired_batch(connection: Connection, ttl_hours: int) -> int:
    """Delete up to BATCH_SIZE expired keys; return how many."""
    result = connection.execute(_DELETE_EXPIRED, {"ttl_hours": ttl_hours, "batch": BATCH_SIZE})
    return result.rowcount


def delete_expired_keys(engine, ttl_hours: int) -> int:
    """Delete every expired key, one short transaction per batch; return how many."""
    total = 0
    while True:
        with engine.begin() as connection:
            deleted = delete_expired_batch(connection, ttl_hours)
        total += deleted
        if deleted < BATCH_SIZE:
            return total


def start(app: Flask, ttl_hours: int, interval_s: int) -> gevent.Greenlet | None:
    """Run the cleanup in this (gevent) worker every `interval_s` seconds; 0 never."""
    if interval_s <= 0:
        return None
    return gevent.spawn(_run_periodically, app, ttl_hours, interval_s)


def _run_periodically(app: Flask, ttl_hours: int, interval_s: int) -> None:
    while True:
        gevent.sleep(interval_s * random.uniform(0.5, 1.5))
        try:
            deleted = delete_expired_keys(get_engine(app), ttl_hours)
        except Exception as exc:  # the database may be away: try again next time
            log.warning("idempotency key cleanup failed: %s", str(exc).strip().splitlines()[0])
            continue
        if deleted:
            log.info("deleted %d expired idempotency keys", deleted)

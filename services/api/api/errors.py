"""Every error leaves the API as an RFC 9457 problem document (application/problem+json)."""

import json
import logging
from http import HTTPStatus

from flask import Flask, Response, current_app, request
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from . import logs, metrics
from .crud import IdempotencyConflict

log = logging.getLogger(__name__)

# Seconds a shed client should wait before retrying: the pool drains within a few requests.
RETRY_AFTER_SECONDS = 1


def problem(status: int, detail: str, headers=None, **extra) -> Response:
    """Build a problem response; `extra` members (e.g. `errors`) are added to the body."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": logs.request_id(),
        **extra,
    }
    return current_app.response_class(
        json.dumps(body), status, headers=headers, mimetype="application/problem+json"
    )


def handle_http_exception(exc: HTTPException) -> Response:
    """Render werkzeug's 4xx/5xx (404, 405, 413, 415, ...) as problems, keeping e.g. Allow."""
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return problem(exc.code, exc.description, headers=headers)


def handle_validation_error(exc: ValidationError) -> Response:
    """422 listing every invalid field and why."""
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "body",
            "message": error["msg"].removeprefix("Value error, "),
        }
        for error in exc.errors(include_url=False)
    ]
    return problem(422, f"{len(errors)} invalid field(s)", errors=errors)


def handle_pool_timeout(_exc: sa_exc.TimeoutError) -> Response:
    """Shed the request: no pool connection came within DB_POOL_TIMEOUT."""
    metrics.DB_POOL_TIMEOUTS.inc()
    return problem(
        503,
        "All database connections are busy; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_database_error(exc: sa_exc.DBAPIError) -> Response:
    """503 when the database is down, restarting, dropped the connection or cancelled the
    statement (timeout): retrying later can succeed. Any other database error is a bug: 500."""
    unavailable = (sa_exc.OperationalError, sa_exc.InterfaceError)
    if not (exc.connection_invalidated or isinstance(exc, unavailable)):
        return handle_unexpected(exc)
    metrics.DB_UNAVAILABLE.inc()
    log.warning("database unavailable: %s", logs.one_line(exc.orig))
    return problem(
        503,
        "The database is unavailable or too slow; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def handle_idempotency_conflict(exc: IdempotencyConflict) -> Response:
    """409: the key was first used with a different body."""
    return problem(409, f"Idempotency-Key {exc.args[0]!r} was used with a different request body.")


def handle_unexpected(exc: Exception) -> Response:
    """500 with the request id; the traceback goes to the log only."""
    log.exception("unhandled %s on %s %s", type(exc).__name__, request.method, request.path)
    return problem(500, "Internal error; quote the request_id when reporting it.")


def init_app(app: Flask) -> None:
    """Register the handlers, most specific first."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(sa_exc.TimeoutError, handle_pool_timeout)
    app.register_error_handler(sa_exc.DBAPIError, handle_database_error)
    app.register_error_handler(IdempotencyConflict, handle_idempotency_conflict)
    app.register_error_handler(Exception, handle_unexpected)

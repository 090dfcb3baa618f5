"""JSON logs on stdout, each line carrying the id of the request it belongs to."""

import logging
import logging.config
import re
import secrets

from flask import Flask, has_request_context, request
from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

from .config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"
_REQUEST_ID_KEY = "api.request_id"
# Accept ids from the proxy or client only if they cannot break a log line or a header.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
_RENAMED = {"asctime": "time", "levelname": "level", "process": "pid"}


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (driver errors span several), for a log line."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class RequestIds:
    """WSGI middleware: give each request an id (X-Request-ID if sane, else a new one) and
    echo it in the response. Below Flask's hooks, which cost more per request than this."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        incoming = environ.get(_REQUEST_ID_ENVIRON, "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else secrets.token_hex(16)
        environ[_REQUEST_ID_KEY] = request_id

        def start_response_with_id(status, headers, exc_info=None):
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_response_with_id)


def request_id() -> str | None:
    """The id of the request being served, if any."""
    return request.environ.get(_REQUEST_ID_KEY) if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Add `request_id` to every record logged while a request is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


class GunicornLogger(glogging.Logger):
    """gunicorn's logger, without the access log's per-request cost while it is off.

    Whenever a logconfig_dict is set, gunicorn formats every request's access-log atoms and
    only then lets the logger's level drop the line (4 % of a /json request in the profile).
    """

    def access(self, resp, req, environ, request_time) -> None:
        if self.access_log.isEnabledFor(logging.INFO):
            super().access(resp, req, environ, request_time)


def logging_config(level: str, access_log: bool = False) -> dict:
    """A logging.config dict: gunicorn's and the app's loggers, all JSON to stdout."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "fmt": _FORMAT,
                "rename_fields": _RENAMED,
                "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            },
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["request_id"],
            },
        },
        "root": {"level": level, "handlers": ["stdout"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # gunicorn logs access whenever a logconfig_dict is set: silence it by level.
            "gunicorn.access": {
                "level": "INFO" if access_log else "CRITICAL",
                "handlers": [],
                "propagate": True,
            },
            "sqlalchemy": {"level": "WARNING"},
        },
    }


def configure(level: str) -> None:
    """Install the JSON handler unless something (gunicorn's logconfig_dict) already did."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        logging.config.dictConfig(logging_config(level))


def init_app(app: Flask, settings: Settings) -> None:
    """Log JSON lines, and give each request an id (RequestIds)."""
    configure(settings.LOG_LEVEL)
    app.wsgi_app = RequestIds(app.wsgi_app)

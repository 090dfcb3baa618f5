"""Liveness and readiness probes for Docker, nginx and orchestrators."""

import logging

from flask import Blueprint

from .. import db, logs
from ..errors import RETRY_AFTER_SECONDS, problem
from ..openapi import Answers, document
from ..schemas import Status

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 1.0


@bp.get("/healthz")
@document(answers=Answers({200: Status}), tag="health")
def check_liveness():
    """Report that the process serves requests; never touches the database."""
    return {"status": "ok"}


@bp.get("/readyz")
@document(answers=Answers({200: Status}, errors=(503,)), tag="health")
def check_readiness():
    """Report whether the database answers within a second (503 if not)."""
    try:
        db.ping(READINESS_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not ready", and must not become a 500
        log.warning("not ready: %s", logs.one_line(exc))
        return problem(
            503,
            "The database did not answer within 1 s.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return {"status": "ready"}

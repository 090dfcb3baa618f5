"""Turn a request's JSON body or query string into a validated pydantic model, or a 4xx."""

import json
from decimal import Decimal
from typing import TypeVar

from flask import request
from gunicorn.http.errors import ParseException
from pydantic import BaseModel
from werkzeug.exceptions import (
    BadRequest,
    ClientDisconnected,
    RequestTimeout,
    UnsupportedMediaType,
)

Model = TypeVar("Model", bound=BaseModel)


def parse_json(model: type[Model]) -> Model:
    """Validate the JSON body against `model`: 415 if not JSON, 400 if malformed, 413 if too
    large (Flask's MAX_CONTENT_LENGTH), 422 (pydantic.ValidationError) if invalid."""
    mimetype = request.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {mimetype or 'missing'!r}."
        )
    body = read_body()
    try:
        # Decimal keeps prices exact; a float would turn 0.1 into 0.1000000000000000055...
        data = json.loads(body, parse_float=Decimal)
    # ValueError: malformed JSON, bytes that are not UTF-8, an integer of more than 4,300
    # digits; RecursionError: arrays or objects nested thousands deep.
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BadRequest(f"Malformed JSON body: {reason}.") from None
    return model.model_validate(data)


def read_body() -> bytes:
    """The request body: 408 if the client stops sending it, 400 if its framing is broken."""
    try:
        return request.get_data(cache=False)
    except (OSError, ParseException, ClientDisconnected) as exc:
        # werkzeug turns a failed read of a Content-Length body into ClientDisconnected, with
        # the server's error as its context: a timeout (API_BODY_TIMEOUT, gunicorn_worker.py),
        # invalid chunking, or the end of the connection.
        cause = exc.__context__ if isinstance(exc, ClientDisconnected) else exc
        if isinstance(cause, TimeoutError):
            detail = "The request body stopped arriving before it was complete."
            raise RequestTimeout(detail) from None
        reason = cause or "the connection ended before the body did"
        raise BadRequest(f"The request body could not be read: {reason}.") from None


def parse_query(model: type[Model]) -> Model:
    """Validate the query string against `model` (422 if invalid)."""
    return model.model_validate(request.args.to_dict())

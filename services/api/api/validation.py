"""Turn a request's JSON body or query string into a validated pydantic model, or a 4xx."""

import json
from decimal import Decimal
from typing import TypeVar

from flask import request
from pydantic import BaseModel
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

Model = TypeVar("Model", bound=BaseModel)


def parse_json(model: type[Model]) -> Model:
    """Validate the JSON body against `model`: 415 if not JSON, 400 if malformed, 413 if too
    large (Flask's MAX_CONTENT_LENGTH), 422 (pydantic.ValidationError) if invalid."""
    mimetype = request.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {mimetype or 'missing'!r}."
        )
    try:
        # Decimal keeps prices exact; a float would turn 0.1 into 0.1000000000000000055...
        data = json.loads(request.get_data(cache=False), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"Malformed JSON body: {exc}.") from None
    return model.model_validate(data)


def parse_query(model: type[Model]) -> Model:
    """Validate the query string against `model` (422 if invalid)."""
    return model.model_validate(request.args.to_dict())

"""The API's description of itself: GET /openapi.json."""

from flask import Blueprint

from ..openapi import openapi_document

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def get_openapi_document():
    """Return the OpenAPI 3.1 document of every endpoint (docs/api.md)."""
    return openapi_document()

"""/api/items: a complete resource to copy from (validation, keyset pages, idempotent POST)."""

import re

from flask import Blueprint, Response, abort, request, url_for

from .. import crud, db
from ..openapi import BODY_ERRORS, Answers, document
from ..schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    IdempotencyHeaders,
    ItemCreate,
    ItemPage,
    ItemPublic,
    ItemUpdate,
    ListItemsQuery,
)
from ..validation import parse_json, parse_query

bp = Blueprint("items", __name__, url_prefix="/api/items")

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
LOCATION = {"Location": {"description": "The item's URL", "schema": {"type": "string"}}}


def found_or_404(item: dict | None, item_id: int) -> dict:
    """Return the item; abort with 404 if there is no item with this id."""
    if item is None:
        abort(404, f"There is no item {item_id}.")
    return item


def idempotency_key() -> str | None:
    """The Idempotency-Key header, if any; 400 unless it is 1-255 visible ASCII characters."""
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        abort(
            400,
            f"{IDEMPOTENCY_KEY_HEADER} must be 1 to 255 visible ASCII characters "
            "(no spaces or control characters).",
        )
    return key


@bp.post("")
@document(
    json=ItemCreate,
    headers=IdempotencyHeaders,
    answers=Answers(
        {201: ItemPublic, 200: ItemPublic},  # 200: a retry with the same Idempotency-Key
        errors=(*BODY_ERRORS, 409, 503),
        headers={201: LOCATION, 200: LOCATION},
    ),
    tag="items",
)
def create_item():
    """Create an item; with an Idempotency-Key, retries return the first result (200)."""
    key = idempotency_key()
    data = parse_json(ItemCreate)
    with db.session() as session:
        if key is None:
            body, created = crud.create_item(session=session, data=data), True
        else:
            body, created = crud.create_item_once(session=session, key=key, data=data)
    location = url_for("items.get_item", item_id=body["id"])
    return body, 201 if created else 200, {"Location": location}


@bp.get("")
@document(query=ListItemsQuery, answers=Answers({200: ItemPage}, errors=(422, 503)), tag="items")
def list_items():
    """List items in id order, `limit` at a time; pass `next_cursor` back as `cursor`."""
    query = parse_query(ListItemsQuery)
    with db.connection() as conn:
        return crud.list_items(connection=conn, after_id=query.after_id, limit=query.limit)


@bp.get("/<int:item_id>")
@document(answers=Answers({200: ItemPublic}, errors=(404, 503)), tag="items")
def get_item(item_id: int):
    """Return one item."""
    with db.connection() as conn:
        item = crud.get_item(connection=conn, item_id=item_id)
    return found_or_404(item, item_id)


@bp.patch("/<int:item_id>")
@document(
    json=ItemUpdate,
    answers=Answers({200: ItemPublic}, errors=(*BODY_ERRORS, 404, 503)),
    tag="items",
)
def update_item(item_id: int):
    """Change some fields of an item."""
    changes = parse_json(ItemUpdate)
    with db.session() as session:
        item = crud.update_item(session=session, item_id=item_id, changes=changes)
    return found_or_404(item, item_id)


@bp.delete("/<int:item_id>")
@document(answers=Answers({204: None}, errors=(404, 503)), tag="items")
def delete_item(item_id: int):
    """Delete an item (204), or 404 if it does not exist."""
    with db.session() as session:
        deleted = crud.delete_item(session=session, item_id=item_id)
    if not deleted:
        abort(404, f"There is no item {item_id}.")
    return Response(status=204)

"""The items resource's queries, as keyword-only functions.

Reads take a pooled autocommit connection (Core: one round trip, no session); writes take the
request's session (a transaction). Each returns what the API sends: items rendered by
ItemPublic (schemas), the one place that decides their public shape. The TechEmpower queries
are in tfb_queries.
"""

import hashlib
import json

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .models import IdempotencyKey, Item
from .schemas import ItemCreate, ItemPage, ItemPublic, ItemUpdate, ListItemsQuery

_ITEMS = Item.__table__
_ITEM_BY_ID = select(_ITEMS).where(_ITEMS.c.id == bindparam("item_id"))
_ITEMS_AFTER = (
    select(_ITEMS)
    .where(_ITEMS.c.id > bindparam("after_id"))
    .order_by(_ITEMS.c.id)
    .limit(bindparam("rows"))
)


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request body."""


def get_item(*, connection: Connection, item_id: int) -> dict | None:
    """Return the item, or None if it does not exist."""
    row = connection.execute(_ITEM_BY_ID, {"item_id": item_id}).first()
    return None if row is None else _public(row)


def list_items(*, connection: Connection, after_id: int, limit: int) -> dict:
    """Return the page of up to `limit` items with id > after_id, in id order, and the cursor
    of the next page (None on the last)."""
    rows = connection.execute(_ITEMS_AFTER, {"after_id": after_id, "rows": limit + 1}).all()
    items = rows[:limit]
    next_cursor = ListItemsQuery.encode_cursor(items[-1].id) if len(rows) > limit else None
    return ItemPage(items=items, next_cursor=next_cursor).model_dump(mode="json")


def create_item(*, session: Session, data: ItemCreate) -> dict:
    """Insert an item, commit, and return it as public JSON."""
    _, body = _insert_item(session, data)
    session.commit()
    return body


def create_item_once(*, session: Session, key: str, data: ItemCreate) -> tuple[dict, bool]:
    """Create the item unless `key` was used before; return (body, created).

    A retry with the same body gets the first response back; a different body raises
    IdempotencyConflict. Concurrent retries are serialised by the key's primary key: the
    losers' INSERT waits for the winner's commit, then finds the key taken.
    """
    request_hash = _fingerprint(data)
    claimed = session.execute(
        insert(IdempotencyKey)
        .values(key=key, request_hash=request_hash)
        .on_conflict_do_nothing(index_elements=[IdempotencyKey.key])
        .returning(IdempotencyKey.key)
    ).first()
    if claimed is None:
        session.rollback()
        first = session.get(IdempotencyKey, key)
        if first.request_hash != request_hash:
            raise IdempotencyConflict(key)
        return first.response, False
    item, body = _insert_item(session, data)
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.key == key)
        .values(item_id=item.id, response=body)
    )
    session.commit()
    return body, True


def update_item(*, session: Session, item_id: int, changes: ItemUpdate) -> dict | None:
    """Apply the fields present in `changes` and commit; return the item, None if missing."""
    item = session.get(Item, item_id)
    if item is None:
        return None
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    session.flush()
    body = _public(item)
    session.commit()
    return body


def delete_item(*, session: Session, item_id: int) -> bool:
    """Delete the item; return whether it existed."""
    deleted = session.execute(delete(Item).where(Item.id == item_id)).rowcount
    session.commit()
    return deleted > 0


def _insert_item(session: Session, data: ItemCreate) -> tuple[Item, dict]:
    """Insert an item (server defaults come back by RETURNING) and render it as public JSON."""
    item = Item(**data.model_dump())
    session.add(item)
    session.flush()
    return item, _public(item)


def _public(item) -> dict:
    """The item (a model or a row) as the API returns it."""
    return ItemPublic.model_validate(item).model_dump(mode="json")


def _fingerprint(data: ItemCreate) -> str:
    """Hash the validated body, so formatting differences (key order, 1.5 vs 1.50) match."""
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()

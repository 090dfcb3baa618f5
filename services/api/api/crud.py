"""The items resource's queries, as keyword-only functions taking the request's session.

Each returns what the API sends: items rendered by ItemPublic (schemas), the one place that
decides their public shape. The TechEmpower queries are in tfb_queries.
"""

import hashlib
import json

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .models import IdempotencyKey, Item
from .schemas import ItemCreate, ItemPage, ItemPublic, ItemUpdate, ListItemsQuery


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request body."""


def get_item(*, session: Session, item_id: int) -> dict | None:
    """Return the item, or None if it does not exist."""
    item = session.get(Item, item_id)
    return None if item is None else _public(item)


def list_items(*, session: Session, after_id: int, limit: int) -> dict:
    """Return the page of up to `limit` items with id > after_id, in id order, and the cursor
    of the next page (None on the last)."""
    rows = session.scalars(
        select(Item).where(Item.id > after_id).order_by(Item.id).limit(limit + 1)
    ).all()
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


def _public(item: Item) -> dict:
    """The item as the API returns it."""
    return ItemPublic.model_validate(item).model_dump(mode="json")


def _fingerprint(data: ItemCreate) -> str:
    """Hash the validated body, so formatting differences (key order, 1.5 vs 1.50) match."""
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()

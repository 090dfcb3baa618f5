"""Every query the API runs, as keyword-only functions taking the request's session."""

import hashlib
import json

from sqlalchemy import Connection, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .models import Fortune, IdempotencyKey, Item, World
from .schemas import ItemCreate, ItemPublic, ItemUpdate

# TechEmpower rows are read through Core, not the ORM: no identity map (TFB forbids caching
# rows) and a third of the per-row cost.
_WORLD_BY_ID = select(World.id, World.randomnumber).where(World.id == bindparam("world_id"))
# One statement for the whole batch; ids arrive sorted, so concurrent batches lock rows in the
# same order and cannot deadlock each other.
_UPDATE_WORLDS = text(
    "UPDATE world SET randomnumber = batch.randomnumber "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:numbers AS integer[])) "
    "AS batch(id, randomnumber) WHERE world.id = batch.id"
)


class IdempotencyConflict(Exception):
    """An Idempotency-Key was reused with a different request body."""


def get_world(*, connection: Connection, world_id: int) -> dict:
    """Fetch one World row as TFB's {"id", "randomNumber"} object."""
    row = connection.execute(_WORLD_BY_ID, {"world_id": world_id}).one()
    return {"id": row.id, "randomNumber": row.randomnumber}


def update_worlds(*, connection: Connection, worlds: list[dict]) -> None:
    """Write each world's randomNumber back in one (atomic) statement."""
    ordered = sorted(worlds, key=lambda world: world["id"])
    connection.execute(
        _UPDATE_WORLDS,
        {"ids": [w["id"] for w in ordered], "numbers": [w["randomNumber"] for w in ordered]},
    )


def list_fortunes(*, connection: Connection) -> list[tuple[int, str]]:
    """Fetch every fortune as (id, message), unsorted (TFB sorts in the application)."""
    return [tuple(row) for row in connection.execute(select(Fortune.id, Fortune.message))]


def get_item(*, session: Session, item_id: int) -> Item | None:
    """Return the item, or None if it does not exist."""
    return session.get(Item, item_id)


def list_items(*, session: Session, after_id: int, limit: int) -> tuple[list[Item], bool]:
    """Return up to `limit` items with id > after_id in id order, and whether more follow."""
    rows = session.scalars(
        select(Item).where(Item.id > after_id).order_by(Item.id).limit(limit + 1)
    ).all()
    return list(rows[:limit]), len(rows) > limit


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


def update_item(*, session: Session, item: Item, changes: ItemUpdate) -> dict:
    """Apply the fields present in `changes`, commit, and return the item as public JSON."""
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    session.flush()
    body = ItemPublic.model_validate(item).model_dump(mode="json")
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
    return item, ItemPublic.model_validate(item).model_dump(mode="json")


def _fingerprint(data: ItemCreate) -> str:
    """Hash the validated body, so formatting differences (key order, 1.5 vs 1.50) match."""
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()

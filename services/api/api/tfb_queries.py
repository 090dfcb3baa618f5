"""The TechEmpower queries, each returning the object TFB's rules define.

Core on the pooled autocommit connection (db.connection()), not the ORM: no identity map
(TFB forbids caching rows), no session, no transaction round trips.
"""

from sqlalchemy import Connection, bindparam, select, text

from .models import Fortune, World

_WORLD_BY_ID = select(World.id, World.randomnumber).where(World.id == bindparam("world_id"))
# One statement for the whole batch; ids arrive sorted, so concurrent batches lock rows in the
# same order and cannot deadlock each other.
_UPDATE_WORLDS = text(
    "UPDATE world SET randomnumber = batch.randomnumber "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:numbers AS integer[])) "
    "AS batch(id, randomnumber) WHERE world.id = batch.id"
)


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

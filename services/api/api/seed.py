"""Reference data: TechEmpower's world and fortune rows, inserted only where missing."""

from importlib import resources

from sqlalchemy import Connection, text

WORLD_ROWS = 10_000


def seed(connection: Connection) -> dict[str, int]:
    """Insert missing world and fortune rows; return how many of each were added."""
    worlds = connection.execute(
        text(
            "INSERT INTO world (id, randomnumber) "
            "SELECT id, 1 + floor(random() * 10000)::int FROM generate_series(1, :rows) AS id "
            "ON CONFLICT (id) DO NOTHING"
        ),
        {"rows": WORLD_ROWS},
    ).rowcount
    fortunes = resources.files("api").joinpath("data/fortunes.json").read_text("utf-8")
    added_fortunes = connection.execute(
        text(
            "INSERT INTO fortune (id, message) "
            "SELECT id, message FROM json_to_recordset(CAST(:rows AS json)) "
            "AS f(id integer, message varchar) ON CONFLICT (id) DO NOTHING"
        ),
        {"rows": fortunes},
    ).rowcount
    return {"world": worlds, "fortune": added_fortunes}

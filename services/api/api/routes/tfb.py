"""The TechEmpower Framework Benchmarks test types, served by their rules (shared/tfb)."""

import random

from flask import Blueprint, Response, render_template, request

from .. import db, tfb_queries
from ..openapi import Answers, document
from ..schemas import Message, QueriesQuery, World

bp = Blueprint("tfb", __name__)

WORLD_ROWS = 10_000
MAX_QUERIES = 500
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")


def query_count() -> int:
    """?queries= clamped to 1..500; missing, empty or not an integer counts as 1."""
    try:
        count = int(request.args.get("queries", ""))
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


def random_world_id() -> int:
    return random.randint(1, WORLD_ROWS)


@bp.get("/json")
@document(answers=Answers({200: Message}), tag="tfb")
def get_json():
    """Serialise a fresh message object."""
    return {"message": "Hello, World!"}


@bp.get("/plaintext")
@document(answers=Answers({200: None}, media_types={200: "text/plain"}), tag="tfb")
def get_plaintext():
    """Return the 13-byte greeting as text/plain."""
    return Response("Hello, World!", mimetype="text/plain")


@bp.get("/db")
@document(answers=Answers({200: World}, errors=(503,)), tag="tfb")
def get_db_row():
    """Fetch one random World row."""
    with db.connection() as conn:
        return tfb_queries.get_world(connection=conn, world_id=random_world_id())


@bp.get("/queries")
@document(query=QueriesQuery, answers=Answers({200: list[World]}, errors=(503,)), tag="tfb")
def get_queries():
    """Fetch N random World rows, one query each."""
    with db.connection() as conn:
        return [
            tfb_queries.get_world(connection=conn, world_id=random_world_id())
            for _ in range(query_count())
        ]


@bp.get("/updates")
@document(query=QueriesQuery, answers=Answers({200: list[World]}, errors=(503,)), tag="tfb")
def update_queries():
    """Fetch N distinct random World rows one by one, give each a new number, write them back."""
    with db.connection() as conn:
        worlds = [
            tfb_queries.get_world(connection=conn, world_id=world_id)
            for world_id in random.sample(range(1, WORLD_ROWS + 1), query_count())
        ]
        for world in worlds:
            world["randomNumber"] = random_world_id()
        tfb_queries.update_worlds(connection=conn, worlds=worlds)
    return worlds


@bp.get("/fortunes")
@document(answers=Answers({200: None}, errors=(503,), media_types={200: "text/html"}), tag="tfb")
def list_fortunes():
    """Render all fortunes plus one added now, sorted by message, HTML-escaped."""
    with db.connection() as conn:
        fortunes = tfb_queries.list_fortunes(connection=conn)
    fortunes.append(ADDITIONAL_FORTUNE)
    fortunes.sort(key=lambda fortune: fortune[1])
    return render_template("fortunes.html", fortunes=fortunes)

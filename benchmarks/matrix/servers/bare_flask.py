"""A bare Flask app serving the same four endpoints: what Flask alone costs on this server.

The database access is raw_wsgi's (plain psycopg2, a gevent queue as the pool), so the gap to
raw-wsgi-gevent is Flask, and the gap from the project's app to this one is the project's own
layers (SQLAlchemy, validation, request ids, metrics).
"""

import random

from flask import Flask, request

from .raw_wsgi import query

app = Flask(__name__)
app.json.sort_keys = False


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", {"Content-Type": "text/plain"}


@app.get("/json")
def json():
    return {"message": "Hello, World!"}


@app.get("/db")
def db():
    row = query("SELECT id, randomnumber FROM world WHERE id = %s", (random.randint(1, 10000),))
    return {"id": row[0], "randomNumber": row[1]}


@app.get("/db/sleep")
def db_sleep():
    ms = int(request.args.get("ms", 0))
    query("SELECT pg_sleep(%s)", (ms / 1000,))
    return {"slept_ms": ms}

"""The TechEmpower test types, checked against TFB's rules (shared/tfb/README.md)."""

import json
from html.parser import HTMLParser
from importlib import resources

import pytest


def test_json(client):
    response = client.get("/json")
    assert response.mimetype == "application/json"
    assert response.json == {"message": "Hello, World!"}


def test_plaintext(client):
    response = client.get("/plaintext")
    assert response.mimetype == "text/plain"
    assert response.data == b"Hello, World!"


def test_db_returns_one_world_object(client):
    world = client.get("/db").json
    assert set(world) == {"id", "randomNumber"}
    assert 1 <= world["id"] <= 10_000 and 1 <= world["randomNumber"] <= 10_000


@pytest.mark.parametrize(
    ("queries", "expected"),
    [(None, 1), ("", 1), ("foo", 1), ("0", 1), ("-5", 1), ("1", 1), ("20", 20), ("501", 500)],
)
@pytest.mark.parametrize("path", ["/queries", "/updates"])
def test_query_count_is_clamped(client, path, queries, expected):
    response = client.get(path, query_string={} if queries is None else {"queries": queries})
    assert response.status_code == 200
    worlds = response.json
    assert len(worlds) == expected
    assert all(set(world) == {"id", "randomNumber"} for world in worlds)


def test_updates_write_new_numbers(client, postgres):
    before = dict(postgres.execute_admin("SELECT id, randomnumber FROM world"))
    worlds = client.get("/updates", query_string={"queries": 501}).json
    after = dict(postgres.execute_admin("SELECT id, randomnumber FROM world"))
    assert len({world["id"] for world in worlds}) == 500
    for world in worlds:
        assert after[world["id"]] == world["randomNumber"]
    changed = sum(before[world["id"]] != after[world["id"]] for world in worlds)
    assert changed >= 0.95 * 500


class _TableParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def test_fortunes_are_escaped_sorted_and_complete(client):
    response = client.get("/fortunes")
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.data.decode("utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    parser = _TableParser()
    parser.feed(html)
    header, *rows = parser.rows
    assert header == ["id", "message"]
    stored = json.loads(resources.files("api").joinpath("data/fortunes.json").read_text())
    expected = [(str(f["id"]), f["message"]) for f in stored]
    expected.append(("0", "Additional fortune added at request time."))
    assert [tuple(row) for row in rows] == sorted(expected, key=lambda row: row[1])
    assert "フレームワークのベンチマーク" in html and "—" in html


def _statements(postgres, pattern: str) -> int:
    rows = postgres.execute_admin(
        f"SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query ILIKE '{pattern}'"
    )
    return int(rows[0][0])


@pytest.mark.parametrize(
    ("path", "selects", "updates"),
    [
        ("/db", 1, 0),
        ("/queries?queries=20", 20, 0),
        ("/updates?queries=20", 20, 1),
        ("/fortunes", 1, 0),
    ],
)
def test_query_counts_match_tfb(client, postgres, path, selects, updates):
    client.get("/healthz")  # warm up: nothing below may come from app start-up
    postgres.execute_admin("SELECT pg_stat_statements_reset()")
    assert client.get(path).status_code == 200
    table = "fortune" if "fortunes" in path else "world"
    assert _statements(postgres, f"SELECT %FROM {table}%") == selects
    assert _statements(postgres, "UPDATE world%") == updates

"""The OpenAPI document: served, complete, and the same as docs/openapi.json."""

import json
from pathlib import Path

from openapi_spec_validator import validate

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "docs" / "openapi.json"


def test_served_document_is_the_committed_one(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json == json.loads(COMMITTED.read_text()), "stale: run `make openapi`"


def test_cli_prints_the_committed_document(api_command):
    result = api_command("openapi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == COMMITTED.read_text()


def test_document_is_valid_openapi_3_1():
    document = json.loads(COMMITTED.read_text())
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_route_is_documented(app):
    document = json.loads(COMMITTED.read_text())
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routes = {
        (method, rule.rule.replace("<int:item_id>", "{item_id}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ("static", "docs.get_openapi_document")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == documented


def test_every_error_is_a_problem_and_every_503_has_retry_after():
    document = json.loads(COMMITTED.read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                where = f"{method.upper()} {path} {status}"
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], where
                if status == "503":
                    assert "Retry-After" in response["headers"], where
            assert "500" in operation["responses"], f"{method.upper()} {path}"


def test_database_endpoints_document_their_503():
    document = json.loads(COMMITTED.read_text())
    for path in ["/readyz", "/db", "/queries", "/updates", "/fortunes", "/db/sleep"]:
        assert "503" in document["paths"][path]["get"]["responses"], path
    for method, operation in document["paths"]["/api/items/{item_id}"].items():
        assert "503" in operation["responses"], method

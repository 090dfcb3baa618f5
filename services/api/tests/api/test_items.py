"""/api/items: validation, pagination, updates, deletes and idempotent creation."""

import json

import pytest

from api.schemas import ListItemsQuery

VALID = {"name": "bolt", "quantity": 3, "price": "1.50"}


def post_item(client, body=VALID, **headers):
    return client.post("/api/items", json=body, headers=headers)


def test_create_item(client, count_rows):
    response = post_item(client, {"name": "bolt", "quantity": 3, "price": 1.5})
    assert response.status_code == 201
    item = response.json
    assert item["name"] == "bolt" and item["quantity"] == 3 and item["price"] == "1.50"
    assert response.headers["Location"] == f"/api/items/{item['id']}"
    assert item["created_at"] == item["updated_at"]
    assert count_rows("items") == 1


def test_integral_number_is_an_integer(client):
    # JSON (and JSON Schema's "integer") does not tell 3 from 3.0.
    response = client.post(
        "/api/items",
        data='{"name": "bolt", "quantity": 3.0, "price": 1}',
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json["quantity"] == 3


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "", "quantity": 1, "price": 1}, ["name"]),
        ({"name": "x" * 201, "quantity": 1, "price": 1}, ["name"]),
        ({"name": 5, "quantity": 1, "price": 1}, ["name"]),
        ({"name": "a", "quantity": -1, "price": 1}, ["quantity"]),
        ({"name": "a", "quantity": 1.5, "price": 1}, ["quantity"]),
        ({"name": "a", "quantity": "3", "price": 1}, ["quantity"]),
        ({"name": "a", "quantity": True, "price": 1}, ["quantity"]),
        ({"name": "a", "quantity": 1, "price": -0.01}, ["price"]),
        ({"name": "a", "quantity": 1, "price": 1.555}, ["price"]),
        ({"name": "a", "quantity": 1, "price": "cheap"}, ["price"]),
        ({"name": "a", "quantity": 1, "price": 1, "colour": "red"}, ["colour"]),
        ({}, ["name", "quantity", "price"]),
        ({"name": "", "quantity": -1, "price": 1.555}, ["name", "quantity", "price"]),
        ([VALID], ["body"]),
        (None, ["body"]),
        # PostgreSQL cannot store NUL in text (it was a 500); a name is one line.
        ({**VALID, "name": "a\u0000b"}, ["name"]),
        ({**VALID, "name": "a\nb"}, ["name"]),
        ({**VALID, "name": "a\u009fb"}, ["name"]),
        ({**VALID, "name": "\ud800"}, ["name"]),  # an unpaired surrogate: not UTF-8-encodable
        ({**VALID, "quantity": 2**31}, ["quantity"]),  # beyond the integer column
        ({**VALID, "quantity": 10**400}, ["quantity"]),
        ({**VALID, "price": "1e400"}, ["price"]),  # beyond numeric(12, 2)
        ({**VALID, "price": "NaN"}, ["price"]),
        ({**VALID, "price": "Infinity"}, ["price"]),
    ],
)
def test_invalid_item_is_422_listing_each_field(client, count_rows, body, fields):
    response = client.post("/api/items", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [error["field"] for error in response.json["errors"]] == fields
    assert count_rows("items") == 0


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (json.dumps(VALID), "text/plain", 415),
        (json.dumps(VALID), None, 415),
        ("name=bolt", "application/x-www-form-urlencoded", 415),
        (json.dumps({**VALID, "name": "x" * 70_000}), "application/json", 413),
        # A RecursionError in the parser (it was a 500).
        ("[" * 5000 + "]" * 5000, "application/json", 400),
        ('{"name": ' * 3000 + "1" + "}" * 3000, "application/json", 400),
        # Python refuses to parse integers of more than 4,300 digits (a ValueError).
        ('{"name": "a", "quantity": ' + "9" * 5000 + ', "price": 1}', "application/json", 400),
        (json.dumps(VALID).encode("utf-16"), "application/json", 201),  # JSON may be UTF-16
        (json.dumps(VALID), "application/json; charset=no-such-charset", 201),
    ],
)
def test_unreadable_body_is_rejected_and_nothing_written(
    client, count_rows, data, content_type, status
):
    response = client.post("/api/items", data=data, content_type=content_type)
    assert response.status_code == status
    if status == 201:  # the charset parameter is ignored: JSON's encoding is detected
        assert count_rows("items") == 1
        return
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert count_rows("items") == 0


def test_merge_patch_content_type_is_json(client):
    item = post_item(client).json
    response = client.patch(
        f"/api/items/{item['id']}",
        data=json.dumps({"quantity": 9}),
        content_type="application/merge-patch+json",
    )
    assert response.status_code == 200
    assert response.json["quantity"] == 9


def test_retry_with_same_key_returns_the_first_result(client, count_rows):
    first = post_item(client, **{"Idempotency-Key": "order-1"})
    # Same content, other formatting: still the same request.
    retry = post_item(
        client, {"price": 1.5, "quantity": 3, "name": "bolt"}, **{"Idempotency-Key": "order-1"}
    )
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json == first.json
    assert retry.headers["Location"] == first.headers["Location"]
    assert count_rows("items") == 1


def test_reused_key_with_another_body_is_409(client, count_rows):
    post_item(client, **{"Idempotency-Key": "order-2"})
    response = post_item(client, {**VALID, "quantity": 4}, **{"Idempotency-Key": "order-2"})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert count_rows("items") == 1


def test_retry_after_delete_still_returns_the_first_result(client, count_rows):
    first = post_item(client, **{"Idempotency-Key": "order-3"})
    client.delete(first.headers["Location"])
    retry = post_item(client, **{"Idempotency-Key": "order-3"})
    assert retry.status_code == 200 and retry.json == first.json
    assert count_rows("items") == 0


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "order 1", "order\t1", "commande-\u00e9t\u00e9", "\x7f", "a\x01b"]
)
def test_bad_idempotency_key_is_400(client, count_rows, key):
    response = client.post(
        "/api/items", json=VALID, headers=[("Idempotency-Key", key.encode().decode("latin-1"))]
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "Idempotency-Key" in response.json["detail"]
    assert count_rows("items") == 0


def test_longest_idempotency_key_is_accepted(client):
    key = "".join(chr(c) for c in range(0x21, 0x7F)) * 3  # every visible ASCII character
    assert post_item(client, **{"Idempotency-Key": key[:255]}).status_code == 201


def test_list_items_pages_by_cursor(client):
    ids = [post_item(client, {**VALID, "name": f"item {n}"}).json["id"] for n in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/items", query_string=query).json
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    assert pages == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "aWQ6eA"}, "cursor"),  # base64 of "id:x"
        ({"limit": "9" * 30}, "limit"),
        ({"cursor": "\u00e9\u00e9\u00e9\u00e9"}, "cursor"),  # not base64
        ({"cursor": "aWQ6wrI"}, "cursor"),  # "id:²": a digit to str.isdigit, not to int()
    ],
)
def test_bad_list_parameters_are_422(client, query, field):
    response = client.get("/api/items", query_string=query)
    assert response.status_code == 422
    assert [error["field"] for error in response.json["errors"]] == [field]


def test_cursor_beyond_bigint_is_an_empty_page(client):
    cursor = ListItemsQuery.encode_cursor(10**30)
    response = client.get("/api/items", query_string={"cursor": cursor})
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


def test_get_item(client):
    item = post_item(client).json
    assert client.get(f"/api/items/{item['id']}").json == item


MISSING_ITEMS = [
    "/api/items/999",
    "/api/items/abc",
    "/api/items/-1",
    "/api/items/9223372036854775808",  # beyond bigint
    "/api/items/" + "9" * 40,
]


@pytest.mark.parametrize("path", MISSING_ITEMS)
def test_missing_item_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", MISSING_ITEMS)
def test_patch_and_delete_of_missing_item_are_404(client, path):
    assert client.patch(path, json={"quantity": 1}).status_code == 404
    assert client.delete(path).status_code == 404


def test_patch_changes_only_given_fields(client):
    item = post_item(client).json
    response = client.patch(f"/api/items/{item['id']}", json={"price": "2.25"})
    assert response.status_code == 200
    changed = response.json
    assert changed["price"] == "2.25"
    assert (changed["name"], changed["quantity"]) == (item["name"], item["quantity"])
    assert changed["updated_at"] > item["updated_at"]


@pytest.mark.parametrize(
    "body", [{}, {"name": None}, {"quantity": -5}, {"price": "1.234"}, {"id": 7}]
)
def test_invalid_patch_is_422_and_changes_nothing(client, body):
    item = post_item(client).json
    response = client.patch(f"/api/items/{item['id']}", json=body)
    assert response.status_code == 422
    assert client.get(f"/api/items/{item['id']}").json == item


def test_patch_missing_item_is_404(client):
    assert client.patch("/api/items/12345", json={"quantity": 1}).status_code == 404


def test_delete_item(client, count_rows):
    item = post_item(client).json
    assert client.delete(f"/api/items/{item['id']}").status_code == 204
    assert client.delete(f"/api/items/{item['id']}").status_code == 404
    assert count_rows("items") == 0


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/items", json=VALID)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "POST" in response.headers["Allow"]

"""Request and response shapes, validated by pydantic: Create/Update/Public per resource."""

import base64
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

# Money travels as a string ("12.50") so no client parses it into a binary float; it may
# arrive as a JSON number too. numeric(12, 2): ten digits, then at most two decimals.
PRICE_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
MAX_PRICE = Decimal("9999999999.99")


def _price_text(value):
    """A price given as a string must look like one ("12.50"): no exponent, sign or spaces."""
    if isinstance(value, str) and not re.fullmatch(PRICE_PATTERN, value):
        raise ValueError('a price is digits with at most two decimals, e.g. "12.50"')
    return value


Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2),
    BeforeValidator(_price_text),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": PRICE_PATTERN},
            ]
        },
        mode="validation",
    ),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,10}\.[0-9]{2}$"}, mode="serialization"),
]
# No control characters: PostgreSQL cannot store NUL in text, and a name is one line.
Name = Annotated[
    StrictStr, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
]


def _json_number(value):
    """A JSON number, never a string or a boolean: 3 and 3.0 are the same integer in JSON (and
    to JSON Schema's "integer"); "3" and true are not numbers at all."""
    if isinstance(value, str | bool):
        raise ValueError("Input should be a valid integer")
    return value


# Lax int after the check above: 3.0 (a Decimal here: the body is parsed with parse_float) is
# accepted as 3, 3.5 is refused.
Quantity = Annotated[int, Field(ge=0, le=2_147_483_647), BeforeValidator(_json_number)]
# Visible ASCII, at most the column's 255: a key is an opaque token (typically a UUID) that must
# reach the log and the database unchanged; control characters and non-ASCII are refused.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"


class ItemCreate(BaseModel):
    """The body of POST /api/items."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    quantity: Quantity
    price: Price


def _without_defaults(schema: dict) -> None:
    """Drop the None defaults from a JSON schema: they stand for "absent", not a value."""
    for field_schema in schema["properties"].values():
        field_schema.pop("default", None)


def _patch_schema(schema: dict) -> None:
    """ItemUpdate's JSON schema: fields without defaults, and at least one of them."""
    _without_defaults(schema)
    # anyOf rather than minProperties: with minProperties, hypothesis-jsonschema (under
    # schemathesis) generates undeclared members despite additionalProperties: false.
    schema["anyOf"] = [{"required": [name]} for name in schema["properties"]]


class ItemUpdate(BaseModel):
    """The body of PATCH /api/items/<id>: any subset of the fields, at least one."""

    # The None defaults are not validated, but an explicit null is (and is refused): every
    # column is NOT NULL, so "absent" and "null" must not mean the same thing.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)
    name: Name = None
    quantity: Quantity = None
    price: Price = None

    @model_validator(mode="after")
    def _not_empty(self) -> "ItemUpdate":
        if not self.model_fields_set:
            raise ValueError("at least one of name, quantity, price is required")
        return self


class ItemPublic(BaseModel):
    """An item as the API returns it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    quantity: int
    price: Price
    created_at: datetime
    updated_at: datetime


class ItemPage(BaseModel):
    """One page of items and the cursor of the next page (null on the last page)."""

    items: list[ItemPublic]
    next_cursor: str | None


class ListItemsQuery(BaseModel):
    """Query parameters of GET /api/items. The cursor is opaque to clients: it encodes the
    last id of the previous page (keyset pagination: no OFFSET scans, stable under inserts)."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="next_cursor of the previous page (opaque; any other value: 422)",
    )

    @field_validator("cursor")
    @classmethod
    def _decodable(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            cls.decode_cursor(cursor)
        return cursor

    @property
    def after_id(self) -> int:
        return self.decode_cursor(self.cursor) if self.cursor else 0

    @staticmethod
    def encode_cursor(last_id: int) -> str:
        return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")

    @staticmethod
    def decode_cursor(cursor: str) -> int:
        try:
            decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            prefix, last_id = decoded.split(":")
            if prefix != "id" or not last_id.isdigit():
                raise ValueError
            return int(last_id)
        except ValueError:
            raise ValueError("not a cursor returned by this API") from None


class SleepQuery(BaseModel):
    """Query parameters of the simulated-latency endpoints."""

    model_config = ConfigDict(extra="ignore")
    ms: int = Field(ge=0, le=10_000)


class FieldError(BaseModel):
    """One invalid field of a 422."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document: every error, from the API, gunicorn's parser or nginx."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str | None = Field(None, description="The request's path (absent from nginx)")
    request_id: str | None = Field(None, description="X-Request-ID; quote it when reporting")
    errors: list[FieldError] | None = Field(None, description="422 only: each invalid field")


class IdempotencyHeaders(BaseModel):
    """Headers of POST /api/items."""

    model_config = ConfigDict(json_schema_extra=_without_defaults)
    idempotency_key: str = Field(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1-255 visible ASCII characters (a UUID, say). A retry with the same key "
        "and body returns the first result; keys expire (IDEMPOTENCY_KEY_TTL_HOURS).",
    )


class QueriesQuery(BaseModel):
    """Query parameters of the TFB multi-query endpoints (lenient, by TFB's rules)."""

    queries: str | None = Field(
        None, description="Rows to fetch, clamped to 1-500; missing or not an integer: 1"
    )


class World(BaseModel):
    """A TechEmpower World row."""

    id: int = Field(ge=1, le=10_000)
    randomNumber: int = Field(ge=1, le=10_000)


class Message(BaseModel):
    """The TechEmpower JSON test's object."""

    message: str


class Slept(BaseModel):
    """How long a simulated-latency endpoint waited."""

    slept_ms: int


class Busy(BaseModel):
    """How long /cpu computed."""

    busy_ms: int


class Status(BaseModel):
    """A probe's answer."""

    status: str

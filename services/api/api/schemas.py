"""Request and response shapes, validated by pydantic: Create/Update/Public per resource."""

import base64
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

# Money travels as a string ("12.50") so no client parses it into a binary float.
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
]
# No control characters: PostgreSQL cannot store NUL in text, and a name is one line.
Name = Annotated[
    StrictStr, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")
]
Quantity = Annotated[StrictInt, Field(ge=0, le=2_147_483_647)]


class ItemCreate(BaseModel):
    """The body of POST /api/items."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    quantity: Quantity
    price: Price


class ItemUpdate(BaseModel):
    """The body of PATCH /api/items/<id>: any subset of the fields, at least one."""

    # The None defaults are not validated, but an explicit null is (and is refused): every
    # column is NOT NULL, so "absent" and "null" must not mean the same thing.
    model_config = ConfigDict(extra="forbid")
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
    cursor: str | None = None

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

"""Tables, as typed SQLAlchemy 2 models. The schema itself comes only from migrations/."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    Numeric,
    String,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class World(Base):
    """TechEmpower's `world` table: 10,000 rows of (id, randomnumber)."""

    __tablename__ = "world"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    randomnumber: Mapped[int] = mapped_column(Integer)


class Fortune(Base):
    """TechEmpower's `fortune` table: 12 messages, some needing HTML escaping."""

    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048))


class Item(Base):
    """An inventory item: the example resource of the API."""

    __tablename__ = "items"
    # Fetch server-generated timestamps with RETURNING instead of a second SELECT.
    __mapper_args__ = {"eager_defaults": True}
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class IdempotencyKey(Base):
    """The first response to a POST carrying an Idempotency-Key, replayed for retries.

    The primary key makes concurrent retries safe: only one INSERT can win.
    """

    __tablename__ = "idempotency_keys"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("items.id", ondelete="SET NULL")
    )
    response: Mapped[dict | None] = mapped_column(JSON)  # json, not jsonb: keeps key order
    # Indexed: the cleanup finds expired keys by it (api/idempotency_cleanup.py).
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )

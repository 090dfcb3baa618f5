"""create world, fortune, items and idempotency_keys

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "world",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("randomnumber", sa.Integer, nullable=False),
    )
    op.create_table(
        "fortune",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("message", sa.String(2048), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("quantity >= 0", name="items_quantity_not_negative"),
        sa.CheckConstraint("price >= 0", name="items_price_not_negative"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("item_id", sa.BigInteger, sa.ForeignKey("items.id", ondelete="SET NULL")),
        sa.Column("response", sa.JSON),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("items")
    op.drop_table("fortune")
    op.drop_table("world")

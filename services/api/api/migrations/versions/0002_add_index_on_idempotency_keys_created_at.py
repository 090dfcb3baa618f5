"""add index on idempotency_keys.created_at

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The expiry cleanup's lookup (api/idempotency_cleanup.py). Not CONCURRENTLY: migrations
    # run in one transaction, and the table only holds a day of keys.
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")

"""Seed default feature flags

Revision ID: 010
Revises: 009
"""

from alembic import op

revision = "010"
down_revision = "009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO feature_flags (id, key, enabled, description) VALUES "
        "(gen_random_uuid(), 'market_insights', true, 'Market insights dashboard'), "
        "(gen_random_uuid(), 'price_alerts', false, 'Price alert e-mails')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM feature_flags")

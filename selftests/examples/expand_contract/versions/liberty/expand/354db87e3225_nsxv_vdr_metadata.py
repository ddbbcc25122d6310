"""Start of the expand branch

Revision ID: 354db87e3225
Revises: kilo
"""

from alembic import op

import example_cli as cli

revision = "354db87e3225"
down_revision = "kilo"
branch_labels = (cli.EXPAND_BRANCH,)
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")

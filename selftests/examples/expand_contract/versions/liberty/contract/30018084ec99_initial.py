from alembic import op

import example_cli as cli

revision = "30018084ec99"
down_revision = "kilo"
branch_labels = (cli.CONTRACT_BRANCH,)
depends_on = None


def upgrade() -> None:
    op.execute("SELECT 1")


def downgrade() -> None:
    op.execute("SELECT 1")

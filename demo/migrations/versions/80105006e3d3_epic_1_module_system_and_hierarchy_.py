"""Epic 1 module system and hierarchy

The migration the incident's database never received: the deployed code's auth path loads the
user's hierarchy relationships from these tables on every request.

Revision ID: 80105006e3d3
Revises: 010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "80105006e3d3"
down_revision = "010"
branch_labels = None
depends_on = None

HIERARCHY_LEVEL = postgresql.ENUM("organization", "location", "department", "user", name="hierarchylevel", create_type=False)
ENHANCED_USER_ROLE = postgresql.ENUM(
    "super_admin", "client_admin", "admin", "analyst", "viewer", name="enhanceduserrole", create_type=False
)


def upgrade() -> None:
    HIERARCHY_LEVEL.create(op.get_bind())
    ENHANCED_USER_ROLE.create(op.get_bind())
    op.create_table(
        "organization_hierarchy",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organization_id", sa.Uuid(), sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("parent_id", sa.Uuid(), sa.ForeignKey("organization_hierarchy.id"), nullable=True),
        sa.Column("level", HIERARCHY_LEVEL, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "user_hierarchy_assignments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("hierarchy_node_id", sa.Uuid(), sa.ForeignKey("organization_hierarchy.id"), nullable=False),
        sa.Column("role", ENHANCED_USER_ROLE, nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "hierarchy_permission_overrides",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("hierarchy_node_id", sa.Uuid(), sa.ForeignKey("organization_hierarchy.id"), nullable=False),
        sa.Column("permission", sa.String(100), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_organization_hierarchy_parent_id", "organization_hierarchy", ["parent_id"])
    op.create_index("ix_user_hierarchy_assignments_user_id", "user_hierarchy_assignments", ["user_id"])
    op.create_index("ix_user_hierarchy_assignments_hierarchy_node_id", "user_hierarchy_assignments", ["hierarchy_node_id"])
    op.create_index("ix_hierarchy_permission_overrides_user_id", "hierarchy_permission_overrides", ["user_id"])
    op.create_index(
        "uq_user_hierarchy_assignments_user_node", "user_hierarchy_assignments", ["user_id", "hierarchy_node_id"], unique=True
    )


def downgrade() -> None:
    op.drop_table("hierarchy_permission_overrides")
    op.drop_table("user_hierarchy_assignments")
    op.drop_table("organization_hierarchy")
    ENHANCED_USER_ROLE.drop(op.get_bind())
    HIERARCHY_LEVEL.drop(op.get_bind())

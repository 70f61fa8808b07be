"""Code-system store: code systems, concepts, designations, hierarchy edges.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "code_system",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("title", sa.String(length=512), nullable=True),
        sa.Column("publisher", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("languages", Json, nullable=False),
        sa.Column("source_format", sa.String(length=32), nullable=False),
        sa.Column("source_name", sa.String(length=512), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concept_count", sa.Integer(), nullable=False),
        sa.UniqueConstraint("url", "version", name="uq_code_system_url_version"),
    )
    op.create_index("ix_code_system_url", "code_system", ["url"])
    op.create_table(
        "concept",
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=256), nullable=False),
        sa.Column("display", sa.String(), nullable=True),
        sa.Column("definition", sa.String(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("properties", Json, nullable=True),
        sa.Column("parents", Json, nullable=True),
        sa.PrimaryKeyConstraint("system_id", "code"),
        sqlite_with_rowid=False,
        postgresql_partition_by="LIST (system_id)",
    )
    op.create_table(
        "designation",
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=256), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("system_id", "ordinal"),
        sqlite_with_rowid=False,
        postgresql_partition_by="LIST (system_id)",
    )
    op.create_index("ix_designation_system_code", "designation", ["system_id", "code"])
    op.create_table(
        "hierarchy_edge",
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("parent_code", sa.String(length=256), nullable=False),
        sa.Column("child_code", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("system_id", "parent_code", "child_code"),
        sqlite_with_rowid=False,
        postgresql_partition_by="LIST (system_id)",
    )


def downgrade() -> None:
    op.drop_table("hierarchy_edge")
    op.drop_index("ix_designation_system_code", table_name="designation")
    op.drop_table("designation")
    op.drop_table("concept")
    op.drop_index("ix_code_system_url", table_name="code_system")
    op.drop_table("code_system")

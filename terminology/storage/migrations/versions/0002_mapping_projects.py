"""Mapping projects and their candidates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "mapping_project",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("source_system_id", sa.Integer(), sa.ForeignKey("code_system.id"), nullable=False),
        sa.Column("target_system_id", sa.Integer(), sa.ForeignKey("code_system.id"), nullable=False),
        sa.Column("rules", Json, nullable=False),
        sa.Column("settings", Json, nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "mapping_candidate",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("mapping_project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_code", sa.String(length=256), nullable=False),
        sa.Column("target_code", sa.String(length=256), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("equivalence", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("rules", Json, nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "source_code", "target_code"),
    )


def downgrade() -> None:
    op.drop_table("mapping_candidate")
    op.drop_table("mapping_project")

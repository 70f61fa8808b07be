"""Published ConceptMap versions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "concept_map",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_uri", sa.String(length=1024), nullable=True),
        sa.Column("target_uri", sa.String(length=1024), nullable=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("mapping_project.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("resource", Json, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("url", "version", name="uq_concept_map_url_version"),
    )
    op.create_index("ix_concept_map_url", "concept_map", ["url"])


def downgrade() -> None:
    op.drop_table("concept_map")

"""Refits of a project's model as jobs: one running per project across every worker and
process (a unique ``running_project_id``), with progress, heartbeat and peak memory.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrain_job",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id", sa.Integer, sa.ForeignKey("mapping_project.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("running_project_id", sa.Integer, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("message", sa.String(2000), nullable=True),
        sa.Column("result", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True),
        sa.Column("peak_rss_mb", sa.Integer, nullable=True),
    )
    op.create_index("ix_retrain_job_project_id", "retrain_job", ["project_id"])
    op.create_index("ix_retrain_job_running_project_id", "retrain_job", ["running_project_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_retrain_job_running_project_id", "retrain_job")
    op.drop_index("ix_retrain_job_project_id", "retrain_job")
    op.drop_table("retrain_job")

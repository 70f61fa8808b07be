"""The queue's "most useful to decide next" order: each row keeps the gap between its best
and second-best candidate's probability, written when the project is matched (and
re-matched after retraining), so the order is one indexed read of the queue.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mapping_row") as batch:
        batch.add_column(sa.Column("best_margin", sa.Float, nullable=True))
        batch.create_index("ix_mapping_row_best_margin", ["project_id", "best_margin"])


def downgrade() -> None:
    with op.batch_alter_table("mapping_row") as batch:
        batch.drop_index("ix_mapping_row_best_margin")
        batch.drop_column("best_margin")

"""What a work queue of tens of thousands of rows filters and sorts on, kept on the row.

A row now carries its best candidate's score and method, its place in the source
hierarchy (the chapter, and every ancestor for subtree filters) and the source's usage
frequency, so a queue page is one indexed read instead of a group-by over every
candidate. Audit events carry the bulk batch they belong to, so a batch can be undone as
one event. Existing rows get their best candidate here; their hierarchy and frequency are
filled the next time the project is matched (``concordance match`` or ``--retrain``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mapping_row") as batch:
        batch.add_column(sa.Column("best_score", sa.Float, nullable=True))
        batch.add_column(sa.Column("best_method", sa.String(32), nullable=True))
        batch.add_column(sa.Column("chapter", sa.String(256), nullable=True))
        batch.add_column(sa.Column("ancestors", sa.Text, nullable=True))
        batch.add_column(sa.Column("frequency", sa.Float, nullable=True))
        batch.create_index("ix_mapping_row_best_score", ["project_id", "best_score"])
    with op.batch_alter_table("mapping_event") as batch:
        batch.add_column(sa.Column("batch", sa.String(36), nullable=True))
        batch.create_index("ix_mapping_event_batch", ["batch"])
    candidates = sa.table(
        "mapping_candidate",
        sa.column("project_id", sa.Integer),
        sa.column("source_code", sa.String),
        sa.column("score", sa.Float),
        sa.column("method", sa.String),
        sa.column("rank", sa.Integer),
    )
    rows = sa.table(
        "mapping_row",
        sa.column("project_id", sa.Integer),
        sa.column("source_code", sa.String),
        sa.column("best_score", sa.Float),
        sa.column("best_method", sa.String),
    )
    same_row = sa.and_(
        candidates.c.project_id == rows.c.project_id, candidates.c.source_code == rows.c.source_code
    )
    best = sa.select(sa.func.max(candidates.c.score)).where(same_row).scalar_subquery()
    method = (
        sa.select(candidates.c.method)
        .where(same_row)
        .order_by(candidates.c.score.desc(), candidates.c.rank)
        .limit(1)
        .scalar_subquery()
    )
    op.get_bind().execute(rows.update().values(best_score=best, best_method=method))


def downgrade() -> None:
    with op.batch_alter_table("mapping_event") as batch:
        batch.drop_index("ix_mapping_event_batch")
        batch.drop_column("batch")
    with op.batch_alter_table("mapping_row") as batch:
        batch.drop_index("ix_mapping_row_best_score")
        for column in ("frequency", "ancestors", "chapter", "best_method", "best_score"):
            batch.drop_column(column)

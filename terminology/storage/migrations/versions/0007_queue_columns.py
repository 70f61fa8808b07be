"""What a work queue of tens of thousands of rows filters and sorts on, kept on the row.

A row now carries its best candidate's score and method, its place in the source
hierarchy (the chapter, and every ancestor for subtree filters) and the source's usage
frequency, so a queue page is one indexed read instead of a group-by over every
candidate; its code and label are kept folded (accents, case) for the queue's search. Audit events carry the bulk batch they belong to, so a batch can be undone as
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
        batch.add_column(sa.Column("search_text", sa.Text, nullable=True))
        batch.create_index("ix_mapping_row_best_score", ["project_id", "best_score"])
        batch.create_index("ix_mapping_row_project_status", ["project_id", "status", "flagged", "frequency"])
        batch.create_index("ix_mapping_row_chapter", ["project_id", "chapter", "status"])
        batch.create_index("ix_mapping_row_author", ["project_id", "author", "status"])
        batch.create_index("ix_mapping_row_assignee", ["project_id", "assignee", "status"])
        batch.create_index("ix_mapping_row_search", ["project_id", "search_text"])
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
    connection = op.get_bind()
    connection.execute(rows.update().values(best_score=best, best_method=method))
    _fill_search_text(connection)


def _fill_search_text(connection: sa.Connection) -> None:
    """Each row's code and label folded once (accents, case), so queue search is a LIKE."""
    from terminology.text import fold

    rows = sa.table(
        "mapping_row",
        sa.column("project_id", sa.Integer),
        sa.column("source_code", sa.String),
        sa.column("source_label", sa.String),
        sa.column("search_text", sa.Text),
    )
    found = connection.execute(sa.select(rows.c.project_id, rows.c.source_code, rows.c.source_label)).all()
    if found:
        connection.execute(
            rows.update()
            .where(rows.c.project_id == sa.bindparam("p"), rows.c.source_code == sa.bindparam("c"))
            .values(search_text=sa.bindparam("text")),
            [{"p": p, "c": c, "text": fold(f"{c} {label or ''}")[:500]} for p, c, label in found],
        )


def downgrade() -> None:
    with op.batch_alter_table("mapping_event") as batch:
        batch.drop_index("ix_mapping_event_batch")
        batch.drop_column("batch")
    with op.batch_alter_table("mapping_row") as batch:
        batch.drop_index("ix_mapping_row_best_score")
        for index in ("project_status", "chapter", "author", "assignee", "search"):
            batch.drop_index(f"ix_mapping_row_{index}")
        for column in ("search_text", "frequency", "ancestors", "chapter", "best_method", "best_score"):
            batch.drop_column(column)

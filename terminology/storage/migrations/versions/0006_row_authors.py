"""A row's authors as a list (four eyes for both authors of a blind double review).

Rows decided before keep their author: one person, or the ``a+b`` of an agreed double
review, split here.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("mapping_row") as batch:
        batch.add_column(sa.Column("authors", JsonType, nullable=True))
    rows = sa.table(
        "mapping_row",
        sa.column("project_id", sa.Integer),
        sa.column("source_code", sa.String),
        sa.column("author", sa.String),
        sa.column("authors", JsonType),
    )
    projects = sa.table("mapping_project", sa.column("id", sa.Integer), sa.column("settings", JsonType))
    connection = op.get_bind()
    double = {
        record.id
        for record in connection.execute(sa.select(projects.c.id, projects.c.settings))
        if (record.settings or {}).get("review") == "double"
    }
    for record in connection.execute(sa.select(rows.c.project_id, rows.c.source_code, rows.c.author)).all():
        author = record.author or ""
        if not author or author.startswith("matching:"):
            authors: list[str] = []
        elif record.project_id in double and "+" in author:
            authors = author.split("+")
        else:
            authors = [author]
        connection.execute(
            rows.update()
            .where(rows.c.project_id == record.project_id, rows.c.source_code == record.source_code)
            .values(authors=authors)
        )
    with op.batch_alter_table("mapping_row") as batch:
        batch.alter_column("authors", existing_type=JsonType, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("mapping_row") as batch:
        batch.drop_column("authors")

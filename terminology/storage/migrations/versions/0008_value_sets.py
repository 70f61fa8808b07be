"""Stored ValueSet versions (imported, or written through the FHIR API), and a revision
counter on ConceptMap versions (FHIR ``meta.versionId``, what ``If-Match`` compares).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "value_set",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("version", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("resource", Json, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("url", "version", name="uq_value_set_url_version"),
    )
    op.create_index("ix_value_set_url", "value_set", ["url"])
    with op.batch_alter_table("concept_map") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("concept_map") as batch:
        batch.drop_column("revision")
    op.drop_table("value_set")

"""Curation: users, project members, mapping rows, blind answers and the audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def project_key() -> sa.Column[int]:
    return sa.Column(
        "project_id", sa.Integer(), sa.ForeignKey("mapping_project.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=128), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "project_member",
        project_key(),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id"),
    )
    op.create_table(
        "mapping_row",
        project_key(),
        sa.Column("source_code", sa.String(length=256), nullable=False),
        sa.Column("source_label", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("targets", Json, nullable=False),
        sa.Column("no_map", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("flag_reason", sa.String(), nullable=True),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("author", sa.String(length=260), nullable=True),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", Stamp, nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("project_id", "source_code"),
    )
    op.create_index("ix_mapping_row_status", "mapping_row", ["status"])
    op.create_table(
        "mapping_answer",
        project_key(),
        sa.Column("source_code", sa.String(length=256), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("targets", Json, nullable=False),
        sa.Column("no_map", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("answered_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "source_code", "author"),
    )
    op.create_table(
        "mapping_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        project_key(),
        sa.Column("source_code", sa.String(length=256), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("before", Json, nullable=True),
        sa.Column("after", Json, nullable=True),
        sa.Column("comment", sa.String(), nullable=True),
    )
    op.create_index("ix_mapping_event_project_id", "mapping_event", ["project_id"])
    _refuse_event_changes()


def _refuse_event_changes() -> None:
    """The audit trail is append-only in the database itself, not only in the code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION mapping_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'mapping_event is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER mapping_event_append_only BEFORE UPDATE OR DELETE ON mapping_event "
            "FOR EACH ROW EXECUTE FUNCTION mapping_event_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER mapping_event_no_{verb.lower()} BEFORE {verb} ON mapping_event "
            "BEGIN SELECT RAISE(ABORT, 'mapping_event is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER mapping_event_append_only ON mapping_event")
        op.execute("DROP FUNCTION mapping_event_append_only()")
    op.drop_table("mapping_event")
    op.drop_table("mapping_answer")
    op.drop_table("mapping_row")
    op.drop_table("project_member")
    op.drop_table("app_user")

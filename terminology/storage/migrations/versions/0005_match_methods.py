"""Candidate methods as the MatchMethod enumeration: ``fuzzy`` is ``lexical``,
``hierarchy`` is ``ancestor``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RENAMED = {"fuzzy": "lexical", "hierarchy": "ancestor"}


def upgrade() -> None:
    candidates = sa.table("mapping_candidate", sa.column("method", sa.String))
    for old, new in RENAMED.items():
        op.execute(candidates.update().where(candidates.c.method == old).values(method=new))


def downgrade() -> None:
    candidates = sa.table("mapping_candidate", sa.column("method", sa.String))
    for old, new in RENAMED.items():
        op.execute(candidates.update().where(candidates.c.method == new).values(method=old))

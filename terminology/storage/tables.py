"""Database rows. Domain code never sees these; the store converts them.

Concepts are keyed by ``(system_id, code)`` and designations and hierarchy
edges refer to that pair, so a whole release can be bulk-loaded (COPY) without
first fetching generated ids. The bulk tables carry no foreign key: PostgreSQL
checks one with a trigger per copied row, which tripled import time. Their rows
are only ever written, whole, in the transaction that creates their code-system
version, and removed with it by the store.

On PostgreSQL the bulk tables are partitioned by version (``LIST (system_id)``):
an import copies into a fresh, unindexed table, builds its keys in one sort and
attaches it, which is several times cheaper than maintaining indexes row by row,
and a version can later be dropped as a unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


class CodeSystemRow(SQLModel, table=True):
    __tablename__ = "code_system"
    __table_args__ = (sa.UniqueConstraint("url", "version", name="uq_code_system_url_version"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=512, index=True)
    version: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)
    title: str | None = Field(default=None, max_length=512)
    publisher: str | None = Field(default=None, max_length=256)
    status: str = Field(default="active", max_length=16)
    languages: list[str] = Field(default_factory=list, sa_type=JsonType)
    source_format: str = Field(max_length=32)
    source_name: str = Field(max_length=512)
    checksum: str = Field(max_length=64)
    imported_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    concept_count: int = 0


class ConceptRow(SQLModel, table=True):
    """Keyed by (system, code) with no surrogate id: one index less to maintain on bulk loads.

    ``parents`` repeats the hierarchy edges of the concept so that "parents of"
    needs no second index on the edge table.
    """

    __tablename__ = "concept"
    __table_args__ = {"sqlite_with_rowid": False, "postgresql_partition_by": "LIST (system_id)"}

    system_id: int = Field(primary_key=True, index=False)
    code: str = Field(max_length=256, primary_key=True)
    display: str | None = None
    definition: str | None = None
    active: bool = True
    properties: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    parents: list[str] | None = Field(default=None, sa_type=JsonType)


class DesignationRow(SQLModel, table=True):
    """``ordinal`` numbers the designations of one version in import order."""

    __tablename__ = "designation"
    __table_args__ = (
        sa.Index("ix_designation_system_code", "system_id", "code"),
        {"sqlite_with_rowid": False, "postgresql_partition_by": "LIST (system_id)"},
    )

    system_id: int = Field(primary_key=True, index=False)
    ordinal: int = Field(primary_key=True, index=False)
    code: str = Field(max_length=256)
    language: str | None = Field(default=None, max_length=16)
    use: str = Field(max_length=32)
    value: str


class HierarchyEdgeRow(SQLModel, table=True):
    """Parent → child links, keyed parent first to answer "children of" (several parents allowed)."""

    __tablename__ = "hierarchy_edge"
    __table_args__ = {"sqlite_with_rowid": False, "postgresql_partition_by": "LIST (system_id)"}

    system_id: int = Field(primary_key=True, index=False)
    parent_code: str = Field(max_length=256, primary_key=True)
    child_code: str = Field(max_length=256, primary_key=True)


CONCEPT_COLUMNS = ("system_id", "code", "display", "definition", "active", "properties", "parents")
DESIGNATION_COLUMNS = ("system_id", "ordinal", "code", "language", "use", "value")
VERSIONED_TABLES: dict[str, tuple[str, ...]] = {
    "concept": ("PRIMARY KEY (system_id, code)",),
    "designation": ("PRIMARY KEY (system_id, ordinal)", "INDEX (system_id, code)"),
    "hierarchy_edge": ("PRIMARY KEY (system_id, parent_code, child_code)",),
}
"""The keys each version's partition gets once its rows are in (PostgreSQL)."""
EDGE_COLUMNS = ("system_id", "parent_code", "child_code")


class MappingProjectRow(SQLModel, table=True):
    """A source version aligned to a target version, with the rules and settings used."""

    __tablename__ = "mapping_project"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=256, unique=True)
    source_system_id: int = Field(foreign_key="code_system.id")
    target_system_id: int = Field(foreign_key="code_system.id")
    rules: list[str] = Field(default_factory=list, sa_type=JsonType)
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JsonType)
    matched_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class MappingCandidateRow(SQLModel, table=True):
    """A proposed target for a source concept; curation decides on it later."""

    __tablename__ = "mapping_candidate"

    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", primary_key=True)
    source_code: str = Field(max_length=256, primary_key=True)
    target_code: str = Field(max_length=256, primary_key=True)
    rank: int
    score: float
    equivalence: str = Field(max_length=32)
    method: str = Field(max_length=32)
    rules: list[str] = Field(default_factory=list, sa_type=JsonType)
    reason: str


class UserRow(SQLModel, table=True):
    """A person (or an interface) who calls the API; only a hash of the token is kept."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    publisher: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """May write CodeSystems, ValueSets and ConceptMaps through the FHIR API (server-wide)."""


class ProjectMemberRow(SQLModel, table=True):
    """A user's role in one mapping project."""

    __tablename__ = "project_member"

    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", primary_key=True)
    role: str = Field(max_length=16)


class MappingRowRow(SQLModel, table=True):
    """The current decision for one source concept of a project; ``version`` guards edits."""

    __tablename__ = "mapping_row"
    __table_args__ = (  # covering indexes: a 36,000-row queue's counts never read whole rows
        sa.Index("ix_mapping_row_best_score", "project_id", "best_score"),
        sa.Index("ix_mapping_row_project_status", "project_id", "status", "flagged", "frequency"),
        sa.Index("ix_mapping_row_chapter", "project_id", "chapter", "status"),
        sa.Index("ix_mapping_row_author", "project_id", "author", "status"),
        sa.Index("ix_mapping_row_assignee", "project_id", "assignee", "status"),
        sa.Index("ix_mapping_row_search", "project_id", "search_text"),
        sa.Index("ix_mapping_row_best_margin", "project_id", "best_margin"),
    )

    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", primary_key=True)
    source_code: str = Field(max_length=256, primary_key=True)
    source_label: str | None = None
    status: str = Field(max_length=16, index=True)
    targets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonType)
    no_map: bool = False
    comment: str | None = None
    flagged: bool = False
    flag_reason: str | None = None
    assignee: str | None = Field(default=None, max_length=128)
    author: str | None = Field(default=None, max_length=260)
    authors: list[str] = Field(default_factory=list, sa_type=JsonType)
    reviewer: str | None = Field(default=None, max_length=128)
    version: int = 1
    updated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    updated_by: str | None = Field(default=None, max_length=128)
    best_score: float | None = None
    """The best candidate's score and method, kept here so a queue filters and sorts on them."""
    best_method: str | None = Field(default=None, max_length=32)
    best_margin: float | None = None
    """Best minus second-best candidate probability: the "most useful next" order (smallest first)."""
    chapter: str | None = Field(default=None, max_length=256)
    """The source concept's root in its hierarchy (its chapter)."""
    ancestors: str | None = Field(default=None, sa_type=sa.Text)
    """Every ancestor of the source concept, each between two US (\\x1f) separators."""
    frequency: float | None = None
    """How often the source code is used (its system's frequency property), if known."""
    search_text: str | None = Field(default=None, sa_type=sa.Text)
    """The code and label folded (:func:`terminology.text.fold`), at most 500 characters (an
    index key): what the queue's search reads."""


class MappingAnswerRow(SQLModel, table=True):
    """One author's blind answer in double review, hidden from the other author."""

    __tablename__ = "mapping_answer"

    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", primary_key=True)
    source_code: str = Field(max_length=256, primary_key=True)
    author: str = Field(max_length=128, primary_key=True)
    targets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JsonType)
    no_map: bool = False
    comment: str | None = None
    answered_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class MappingEventRow(SQLModel, table=True):
    """The append-only audit trail: who changed which row, when, from what, to what, why."""

    __tablename__ = "mapping_event"
    __table_args__ = (sa.Index("ix_mapping_event_batch", "batch"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", index=True)
    source_code: str = Field(max_length=256)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor: str = Field(max_length=128)
    action: str = Field(max_length=32)
    before: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    after: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    comment: str | None = None
    batch: str | None = Field(default=None, max_length=36)
    """The bulk decision this event belongs to: a batch is undone as one."""


class ConceptMapRow(SQLModel, table=True):
    """A published (or imported) ConceptMap version; ``resource`` is the immutable JSON."""

    __tablename__ = "concept_map"
    __table_args__ = (sa.UniqueConstraint("url", "version", name="uq_concept_map_url_version"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=1024, index=True)
    version: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)
    status: str = Field(max_length=16)
    source_uri: str | None = Field(default=None, max_length=1024)
    target_uri: str | None = Field(default=None, max_length=1024)
    project_id: int | None = Field(default=None, foreign_key="mapping_project.id", ondelete="SET NULL")
    resource: dict[str, Any] = Field(sa_type=JsonType)
    published_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """Changes of the version's status (FHIR ``meta.versionId``, what ``If-Match`` compares)."""


class ValueSetRow(SQLModel, table=True):
    """A stored ValueSet version (imported, or written through the FHIR API). A draft's
    content may be replaced (``revision`` counts the changes, FHIR's ``meta.versionId``);
    an active or retired version's content never changes."""

    __tablename__ = "value_set"
    __table_args__ = (sa.UniqueConstraint("url", "version", name="uq_value_set_url_version"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=1024, index=True)
    version: str = Field(max_length=128)
    name: str | None = Field(default=None, max_length=256)
    status: str = Field(max_length=16)
    revision: int = Field(default=1)
    resource: dict[str, Any] = Field(sa_type=JsonType)
    stored_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    changed_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


class RetrainJobRow(SQLModel, table=True):
    """One refit of a project's model. ``running_project_id`` is the lock: it holds the
    project's id while the refit runs (unique, so a second claim fails in the database,
    whichever worker or process makes it) and NULL once it is over."""

    __tablename__ = "retrain_job"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="mapping_project.id", ondelete="CASCADE", index=True)
    running_project_id: int | None = Field(default=None, unique=True, index=True)
    state: str = Field(max_length=16)
    requested_by: str = Field(max_length=128)
    started_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    heartbeat_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    finished_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    progress: int = 0
    total: int = 0
    message: str | None = Field(default=None, max_length=2000)
    result: dict[str, Any] | None = Field(default=None, sa_type=JsonType)
    peak_rss_mb: int | None = None

"""What the services need from storage: one Protocol per aggregate, and the bundle of them
a service receives.

The services (:mod:`terminology.services`) are typed against :class:`Backends` alone: they
read code systems through it and reach each aggregate through its named part — ``rows``,
``projects``, ``users``, ``maps``, ``value_sets``, ``jobs`` — and never see a SQL type. The
Protocols speak only the domain's types (:mod:`terminology.models`,
:mod:`terminology.records`, :mod:`terminology.review`), so this module is domain too. The
SQL backend (:class:`terminology.storage.database.SqlDatabase`) provides them all, for SQLite
and PostgreSQL alike, and mypy checks that it fits; the storage tests run every aggregate
through these Protocols on both databases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

import polars as pl

from terminology.models import Candidate, CodeChanges, CodeSystem, CodeSystemMetadata, Concept
from terminology.records import (
    Change,
    Event,
    JobState,
    MappingProject,
    Project,
    RecordedMatch,
    RetrainJob,
    RowQuery,
    StoredMap,
    StoredValueSet,
    User,
)
from terminology.review.context import Placement
from terminology.review.double import Answer
from terminology.review.workflow import MappingRow, Role, Status, Target


class CodeSystemStore(Protocol):
    """What the rest of Concordance needs from storage."""

    def code_systems(self) -> list[CodeSystem]: ...

    def find_code_system(self, url: str, version: str | None = None) -> CodeSystem | None: ...

    def code_system(self, url: str, version: str | None = None) -> CodeSystem: ...

    def concepts(
        self, system: CodeSystem, *, search: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Concept]: ...

    def children(self, system: CodeSystem, code: str) -> list[str]: ...

    def concept(self, system: CodeSystem, code: str) -> Concept | None: ...

    def concepts_by_code(self, system: CodeSystem, codes: Iterable[str]) -> dict[str, Concept]: ...

    def known_codes(self, system: CodeSystem, codes: Iterable[str]) -> set[str]: ...

    def displays(self, system: CodeSystem, codes: Iterable[str]) -> dict[str, str | None]: ...

    def labels_frame(self, system: CodeSystem) -> pl.DataFrame: ...

    def concept_frame(self, system: CodeSystem) -> pl.DataFrame: ...

    def parents_frame(self, system: CodeSystem) -> pl.DataFrame: ...

    def property_frame(self, system: CodeSystem, name: str) -> pl.DataFrame: ...

    def code_system_by_id(self, system_id: int) -> CodeSystem: ...

    def previous_version(self, system: CodeSystem) -> CodeSystem | None: ...

    def changes_between(self, old: CodeSystem, new: CodeSystem) -> CodeChanges: ...

    def refresh_statistics(self) -> None: ...

    def begin_import(
        self, metadata: CodeSystemMetadata, *, source_format: str, source_name: str, checksum: str
    ) -> Any: ...


class ProjectStorage(Protocol):
    """Mapping projects and their candidates."""

    def list_projects(self, user_id: int | None = None) -> list[Project]: ...

    def get_project(self, project: int | str) -> Project: ...

    def set_review_mode(self, project: Project, review: Literal["single", "double"]) -> Project: ...

    def announce_project(self, name: str, source: CodeSystem, target: CodeSystem) -> Project: ...

    def save_candidates(
        self,
        name: str,
        source: CodeSystem,
        target: CodeSystem,
        found: Sequence[Candidate],
        *,
        rules: Sequence[str],
        settings: dict[str, Any],
        flags: Sequence[Change] = (),
        placed: Mapping[str, Placement] | None = None,
        frequencies: Mapping[str, float] | None = None,
    ) -> MappingProject: ...

    def project_candidates(self, name: str) -> list[dict[str, Any]]: ...

    def recorded_match(self, project_id: int) -> RecordedMatch: ...


class RowStorage(Protocol):
    """A project's rows, blind answers and audit trail: read, and written only as
    :class:`~terminology.records.Change` sets checked against row versions."""

    def get_row(self, project: Project, source_code: str) -> MappingRow: ...

    def get_rows(self, project: Project, codes: Sequence[str]) -> dict[str, MappingRow]: ...

    def list_rows(
        self, project: Project, query: RowQuery, *, count: bool = True
    ) -> tuple[list[tuple[MappingRow, float | None]], int]: ...

    def status_counts(self, project: Project) -> dict[str, int]: ...

    def statuses(self, project: Project, codes: set[str]) -> dict[str, Status]: ...

    def codes_with_status(self, project: Project, status: Status) -> list[str]: ...

    def save_decisions(self, changes: Sequence[Change]) -> None: ...

    def answers_for(self, project: Project, source_code: str) -> tuple[Answer, ...]: ...

    def answered_codes(self, project: Project) -> set[str]: ...

    def project_answers(self, project: Project) -> list[tuple[str, Answer, datetime]]: ...

    def history(
        self,
        project: Project,
        source_code: str | None = None,
        *,
        batch: str | None = None,
        newest_only: bool = False,
    ) -> list[Event]: ...

    def last_event(self, project: Project, source_code: str) -> Event | None: ...

    def batch_events(self, project: Project, batch: str) -> list[Event]: ...

    def row_from_audit(self, row: MappingRow, audited: dict[str, Any]) -> MappingRow: ...

    def row_position(self, project: Project, query: RowQuery, source_code: str) -> int | None: ...

    def filtered_counts(self, project: Project, query: RowQuery) -> dict[str, int]: ...

    def usage_covered(self, project: Project) -> float | None: ...

    def breakdown(self, project: Project, column: Literal["chapter", "author", "assignee"]) -> list[Any]: ...

    def row_candidates(self, project: Project, source_code: str) -> list[dict[str, Any]]: ...

    def best_candidates(self, project: Project, codes: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def accepted_targets(self, project: Project) -> dict[str, tuple[Target, ...]]: ...


class UserStorage(Protocol):
    """Users, their tokens and their roles in projects."""

    def create_user(self, name: str) -> tuple[User, str]: ...

    def ensure_user(self, name: str) -> tuple[User, str]: ...

    def user_for_token(self, token: str) -> User | None: ...

    def find_user(self, name: str) -> User: ...

    def user_names(self) -> list[str]: ...

    def is_publisher(self, user: User) -> bool: ...

    def set_publisher(self, name: str, publisher: bool) -> User: ...

    def revoke_user(self, name: str) -> User: ...

    def add_member(self, project: Project, user: User, role: Role) -> None: ...

    def remove_member(self, project: Project, user: User) -> Role: ...

    def role_of(self, project: Project, user: User) -> Role | None: ...

    def members_of(self, project: Project) -> list[tuple[str, Role]]: ...


class ConceptMapStorage(Protocol):
    """Published ConceptMap versions: immutable content, a lifecycle status."""

    def save_version(
        self, resource: dict[str, Any], *, project_id: int | None = None
    ) -> tuple[StoredMap, bool]: ...

    def get_concept_map(self, map_id: int) -> StoredMap: ...

    def set_status(self, map_id: int, status: str, *, expected_revision: int | None = None) -> StoredMap: ...

    def search_concept_maps(
        self,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
        source: str | None = None,
        target: str | None = None,
    ) -> list[StoredMap]: ...

    def catalogue_stamp(self) -> tuple[int, str]: ...


class ValueSetStorage(Protocol):
    """Stored ValueSet versions: a draft may be rewritten, an active one is fixed."""

    def save_value_set(
        self, resource: dict[str, Any], *, expected_revision: int | None = None
    ) -> tuple[StoredValueSet, bool]: ...

    def get_value_set(self, value_set_id: int) -> StoredValueSet: ...

    def search_value_sets(
        self,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
    ) -> list[StoredValueSet]: ...


class RetrainJobStorage(Protocol):
    """Refit jobs: the lock that holds one refit per project across every process."""

    def claim(self, project_id: int, requested_by: str, *, stale_after: float) -> tuple[RetrainJob, bool]: ...

    def running_job(self, project_id: int) -> RetrainJob | None: ...

    def get(self, project_id: int, job_id: int) -> RetrainJob: ...

    def latest(self, project_id: int) -> RetrainJob | None: ...

    def beat(self, job_id: int, *, progress: int | None = None, total: int | None = None) -> None: ...

    def finish(
        self,
        job_id: int,
        state: JobState,
        *,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        peak_rss_mb: int | None = None,
        progress: int | None = None,
    ) -> None: ...


class Backends(CodeSystemStore, Protocol):
    """Everything a service may ask of storage: code systems (this object itself) and one
    object per aggregate."""

    @property
    def rows(self) -> RowStorage: ...

    @property
    def projects(self) -> ProjectStorage: ...

    @property
    def users(self) -> UserStorage: ...

    @property
    def maps(self) -> ConceptMapStorage: ...

    @property
    def value_sets(self) -> ValueSetStorage: ...

    @property
    def jobs(self) -> RetrainJobStorage: ...

"""What the services need from storage, one Protocol per aggregate.

The services (:mod:`terminology.services`) reach storage only through names bound to
these Protocols (``rows: CurationStorage = terminology.storage.curation``), so mypy checks
two things at once: that each SQL module provides every operation its Protocol lists,
with the same signature, and that no service calls anything else. Another backend is
another set of modules with the same functions; the storage tests run every aggregate
on SQLite and PostgreSQL alike (the shared suite of the SQL backends).

Code systems are behind :class:`terminology.storage.store.CodeSystemStore`, and what
matching reads behind :class:`terminology.matching.frames.VersionReader`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from terminology.models import Candidate, CodeSystem
from terminology.review.context import Placement
from terminology.review.double import Answer
from terminology.review.workflow import MappingRow, Role, Status, Target
from terminology.storage.conceptmaps import StoredMap
from terminology.storage.curation import Change, Event, RowQuery
from terminology.storage.jobs import JobState, RetrainJob
from terminology.storage.projects import MappingProject, Project, RecordedMatch
from terminology.storage.store import SqlStore
from terminology.storage.users import User
from terminology.storage.valuesets import StoredValueSet


class ProjectStorage(Protocol):
    """Mapping projects and their candidates."""

    def list_projects(self, store: SqlStore, user_id: int | None = None) -> list[Project]: ...

    def get_project(self, store: SqlStore, project: int | str) -> Project: ...

    def set_review_mode(
        self, store: SqlStore, project: Project, review: Literal["single", "double"]
    ) -> Project: ...

    def announce_project(
        self, store: SqlStore, name: str, source: CodeSystem, target: CodeSystem
    ) -> Project: ...

    def save_candidates(
        self,
        store: SqlStore,
        name: str,
        source: CodeSystem,
        target: CodeSystem,
        found: Sequence[Candidate],
        *,
        rules: Sequence[str],
        settings: dict[str, Any],
        reflag: dict[str, str] | None = None,
        placed: Mapping[str, Placement] | None = None,
        frequencies: Mapping[str, float] | None = None,
    ) -> MappingProject: ...

    def project_candidates(self, store: SqlStore, name: str) -> list[dict[str, Any]]: ...

    def recorded_match(self, store: SqlStore, project_id: int) -> RecordedMatch: ...


class CurationStorage(Protocol):
    """A project's rows, blind answers and audit trail: read, and written only as
    :class:`~terminology.storage.curation.Change` sets checked against row versions."""

    def get_row(self, store: SqlStore, project: Project, source_code: str) -> MappingRow: ...

    def get_rows(self, store: SqlStore, project: Project, codes: Sequence[str]) -> dict[str, MappingRow]: ...

    def list_rows(
        self, store: SqlStore, project: Project, query: RowQuery, *, count: bool = True
    ) -> tuple[list[tuple[MappingRow, float | None]], int]: ...

    def status_counts(self, store: SqlStore, project: Project) -> dict[str, int]: ...

    def statuses(self, store: SqlStore, project: Project, codes: set[str]) -> dict[str, Status]: ...

    def codes_with_status(self, store: SqlStore, project: Project, status: Status) -> list[str]: ...

    def save_decisions(self, store: SqlStore, changes: Sequence[Change]) -> None: ...

    def answers_for(self, store: SqlStore, project: Project, source_code: str) -> tuple[Answer, ...]: ...

    def answered_codes(self, store: SqlStore, project: Project) -> set[str]: ...

    def history(
        self,
        store: SqlStore,
        project: Project,
        source_code: str | None = None,
        *,
        batch: str | None = None,
        newest_only: bool = False,
    ) -> list[Event]: ...

    def last_event(self, store: SqlStore, project: Project, source_code: str) -> Event | None: ...

    def batch_events(self, store: SqlStore, project: Project, batch: str) -> list[Event]: ...

    def row_from_audit(self, row: MappingRow, audited: dict[str, Any]) -> MappingRow: ...

    def row_position(
        self, store: SqlStore, project: Project, query: RowQuery, source_code: str
    ) -> int | None: ...

    def filtered_counts(self, store: SqlStore, project: Project, query: RowQuery) -> dict[str, int]: ...

    def usage_covered(self, store: SqlStore, project: Project) -> float | None: ...

    def breakdown(
        self, store: SqlStore, project: Project, column: Literal["chapter", "author", "assignee"]
    ) -> list[Any]: ...

    def row_candidates(self, store: SqlStore, project: Project, source_code: str) -> list[dict[str, Any]]: ...

    def best_candidates(
        self, store: SqlStore, project: Project, codes: Sequence[str]
    ) -> dict[str, dict[str, Any]]: ...

    def accepted_targets(self, store: SqlStore, project: Project) -> dict[str, tuple[Target, ...]]: ...


class UserStorage(Protocol):
    """Users, their tokens and their roles in projects."""

    def create_user(self, store: SqlStore, name: str) -> tuple[User, str]: ...

    def ensure_user(self, store: SqlStore, name: str) -> tuple[User, str]: ...

    def user_for_token(self, store: SqlStore, token: str) -> User | None: ...

    def find_user(self, store: SqlStore, name: str) -> User: ...

    def user_names(self, store: SqlStore) -> list[str]: ...

    def is_publisher(self, store: SqlStore, user: User) -> bool: ...

    def set_publisher(self, store: SqlStore, name: str, publisher: bool) -> User: ...

    def revoke_user(self, store: SqlStore, name: str) -> User: ...

    def add_member(self, store: SqlStore, project: Project, user: User, role: Role) -> None: ...

    def remove_member(self, store: SqlStore, project: Project, user: User) -> Role: ...

    def role_of(self, store: SqlStore, project: Project, user: User) -> Role | None: ...

    def members_of(self, store: SqlStore, project: Project) -> list[tuple[str, Role]]: ...


class ConceptMapStorage(Protocol):
    """Published ConceptMap versions: immutable content, a lifecycle status."""

    def save_version(
        self, store: SqlStore, resource: dict[str, Any], *, project_id: int | None = None
    ) -> tuple[StoredMap, bool]: ...

    def get_concept_map(self, store: SqlStore, map_id: int) -> StoredMap: ...

    def set_status(
        self, store: SqlStore, map_id: int, status: str, *, expected_revision: int | None = None
    ) -> StoredMap: ...

    def search_concept_maps(
        self,
        store: SqlStore,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
        source: str | None = None,
        target: str | None = None,
    ) -> list[StoredMap]: ...

    def catalogue_stamp(self, store: SqlStore) -> tuple[int, str]: ...


def sql_backend() -> tuple[ProjectStorage, CurationStorage, UserStorage, ConceptMapStorage]:
    """The SQL modules, as the Protocols the services use (mypy checks that they fit)."""
    from terminology.storage import conceptmaps, curation, projects, users

    return projects, curation, users, conceptmaps


class ValueSetStorage(Protocol):
    """Stored ValueSet versions: a draft may be rewritten, an active one is fixed."""

    def save_value_set(
        self, store: SqlStore, resource: dict[str, Any], *, expected_revision: int | None = None
    ) -> tuple[StoredValueSet, bool]: ...

    def get_value_set(self, store: SqlStore, value_set_id: int) -> StoredValueSet: ...

    def search_value_sets(
        self,
        store: SqlStore,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
    ) -> list[StoredValueSet]: ...


def value_set_backend() -> ValueSetStorage:
    """The SQL module of stored ValueSets, as the Protocol the services use."""
    from terminology.storage import valuesets

    return valuesets


class RetrainJobStorage(Protocol):
    """Refit jobs: the lock that holds one refit per project across every process."""

    def claim(
        self, store: SqlStore, project_id: int, requested_by: str, *, stale_after: float
    ) -> tuple[RetrainJob, bool]: ...

    def running_job(self, store: SqlStore, project_id: int) -> RetrainJob | None: ...

    def get(self, store: SqlStore, project_id: int, job_id: int) -> RetrainJob: ...

    def latest(self, store: SqlStore, project_id: int) -> RetrainJob | None: ...

    def beat(
        self, store: SqlStore, job_id: int, *, progress: int | None = None, total: int | None = None
    ) -> None: ...

    def finish(
        self,
        store: SqlStore,
        job_id: int,
        state: JobState,
        *,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        peak_rss_mb: int | None = None,
        progress: int | None = None,
    ) -> None: ...


def job_backend() -> RetrainJobStorage:
    """The SQL module of refit jobs, as the Protocol the services use."""
    from terminology.storage import jobs

    return jobs


def open_sql_store(database_url: str) -> SqlStore:
    """A store on ``database_url`` (a refit's child process opens its own)."""
    from terminology.settings import Settings
    from terminology.storage.engine import make_engine

    return SqlStore(make_engine(Settings(database_url=database_url)))

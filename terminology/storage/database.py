"""The SQL backend as the services see it: one object per aggregate, each the SQL module of
that aggregate bound to one store, and :class:`SqlDatabase`, the bundle
(:class:`terminology.backends.Backends`) that edges open through
:func:`terminology.services.database.open_database` and hand to every service.

The adapters only bind: every rule and every SQL statement stays in the aggregate's module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.engine import Engine

from terminology.backends import (
    ConceptMapStorage,
    ProjectStorage,
    RetrainJobStorage,
    RowStorage,
    UserStorage,
    ValueSetStorage,
)
from terminology.models import Candidate, CodeSystem
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
from terminology.storage import conceptmaps, curation, jobs, projects, users, valuesets
from terminology.storage.store import SqlStore


class SqlProjects:
    """:class:`~terminology.backends.ProjectStorage` over SQL: ``projects`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def list_projects(self, user_id: int | None = None) -> list[Project]:
        return projects.list_projects(self._store, user_id)

    def get_project(self, project: int | str) -> Project:
        return projects.get_project(self._store, project)

    def set_review_mode(self, project: Project, review: Literal["single", "double"]) -> Project:
        return projects.set_review_mode(self._store, project, review)

    def announce_project(self, name: str, source: CodeSystem, target: CodeSystem) -> Project:
        return projects.announce_project(self._store, name, source, target)

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
    ) -> MappingProject:
        return projects.save_candidates(
            self._store,
            name,
            source,
            target,
            found,
            rules=rules,
            settings=settings,
            flags=flags,
            placed=placed,
            frequencies=frequencies,
        )

    def project_candidates(self, name: str) -> list[dict[str, Any]]:
        return projects.project_candidates(self._store, name)

    def recorded_match(self, project_id: int) -> RecordedMatch:
        return projects.recorded_match(self._store, project_id)


class SqlRows:
    """:class:`~terminology.backends.RowStorage` over SQL: ``curation`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_row(self, project: Project, source_code: str) -> MappingRow:
        return curation.get_row(self._store, project, source_code)

    def get_rows(self, project: Project, codes: Sequence[str]) -> dict[str, MappingRow]:
        return curation.get_rows(self._store, project, codes)

    def list_rows(
        self, project: Project, query: RowQuery, *, count: bool = True
    ) -> tuple[list[tuple[MappingRow, float | None]], int]:
        return curation.list_rows(self._store, project, query, count=count)

    def status_counts(self, project: Project) -> dict[str, int]:
        return curation.status_counts(self._store, project)

    def statuses(self, project: Project, codes: set[str]) -> dict[str, Status]:
        return curation.statuses(self._store, project, codes)

    def codes_with_status(self, project: Project, status: Status) -> list[str]:
        return curation.codes_with_status(self._store, project, status)

    def save_decisions(self, changes: Sequence[Change]) -> None:
        return curation.save_decisions(self._store, changes)

    def answers_for(self, project: Project, source_code: str) -> tuple[Answer, ...]:
        return curation.answers_for(self._store, project, source_code)

    def answered_codes(self, project: Project) -> set[str]:
        return curation.answered_codes(self._store, project)

    def project_answers(self, project: Project) -> list[tuple[str, Answer, datetime]]:
        return curation.project_answers(self._store, project)

    def history(
        self,
        project: Project,
        source_code: str | None = None,
        *,
        batch: str | None = None,
        newest_only: bool = False,
    ) -> list[Event]:
        return curation.history(self._store, project, source_code, batch=batch, newest_only=newest_only)

    def last_event(self, project: Project, source_code: str) -> Event | None:
        return curation.last_event(self._store, project, source_code)

    def batch_events(self, project: Project, batch: str) -> list[Event]:
        return curation.batch_events(self._store, project, batch)

    def row_from_audit(self, row: MappingRow, audited: dict[str, Any]) -> MappingRow:
        return curation.row_from_audit(row, audited)

    def row_position(self, project: Project, query: RowQuery, source_code: str) -> int | None:
        return curation.row_position(self._store, project, query, source_code)

    def filtered_counts(self, project: Project, query: RowQuery) -> dict[str, int]:
        return curation.filtered_counts(self._store, project, query)

    def usage_covered(self, project: Project) -> float | None:
        return curation.usage_covered(self._store, project)

    def breakdown(self, project: Project, column: Literal["chapter", "author", "assignee"]) -> list[Any]:
        return curation.breakdown(self._store, project, column)

    def row_candidates(self, project: Project, source_code: str) -> list[dict[str, Any]]:
        return curation.row_candidates(self._store, project, source_code)

    def best_candidates(self, project: Project, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        return curation.best_candidates(self._store, project, codes)

    def accepted_targets(self, project: Project) -> dict[str, tuple[Target, ...]]:
        return curation.accepted_targets(self._store, project)


class SqlUsers:
    """:class:`~terminology.backends.UserStorage` over SQL: ``users`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def create_user(self, name: str) -> tuple[User, str]:
        return users.create_user(self._store, name)

    def ensure_user(self, name: str) -> tuple[User, str]:
        return users.ensure_user(self._store, name)

    def user_for_token(self, token: str) -> User | None:
        return users.user_for_token(self._store, token)

    def find_user(self, name: str) -> User:
        return users.find_user(self._store, name)

    def user_names(self) -> list[str]:
        return users.user_names(
            self._store,
        )

    def is_publisher(self, user: User) -> bool:
        return users.is_publisher(self._store, user)

    def set_publisher(self, name: str, publisher: bool) -> User:
        return users.set_publisher(self._store, name, publisher)

    def revoke_user(self, name: str) -> User:
        return users.revoke_user(self._store, name)

    def add_member(self, project: Project, user: User, role: Role) -> None:
        return users.add_member(self._store, project, user, role)

    def remove_member(self, project: Project, user: User) -> Role:
        return users.remove_member(self._store, project, user)

    def role_of(self, project: Project, user: User) -> Role | None:
        return users.role_of(self._store, project, user)

    def members_of(self, project: Project) -> list[tuple[str, Role]]:
        return users.members_of(self._store, project)


class SqlMaps:
    """:class:`~terminology.backends.ConceptMapStorage` over SQL: ``conceptmaps`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def save_version(
        self, resource: dict[str, Any], *, project_id: int | None = None
    ) -> tuple[StoredMap, bool]:
        return conceptmaps.save_version(self._store, resource, project_id=project_id)

    def get_concept_map(self, map_id: int) -> StoredMap:
        return conceptmaps.get_concept_map(self._store, map_id)

    def set_status(self, map_id: int, status: str, *, expected_revision: int | None = None) -> StoredMap:
        return conceptmaps.set_status(self._store, map_id, status, expected_revision=expected_revision)

    def search_concept_maps(
        self,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
        source: str | None = None,
        target: str | None = None,
    ) -> list[StoredMap]:
        return conceptmaps.search_concept_maps(
            self._store, url=url, version=version, name=name, status=status, source=source, target=target
        )

    def catalogue_stamp(self) -> tuple[int, str]:
        return conceptmaps.catalogue_stamp(
            self._store,
        )


class SqlValueSets:
    """:class:`~terminology.backends.ValueSetStorage` over SQL: ``valuesets`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def save_value_set(
        self, resource: dict[str, Any], *, expected_revision: int | None = None
    ) -> tuple[StoredValueSet, bool]:
        return valuesets.save_value_set(self._store, resource, expected_revision=expected_revision)

    def get_value_set(self, value_set_id: int) -> StoredValueSet:
        return valuesets.get_value_set(self._store, value_set_id)

    def search_value_sets(
        self,
        *,
        url: str | None = None,
        version: str | None = None,
        name: str | None = None,
        status: str | None = None,
    ) -> list[StoredValueSet]:
        return valuesets.search_value_sets(self._store, url=url, version=version, name=name, status=status)


class SqlJobs:
    """:class:`~terminology.backends.RetrainJobStorage` over SQL: ``jobs`` bound to one store."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def claim(self, project_id: int, requested_by: str, *, stale_after: float) -> tuple[RetrainJob, bool]:
        return jobs.claim(self._store, project_id, requested_by, stale_after=stale_after)

    def running_job(self, project_id: int) -> RetrainJob | None:
        return jobs.running_job(self._store, project_id)

    def get(self, project_id: int, job_id: int) -> RetrainJob:
        return jobs.get(self._store, project_id, job_id)

    def latest(self, project_id: int) -> RetrainJob | None:
        return jobs.latest(self._store, project_id)

    def beat(self, job_id: int, *, progress: int | None = None, total: int | None = None) -> None:
        return jobs.beat(self._store, job_id, progress=progress, total=total)

    def finish(
        self,
        job_id: int,
        state: JobState,
        *,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        peak_rss_mb: int | None = None,
        progress: int | None = None,
    ) -> None:
        return jobs.finish(
            self._store,
            job_id,
            state,
            message=message,
            result=result,
            peak_rss_mb=peak_rss_mb,
            progress=progress,
        )


class SqlDatabase(SqlStore):
    """A SQL store with its aggregates (:class:`~terminology.backends.Backends`): the code
    systems are this object's own, the rest one adapter each."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._rows: RowStorage = SqlRows(self)
        self._projects: ProjectStorage = SqlProjects(self)
        self._users: UserStorage = SqlUsers(self)
        self._maps: ConceptMapStorage = SqlMaps(self)
        self._value_sets: ValueSetStorage = SqlValueSets(self)
        self._jobs: RetrainJobStorage = SqlJobs(self)

    @property
    def rows(self) -> RowStorage:
        return self._rows

    @property
    def projects(self) -> ProjectStorage:
        return self._projects

    @property
    def users(self) -> UserStorage:
        return self._users

    @property
    def maps(self) -> ConceptMapStorage:
        return self._maps

    @property
    def value_sets(self) -> ValueSetStorage:
        return self._value_sets

    @property
    def jobs(self) -> RetrainJobStorage:
        return self._jobs

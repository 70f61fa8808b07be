"""The records storage keeps and the services speak: a mapping project, a user, an audit
event, a work-queue query, a decision to write, a stored ConceptMap or ValueSet version, a
retrain job — with the errors of looking them up or writing them.

They live in the domain, not beside the SQL that stores them, so that the storage Protocols
(:mod:`terminology.backends`), the services and the edges share them without any of
them importing a storage backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from terminology.errors import ConcordanceError
from terminology.review.context import QueueSort
from terminology.review.double import Answer
from terminology.review.workflow import MappingRow, Status


class ProjectNotFoundError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    name: str
    source_system_id: int
    target_system_id: int
    review: Literal["single", "double"] = "single"
    building: str | None = None
    """When the project's first match started, while it runs (the page says so)."""


@dataclass(frozen=True, slots=True)
class MappingProject:
    id: int
    name: str
    source_system_id: int
    target_system_id: int
    candidate_count: int
    replaced: bool


@dataclass(frozen=True, slots=True)
class RecordedMatch:
    """The rule files and settings a project's last match used (what retraining replays)."""

    rules: tuple[str, ...]
    settings: dict[str, Any]


class UnknownUserError(ConcordanceError):
    code = "unknown-user"
    http_status = 404
    fhir_issue = "not-found"


class NotAMemberError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class LastAdminError(ConcordanceError):
    code = "last-admin"
    http_status = 409
    fhir_issue = "business-rule"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str


class RowNotFoundError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class StaleVersionError(ConcordanceError):
    """Someone saved the row since the version the decision was computed from."""

    code = "stale-version"
    http_status = 412
    fhir_issue = "conflict"

    def __init__(self, current: MappingRow) -> None:
        self.current = current
        super().__init__(
            f"{current.source_code} changed since you loaded it (now version {current.version}, "
            f"{current.status.value}, by {current.updated_by}); reload and decide again"
        )


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    source_code: str
    at: datetime
    actor: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    comment: str | None
    batch: str | None = None


SortKey = QueueSort


@dataclass(frozen=True, slots=True)
class RowQuery:
    """Filters, order and page of a work queue."""

    status: Sequence[Status] = ()
    assignee: str | None = None
    """A curator's name, or ``""`` for rows nobody is assigned."""
    flagged: bool | None = None
    min_score: float | None = None
    max_score: float | None = None
    text: str | None = None
    method: str | None = None
    """The best candidate's method (``lexical``, ``code-rule``…); ``""`` for rows with none."""
    commented: bool | None = None
    within: str | None = None
    """A source concept: only rows at or below it in the source hierarchy (a chapter, a block)."""
    sort: SortKey = "source_code"
    limit: int = 50
    offset: int = 0
    codes: Sequence[str] = field(default_factory=tuple)
    code_from: str | None = None
    code_to: str | None = None
    """An inclusive range of source codes (in code order), e.g. a chapter to assign."""


@dataclass(frozen=True, slots=True)
class Change:
    """One row's decision to write: the row as it was read, as it becomes, and why."""

    before: MappingRow
    after: MappingRow
    action: str
    comment: str | None = None
    answer: Answer | None = None
    batch: str | None = None
    """The bulk decision the change belongs to (undone together)."""
    undoes: int | None = None
    """The event this change undoes."""


class ConceptMapNotFoundError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class ConceptMapVersionConflictError(ConcordanceError):
    code = "version-conflict"
    http_status = 409
    fhir_issue = "conflict"


class StaleConceptMapError(ConcordanceError):
    """``If-Match`` named a revision that is no longer the current one."""

    code = "stale-revision"
    http_status = 412
    fhir_issue = "conflict"


@dataclass(frozen=True, slots=True)
class StoredMap:
    """A ConceptMap version the translation service answers with: a stored one (its ``id``)
    or one sent with a request (``id`` None: indexed for that request only)."""

    id: int | None
    url: str
    version: str
    status: str
    resource: dict[str, Any]
    revision: int = 1
    """How many times the version changed (its status), FHIR's ``meta.versionId``."""

    @property
    def stored_id(self) -> int:
        """The id of a version storage holds (a map sent with a request has none)."""
        if self.id is None:
            raise ConceptMapNotFoundError(f"ConceptMap {self.url}|{self.version} was sent, not stored")
        return self.id

    def as_served(self) -> dict[str, Any]:
        """The resource with its server id, current status and ``meta.versionId``."""
        meta = {**self.resource.get("meta", {}), "versionId": str(self.revision)}
        if self.id is None:
            return self.resource
        return {**self.resource, "id": str(self.id), "meta": meta, "status": self.status}


JobState = Literal["running", "done", "failed"]


@dataclass(frozen=True, slots=True)
class RetrainJob:
    """A refit as the API and the command line report it."""

    id: int
    project_id: int
    state: JobState
    requested_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None = None
    progress: int = 0
    total: int = 0
    message: str | None = None
    result: dict[str, Any] | None = None
    peak_rss_mb: int | None = None


class RetrainJobNotFoundError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class ValueSetNotFoundError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class ValueSetVersionConflictError(ConcordanceError):
    """The url|version is active or retired with other content: a change is a new version."""

    code = "version-conflict"
    http_status = 409
    fhir_issue = "conflict"


class StaleRevisionError(ConcordanceError):
    """``If-Match`` named a revision that is no longer the current one."""

    code = "stale-revision"
    http_status = 412
    fhir_issue = "conflict"


@dataclass(frozen=True, slots=True)
class StoredValueSet:
    id: int
    url: str
    version: str
    status: str
    revision: int
    resource: dict[str, Any]

    def as_served(self) -> dict[str, Any]:
        """The resource with its server id, status and ``meta.versionId``."""
        meta = {**self.resource.get("meta", {}), "versionId": str(self.revision)}
        return {**self.resource, "id": str(self.id), "meta": meta, "status": self.status}

"""What the curation API reads and returns (kept apart from domain and database models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from terminology.models import MatchMethod
from terminology.review.workflow import PRINTABLE, Action, MappingRow, Target


class RowPublic(BaseModel):
    source_code: str
    source_label: str | None
    status: str
    targets: list[Target]
    no_map: bool
    comment: str | None
    flagged: bool
    flag_reason: str | None
    assignee: str | None
    author: str | None
    authors: list[str] = Field(default_factory=list)
    reviewer: str | None
    version: int
    updated_at: datetime | None
    updated_by: str | None
    best_score: float | None = None

    @classmethod
    def of(cls, row: MappingRow, best_score: float | None = None) -> RowPublic:
        return cls(
            **row.model_dump(exclude={"project_id", "targets", "authors"}),
            targets=list(row.targets),
            authors=list(row.authors),
            best_score=best_score,
        )

    @staticmethod
    def etag_of(row: MappingRow) -> str:
        return f'"{row.version}"'


class CandidatePublic(BaseModel):
    target_code: str
    target_label: str | None = None
    target_context: dict[str, Any] = Field(default_factory=dict)
    """The target's parents, synonyms, properties and status, as for the source."""
    rank: int
    score: float
    equivalence: str
    method: MatchMethod
    rules: list[str]
    reason: str


class ChosenTarget(BaseModel):
    """A chosen target with its score and reason computed for this very pair."""

    code: str
    display: str | None
    equivalence: str
    score: float | None
    reason: str


class AnswerPublic(BaseModel):
    author: str
    targets: list[Target]
    no_map: bool
    comment: str | None


class RowDetail(BaseModel):
    row: RowPublic
    source: dict[str, Any]
    candidates: list[CandidatePublic]
    chosen: list[ChosenTarget]
    allowed_actions: list[str]
    answers: list[AnswerPublic] = Field(default_factory=list)
    """Double review: the reconciler sees both answers; an author sees only their own."""


class RowPage(BaseModel):
    total: int
    """Rows the filters keep."""
    offset: int
    limit: int
    items: list[RowPublic]
    counts: dict[str, int] = Field(default_factory=dict)
    """Rows per status among those the filters keep (the status filter aside)."""


class DecisionIn(BaseModel):
    action: Action | Literal["reconcile"]
    targets: list[Target] = Field(default_factory=list, max_length=100)
    assignee: str | None = Field(default=None, min_length=1, max_length=128, pattern=PRINTABLE)
    comment: str | None = None
    no_map: bool = False
    """With ``reconcile``: settle the conflict as "no map"."""


class BulkIn(BaseModel):
    """Either the same decision on listed rows, or ``accept-candidates``: accept the best
    candidate of every open row whose score and method qualify."""

    action: Literal["accept", "reject", "submit", "assign", "flag", "unflag", "accept-candidates"]
    codes: list[str] = Field(default_factory=list, max_length=10_000)
    code_from: str | None = None
    code_to: str | None = None
    """An inclusive range of source codes (e.g. ``C04.00.00`` to ``C04.99.99``), besides ``codes``."""
    within: str | None = Field(default=None, min_length=1, max_length=256)
    """Every row at or below this source concept (a chapter, a block), besides ``codes``."""
    min_score: float | None = Field(default=None, ge=0, le=1)
    expected_precision: float | None = Field(default=None, gt=0, le=1)
    """With ``accept-candidates``: accept the best candidates, most probable first, as long
    as their mean calibrated probability (the precision to expect) stays at this level."""
    method: MatchMethod | None = None
    """Only candidates this generator proposed (``lexical``, ``ancestor``, ``parent-context``,
    ``code-rule``, ``memory``)."""
    assignee: str | None = Field(default=None, min_length=1, max_length=128, pattern=PRINTABLE)
    comment: str | None = None


class BulkResult(BaseModel):
    applied: list[str]
    """Rows the decision was applied to (in one transaction), or would be in a preview."""
    skipped: list[dict[str, str]]
    """Rows left as they were, each with ``source_code`` and ``reason``."""
    batch: str | None = None
    """Undo the whole batch with ``POST .../bulk-decisions/{batch}/undo`` (none in a preview)."""
    preview: bool = False
    sample: list[dict[str, Any]] = Field(default_factory=list)
    """The first rows as they would become (a preview shows them before confirming)."""


class ProjectPublic(BaseModel):
    id: int
    name: str
    review: Literal["single", "double"]
    source: str
    target: str
    role: str
    counts: dict[str, int]
    frequency_covered: float | None = None
    """Share of the source's usage (its frequency column) that accepted rows cover."""
    user: str = ""
    """Who is asking (the page offers undo on their own last change)."""
    allowed_actions: list[str] = Field(default_factory=list)
    """Project-wide actions the caller's role allows (``bulk``, ``publish``, ``retrain``, ``admin``)."""
    building: str | None = None
    """Set while the project's first match runs (when it started)."""


class ProjectPatch(BaseModel):
    review: Literal["single", "double"]

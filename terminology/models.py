"""Frozen domain records, kept apart from database rows.

Importers stream :class:`ConceptRecord` tuples (cheap to build by the
million); everything a user reads back is a frozen pydantic model.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

PropertyValue = str | int | float | bool | list[str]


class DesignationUse(StrEnum):
    """How a label is used, after FHIR designation-use and SNOMED CT description types."""

    PREFERRED = "preferred"
    SYNONYM = "synonym"
    ABBREVIATION = "abbreviation"
    FULLY_SPECIFIED = "fully-specified"
    DEFINITION = "definition"
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class Designation(NamedTuple):
    """One more label of a concept besides its display."""

    language: str | None
    use: DesignationUse
    value: str


class ConceptRecord(NamedTuple):
    """A concept as an importer reads it; ``line`` points back into the source file."""

    code: str
    display: str | None
    definition: str | None = None
    active: bool = True
    properties: dict[str, Any] | None = None
    designations: tuple[Designation, ...] = ()
    parents: tuple[str, ...] = ()
    line: int | None = None
    where: str | None = None


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class CodeSystemMetadata(Frozen):
    """What is known of a code system before its concepts are read.

    Importers fill what the file says; the command line may override any of it.
    """

    url: str | None = None
    version: str | None = None
    name: str | None = None
    title: str | None = None
    publisher: str | None = None
    status: str = "active"
    language: str | None = None

    def overridden(self, **values: str | None) -> CodeSystemMetadata:
        """Apply the non-empty overrides a user gave, keeping what the file said otherwise."""
        changes = {key: value for key, value in values.items() if value}
        return self.model_copy(update=changes)


class CodeSystem(Frozen):
    """A stored, immutable version of a code system."""

    id: int
    url: str
    version: str
    name: str | None
    title: str | None
    publisher: str | None
    status: str
    languages: tuple[str, ...]
    source_format: str
    source_name: str
    checksum: str
    imported_at: datetime
    concept_count: int

    @property
    def reference(self) -> str:
        """The ``url|version`` form FHIR uses for canonical references."""
        return f"{self.url}|{self.version}"


class Concept(Frozen):
    """A concept as stored, with its labels and parents."""

    code: str
    display: str | None
    definition: str | None = None
    active: bool = True
    properties: dict[str, Any] = Field(default_factory=dict)
    designations: tuple[Designation, ...] = ()
    parents: tuple[str, ...] = ()


class CodeChanges(Frozen):
    """Codes that differ between two versions, with a few examples of each kind."""

    added: int = 0
    retired: int = 0
    relabelled: int = 0
    moved: int = 0
    """Codes in both versions whose parents changed (a new hierarchy, same codes and labels)."""
    examples_added: tuple[str, ...] = ()
    examples_retired: tuple[str, ...] = ()
    examples_relabelled: tuple[str, ...] = ()
    examples_moved: tuple[str, ...] = ()


class ImportOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"


class HierarchySummary(Frozen):
    """What an import did to the hierarchy (:class:`terminology.roots.HierarchyCheck`)."""

    concepts_missing_parent: int = 0
    missing_parents: tuple[str, ...] = ()
    cut_from_root: int = 0
    orphan_roots: tuple[str, ...] = ()
    under_orphan_roots: int = 0
    warnings: tuple[str, ...] = ()
    """What the import summary says loudly (empty: the hierarchy is whole)."""


class ImportReport(Frozen):
    """What one import did, for the command line and for audit."""

    outcome: ImportOutcome
    code_system: CodeSystem
    designation_count: int = 0
    edge_count: int = 0
    dropped_parent_links: int = 0
    concepts_without_display: int = 0
    """Concepts stored without any display: the file gives them no label at all."""
    hierarchy: HierarchySummary = HierarchySummary()
    notes: tuple[str, ...] = ()
    """What the importer skipped and why (e.g. an ``owl:imports`` it did not fetch)."""
    previous_version: str | None = None
    changes: CodeChanges | None = None
    seconds: float = 0.0


class MatchMethod(StrEnum):
    """Which generator proposed a candidate: what SSSOM's ``mapping_justification`` follows."""

    LEXICAL = "lexical"
    """Labels alike in a language both systems share."""
    ANCESTOR = "ancestor"
    """A broader target above a close lexical neighbour."""
    PARENT_CONTEXT = "parent-context"
    """A best target of the source concept's parent."""
    CODE_RULE = "code-rule"
    """A code rule of the project's rule files."""
    MEMORY = "memory"
    """A pair curators validated before (mapping memory)."""
    DECIDED_NEIGHBOUR = "decided-neighbour"
    """Near the target a curator chose for the source's parent or sibling."""


class Candidate(Frozen):
    """A proposed target for a source concept, as matching ranks it; curators decide."""

    source_code: str
    source_label: str | None
    target_code: str
    target_label: str | None
    rank: int
    score: float
    equivalence: str
    method: MatchMethod
    rules: tuple[str, ...] = ()
    reason: str

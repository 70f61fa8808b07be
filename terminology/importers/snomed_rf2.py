"""SNOMED CT RF2 snapshots, for an edition or a subset (a folder of RF2 files).

Descriptions give fully specified names and synonyms in every language the
release holds (French included); language reference sets say which synonym is
preferred, which makes the display; active IS-A relationships make the
hierarchy. Relationships to concepts outside the files (a subset) are left out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, field_validator

from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    comma_list,
    dict_rows,
    no_progress,
    require_file,
)
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

IS_A = "116680003"
FSN = "900000000000003001"
PREFERRED = "900000000000548007"
COLUMNS = {
    "concept": ("id", "effectiveTime", "active", "moduleId", "definitionStatusId"),
    "description": (
        "id",
        "effectiveTime",
        "active",
        "moduleId",
        "conceptId",
        "languageCode",
        "typeId",
        "term",
    ),
    "language": (
        "id",
        "effectiveTime",
        "active",
        "moduleId",
        "refsetId",
        "referencedComponentId",
        "acceptabilityId",
    ),
    "relationship": ("id", "effectiveTime", "active", "moduleId", "sourceId", "destinationId", "typeId"),
}
PATTERNS = {
    "concept": "sct2_Concept_*Snapshot*.txt",
    "description": "sct2_Description_*Snapshot*.txt",
    "definition": "sct2_TextDefinition_*Snapshot*.txt",
    "language": "der2_cRefset_Language*Snapshot*.txt",
    "relationship": "sct2_Relationship_*Snapshot*.txt",
}


class SnomedOptions(ImportOptions):
    languages: list[str] = Field(default_factory=lambda: ["en"])
    """Display language preference, first found wins (e.g. ``fr,en``)."""

    _split = field_validator("languages", mode="before")(comma_list)


def release_files(folder: Path) -> dict[str, list[Path]]:
    """The snapshot files of a release folder, by kind; concepts and descriptions are required."""
    if not folder.is_dir():
        raise SourceFileError(folder, "expected the folder of an RF2 release (or its Snapshot folder)")
    found = {kind: sorted(folder.rglob(pattern)) for kind, pattern in PATTERNS.items()}
    found["relationship"] = [p for p in found["relationship"] if "Stated" not in p.name]
    for kind in ("concept", "description"):
        if not found[kind]:
            raise SourceFileError(folder, f"no RF2 {kind} snapshot file ({PATTERNS[kind]}) in this folder")
    return found


class SnomedRf2Importer(Importer):
    format_name = "snomed-rf2"
    summary = "SNOMED CT RF2 snapshot folder: concepts, descriptions, language refsets, IS-A"
    options_model = SnomedOptions
    options: SnomedOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path, folder=True)
        self._root = path
        files = release_files(path)
        metadata = CodeSystemMetadata(
            url="http://snomed.info/sct",
            name="SNOMEDCT",
            title="SNOMED CT",
            publisher="SNOMED International",
            language=self.options.languages[0],
        )
        every = [p for paths in files.values() for p in paths]
        return ImportSource.from_records(metadata, every, self._records(files, progress))

    def _records(self, files: dict[str, list[Path]], progress: ProgressCallback) -> Iterator[ConceptRecord]:
        preferred = {
            row["referencedComponentId"]
            for path in files["language"]
            for _, row in _rows(path, "language", progress)
            if row["active"] == "1" and row["acceptabilityId"] == PREFERRED
        }
        labels: dict[str, list[tuple[str, DesignationUse, str]]] = {}
        for path in files["description"]:
            for _, row in _rows(path, "description", progress):
                if row["active"] != "1":
                    continue
                use = _description_use(row, preferred)
                labels.setdefault(row["conceptId"], []).append((row["languageCode"], use, row["term"]))
        definitions = {
            row["conceptId"]: row["term"]
            for path in files["definition"]
            for _, row in _rows(path, "description", progress)
            if row["active"] == "1"
        }
        concepts = [
            (path, line, row) for path in files["concept"] for line, row in _rows(path, "concept", progress)
        ]
        known = {row["id"] for _, _, row in concepts}
        parents: dict[str, list[str]] = {}
        for path in files["relationship"]:
            for _, row in _rows(path, "relationship", progress):
                if row["active"] == "1" and row["typeId"] == IS_A and row["destinationId"] in known:
                    parents.setdefault(row["sourceId"], []).append(row["destinationId"])
        for path, line, row in concepts:
            code = row["id"]
            names = labels.get(code, [])
            yield ConceptRecord(
                code=code,
                display=self._display(names),
                definition=definitions.get(code),
                active=row["active"] == "1",
                properties={"moduleId": row["moduleId"], "definitionStatusId": row["definitionStatusId"]},
                designations=tuple(Designation(lang, use, term) for lang, use, term in names),
                parents=tuple(sorted(set(parents.get(code, ())))),
                where=f"{path.relative_to(self._root)} line {line}",
            )

    def _display(self, names: list[tuple[str, DesignationUse, str]]) -> str | None:
        for language in self.options.languages:
            for lang, use, term in names:
                if lang == language and use is DesignationUse.PREFERRED:
                    return term
        fully_specified = [term for _, use, term in names if use is DesignationUse.FULLY_SPECIFIED]
        return fully_specified[0] if fully_specified else (names[0][2] if names else None)


def _description_use(row: dict[str, str], preferred: set[str]) -> DesignationUse:
    if row["typeId"] == FSN:
        return DesignationUse.FULLY_SPECIFIED
    return DesignationUse.PREFERRED if row["id"] in preferred else DesignationUse.SYNONYM


def _rows(path: Path, kind: str, progress: ProgressCallback) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a tab-separated RF2 file; RF2 never quotes, so quotes are plain characters."""
    return dict_rows(path, COLUMNS[kind], progress, kind="RF2", delimiter="\t", quoting=csv.QUOTE_NONE)

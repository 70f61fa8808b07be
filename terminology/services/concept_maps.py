"""ConceptMaps held elsewhere (national tables, HL7 examples) served beside published ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from terminology.errors import SourceFileError
from terminology.publication.from_sssom import conceptmap_from_sssom
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore


def read_map_file(path: Path, *, status: str | None = None, version: str | None = None) -> dict[str, Any]:
    """A ConceptMap resource from a FHIR JSON file (R4 or R5) or an SSSOM TSV (``.tsv``;
    ``version`` for a set without ``mapping_set_version``); ``status`` overrides the file's."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceFileError(path, f"cannot be read ({error})") from error
    if path.suffix.lower() == ".tsv":
        resource = conceptmap_from_sssom(text, where=str(path), version=version, status=status or "draft")
    else:
        try:
            resource = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise SourceFileError(path, f"not a JSON file ({str(error)[:200]})") from error
        if not isinstance(resource, dict):
            raise SourceFileError(path, "not a ConceptMap (a JSON object is expected)")
    if status:
        resource["status"] = status
    return resource


def import_map_file(
    store: SqlStore, path: Path, *, status: str | None = None, version: str | None = None
) -> tuple[conceptmaps.StoredMap, bool]:
    """Serve the map a file holds; returns it and whether it is new (the same url|version
    with the same content is kept, not duplicated)."""
    return conceptmaps.save_concept_map(store, read_map_file(path, status=status, version=version))

"""FHIR R4 CodeSystem JSON: nested or flat concepts, designations, properties,
``parent`` / ``child`` links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from terminology.errors import SourceFileError
from terminology.fhir import shapes
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    no_progress,
    require_file,
)
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

SNOMED_FSN = "900000000000003001"
SNOMED_SYNONYM = "900000000000013009"
VALUE_KEYS = (
    "valueCode",
    "valueString",
    "valueInteger",
    "valueBoolean",
    "valueDateTime",
    "valueDecimal",
)


def designation_use(use: dict[str, Any] | None) -> DesignationUse:
    """Map a FHIR designation ``use`` Coding onto our designation uses."""
    code = (use or {}).get("code")
    if code == SNOMED_FSN:
        return DesignationUse.FULLY_SPECIFIED
    if code in (SNOMED_SYNONYM, None):
        return DesignationUse.SYNONYM
    if code in ("display", "preferredForLanguage"):
        return DesignationUse.PREFERRED
    return DesignationUse(code) if code in DesignationUse._value2member_map_ else DesignationUse.SYNONYM


def property_value(item: dict[str, Any]) -> Any:
    for key in VALUE_KEYS:
        if key in item:
            return item[key]
    if "valueCoding" in item:
        return item["valueCoding"].get("code")
    return None


class FhirCodeSystemImporter(Importer):
    format_name = "fhir"
    summary = "FHIR R4 CodeSystem JSON (nested or flat concepts, designations, properties)"
    options_model = ImportOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        resource = self._load(path)
        progress(path.stat().st_size)
        metadata = CodeSystemMetadata(
            url=resource.get("url"),
            version=resource.get("version"),
            name=resource.get("name"),
            title=resource.get("title"),
            publisher=resource.get("publisher"),
            status=resource.get("status", "active"),
            language=resource.get("language"),
        )
        return ImportSource.from_records(metadata, [path], self._records(path, resource))

    @staticmethod
    def _load(path: Path) -> dict[str, Any]:
        try:
            resource = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as error:
            raise SourceFileError(path, f"not valid UTF-8 ({error.reason})") from error
        except json.JSONDecodeError as error:
            raise SourceFileError(path, f"invalid JSON: {error.msg}", line=error.lineno) from error
        except RecursionError as error:
            raise SourceFileError(path, "the JSON is nested too deep to read") from error
        if not isinstance(resource, dict) or resource.get("resourceType") != "CodeSystem":
            found = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
            raise SourceFileError(path, f"expected a FHIR CodeSystem, found {found!r}", field="resourceType")
        try:
            shapes.CodeSystem.model_validate(resource)
        except ValidationError as error:
            loc = error.errors()[0]["loc"]
            where, message = shapes.first_problem(error)
            if loc and isinstance(loc[-1], str):  # "concept[0]: field 'code': ..." like the other readers
                raise SourceFileError(
                    path, message, element=shapes.location(loc[:-1]), field=loc[-1]
                ) from error
            raise SourceFileError(path, message, element=where) from error
        except RecursionError as error:
            raise SourceFileError(path, "concepts nested too deep to read") from error
        return resource

    def _records(self, path: Path, resource: dict[str, Any]) -> Iterator[ConceptRecord]:
        children_of: dict[str, list[str]] = {}
        pending: list[tuple[dict[str, Any], str | None, str]] = [
            (concept, None, f"concept[{i}]") for i, concept in enumerate(resource.get("concept", []))
        ]
        records: list[ConceptRecord] = []
        while pending:
            concept, parent, where = pending.pop(0)
            if not isinstance(concept, dict) or not isinstance(concept.get("code"), str):
                raise SourceFileError(path, "concept without a code", element=where, field="code")
            record = self._record(concept, parent, where)
            records.append(record)
            for link in concept.get("property", []):
                if link.get("code") == "child" and (child := property_value(link)):
                    children_of.setdefault(record.code, []).append(str(child))
            pending.extend(
                (child, concept["code"], f"{where}.concept[{i}]")
                for i, child in enumerate(concept.get("concept", []))
            )
        parents_from_children: dict[str, list[str]] = {}
        for parent_code, children in children_of.items():
            for child in children:
                parents_from_children.setdefault(child, []).append(parent_code)
        for record in records:
            extra = [p for p in parents_from_children.get(record.code, []) if p not in record.parents]
            yield record._replace(parents=record.parents + tuple(extra)) if extra else record

    @staticmethod
    def _record(concept: dict[str, Any], parent: str | None, where: str) -> ConceptRecord:
        properties: dict[str, Any] = {}
        parents = [parent] if parent else []
        active = True
        for item in concept.get("property", []):
            name, value = item.get("code"), property_value(item)
            if name == "parent" and value:
                parents.append(str(value))
            elif name == "child":
                continue
            elif (name in ("inactive", "deprecated") and value is True) or (
                name == "status" and value in ("retired", "inactive", "deprecated")
            ):
                active = False
            if name not in ("parent", "child") and name:
                existing = properties.get(name)
                properties[name] = (
                    value
                    if existing is None
                    else [*(existing if isinstance(existing, list) else [existing]), value]
                )
        designations = tuple(
            Designation(d.get("language"), designation_use(d.get("use")), d["value"])
            for d in concept.get("designation", [])
            if d.get("value")
        )
        return ConceptRecord(
            code=concept["code"],
            display=concept.get("display"),
            definition=concept.get("definition"),
            active=active,
            properties=properties or None,
            designations=designations,
            parents=tuple(dict.fromkeys(parents)),
            where=where,
        )

"""A ConceptMap version as FHIR JSON, SSSOM TSV or CSV (one row per element target)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from terminology.errors import ConcordanceError
from terminology.exporters.cells import spreadsheet_safe, spreadsheet_value
from terminology.exporters.sssom import PREDICATES, local_id, write_mapping_set


class InvalidMapFileError(ConcordanceError):
    code = "invalid-file"
    http_status = 400
    fhir_issue = "invalid"


CSV_COLUMNS = ("source_system", "source_code", "source_display", "target_system", "target_code",
               "target_display", "equivalence", "comment")  # fmt: skip


def to_fhir_json(resource: dict[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=2)


def from_fhir_json(text: str, *, version: str | None = None) -> dict[str, Any]:
    """A ConceptMap from FHIR JSON text (R4 or R5, as written); ``version`` if it has none."""
    resource = json.loads(text)
    if not isinstance(resource, dict) or resource.get("resourceType") != "ConceptMap":
        raise InvalidMapFileError("not a ConceptMap (a JSON object with resourceType ConceptMap is expected)")
    if version and not resource.get("version"):
        resource["version"] = version
    return resource


def _group_system(resource: dict[str, Any], group: dict[str, Any], side: str) -> str:
    """The group's code system; when R4 leaves it out (it is optional), the map's scope
    (a ValueSet), else the map itself: SSSOM needs a namespace for every identifier."""
    scope = resource.get(f"{side}Uri") or resource.get(f"{side}Canonical")
    return str(group.get(side) or scope or f"{resource.get('url', 'urn:concordance:unknown')}#{side}")


def mapping_rows(resource: dict[str, Any]) -> Iterator[dict[str, str]]:
    """One row per element target (an element without target is one ``unmatched`` row),
    with the columns of :data:`CSV_COLUMNS`: what the CSV, SSSOM and DataFrame views share."""
    for group in resource.get("group", []):
        source_system = _group_system(resource, group, "source")
        target_system = _group_system(resource, group, "target")
        for element in group.get("element", []):
            for target in element.get("target", []) or [{"equivalence": "unmatched"}]:
                yield {
                    "source_system": source_system,
                    "source_code": element.get("code", ""),
                    "source_display": element.get("display", ""),
                    "target_system": target_system,
                    "target_code": target.get("code", ""),
                    "target_display": target.get("display", ""),
                    "equivalence": target.get("equivalence", ""),
                    "comment": target.get("comment", ""),
                }


def to_csv(resource: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {key: spreadsheet_safe(value) for key, value in row.items()} for row in mapping_rows(resource)
    )
    return out.getvalue()


def from_csv(
    text: str,
    *,
    where: str = "ConceptMap CSV",
    url: str | None = None,
    version: str | None = None,
    status: str = "draft",
) -> dict[str, Any]:
    """A ConceptMap from the CSV :func:`to_csv` writes (a curator's spreadsheet of the same
    columns): one group per (source system, target system), one element per source code,
    in the order of the file; a row without target code is ``unmatched``.

    >>> text = ("source_system,source_code,source_display,target_system,target_code,target_display,"
    ...         "equivalence,comment\\nurn:a,1,One,urn:b,X,'=Ex,wider,\\nurn:a,2,Two,urn:b,,,unmatched,\\n")
    >>> group = from_csv(text, url="urn:map", version="1")["group"][0]
    >>> group["source"], [e["target"] for e in group["element"]]
    ('urn:a', [[{'code': 'X', 'display': '=Ex', 'equivalence': 'wider'}], [{'equivalence': 'unmatched'}]])
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        column
        for column in ("source_code", "target_code", "equivalence")
        if column not in (reader.fieldnames or [])
    ]
    if missing:
        raise InvalidMapFileError(
            f"{where}:1: missing column {missing[0]!r} (columns: {', '.join(CSV_COLUMNS)})"
        )
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in reader:
        cells = {key: spreadsheet_value(value or "") for key, value in row.items() if key is not None}
        key = (cells.get("source_system", ""), cells.get("target_system", ""))
        element = groups.setdefault(key, {}).setdefault(
            cells["source_code"],
            {
                "code": cells["source_code"],
                **({"display": cells["source_display"]} if cells.get("source_display") else {}),
                "target": [],
            },
        )
        named = (("code", "target_code"), ("display", "target_display"), ("equivalence", "equivalence"),
                 ("comment", "comment"))  # fmt: skip
        target = {key: cells[column] for key, column in named if cells.get(column)}
        element["target"].append(target)
    resource: dict[str, Any] = {"resourceType": "ConceptMap", "status": status,
                                "group": [{**({"source": s} if s else {}), **({"target": t} if t else {}),
                                           "element": list(elements.values())}
                                          for (s, t), elements in groups.items()]}  # fmt: skip
    if url:
        resource["url"] = url
    if version:
        resource["version"] = version
    return resource


def _prefixes(resource: dict[str, Any]) -> dict[str, str]:
    systems: list[str] = []
    for group in resource.get("group", []):
        for side in ("source", "target"):
            system = _group_system(resource, group, side)
            if system not in systems:
                systems.append(system)
    return {system: f"S{number}" for number, system in enumerate(systems, start=1)}


def to_sssom(resource: dict[str, Any]) -> str:
    """SSSOM TSV: ``unmatched`` as ``sssom:NoTermFound``, ``disjoint`` as a negative mapping;
    the justification is manual curation for maps published from curator decisions.
    Elements without a source code are left out: SSSOM has no subject for them."""
    prefixes = _prefixes(resource)
    curated = any(
        extension.get("url", "").startswith("urn:concordance:fhir:StructureDefinition:decision")
        for row in resource.get("group", [])
        for element in row.get("element", [])
        for target in element.get("target", [])
        for extension in target.get("extension", [])
    )
    justification = "semapv:ManualMappingCuration" if curated else "semapv:UnspecifiedMatching"
    curie_map = {prefix: (system if system.endswith(("/", "#", ":")) else system + "/")
                 for system, prefix in prefixes.items()}  # fmt: skip
    version = resource.get("version")
    metadata = [
        ("mapping_set_id", str(resource["url"])),
        *([("mapping_set_version", str(version))] if version else []),
    ]
    out = io.StringIO()
    write_mapping_set(out, curie_map=curie_map, metadata=metadata, columns=SSSOM_COLUMNS,
                      rows=_sssom_rows(resource, prefixes, justification))  # fmt: skip
    return out.getvalue()


SSSOM_COLUMNS = ("subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id",
                 "object_label", "mapping_justification", "comment")  # fmt: skip


def _sssom_rows(
    resource: dict[str, Any], prefixes: dict[str, str], justification: str
) -> Iterator[list[str]]:
    for row in mapping_rows(resource):
        if not row["source_code"]:
            continue  # an element without a code (R4 allows it) has no subject to write
        subject = f"{prefixes[row['source_system']]}:{local_id(row['source_code'])}"
        negative = row["equivalence"] == "disjoint"
        if row["equivalence"] == "unmatched" or not row["target_code"]:
            predicate, target, modifier = "skos:exactMatch", "sssom:NoTermFound", ""
        else:
            predicate = PREDICATES.get(row["equivalence"], "skos:relatedMatch")
            target = f"{prefixes[row['target_system']]}:{local_id(row['target_code'])}"
            modifier = "Not" if negative else ""
        yield [subject, row["source_display"], predicate, modifier, target, row["target_display"],
               justification, row["comment"]]  # fmt: skip

"""A ConceptMap version as FHIR JSON, SSSOM TSV or CSV (one row per element target)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from terminology import __version__
from terminology.exporters.cells import spreadsheet_safe
from terminology.exporters.sssom import PREDICATES, UNSPECIFIED_LICENSE, local_id

CSV_COLUMNS = ("source_system", "source_code", "source_display", "target_system", "target_code",
               "target_display", "equivalence", "comment")  # fmt: skip


def to_fhir_json(resource: dict[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=2)


def _group_system(resource: dict[str, Any], group: dict[str, Any], side: str) -> str:
    """The group's code system; when R4 leaves it out (it is optional), the map's scope
    (a ValueSet), else the map itself: SSSOM needs a namespace for every identifier."""
    scope = resource.get(f"{side}Uri") or resource.get(f"{side}Canonical")
    return str(group.get(side) or scope or f"{resource.get('url', 'urn:concordance:unknown')}#{side}")


def _rows(resource: dict[str, Any]) -> Iterator[dict[str, str]]:
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
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in _rows(resource))
    return out.getvalue()


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
    curie_map = {prefix: (system if system.endswith(("/", "#", ":")) else system + "/") for system, prefix in
                 prefixes.items()}  # fmt: skip
    curie_map.update({"skos": "http://www.w3.org/2004/02/skos/core#", "semapv": "https://w3id.org/semapv/vocab/",
                      "sssom": "https://w3id.org/sssom/"})  # fmt: skip
    version = resource.get("version")
    header = [
        "curie_map:",
        *[f"  {prefix}: {expansion}" for prefix, expansion in curie_map.items()],
        f"mapping_set_id: {resource['url']}",
        *([f"mapping_set_version: {version}"] if version else []),
        f"license: {UNSPECIFIED_LICENSE}",
        f"mapping_tool: concordance {__version__}",
    ]
    out = io.StringIO()
    out.write("".join(f"# {line}\n" for line in header))
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id",
                     "object_label", "mapping_justification", "comment"])  # fmt: skip
    for row in _rows(resource):
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
        writer.writerow([subject, row["source_display"], predicate, modifier, target, row["target_display"],
                         justification, row["comment"]])  # fmt: skip
    return out.getvalue()

"""Building FHIR R4 ConceptMaps from accepted decisions, and reading existing ones.

A published version is immutable: its JSON is stored whole, so what was served
is what was published. ``no map`` decisions become targets with equivalence
``unmatched`` (R4); each target carries the decision's provenance in a
documented extension (author, reviewer, date).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from terminology.errors import ConcordanceError
from terminology.models import CodeSystem
from terminology.review.workflow import MappingRow, Status

PROVENANCE = "urn:concordance:fhir:StructureDefinition:decision"
"""Extension on ``ConceptMap.group.element.target``: ``author``, ``reviewer`` (strings) and
``date`` (dateTime) of the curator decision the target comes from."""
R5_TO_R4 = {  # R4 equivalence says what the *target* is: wider when the source is narrower
    "related-to": "relatedto",
    "equivalent": "equivalent",
    "source-is-narrower-than-target": "wider",
    "source-is-broader-than-target": "narrower",
    "not-related-to": "disjoint",
}
STATUSES = ("draft", "active", "retired", "unknown")


class InvalidConceptMapError(ConcordanceError):
    code = "invalid-conceptmap"
    http_status = 400
    fhir_issue = "invalid"


def fhir_date_time(moment: datetime) -> str:
    """A FHIR dateTime: seconds and a time zone (SQLite hands back naive UTC times).

    >>> fhir_date_time(datetime(2026, 11, 28, 9, 30, 5, 123456))
    '2026-11-28T09:30:05+00:00'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def business_version(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "map"


def implicit_value_set(system_url: str) -> str:
    """The canonical of the value set holding every concept of a code system (FHIR's
    implicit value set, ``CodeSystem.valueSet``), which a ConceptMap's scope names.

    >>> implicit_value_set("http://hl7.org/fhir/sid/icd-10")
    'http://hl7.org/fhir/sid/icd-10?fhir_vs'
    """
    return f"{system_url}?fhir_vs"


def build_concept_map(
    rows: Iterable[MappingRow],
    source: CodeSystem,
    target: CodeSystem,
    *,
    url: str,
    name: str,
    version: str,
    status: str,
    publisher: str,
    displays: tuple[dict[str, str], dict[str, str]],
) -> dict[str, Any]:
    """An R4 ConceptMap of the accepted rows (one group: source version → target version)."""
    source_displays, target_displays = displays
    elements = []
    decided: list[datetime] = []
    for row in sorted(rows, key=lambda r: r.source_code):
        if row.status != Status.ACCEPTED:
            continue
        if row.updated_at:
            decided.append(row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=UTC))
        provenance = {
            "url": PROVENANCE,
            "extension": [
                part
                for part in (
                    {"url": "author", "valueString": row.author} if row.author else None,
                    {"url": "reviewer", "valueString": row.reviewer} if row.reviewer else None,
                    {"url": "date", "valueDateTime": fhir_date_time(row.updated_at)}
                    if row.updated_at
                    else None,
                )
                if part is not None
            ],
        }
        if row.no_map or not row.targets:
            targets = [{"equivalence": "unmatched", "extension": [provenance]}]
            if row.comment:
                targets[0]["comment"] = row.comment
        else:
            targets = []
            for chosen in row.targets:
                entry: dict[str, Any] = {"code": chosen.code, "equivalence": chosen.equivalence}
                if chosen.code in target_displays:
                    entry["display"] = target_displays[chosen.code]
                if row.comment:
                    entry["comment"] = row.comment
                entry["extension"] = [provenance]
                targets.append(entry)
        element: dict[str, Any] = {"code": row.source_code, "target": targets}
        if row.source_code in source_displays:
            element["display"] = source_displays[row.source_code]
        elements.append(element)
    return {
        "resourceType": "ConceptMap",
        "url": url,
        "version": version,
        "name": re.sub(r"[^A-Za-z0-9]", "", name.title()) or "ConceptMap",
        "title": name,
        "status": status,
        # When the content last changed (the latest decision), so publishing the same
        # decisions again gives the same resource, whenever it runs.
        "date": fhir_date_time(max(decided, default=datetime.now(UTC))),
        "publisher": publisher,
        # R4: the scope is the value set of the concepts mapped, here every concept of the
        # code system (its implicit value set); the versions are the group's.
        "sourceCanonical": implicit_value_set(source.url),
        "targetCanonical": implicit_value_set(target.url),
        "group": [
            {
                "source": source.url,
                "sourceVersion": source.version,
                "target": target.url,
                "targetVersion": target.version,
                "element": elements,
            }
        ],
    }


def as_r4(resource: dict[str, Any]) -> dict[str, Any]:
    """An R4 ConceptMap from R4 or R5 JSON (``relationship`` → ``equivalence``, R5 scope
    names → R4); anything else missing is an error naming the field."""
    if resource.get("resourceType") != "ConceptMap":
        raise InvalidConceptMapError(f"resourceType must be ConceptMap, not {resource.get('resourceType')!r}")
    if not resource.get("url"):
        raise InvalidConceptMapError("ConceptMap.url is required to serve a map")
    converted = dict(resource)
    for r5, r4 in (("sourceScopeUri", "sourceUri"), ("targetScopeUri", "targetUri")):
        if r5 in converted:
            converted[r4] = converted.pop(r5)
    for r5, r4 in (("sourceScopeCanonical", "sourceCanonical"), ("targetScopeCanonical", "targetCanonical")):
        if r5 in converted:
            converted[r4] = converted.pop(r5)
    groups = []
    for g, group in enumerate(resource.get("group", [])):
        elements = []
        for e, element in enumerate(group.get("element", [])):
            targets = []
            for t, target in enumerate(element.get("target", [])):
                target = dict(target)
                if "relationship" in target:
                    relationship = target.pop("relationship")
                    target["equivalence"] = R5_TO_R4.get(relationship, "relatedto")
                if "equivalence" not in target:
                    raise InvalidConceptMapError(
                        f"group[{g}].element[{e}].target[{t}].equivalence is required"
                    )
                targets.append(target)
            no_map = element.pop("noMap", None) if isinstance(element, dict) else None
            element = {**element, "target": targets}
            element.pop("noMap", None)
            if no_map and not targets:
                element["target"] = [{"equivalence": "unmatched"}]
            elements.append(element)
        unmapped = group.get("unmapped")
        group = {**group, "element": elements}
        if unmapped:
            unmapped = dict(unmapped)
            if unmapped.get("mode") == "use-source-code":
                unmapped["mode"] = "provided"
            if unmapped.get("mode") == "other-map" and "otherMap" in unmapped:
                unmapped["url"] = unmapped.pop("otherMap")
            unmapped.pop("relationship", None)
            group["unmapped"] = unmapped
        groups.append(group)
    converted["group"] = groups
    if converted.get("status") not in STATUSES:
        raise InvalidConceptMapError(f"ConceptMap.status must be one of {', '.join(STATUSES)}")
    return converted


def check_status_change(current: str, wanted: str) -> None:
    """A version moves along draft → active → retired, never back.

    >>> check_status_change("draft", "active")
    >>> check_status_change("retired", "active")
    Traceback (most recent call last):
    ...
    terminology.publication.conceptmap.InvalidConceptMapError: a retired ConceptMap cannot go back to active
    """
    if wanted not in STATUSES:
        raise InvalidConceptMapError(f"status must be one of {', '.join(STATUSES)}")
    order = {"draft": 0, "active": 1, "retired": 2, "unknown": 0}
    if order[wanted] < order[current]:
        raise InvalidConceptMapError(f"a {current} ConceptMap cannot go back to {wanted}")


def publishable(resource: dict[str, Any]) -> dict[str, Any]:
    """``resource`` (R4 or R5 JSON) as the R4 version Concordance stores: no server id or
    meta, and a version, without which it cannot be served as a version (:func:`as_r4`
    requires the url)."""
    converted = as_r4(resource)
    converted.pop("id", None)
    converted.pop("meta", None)
    if not str(converted.get("version") or ""):
        raise InvalidConceptMapError("ConceptMap.version is required to publish a version")
    converted["version"] = str(converted["version"])
    return converted

"""FHIR ``_summary`` and ``_elements``: a resource cut down to what the client asked for
(https://hl7.org/fhir/R4/search.html#summary, #elements).

A client listing the ConceptMaps of a server, or checking a version before a download,
does not want every ``group`` of a 36,000-row map. The summary elements are those the R4
definitions mark Σ (the test suite checks them against ``fhir.resources``); a subsetted
resource carries the ``SUBSETTED`` tag, so nobody takes it for the whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from terminology.errors import ConcordanceError

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
ALWAYS = frozenset({"resourceType", "id", "meta", "implicitRules"})
"""Kept in every subset (the Resource elements FHIR marks Σ, and the type)."""
_CONFORMANCE = frozenset({
    "url", "identifier", "version", "name", "title", "status", "experimental", "date", "publisher",
    "contact", "useContext", "jurisdiction",
})  # fmt: skip
SUMMARY = {
    "ConceptMap": _CONFORMANCE | {"sourceUri", "sourceCanonical", "targetUri", "targetCanonical"},
    "CodeSystem": _CONFORMANCE
    | {
        "caseSensitive",
        "valueSet",
        "hierarchyMeaning",
        "compositional",
        "versionNeeded",
        "content",
        "supplements",
        "count",
        "filter",
        "property",
    },
    "ValueSet": _CONFORMANCE | {"immutable"},
}
"""The R4 summary (Σ) elements of the resources Concordance serves, beside :data:`ALWAYS`."""
MANDATORY = {"ConceptMap": {"status"}, "CodeSystem": {"status", "content"}, "ValueSet": {"status"}}
"""Elements of cardinality 1..1, kept by ``_summary=text`` and ``_elements`` (R4 says so)."""
CHOICES = {"source": ("sourceUri", "sourceCanonical"), "target": ("targetUri", "targetCanonical")}
SUMMARY_MODES = ("true", "false", "text", "data", "count")


class InvalidSubsetError(ConcordanceError):
    code = "invalid"
    http_status = 400
    fhir_issue = "invalid"


def summary_mode(asked: str | None, *, search: bool) -> str:
    """The ``_summary`` value, checked (``count`` only applies to a search).

    >>> summary_mode(None, search=False), summary_mode("TRUE", search=True)
    ('false', 'true')
    """
    mode = (asked or "false").lower()
    if mode not in SUMMARY_MODES or (mode == "count" and not search):
        allowed = SUMMARY_MODES if search else SUMMARY_MODES[:-1]
        raise InvalidSubsetError(f"_summary={asked} is not one of {', '.join(allowed)}")
    return mode


def summarized(resource: dict[str, Any], mode: str) -> dict[str, Any]:
    """``resource`` as ``_summary=mode`` asks (``false``: unchanged).

    >>> cm = {"resourceType": "ConceptMap", "id": "1", "url": "urn:m", "status": "active",
    ...       "description": "long", "group": [{"element": []}]}
    >>> summarized(cm, "true")["meta"]["tag"][0]["code"], sorted(summarized(cm, "true"))
    ('SUBSETTED', ['id', 'meta', 'resourceType', 'status', 'url'])
    >>> sorted(summarized(cm, "data"))
    ['description', 'group', 'id', 'resourceType', 'status', 'url']
    """
    kind = str(resource.get("resourceType", ""))
    if mode == "false":
        return resource
    if mode == "data":
        if "text" not in resource:
            return resource
        return _tagged({key: value for key, value in resource.items() if key != "text"})
    if mode == "text":
        kept = ALWAYS | {"text"} | MANDATORY.get(kind, set())
    else:  # "true" (and "count", whose entries are not shown)
        kept = ALWAYS | SUMMARY.get(kind, set())
    return _tagged({key: value for key, value in resource.items() if key in kept})


def with_elements(resource: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """Only the top-level elements named (``source`` names ``sourceUri`` or
    ``sourceCanonical``), with the mandatory ones, as ``_elements`` asks.

    >>> cm = {"resourceType": "ConceptMap", "id": "1", "url": "urn:m", "status": "active",
    ...       "sourceUri": "urn:s", "group": []}
    >>> sorted(with_elements(cm, ["url", "source"]))
    ['id', 'meta', 'resourceType', 'sourceUri', 'status', 'url']
    """
    wanted = {name.strip() for name in names if name.strip()}
    if not wanted:
        return resource
    for name in list(wanted):
        wanted.update(CHOICES.get(name, ()))
    kept = ALWAYS | wanted | MANDATORY.get(str(resource.get("resourceType", "")), set())
    return _tagged({key: value for key, value in resource.items() if key in kept})


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = [tag for tag in meta.get("tag", []) if tag.get("code") != SUBSETTED["code"]]
    meta["tag"] = [*tags, SUBSETTED]
    return {**resource, "meta": meta}

"""Stored code system versions as the FHIR operations read them.

``$lookup`` and ``$validate-code`` need one concept with its parents and children
(:func:`concept_index`: the same few queries however many it has); ``$expand`` needs the whole
version (:func:`whole_index`, which the API keeps per worker).
"""

from __future__ import annotations

from typing import Any

from terminology.models import CodeSystem
from terminology.publication.lookup import CodeSystemIndex
from terminology.storage.store import SqlStore

STORED_USE = "urn:concordance:designation-use"


def concept_index(store: SqlStore, url: str, version: str | None, code: str) -> CodeSystemIndex | None:
    """A stored version as a CodeSystem resource holding the code, its parents and children."""
    system = store.find_code_system(url, version)
    if system is None:
        return None
    concept = store.concept(system, code)
    if concept is None:  # the version, without the code: $lookup and $validate-code say it is unknown
        return CodeSystemIndex(
            {"url": system.url, "version": system.version, "name": system.name or system.url}
        )
    node: dict[str, Any] = {"code": concept.code}
    if concept.display:
        node["display"] = concept.display
    if concept.definition:
        node["definition"] = concept.definition
    node["designation"] = [
        {
            key: value
            for key, value in (
                ("language", d.language),
                ("use", {"system": STORED_USE, "code": str(d.use.value)}),
                ("value", d.value),
            )
            if value
        }
        for d in concept.designations
        if d.value != concept.display
    ]
    node["property"] = [{"code": key, "valueString": str(value)} for key, value in concept.properties.items()]
    if not concept.active:
        node["property"].append({"code": "status", "valueCode": "retired"})
    index = CodeSystemIndex({"url": system.url, "version": system.version, "name": system.name or system.url,
                             "concept": [node]})  # fmt: skip
    children = store.children(system, code)
    displays = store.displays(system, [*concept.parents, *children])  # one query for both
    for parent in concept.parents:
        index.concepts[parent] = {"code": parent, "display": displays.get(parent)}
        index.parents.setdefault(code, []).append(parent)
    for child in children:
        index.concepts[child] = {"code": child, "display": displays.get(child)}
        index.children.setdefault(code, []).append(child)
    return index


def whole_index(store: SqlStore, system: CodeSystem) -> CodeSystemIndex:
    """A stored version with every concept and parent link, for value set expansion."""
    parents: dict[str, list[str]] = {}
    for code, parent in store.parents_frame(system).iter_rows():
        parents.setdefault(code, []).append(parent)
    concepts = []
    for code, display, active in store.concept_frame(system).iter_rows():
        node: dict[str, Any] = {
            "code": code,
            "property": [{"code": "parent", "valueCode": p} for p in parents.get(code, [])],
        }
        if display:
            node["display"] = display
        if not active:
            node["property"].append({"code": "status", "valueCode": "retired"})
        concepts.append(node)
    resource = {
        "url": system.url,
        "version": system.version,
        "name": system.name or system.url,
        "concept": concepts,
    }
    return CodeSystemIndex(resource)

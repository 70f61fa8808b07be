"""``/metadata``: the CapabilityStatement and, with ``?mode=terminology``, the
TerminologyCapabilities."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from api.fhir.router import router
from api.outcome import fhir_response
from api.urls import public_base, public_url
from terminology import __version__
from terminology.models import CodeSystem
from terminology.versions import pick_version, version_key


@router.get("/metadata", summary="CapabilityStatement, or TerminologyCapabilities with ?mode=terminology")
def metadata(request: Request, mode: str | None = None) -> JSONResponse:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if mode == "terminology":
        return fhir_response(terminology_capabilities(request, now))
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": now,
            "kind": "instance",
            "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
            "software": {"name": "Concordance", "version": __version__},
            "implementation": {
                "description": "Concordance terminology server",
                "url": public_url(request, "fhir"),
            },
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "searchParam": [
                        {
                            "name": "_summary",
                            "type": "token",
                            "documentation": "true, text, data, count, false",
                        },
                        {
                            "name": "_elements",
                            "type": "string",
                            "documentation": "top-level elements to keep",
                        },
                        {"name": "_count", "type": "number", "documentation": "page size, at most 500"},
                        {"name": "_offset", "type": "number", "documentation": "first entry of the page"},
                    ],
                    "resource": [
                        {
                            "type": "CodeSystem",
                            "interaction": INTERACTIONS,
                            "versioning": "versioned-update",
                            "searchParam": CONFORMANCE_SEARCH,
                            "operation": [
                                {
                                    "name": "lookup",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
                                },
                                {
                                    "name": "validate-code",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
                                },
                            ],
                        },
                        {
                            "type": "ValueSet",
                            "interaction": INTERACTIONS,
                            "versioning": "versioned-update",
                            "searchParam": CONFORMANCE_SEARCH,
                            "operation": [
                                {
                                    "name": "expand",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
                                },
                                {
                                    "name": "validate-code",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
                                },
                            ],
                        },
                        {
                            "type": "ConceptMap",
                            "interaction": INTERACTIONS,
                            "versioning": "versioned-update",
                            "searchParam": [
                                {"name": name, "type": kind}
                                for name, kind in (
                                    ("url", "uri"),
                                    ("version", "token"),
                                    ("name", "string"),
                                    ("status", "token"),
                                    ("source-system", "uri"),
                                    ("target-system", "uri"),
                                    ("source-uri", "reference"),
                                    ("target-uri", "reference"),
                                )
                            ],
                            "operation": [
                                {
                                    "name": "translate",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    )


CONFORMANCE_SEARCH = [
    {"name": name, "type": kind}
    for name, kind in (("url", "uri"), ("version", "token"), ("name", "string"), ("status", "token"))
]
"""The search parameters every stored terminology resource answers (ConceptMap adds its own)."""
INTERACTIONS = [
    {"code": "read"},
    {"code": "search-type"},
    {"code": "create", "documentation": "publishers only (concordance users publisher NAME)"},
    {"code": "update", "documentation": 'publishers only; If-Match W/"n" checked (412 when stale)'},
]
"""What each terminology resource accepts (writes the HAPI way: a publisher's bearer token)."""

EXPANSION_PARAMETERS = ("activeOnly", "count", "excludeNested", "filter", "offset", "tx-resource")
"""``$expand`` parameters Concordance honours (declared in TerminologyCapabilities)."""
CONCEPT_FILTERS = (
    "is-a",
    "descendent-of",
    "is-not-a",
    "child-of",
    "generalizes",
    "in",
    "not-in",
    "=",
    "regex",
)
PROPERTY_FILTERS = ("=", "in", "not-in", "regex", "exists")


def terminology_capabilities(request: Request, now: str) -> dict[str, Any]:
    """What this server can do with terminologies, and every stored code system version
    (the default one — what a request without a version gets — flagged)."""
    return {
        "resourceType": "TerminologyCapabilities",
        "version": __version__,
        "name": "Concordance",
        "title": "Concordance terminology server",
        "status": "active",
        "date": now,
        "kind": "instance",
        "software": {"name": "Concordance", "version": __version__},
        "implementation": {"description": "Concordance terminology server", "url": public_base(request)},
        "codeSystem": code_system_capabilities(request.app.state.store.code_systems()),
        "expansion": {
            "hierarchical": True,
            "paging": True,
            "incomplete": False,
            "parameter": [{"name": name} for name in EXPANSION_PARAMETERS],
        },
        "codeSearch": "all",
        "validateCode": {"translations": False},
        "translation": {"needsMap": False},
    }


def code_system_capabilities(systems: Iterable[CodeSystem]) -> list[dict[str, Any]]:
    """``TerminologyCapabilities.codeSystem``: one entry per url, each stored version listed."""
    by_url: dict[str, list[CodeSystem]] = {}
    for system in systems:
        by_url.setdefault(system.url, []).append(system)
    filters = [{"code": "concept", "op": [*CONCEPT_FILTERS, "regex"]}]
    entries = []
    for url, versions in sorted(by_url.items()):
        default = pick_version(
            versions, version_of=lambda s: s.version, is_active=lambda s: s.status == "active"
        )
        listed = []
        for system in sorted(versions, key=lambda s: version_key(s.version)):
            version: dict[str, Any] = {"code": system.version, "isDefault": system is default}
            if system.languages:
                version["language"] = list(system.languages)
            version["filter"] = filters
            listed.append(version)
        entries.append({"uri": url, "version": listed})
    return entries

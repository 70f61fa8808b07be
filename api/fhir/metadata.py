"""``/metadata``: the CapabilityStatement and, with ``?mode=terminology``, the
TerminologyCapabilities."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import JSONResponse

from api.fhir.outcome import fhir_response
from api.fhir.router import router
from terminology import __version__


@router.get("/metadata", summary="CapabilityStatement, or TerminologyCapabilities with ?mode=terminology")
def metadata(request: Request, mode: str | None = None) -> JSONResponse:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if mode == "terminology":
        return fhir_response(
            {
                "resourceType": "TerminologyCapabilities",
                "status": "active",
                "date": now,
                "kind": "instance",
                "software": {"name": "Concordance", "version": __version__},
                "implementation": {
                    "description": "Concordance terminology server",
                    "url": str(request.base_url),
                },
                "expansion": {"hierarchical": True, "paging": True, "incomplete": False},
                "validateCode": {"translations": False},
                "translation": {"needsMap": False},
                "codeSearch": "all",
            }
        )
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
                "url": str(request.base_url) + "fhir",
            },
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": "CodeSystem",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
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
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
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

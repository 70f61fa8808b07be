"""What the FHIR operations accept, described in the OpenAPI document.

The operations read their parameters themselves (FHIR allows repeats, R5 aliases and a
``Parameters`` body), so FastAPI cannot infer them; they are declared here for the API
documentation and for the schema-driven fuzz run.
"""

from __future__ import annotations

from typing import Any

CODING = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in ("system", "version", "code", "display")},
}
PARAMETER = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "valueString": {"type": "string"},
        "valueCode": {"type": "string"},
        "valueUri": {"type": "string"},
        "valueCanonical": {"type": "string"},
        "valueBoolean": {"type": "boolean"},
        "valueCoding": CODING,
        "valueCodeableConcept": {
            "type": "object",
            "properties": {"coding": {"type": "array", "items": CODING}},
        },
        "resource": {"type": "object"},
    },
}
PARAMETERS = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Parameters"]},
        "parameter": {"type": "array", "items": PARAMETER},
    },
}

TRANSLATE = (
    "url", "conceptMapVersion", "system", "version", "code", "coding", "source", "target",
    "targetsystem", "reverse", "sourceSystem", "sourceCode", "targetSystem", "targetCode",
)  # fmt: skip
LOOKUP = ("system", "version", "code", "coding", "property", "displayLanguage")
VALIDATE_CODE = ("url", "version", "code", "display", "coding", "displayLanguage")
CONCEPT_MAP_SEARCH = ("url", "version", "name", "status", "source-system", "target-system", "source-uri",
                      "target-uri", "_count", "_offset", "_format")  # fmt: skip
CODE_SYSTEM_SEARCH = ("url", "version", "name", "status", "_count", "_offset")


def query(names: tuple[str, ...]) -> dict[str, Any]:
    """``openapi_extra`` for an operation taking ``names`` in its query string."""
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in names
        ]
    }


def parameters_body() -> dict[str, Any]:
    """``openapi_extra`` for an operation taking a ``Parameters`` resource."""
    content = {"schema": PARAMETERS}
    return {"requestBody": {"required": True, "content": {"application/fhir+json": content,
                                                            "application/json": content}}}  # fmt: skip

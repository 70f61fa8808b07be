"""The framework's ceiling for translate_bench: FastAPI answering a constant Parameters body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BODY: dict[str, Any] = {
    "resourceType": "Parameters",
    "parameter": [
        {"name": "result", "valueBoolean": True},
        {"name": "match", "part": [
            {"name": "equivalence", "valueCode": "equivalent"},
            {"name": "concept", "valueCoding": {"system": "http://hl7.org/fhir/sid/icd-10", "code": "A00"}},
            {"name": "source", "valueUri": "urn:concordance:ConceptMap:bench-icd10|1"}]},
    ],
}  # fmt: skip


EXPANSION: dict[str, Any] = {
    "resourceType": "ValueSet",
    "url": "http://id.who.int/icd/release/11/mms?fhir_vs",
    "status": "active",
    "expansion": {
        "timestamp": "2026-12-03T00:00:00+00:00",
        "total": 67,
        "offset": 0,
        "parameter": [{"name": "filter", "valueString": "gri"}, {"name": "count", "valueInteger": 10}],
        "contains": [
            {"system": "http://id.who.int/icd/release/11/mms", "code": f"1E3{n}",
             "display": "Grippe due à un virus grippal saisonnier identifié"}
            for n in range(10)
        ],
    },
}  # fmt: skip
"""A type-ahead answer of the size Concordance gives (10 concepts), for typeahead_bench."""


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/fhir/metadata")
    async def metadata() -> JSONResponse:
        return JSONResponse({"resourceType": "CapabilityStatement"}, media_type="application/fhir+json")

    @app.get("/fhir/ConceptMap/$translate")
    async def translate_get() -> JSONResponse:
        return JSONResponse(BODY, media_type="application/fhir+json")

    @app.post("/fhir/ConceptMap/$translate")
    async def translate_post(request: Request) -> JSONResponse:
        await request.json()  # read the body, as a real endpoint must
        return JSONResponse(BODY, media_type="application/fhir+json")

    @app.get("/fhir/ValueSet/$expand")
    async def expand_get() -> JSONResponse:
        return JSONResponse(EXPANSION, media_type="application/fhir+json")

    return app

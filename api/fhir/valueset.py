"""``ValueSet/$expand`` and ``ValueSet/$validate-code``, GET and POST.

Value sets come with the request (``valueSet``, or ``tx-resource`` as the HL7 test runner
sends them); their code systems from the request or the stored versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from api.fhir import openapi
from api.fhir.codesystem import codings_to_validate, gather, stored_code_system_whole
from api.fhir.outcome import FhirError, fhir_response
from api.fhir.parameters import body_pairs, one, query_pairs
from api.fhir.router import router
from terminology.publication.lookup import CodeSystemIndex
from terminology.publication.valueset import Terminologies, expand, validate_in_value_set
from terminology.storage.store import SqlStore


def _terminologies(store: SqlStore, found: dict[str, list[Any]]) -> Terminologies:
    resources = [r for r in found.get("tx-resource", []) if isinstance(r, dict)]
    return Terminologies(
        code_systems=[CodeSystemIndex(r) for r in resources if r.get("resourceType") == "CodeSystem"],
        value_sets=[r for r in resources if r.get("resourceType") == "ValueSet"],
        stored_code_system=lambda url, version: stored_code_system_whole(store, url, version),
    )


def _value_set(found: dict[str, list[Any]], terms: Terminologies) -> dict[str, Any]:
    sent = one(found, "valueSet")
    if isinstance(sent, dict):
        return sent
    url = one(found, "url")
    if not url:
        raise FhirError(400, "required", "give the value set: url (with valueSetVersion) or valueSet")
    version = one(found, "valueSetVersion")
    return terms.value_set(str(url), str(version) if version else None)


def _expand(store: SqlStore, pairs: Iterable[tuple[str, Any]]) -> JSONResponse:
    found = gather(pairs)
    terms = _terminologies(store, found)
    value_set = _value_set(found, terms)
    asked = [(name, values[0]) for name, values in found.items() if values and name != "tx-resource"]
    return fhir_response(expand(value_set, terms, parameters=asked))


def _validate(store: SqlStore, pairs: Iterable[tuple[str, Any]]) -> JSONResponse:
    found = gather(pairs)
    terms = _terminologies(store, found)
    value_set = _value_set(found, terms)
    asked = codings_to_validate(found, system_of_code=one(found, "system"))
    results = [validate_in_value_set(value_set, terms, entry, where) for entry, where in asked]
    chosen = next((v for v in results if v.result), results[0])
    return fhir_response({"resourceType": "Parameters", "parameter": chosen.parameters()})


EXPAND = (
    "url",
    "valueSetVersion",
    "activeOnly",
    "filter",
    "count",
    "offset",
    "excludeNested",
    "displayLanguage",
)
VALIDATE = ("url", "valueSetVersion", "system", "systemVersion", "code", "display", "coding")


@router.get("/ValueSet/$expand", summary="Expand a value set", openapi_extra=openapi.query(EXPAND))
def expand_get(request: Request) -> JSONResponse:
    return _expand(request.app.state.store, query_pairs(request))


@router.post(
    "/ValueSet/$expand", summary="Expand a value set (Parameters)", openapi_extra=openapi.parameters_body()
)
async def expand_post(request: Request) -> JSONResponse:
    return _expand(request.app.state.store, await body_pairs(request))


@router.get(
    "/ValueSet/$validate-code", summary="Is a code in a value set", openapi_extra=openapi.query(VALIDATE)
)
def validate_code_get(request: Request) -> JSONResponse:
    return _validate(request.app.state.store, query_pairs(request))


@router.post(
    "/ValueSet/$validate-code",
    summary="Is a code in a value set (Parameters)",
    openapi_extra=openapi.parameters_body(),
)
async def validate_code_post(request: Request) -> JSONResponse:
    return _validate(request.app.state.store, await body_pairs(request))

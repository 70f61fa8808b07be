"""``ValueSet/$expand`` and ``ValueSet/$validate-code``, GET and POST.

Value sets come with the request (``valueSet``, or ``tx-resource`` as the HL7 test runner
sends them); their code systems from the request or the stored versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.fhir import openapi
from api.fhir.codesystem import codings_to_validate, gather
from api.fhir.outcome import FhirError, fhir_response
from api.fhir.parameters import body_pairs, one, query_pairs
from api.fhir.router import router
from api.fhir.stored import StoredCodeSystems
from api.limits import HeavyGate
from terminology.publication.lookup import CodeSystemIndex
from terminology.publication.valueset import Budget, Terminologies, expand, validate_in_value_set
from terminology.settings import Settings


def _terminologies(request: Request, found: dict[str, list[Any]], deadline: float) -> Terminologies:
    resources = [r for r in found.get("tx-resource", []) if isinstance(r, dict)]
    settings: Settings = request.app.state.settings
    stored: StoredCodeSystems = request.app.state.code_systems
    return Terminologies(
        code_systems=[CodeSystemIndex(r) for r in resources if r.get("resourceType") == "CodeSystem"],
        value_sets=[r for r in resources if r.get("resourceType") == "ValueSet"],
        stored_code_system=stored.get,
        budget=Budget(
            max_parts=settings.max_value_set_parts, max_listed=settings.max_expansion, deadline=deadline
        ),
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


def _expand(request: Request, pairs: Iterable[tuple[str, Any]], deadline: float) -> JSONResponse:
    found = gather(pairs)
    terms = _terminologies(request, found, deadline)
    value_set = _value_set(found, terms)
    asked = [(name, values[0]) for name, values in found.items() if values and name != "tx-resource"]
    return fhir_response(expand(value_set, terms, parameters=asked))


def _validate(request: Request, pairs: Iterable[tuple[str, Any]], deadline: float) -> JSONResponse:
    found = gather(pairs)
    terms = _terminologies(request, found, deadline)
    value_set = _value_set(found, terms)
    asked = codings_to_validate(
        found, system_of_code=one(found, "system"), most=request.app.state.settings.max_codings
    )
    results = [validate_in_value_set(value_set, terms, entry, where) for entry, where in asked]
    chosen = next((v for v in results if v.result), results[0])
    return fhir_response({"resourceType": "Parameters", "parameter": chosen.parameters()})


async def _heavy(
    request: Request,
    operation: Callable[[Request, Iterable[tuple[str, Any]], float], JSONResponse],
    pairs: Iterable[tuple[str, Any]],
) -> JSONResponse:
    """A ValueSet operation on a worker thread, in one of the gate's slots: the event loop
    keeps answering every other request meanwhile."""
    gate: HeavyGate = request.app.state.heavy
    answer: JSONResponse = await run_in_threadpool(
        gate.run, lambda deadline: operation(request, pairs, deadline)
    )
    return answer


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
async def expand_get(request: Request) -> JSONResponse:
    return await _heavy(request, _expand, query_pairs(request))


@router.post(
    "/ValueSet/$expand", summary="Expand a value set (Parameters)", openapi_extra=openapi.parameters_body()
)
async def expand_post(request: Request) -> JSONResponse:
    return await _heavy(request, _expand, await body_pairs(request))


@router.get(
    "/ValueSet/$validate-code", summary="Is a code in a value set", openapi_extra=openapi.query(VALIDATE)
)
async def validate_code_get(request: Request) -> JSONResponse:
    return await _heavy(request, _validate, query_pairs(request))


@router.post(
    "/ValueSet/$validate-code",
    summary="Is a code in a value set (Parameters)",
    openapi_extra=openapi.parameters_body(),
)
async def validate_code_post(request: Request) -> JSONResponse:
    return await _heavy(request, _validate, await body_pairs(request))

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
from api.fhir.codesystem import codings_to_validate, gather, validation_options
from api.fhir.parameters import body_pairs, one, query_pairs
from api.fhir.router import router
from api.limits import HeavyGate
from api.outcome import FhirError, fhir_response
from terminology.services.operations import (
    Sent,
    ValueSetRequest,
    expand_value_set,
    validate_codings,
    value_set_request,
)
from terminology.settings import Settings
from terminology.valuesets.limits import Budget
from terminology.valuesets.resolution import VersionRules


def _value_set_request(request: Request, found: dict[str, list[Any]], deadline: float) -> ValueSetRequest:
    settings: Settings = request.app.state.settings
    sent_value_set, url = one(found, "valueSet"), one(found, "url")
    if not isinstance(sent_value_set, dict) and not url:
        raise FhirError(400, "required", "give the value set: url (with valueSetVersion) or valueSet")
    version = one(found, "valueSetVersion")
    return value_set_request(
        Sent.of(found.get("tx-resource", [])),
        request.app.state.code_systems,
        Budget(max_parts=settings.max_value_set_parts, max_listed=settings.max_expansion, deadline=deadline),
        value_set=sent_value_set if isinstance(sent_value_set, dict) else None,
        url=str(url) if url else None,
        version=str(version) if version else None,
        supplements=[str(url) for url in found.get("useSupplement", [])],
        value_set_versions=[str(v) for v in found.get("default-valueset-version", [])],
        versions=VersionRules.of(
            system_version=found.get("system-version", []),
            force_system_version=found.get("force-system-version", []),
            check_system_version=found.get("check-system-version", []),
        ),
    )


REPEATABLE = ("designation", "property")
"""$expand parameters that may be given more than once."""


def _expand(request: Request, pairs: Iterable[tuple[str, Any]], deadline: float) -> JSONResponse:
    found = gather(pairs)
    asked = [
        (name, values if name in REPEATABLE else values[0])
        for name, values in found.items()
        if values and name != "tx-resource"
    ]
    value_set = _value_set_request(request, found, deadline)
    accept_language = request.headers.get("accept-language")
    return fhir_response(expand_value_set(value_set, asked, accept_language=accept_language))


def _validate(request: Request, pairs: Iterable[tuple[str, Any]], deadline: float) -> JSONResponse:
    found = gather(pairs)
    value_set = _value_set_request(request, found, deadline)
    asked = codings_to_validate(
        found, system_of_code=one(found, "system"), most=request.app.state.settings.max_codings
    )
    rules = validation_options(found, request.headers.get("accept-language"))
    chosen = validate_codings(value_set, asked, rules=rules)
    output = chosen.parameters()
    concept = one(found, "codeableConcept")
    if isinstance(concept, dict):  # echoed, as R4's output names it: the concept validated
        output.append({"name": "codeableConcept", "valueCodeableConcept": concept})
    return fhir_response({"resourceType": "Parameters", "parameter": output})


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
    "includeDesignations",
    "designation",
    "useSupplement",
    "default-valueset-version",
)
VALIDATE = (
    "url",
    "valueSetVersion",
    "system",
    "systemVersion",
    "code",
    "display",
    "coding",
    "displayLanguage",
    "lenient-display-validation",
    "valueset-membership-only",
    "activeOnly",
)


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

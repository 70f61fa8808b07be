"""CodeSystem operations (``$lookup``, ``$validate-code``), read and search.

A code system comes from the request (``tx-resource``, as the HL7 test runner sends it)
or from the stored versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.fhir import openapi
from api.fhir.parameters import (
    body_pairs,
    coding_from_query,
    one,
    query_pairs,
    refuse_unknown_search_parameters,
    resource_id,
    search_page,
    subset,
    too_many_codings,
)
from api.fhir.router import router
from api.outcome import FhirError, fhir_response, searchset
from api.urls import route_url
from terminology.backends import Backends
from terminology.errors import CodeSystemNotFoundError
from terminology.publication.conceptmap import implicit_value_set
from terminology.services.operations import Sent, lookup_code, validate_in_code_system
from terminology.valuesets.code_validation import ValidationOptions, Where, checked_languages


def gather(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def _lookup(store: Backends, pairs: Iterable[tuple[str, Any]]) -> JSONResponse:
    found = gather(pairs)
    coding = one(found, "coding")
    coding = coding_from_query(coding) if isinstance(coding, str) else coding
    system = one(found, "system") or (coding or {}).get("system")
    code = one(found, "code") or (coding or {}).get("code")
    if not system or not code:
        raise FhirError(400, "required", "$lookup needs a code and its system (or a coding)")
    output = lookup_code(
        store,
        Sent.of(found.get("tx-resource", [])),
        system=str(system),
        code=str(code),
        version=one(found, "version") or (coding or {}).get("version"),
        supplements=[str(value) for value in found.get("useSupplement", [])],
        properties={str(value) for value in found.get("property", [])} or None,
        display_language=one(found, "displayLanguage"),
    )
    return fhir_response({"resourceType": "Parameters", "parameter": output})


@router.get("/CodeSystem/$lookup", summary="Look up a code", openapi_extra=openapi.query(openapi.LOOKUP))
def lookup_get(request: Request) -> JSONResponse:
    return _lookup(request.app.state.store, query_pairs(request))


@router.post(
    "/CodeSystem/$lookup", summary="Look up a code (Parameters)", openapi_extra=openapi.parameters_body()
)
async def lookup_post(request: Request) -> JSONResponse:
    pairs = await body_pairs(request)
    answer: JSONResponse = await run_in_threadpool(_lookup, request.app.state.store, pairs)
    return answer


# ---------------------------------------------------------------- $validate-code


def codings_to_validate(
    found: dict[str, list[Any]], *, system_of_code: str | None, most: int
) -> list[tuple[dict[str, Any], Where]]:
    """The codings a ``$validate-code`` asks about, each with where it sits in the request;
    ``system_of_code`` is the system a bare ``code`` belongs to (CodeSystem: ``url``;
    ValueSet: ``system``, which may be left out)."""
    code, coding, concept = one(found, "code"), one(found, "coding"), one(found, "codeableConcept")
    given = [
        name for name, value in (("code", code), ("coding", coding), ("codeableConcept", concept)) if value
    ]
    if not given:
        raise FhirError(
            400, "required", "$validate-code needs a code (with url), a coding or a codeableConcept"
        )
    if len(given) > 1:
        raise FhirError(
            400, "invalid", f"give only one of code, coding and codeableConcept (got {', '.join(given)})"
        )
    if code:
        entry = {
            "system": system_of_code,
            "code": str(code),
            "version": one(found, "version") or one(found, "systemVersion"),
            "display": one(found, "display"),
        }
        return [(entry, Where())]
    if coding:
        coding = coding_from_query(coding) if isinstance(coding, str) else coding
        if not isinstance(coding, dict):
            raise FhirError(400, "invalid", "coding must be a Coding")
        return [(coding, Where("Coding"))]
    if not isinstance(concept, dict) or not concept.get("coding"):
        raise FhirError(400, "invalid", "the codeableConcept has no coding")
    too_many_codings(len(concept["coding"]), most)
    return [(entry, Where(f"CodeableConcept.coding[{i}]")) for i, entry in enumerate(concept["coding"])]


def validation_options(found: dict[str, list[Any]], accept_language: str | None) -> ValidationOptions:
    """How the request wants codes judged: displays in ``displayLanguage`` (else the
    Accept-Language header; a language that is no language tag is refused),
    ``lenient-display-validation``, ``valueset-membership-only``, ``activeOnly``, and
    ``abstract=false`` (an abstract concept is not allowed where the code is used)."""
    language = checked_languages(one(found, "displayLanguage") or accept_language)

    def asked(name: str) -> bool:
        return str(one(found, name)).lower() == "true"

    return ValidationOptions(
        str(language) if language else None,
        lenient=asked("lenient-display-validation"),
        membership_only=asked("valueset-membership-only"),
        active_only=asked("activeOnly"),
        abstract_allowed=str(one(found, "abstract")).lower() != "false",
    )


def _validate(
    store: Backends, pairs: Iterable[tuple[str, Any]], most: int, accept_language: str | None = None
) -> JSONResponse:
    found = gather(pairs)
    sent = Sent.of(found.get("tx-resource", []), code_systems=found.get("codeSystem", []))
    url = one(found, "url") or one(found, "system")
    codings = codings_to_validate(found, system_of_code=url, most=most)
    for coding, _ in codings:
        if not (coding.get("system") or url) or not coding.get("code"):
            raise FhirError(
                400, "required", "a code to validate needs its code system (url, or Coding.system)"
            )
    rules = validation_options(found, accept_language)
    chosen = validate_in_code_system(store, sent, codings, default_system=url, rules=rules)
    return fhir_response({"resourceType": "Parameters", "parameter": chosen.parameters()})


@router.get(
    "/CodeSystem/$validate-code",
    summary="Validate a code (and display) in a code system",
    openapi_extra=openapi.query(openapi.VALIDATE_CODE),
)
def validate_code_get(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    language = request.headers.get("accept-language")
    return _validate(request.app.state.store, query_pairs(request), settings.max_codings, language)


@router.post(
    "/CodeSystem/$validate-code",
    summary="Validate a code in a code system (Parameters)",
    openapi_extra=openapi.parameters_body(),
)
async def validate_code_post(request: Request) -> JSONResponse:
    pairs = await body_pairs(request)
    most = request.app.state.settings.max_codings
    language = request.headers.get("accept-language")
    answer: JSONResponse = await run_in_threadpool(_validate, request.app.state.store, pairs, most, language)
    return answer


def _code_system_resource(system: Any) -> dict[str, Any]:
    """A stored version's metadata; its concepts are served by ``$lookup`` (content
    ``not-present``: CIM-11 alone has 36,000 concepts)."""
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": str(system.id),
        "url": system.url,
        "version": system.version,
        "status": system.status if system.status in ("draft", "active", "retired", "unknown") else "active",
        "content": "not-present",
        "count": system.concept_count,
        "valueSet": implicit_value_set(system.url),
    }
    if system.name:
        resource["name"] = system.name
    if system.title:
        resource["title"] = system.title
    if system.publisher:
        resource["publisher"] = system.publisher
    if system.languages:
        resource["language"] = system.languages[0]
    return resource


CODE_SYSTEM_SEARCH = frozenset({"url", "version", "name", "status"})


@router.get("/CodeSystem/{system_id}", summary="Read a CodeSystem version (metadata)")
def read_code_system(request: Request, system_id: str) -> JSONResponse:
    number = resource_id(system_id)
    if number is not None:
        try:
            found = request.app.state.store.code_system_by_id(number)
            return fhir_response(subset(request, _code_system_resource(found)))
        except CodeSystemNotFoundError:
            pass
    raise FhirError(404, "not-found", f"CodeSystem/{system_id} is not known")


@router.get(
    "/CodeSystem",
    summary="Search CodeSystem versions (Bundle searchset)",
    openapi_extra=openapi.query(openapi.CODE_SYSTEM_SEARCH),
)
def search_code_system(request: Request) -> JSONResponse:
    params = refuse_unknown_search_parameters(request, CODE_SYSTEM_SEARCH)
    found = [
        system
        for system in request.app.state.store.code_systems()
        if all(
            wanted is None or actual == wanted
            for wanted, actual in ((params.get("url"), system.url), (params.get("version"), system.version),
                                   (params.get("status"), system.status))
        )
        and (params.get("name") is None or (system.name or "").lower().startswith(params["name"].lower()))
    ]  # fmt: skip
    page, links = search_page(request, found)
    return searchset(
        len(found),
        links,
        [
            {
                "fullUrl": route_url(request, "read_code_system", system_id=str(system.id)),
                "resource": subset(request, _code_system_resource(system), search=True),
                "search": {"mode": "match"},
            }
            for system in page
        ],
    )

"""Stored ValueSets: read, search, and ``$expand`` / ``$validate-code`` of one by id.

The operations by url (``ValueSet/$expand?url=``) find stored value sets too, through
:mod:`terminology.services.value_sets`; these routes serve them as resources.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from api.fhir import openapi
from api.fhir.parameters import (
    body_pairs,
    query_pairs,
    refuse_unknown_search_parameters,
    resource_id,
    search_page,
    subset,
)
from api.fhir.router import router
from api.fhir.valueset import _expand, _heavy, _validate
from api.outcome import FhirError, fhir_response, searchset
from api.urls import route_url
from terminology.records import StoredValueSet, ValueSetNotFoundError
from terminology.services.value_sets import get_value_set, search_value_sets

VALUE_SET_SEARCH = frozenset({"url", "version", "name", "status"})


def stored(request: Request, value_set_id: str) -> StoredValueSet:
    number = resource_id(value_set_id)
    if number is not None:
        try:
            return get_value_set(request.app.state.store, number)
        except ValueSetNotFoundError:
            pass
    raise FhirError(404, "not-found", f"ValueSet/{value_set_id} is not known")


@router.get("/ValueSet/{value_set_id}", summary="Read a stored ValueSet version")
def read_value_set(request: Request, value_set_id: str) -> JSONResponse:
    found = stored(request, value_set_id)
    answer = fhir_response(subset(request, found.as_served()))
    answer.headers["ETag"] = f'W/"{found.revision}"'
    return answer


@router.get(
    "/ValueSet",
    summary="Search stored ValueSet versions (Bundle searchset)",
    openapi_extra=openapi.query((*sorted(VALUE_SET_SEARCH), "_count", "_offset", "_summary", "_elements")),
)
def search_value_set(request: Request) -> JSONResponse:
    params = refuse_unknown_search_parameters(request, VALUE_SET_SEARCH)
    found = search_value_sets(
        request.app.state.store,
        url=params.get("url"),
        version=params.get("version"),
        name=params.get("name"),
        status=params.get("status"),
    )
    page, links = search_page(request, found)
    entries = [
        {
            "fullUrl": route_url(request, "read_value_set", value_set_id=str(value_set.id)),
            "resource": subset(request, value_set.as_served(), search=True),
            "search": {"mode": "match"},
        }
        for value_set in page
    ]
    return searchset(len(found), links, entries)


def _with_stored(request: Request, value_set_id: str, pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The operation's parameters, the stored value set given as ``valueSet``."""
    if any(name in ("url", "valueSet") for name, _ in pairs):
        raise FhirError(400, "invalid", "an instance operation works on its own ValueSet: no url or valueSet")
    return [*pairs, ("valueSet", stored(request, value_set_id).as_served())]


@router.get("/ValueSet/{value_set_id}/$expand", summary="Expand a stored value set")
async def expand_instance_get(request: Request, value_set_id: str) -> JSONResponse:
    return await _heavy(request, _expand, _with_stored(request, value_set_id, query_pairs(request)))


@router.post("/ValueSet/{value_set_id}/$expand", summary="Expand a stored value set (Parameters)")
async def expand_instance_post(request: Request, value_set_id: str) -> JSONResponse:
    return await _heavy(request, _expand, _with_stored(request, value_set_id, await body_pairs(request)))


@router.get("/ValueSet/{value_set_id}/$validate-code", summary="Is a code in a stored value set")
async def validate_instance_get(request: Request, value_set_id: str) -> JSONResponse:
    return await _heavy(request, _validate, _with_stored(request, value_set_id, query_pairs(request)))

"""Writes the HAPI way, for publishers: ``POST /fhir/{type}`` creates a version,
``PUT /fhir/{type}/{id}`` updates one, for CodeSystem, ValueSet and ConceptMap.

Only a user with the publisher right (``concordance users publisher NAME``) may write; the
answer carries ``ETag: W/"revision"`` (FHIR ``meta.versionId``), and an ``If-Match`` naming
an older revision is refused with 412, so two publishers never overwrite each other. What may
change follows each resource's rule in :mod:`terminology.services`: a draft ValueSet may be
rewritten; a ConceptMap or CodeSystem version's content never changes (only a map's status
moves forward), a new release is a new version.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.fhir.codesystem import _code_system_resource
from api.fhir.parameters import resource_id
from api.fhir.router import router
from api.outcome import FhirError, fhir_response
from api.problems import ForbiddenError, NotAuthenticatedError
from api.urls import public_url
from terminology.backends import Backends
from terminology.fhir.shapes import first_control_character
from terminology.records import StoredValueSet, User
from terminology.services.code_systems import write_code_system
from terminology.services.concept_maps import write_concept_map
from terminology.services.users import is_publisher, user_for_token
from terminology.services.value_sets import save_value_set

ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def publisher(request: Request, authorization: Annotated[str | None, Header()] = None) -> User:
    """The caller, who must hold the publisher right (401 without a token, 403 without it);
    a plain function, so FastAPI runs its two queries off the event loop."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticatedError("writing needs Authorization: Bearer <token> of a publisher")
    store: Backends = request.app.state.store
    user = user_for_token(store, token.strip())
    if user is None:
        raise NotAuthenticatedError("unknown or revoked token")
    if not is_publisher(store, user):
        raise ForbiddenError(
            f"{user.name} may not write terminology resources (concordance users publisher {user.name})"
        )
    return user


def expected_revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` names (``W/"3"`` or ``"3"``), None without one."""
    if if_match is None:
        return None
    found = ETAG.match(if_match.strip())
    if found is None:
        raise FhirError(400, "invalid", f'If-Match must be an ETag such as W/"3", not {if_match!r}')
    return int(found.group(1))


async def resource_body(request: Request, kind: str, path_id: str | None = None) -> dict[str, Any]:
    """The body, a ``kind`` resource (a PUT's ``id``, when given, must be the path's)."""
    try:
        body = await request.json()
    except (ValueError, RecursionError) as error:
        raise FhirError(400, "invalid", "the body is not JSON") from error
    if not isinstance(body, dict) or body.get("resourceType") != kind:
        raise FhirError(400, "invalid", f"the body must be a {kind} resource")
    if path_id is not None and "id" in body and str(body["id"]) != path_id:
        raise FhirError(400, "invalid", f"the body's id {body['id']!r} is not the id in the URL ({path_id})")
    found = first_control_character(body)
    if found is not None:  # a NUL would be cut or refused by the database: refuse it, never alter it
        raise FhirError(
            400,
            "invalid",
            f"{kind}.{found[0]}: holds the control character {found[1]}, which a FHIR string may not",
        )
    return body


def written(
    request: Request, kind: str, served: dict[str, Any], revision: int, *, created: bool
) -> JSONResponse:
    """201 with Location for a new version, 200 otherwise; the ETag either way."""
    answer = fhir_response(served, 201 if created else 200)
    answer.headers["ETag"] = f'W/"{revision}"'
    if created:
        answer.headers["Location"] = public_url(request, f"fhir/{kind}/{served['id']}/_history/{revision}")
    return answer


def path_number(kind: str, text: str) -> int:
    number = resource_id(text)
    if number is None:
        raise FhirError(404, "not-found", f"{kind}/{text} is not known")
    return number


IfMatch = Annotated[str | None, Header(alias="If-Match")]
Publisher = Annotated[User, Depends(publisher)]


@router.post("/ValueSet", summary="Create a ValueSet version (publishers)", status_code=201)
async def create_value_set(request: Request, caller: Publisher) -> JSONResponse:
    body = await resource_body(request, "ValueSet")
    stored, changed = await run_in_threadpool(save_value_set, request.app.state.store, body)
    return written(
        request, "ValueSet", stored.as_served(), stored.revision, created=changed and stored.revision == 1
    )


@router.put("/ValueSet/{value_set_id}", summary="Update a ValueSet version (publishers; If-Match)")
async def update_value_set(
    request: Request, value_set_id: str, caller: Publisher, if_match: IfMatch = None
) -> JSONResponse:
    body = await resource_body(request, "ValueSet", value_set_id)
    revision = expected_revision(if_match)
    saved = await run_in_threadpool(_update_value_set, request, value_set_id, body, revision)
    return written(request, "ValueSet", saved.as_served(), saved.revision, created=False)


def _update_value_set(
    request: Request, value_set_id: str, body: dict[str, Any], revision: int | None
) -> StoredValueSet:
    from api.fhir.valueset_store import stored

    current = stored(request, value_set_id)
    if (body.get("url"), str(body.get("version"))) != (current.url, current.version):
        raise FhirError(
            400,
            "invalid",
            f"ValueSet/{value_set_id} is {current.url}|{current.version}: a PUT cannot change its url or"
            " version; POST the new version instead",
        )
    saved, _ = save_value_set(request.app.state.store, body, expected_revision=revision)
    return saved


@router.post("/ConceptMap", summary="Create a ConceptMap version (publishers)", status_code=201)
async def create_concept_map(request: Request, caller: Publisher) -> JSONResponse:
    body = await resource_body(request, "ConceptMap")
    stored, new = await run_in_threadpool(write_concept_map, request.app.state.store, body)
    return written(request, "ConceptMap", stored.as_served(), stored.revision, created=new)


@router.put("/ConceptMap/{map_id}", summary="Change a ConceptMap version's status (publishers; If-Match)")
async def update_concept_map(
    request: Request, map_id: str, caller: Publisher, if_match: IfMatch = None
) -> JSONResponse:
    number = path_number("ConceptMap", map_id)
    body = await resource_body(request, "ConceptMap", map_id)
    revision = expected_revision(if_match)
    stored, _ = await run_in_threadpool(
        lambda: write_concept_map(request.app.state.store, body, map_id=number, expected_revision=revision)
    )
    return written(request, "ConceptMap", stored.as_served(), stored.revision, created=False)


@router.post("/CodeSystem", summary="Create a CodeSystem version (publishers)", status_code=201)
async def create_code_system(request: Request, caller: Publisher) -> JSONResponse:
    body = await resource_body(request, "CodeSystem")
    system, new = await run_in_threadpool(write_code_system, request.app.state.store, body)
    return written(request, "CodeSystem", _code_system_resource(system), 1, created=new)


@router.put("/CodeSystem/{system_id}", summary="Write a CodeSystem version again (publishers; If-Match)")
async def update_code_system(
    request: Request, system_id: str, caller: Publisher, if_match: IfMatch = None
) -> JSONResponse:
    number = path_number("CodeSystem", system_id)
    body = await resource_body(request, "CodeSystem", system_id)
    revision = expected_revision(if_match)
    system, _ = await run_in_threadpool(
        lambda: write_code_system(request.app.state.store, body, system_id=number, expected_revision=revision)
    )
    return written(request, "CodeSystem", _code_system_resource(system), 1, created=False)

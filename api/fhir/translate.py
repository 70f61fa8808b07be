"""``ConceptMap/$translate``, type and instance level, GET and POST: the parameters are
read here, the maps chosen and asked by :mod:`terminology.services.translation` (whose
per-worker cache keeps a warm lookup off the database), and the answer rendered here.
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
    boolean,
    coding_from_query,
    collect,
    one,
    query_pairs,
    resource_id,
    too_many_codings,
)
from api.fhir.router import router
from api.outcome import FhirError, fhir_response
from terminology.publication.translate import Question
from terminology.services.translation import MapCache, MapChoice, Translation, translate_request


def _most(request: Request) -> int:
    """Codings one request may ask about (the settings' ``max_codings``)."""
    most: int = request.app.state.settings.max_codings
    return most


def _cache(request: Request) -> MapCache:
    cache: MapCache = request.app.state.map_cache
    return cache


def _question(found: dict[str, list[Any]], reverse: bool, most: int) -> Question:
    code, coding, concept = one(found, "code"), one(found, "coding"), one(found, "codeableConcept")
    system = one(found, "system")
    given = [
        name for name, value in (("code", code), ("coding", coding), ("codeableConcept", concept)) if value
    ]
    if not given:
        raise FhirError(
            400, "required", "give the concept to translate: code and system, coding or codeableConcept"
        )
    if len(given) > 1:
        raise FhirError(
            400, "invalid", f"give only one of code, coding and codeableConcept (got {', '.join(given)})"
        )
    codings: list[tuple[str | None, str]] = []
    if code:
        if not system:
            raise FhirError(400, "required", "a code needs its system (parameter system)")
        codings.append((system, str(code)))
    elif coding:
        coding = coding_from_query(coding) if isinstance(coding, str) else coding
        if not coding.get("code"):
            raise FhirError(400, "invalid", "the coding has no code")
        codings.append((coding.get("system"), coding["code"]))
    else:
        too_many_codings(len((concept or {}).get("coding", [])), most)
        for entry in (concept or {}).get("coding", []):
            if entry.get("code"):
                codings.append((entry.get("system"), entry["code"]))
        if not codings:
            raise FhirError(400, "invalid", "the codeableConcept has no coding with a code")
    reverse = reverse or boolean(one(found, "reverse"), "reverse")
    return Question(tuple(codings), target_system=one(found, "targetsystem"), reverse=reverse)


def _sent_maps(found: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """ConceptMaps sent inside the request (``tx-resource``, or R5 ``conceptMap``)."""
    sent = found.get("tx-resource", []) + found.get("conceptMapResource", [])
    return [
        resource
        for resource in sent
        if isinstance(resource, dict) and resource.get("resourceType") == "ConceptMap"
    ]


def _choice(found: dict[str, list[Any]], instance: int | None) -> MapChoice:
    url = one(found, "url")
    return MapChoice(
        map_id=instance,
        url=str(url) if url else None,
        version=one(found, "conceptMapVersion"),
        source_scope=one(found, "source"),
        target_scope=one(found, "target"),
    )


def _answer(translation: Translation, question: Question, *, r5: bool = False) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": translation.result}]
    if translation.message:
        parameters.append({"name": "message", "valueString": translation.message})
    for match in translation.matches:
        concept = {key: value for key, value in (("system", match.system), ("code", match.code),
                                                  ("display", match.display)) if value}  # fmt: skip
        parts: list[dict[str, Any]] = [{"name": "equivalence", "valueCode": match.equivalence}]
        if r5 and question.reverse:
            asked_system, asked_code = question.codings[0]
            parts.append(
                {
                    "name": "concept",
                    "valueCoding": {k: v for k, v in (("system", asked_system), ("code", asked_code)) if v},
                }
            )
            parts.append({"name": "source", "valueCoding": concept})
            parts.append({"name": "originMap", "valueCanonical": match.source})
        elif r5:
            if concept:
                parts.append({"name": "concept", "valueCoding": concept})
            parts.append({"name": "originMap", "valueCanonical": match.source})
        else:
            if concept:
                parts.append({"name": "concept", "valueCoding": concept})
            parts.append({"name": "source", "valueUri": match.source})
        if match.comment:
            parts.append({"name": "message", "valueString": match.comment})
        parameters.append({"name": "match", "part": parts})
    return {"resourceType": "Parameters", "parameter": parameters}


def _translate(
    cache: MapCache, pairs: Iterable[tuple[str, Any]], instance: int | None, most: int
) -> JSONResponse:
    found, reverse = collect(pairs)
    question = _question(found, reverse, most)
    translation = translate_request(cache, question, _choice(found, instance), _sent_maps(found))
    return fhir_response(_answer(translation, question, r5=bool(found.get("_r5"))))


@router.get(
    "/ConceptMap/$translate",
    summary="Translate a code (type level)",
    openapi_extra=openapi.query(openapi.TRANSLATE),
)
async def translate_get(request: Request) -> JSONResponse:
    return _translate(_cache(request), query_pairs(request), None, _most(request))


@router.post(
    "/ConceptMap/$translate",
    summary="Translate a code (type level, Parameters)",
    openapi_extra=openapi.parameters_body(),
)
async def translate_post(request: Request) -> JSONResponse:
    return await _translate_posted(request, await body_pairs(request), None)


@router.get(
    "/ConceptMap/{map_id}/$translate",
    summary="Translate a code with one ConceptMap version",
    openapi_extra=openapi.query(openapi.TRANSLATE),
)
async def translate_instance_get(request: Request, map_id: str) -> JSONResponse:
    return _translate(_cache(request), query_pairs(request), map_id_number(map_id), _most(request))


@router.post(
    "/ConceptMap/{map_id}/$translate",
    summary="Translate with one ConceptMap version (Parameters)",
    openapi_extra=openapi.parameters_body(),
)
async def translate_instance_post(request: Request, map_id: str) -> JSONResponse:
    return await _translate_posted(request, await body_pairs(request), map_id_number(map_id))


SENT_MAPS = {"tx-resource", "conceptMap", "conceptMapResource"}


async def _translate_posted(
    request: Request, pairs: list[tuple[str, Any]], instance: int | None
) -> JSONResponse:
    """A question about stored maps is a few dict reads: answered on the event loop, the
    hot path. Maps sent with the request must be indexed first: that work goes to a thread."""
    if not any(name in SENT_MAPS for name, _ in pairs):
        return _translate(_cache(request), pairs, instance, _most(request))
    answer: JSONResponse = await run_in_threadpool(
        _translate, _cache(request), pairs, instance, _most(request)
    )
    return answer


def map_id_number(text: str) -> int:
    number = resource_id(text)
    if number is None:
        raise FhirError(404, "not-found", f"ConceptMap/{text} is not known")
    return number

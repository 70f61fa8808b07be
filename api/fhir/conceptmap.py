"""ConceptMap read (with exports by content negotiation) and search."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api.fhir import openapi
from api.fhir.parameters import refuse_unknown_search_parameters, search_page, subset
from api.fhir.router import router
from api.fhir.translate import map_id_number
from api.outcome import FHIR_JSON, FhirError, fhir_response, searchset
from api.urls import route_url
from terminology.errors import UnknownFormatError
from terminology.exporters import export_formats, exporter
from terminology.services.concept_maps import get_concept_map, search_concept_maps


def _wanted_format(request: Request) -> str | None:
    """An export format asked by ``_format`` or ``Accept`` (None: FHIR JSON)."""
    asked = request.query_params.get("_format")
    if asked:
        return None if asked in ("json", "fhir", FHIR_JSON, "application/json") else asked
    for item in request.headers.get("accept", "").split(","):
        mime = item.split(";")[0].strip().lower()
        if mime in ("", "*/*", FHIR_JSON, "application/json", "application/*"):
            return None
        if mime in export_formats().values():
            return mime
    accept = request.headers.get("accept", "")
    if accept:
        raise FhirError(
            406, "not-supported", f"cannot answer in {accept}; ask for {', '.join(export_formats().values())}"
        )
    return None


@router.get(
    "/ConceptMap/{map_id}",
    summary="Read a ConceptMap version (FHIR JSON; SSSOM TSV or CSV by Accept or _format)",
)
def read_concept_map(request: Request, map_id: str) -> Response:
    stored = get_concept_map(request.app.state.store, map_id_number(map_id))
    wanted = _wanted_format(request)
    if wanted is None:
        return fhir_response(subset(request, stored.as_served()))
    try:
        mime, export = exporter(wanted)
    except UnknownFormatError as error:
        raise FhirError(400, "not-supported", str(error)) from error
    return Response(export(stored.as_served()), media_type=f"{mime}; charset=utf-8")


SEARCH = frozenset({"url", "version", "name", "status", "source-system", "target-system", "source-uri",
                    "target-uri"})  # fmt: skip


@router.get(
    "/ConceptMap",
    summary="Search ConceptMap versions (Bundle searchset)",
    openapi_extra=openapi.query(openapi.CONCEPT_MAP_SEARCH),
)
def search_concept_map(request: Request) -> JSONResponse:
    params = refuse_unknown_search_parameters(request, SEARCH)
    found = search_concept_maps(
        request.app.state.store,
        url=params.get("url"),
        version=params.get("version"),
        name=params.get("name"),
        status=params.get("status"),
        source=params.get("source-system") or params.get("source-uri"),
        target=params.get("target-system") or params.get("target-uri"),
    )
    page, links = search_page(request, found)
    return searchset(
        len(found),
        links,
        [
            {
                "fullUrl": route_url(request, "read_concept_map", map_id=str(stored.id)),
                "resource": subset(request, stored.as_served(), search=True),
                "search": {"mode": "match"},
            }
            for stored in page
        ],
    )

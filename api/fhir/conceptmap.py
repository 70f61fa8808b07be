"""ConceptMap read (with exports by content negotiation) and search."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api.fhir import openapi
from api.fhir.outcome import FHIR_JSON, FhirError, fhir_response, searchset
from api.fhir.parameters import RESULT_PARAMETERS, counting_only, page_size, subset
from api.fhir.router import router
from api.fhir.translate import map_id_number
from terminology.errors import UnknownFormatError
from terminology.exporters import export_formats, exporter
from terminology.storage import conceptmaps


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
    stored = conceptmaps.get_concept_map(request.app.state.store, map_id_number(map_id))
    wanted = _wanted_format(request)
    if wanted is None:
        return fhir_response(subset(request, stored.as_served()))
    try:
        mime, export = exporter(wanted)
    except UnknownFormatError as error:
        raise FhirError(400, "not-supported", str(error)) from error
    return Response(export(stored.as_served()), media_type=f"{mime}; charset=utf-8")


SEARCH = {"url", "version", "name", "status", "source-system", "target-system", "source-uri", "target-uri",
          "_count", "_offset"}  # fmt: skip


@router.get(
    "/ConceptMap",
    summary="Search ConceptMap versions (Bundle searchset)",
    openapi_extra=openapi.query(openapi.CONCEPT_MAP_SEARCH),
)
def search_concept_map(request: Request) -> JSONResponse:
    params = dict(request.query_params)
    unknown = sorted(set(params) - SEARCH - RESULT_PARAMETERS - {"_format"})
    if unknown:
        raise FhirError(400, "not-supported", f"search parameter(s) not supported: {', '.join(unknown)}")
    try:
        count = page_size(params.get("_count"))
        offset = max(int(params.get("_offset", 0)), 0)
    except ValueError as error:
        raise FhirError(400, "invalid", "_count and _offset are numbers") from error
    found = conceptmaps.search_concept_maps(
        request.app.state.store,
        url=params.get("url"),
        version=params.get("version"),
        name=params.get("name"),
        status=params.get("status"),
        source=params.get("source-system") or params.get("source-uri"),
        target=params.get("target-system") or params.get("target-uri"),
    )
    base = str(request.url.remove_query_params(["_offset"]))
    joiner = "&" if "?" in base else "?"
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < len(found):
        links.append({"relation": "next", "url": f"{base}{joiner}_offset={offset + count}"})
    if offset > 0:
        links.append({"relation": "previous", "url": f"{base}{joiner}_offset={max(offset - count, 0)}"})
    page = [] if counting_only(request) else found[offset : offset + count]
    return searchset(
        len(found),
        links,
        [
            {
                "fullUrl": str(request.url_for("read_concept_map", map_id=str(stored.id))),
                "resource": subset(request, stored.as_served(), search=True),
                "search": {"mode": "match"},
            }
            for stored in page
        ],
    )

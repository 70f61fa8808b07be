"""FHIR R4 terminology routes under ``/fhir`` (``application/fhir+json``).

Errors here are ``OperationOutcome`` resources with the HTTP status the specification
asks for; no internal message leaks. ``$translate`` reads maps from a per-worker cache
of immutable versions, refreshed when the catalogue changes (checked at most once a
second), so a warm lookup does not touch the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from terminology import __version__
from terminology.errors import ConcordanceError, UnknownFormatError
from terminology.exporters import export_formats, exporter
from terminology.publication.conceptmap import InvalidConceptMapError, as_r4
from terminology.publication.lookup import CodeSystemIndex, UnknownCodeError, lookup
from terminology.publication.translate import MapIndex, Match, Question, has_result, translate
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/fhir", tags=["fhir"])


class FhirError(ConcordanceError):
    """An error to answer as an OperationOutcome with ``status``."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        self.status, self.issue_code, self.diagnostics = status, code, diagnostics
        super().__init__(diagnostics)


TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"


def operation_outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    """One issue, its message in ``details.text`` as terminology servers give it."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": code,
                "details": {"coding": [{"system": TX_ISSUE_TYPE, "code": code}], "text": text},
            }
        ],
    }


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def render_fhir_error(error: Exception) -> JSONResponse:
    """Every error of a ``/fhir`` route, as an OperationOutcome."""
    if isinstance(error, FhirError):
        return fhir_response(operation_outcome(error.issue_code, error.diagnostics), error.status)
    if isinstance(error, conceptmaps.ConceptMapNotFoundError):
        return fhir_response(operation_outcome("not-found", str(error)), 404)
    if isinstance(error, InvalidConceptMapError):
        return fhir_response(operation_outcome("invalid", str(error)), 400)
    if isinstance(error, UnknownCodeError):
        return fhir_response(operation_outcome("not-found", str(error)), 404)
    if isinstance(error, ConcordanceError):
        return fhir_response(operation_outcome("processing", str(error)), 422)
    return fhir_response(operation_outcome("exception", "the server could not answer"), 500)


class MapCache:
    """Indexed ConceptMap versions of one worker process."""

    def __init__(self, store: SqlStore, *, recheck_seconds: float = 1.0) -> None:
        self.store = store
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, str] | None = None
        self._checked = 0.0
        self._maps: list[conceptmaps.StoredMap] = []
        self._by_url: dict[str, list[conceptmaps.StoredMap]] = {}
        self._indexes: dict[int, MapIndex] = {}

    def maps(self) -> list[conceptmaps.StoredMap]:
        now = time.monotonic()
        if now - self._checked >= self.recheck_seconds:
            with self._lock:
                stamp = conceptmaps.catalogue_stamp(self.store)
                if stamp != self._stamp:
                    self._maps = conceptmaps.search_concept_maps(self.store)
                    self._by_url = {}
                    for stored in self._maps:  # newest first within a url, as searched
                        self._by_url.setdefault(stored.url, []).append(stored)
                    known = {stored.id for stored in self._maps}
                    self._indexes = {key: value for key, value in self._indexes.items() if key in known}
                    self._stamp = stamp
                self._checked = now
        return self._maps

    def versions(self, url: str) -> list[conceptmaps.StoredMap]:
        """The stored versions of one canonical url, newest first (no scan of the catalogue)."""
        self.maps()
        return self._by_url.get(url, [])

    def index(self, stored: conceptmaps.StoredMap) -> MapIndex:
        """The version's index, built once per worker (the hot path is a dict read)."""
        found = self._indexes.get(stored.id)
        if found is None:
            with self._lock:
                found = self._indexes.get(stored.id) or MapIndex(stored.as_served())
                self._indexes[stored.id] = found
        return found


def _cache(request: Request) -> MapCache:
    cache: MapCache = request.app.state.map_cache
    return cache


# ---------------------------------------------------------------- parameters


def _parameters_from_body(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "POST a Parameters resource")
    parameters: list[dict[str, Any]] = body.get("parameter", [])
    return parameters


VALUE_KEYS = ("valueUri", "valueString", "valueCode", "valueCanonical", "valueBoolean", "valueCoding",
              "valueCodeableConcept", "valueUrl", "resource")  # fmt: skip


def _value(parameter: dict[str, Any]) -> Any:
    for key in VALUE_KEYS:
        if key in parameter:
            return parameter[key]
    return None


R5_ALIASES = {
    "sourceSystem": "system",
    "sourceCode": "code",
    "sourceCoding": "coding",
    "sourceCodeableConcept": "codeableConcept",
    "sourceScope": "source",
    "targetScope": "target",
    "targetSystem": "targetsystem",
    "conceptMap": "conceptMapResource",
}
REVERSE_ALIASES = {"targetCode": "code", "targetCoding": "coding", "targetCodeableConcept": "codeableConcept"}


def _collect(pairs: Iterable[tuple[str, Any]]) -> tuple[dict[str, list[Any]], bool]:
    """Parameters by their R4 name (R5 names accepted); True when R5 ``target*`` inputs ask
    for the reverse direction. ``_r5`` records that R5 names were used, so the answer uses
    R5 part names too (``originMap``; in reverse, ``source`` is the source coding)."""
    found: dict[str, list[Any]] = {}
    reverse = False
    for name, value in pairs:
        if name in REVERSE_ALIASES or name in R5_ALIASES:
            found["_r5"] = [True]
        if name in REVERSE_ALIASES:
            reverse = True
            name = REVERSE_ALIASES[name]
        name = R5_ALIASES.get(name, name)
        found.setdefault(name, []).append(value)
    if reverse:
        # R5 reverse: the code is in targetSystem; sourceSystem narrows the answers.
        code_system, wanted = found.pop("targetsystem", []), found.pop("system", [])
        if code_system:
            found["system"] = code_system
        if wanted:
            found["targetsystem"] = wanted
    return found, reverse


def _one(found: dict[str, list[Any]], name: str) -> Any:
    values = found.get(name, [])
    if len(values) > 1 and name != "tx-resource":
        raise FhirError(400, "invalid", f"parameter {name} is given {len(values)} times")
    return values[0] if values else None


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise FhirError(400, "invalid", f"parameter {name} must be true or false, not {value!r}")


def _coding_from_query(text: str) -> dict[str, Any]:
    system, _, code = text.rpartition("|")
    return {"system": system or None, "code": code}


# ---------------------------------------------------------------- $translate


def _question(found: dict[str, list[Any]], reverse: bool) -> Question:
    code, coding, concept = _one(found, "code"), _one(found, "coding"), _one(found, "codeableConcept")
    system = _one(found, "system")
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
        coding = _coding_from_query(coding) if isinstance(coding, str) else coding
        if not coding.get("code"):
            raise FhirError(400, "invalid", "the coding has no code")
        codings.append((coding.get("system"), coding["code"]))
    else:
        for entry in (concept or {}).get("coding", []):
            if entry.get("code"):
                codings.append((entry.get("system"), entry["code"]))
        if not codings:
            raise FhirError(400, "invalid", "the codeableConcept has no coding with a code")
    reverse = reverse or _boolean(_one(found, "reverse"), "reverse")
    return Question(tuple(codings), target_system=_one(found, "targetsystem"), reverse=reverse)


def _request_maps(found: dict[str, list[Any]]) -> list[conceptmaps.StoredMap]:
    """ConceptMaps sent inside the request (``tx-resource``, or R5 ``conceptMap``)."""
    sent = []
    for number, resource in enumerate(found.get("tx-resource", []) + found.get("conceptMapResource", [])):
        if isinstance(resource, dict) and resource.get("resourceType") == "ConceptMap":
            r4 = as_r4(resource)
            sent.append(
                conceptmaps.StoredMap(
                    id=-(number + 1), url=r4["url"], version=str(r4.get("version", "")), status=r4["status"],
                    resource=r4,
                )
            )  # fmt: skip
    return sent


def _newest(candidates: list[conceptmaps.StoredMap]) -> list[conceptmaps.StoredMap]:
    """Per url, the newest active version (the newest of any status when none is active)."""
    chosen: dict[str, conceptmaps.StoredMap] = {}
    for stored in candidates:  # newest first within a url
        current = chosen.get(stored.url)
        if current is None or (current.status != "active" and stored.status == "active"):
            chosen[stored.url] = stored
    return list(chosen.values())


def _choose_maps(
    cache: MapCache, found: dict[str, list[Any]], instance: int | None
) -> tuple[list[conceptmaps.StoredMap], list[conceptmaps.StoredMap]]:
    """The maps to translate with, and every known map (for ``other-map``)."""
    sent = _request_maps(found)
    every = sent + cache.maps()  # a list concatenation; scanned only without url
    if instance is not None:
        return [
            next((m for m in every if m.id == instance), None)
            or conceptmaps.get_concept_map(cache.store, instance)
        ], every
    url, version = _one(found, "url"), _one(found, "conceptMapVersion")
    if url:
        url, _, pinned = str(url).partition("|")
        version = version or pinned or None
        known = [m for m in sent if m.url == url] + cache.versions(url)
        same = [m for m in known if version is None or m.version == version]
        if not same:
            wanted = f"{url}|{version}" if version else url
            raise FhirError(404, "not-found", f"ConceptMap {wanted} is not known to this server")
        return _newest(same)[:1] if version is None else same[:1], every
    scoped = _newest([m for m in every if m.status in ("active", "draft") or m.id < 0])
    source, target = _one(found, "source"), _one(found, "target")
    if source:
        scoped = [
            m for m in scoped if m.resource.get("sourceUri", m.resource.get("sourceCanonical")) == source
        ]
    if target:
        scoped = [
            m for m in scoped if m.resource.get("targetUri", m.resource.get("targetCanonical")) == target
        ]
    return scoped, every


def _answer(matches: list[Match], question: Question, *, r5: bool = False) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": has_result(matches)}]
    if not has_result(matches):
        asked = ", ".join(f"{system}|{code}" if system else code for system, code in question.codings)
        parameters.append({"name": "message", "valueString": f"No mappings could be found for {asked}"})
    for match in matches:
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


def _translate(cache: MapCache, pairs: Iterable[tuple[str, Any]], instance: int | None) -> JSONResponse:
    found, reverse = _collect(pairs)
    question = _question(found, reverse)
    chosen, every = _choose_maps(cache, found, instance)
    chains = any(
        (group.get("unmapped") or {}).get("mode") == "other-map"
        for stored in chosen
        for group in stored.resource.get("group", [])
    )
    others = (
        {m.url: cache.index(m) if m.id > 0 else MapIndex(m.resource) for m in _newest(every)}
        if chains
        else None
    )  # only a group that falls back on another map needs the others indexed
    matches: list[Match] = []
    for stored in chosen:
        index = cache.index(stored) if stored.id > 0 else MapIndex(stored.resource)
        matches.extend(translate(index, question, others=others))
    return fhir_response(_answer(matches, question, r5=bool(found.get("_r5"))))


def _query_pairs(request: Request) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in request.query_params.multi_items() if not name.startswith("_")]


async def _body_pairs(request: Request) -> list[tuple[str, Any]]:
    try:
        body = await request.json()
    except ValueError as error:
        raise FhirError(400, "invalid", "the body is not JSON") from error
    return [(parameter.get("name", ""), _value(parameter)) for parameter in _parameters_from_body(body)]


@router.get("/ConceptMap/$translate", summary="Translate a code (type level)")
async def translate_get(request: Request) -> JSONResponse:
    return _translate(_cache(request), _query_pairs(request), None)


@router.post("/ConceptMap/$translate", summary="Translate a code (type level, Parameters)")
async def translate_post(request: Request) -> JSONResponse:
    return _translate(_cache(request), await _body_pairs(request), None)


@router.get("/ConceptMap/{map_id}/$translate", summary="Translate a code with one ConceptMap version")
async def translate_instance_get(request: Request, map_id: str) -> JSONResponse:
    return _translate(_cache(request), _query_pairs(request), _map_id(map_id))


@router.post("/ConceptMap/{map_id}/$translate", summary="Translate with one ConceptMap version (Parameters)")
async def translate_instance_post(request: Request, map_id: str) -> JSONResponse:
    return _translate(_cache(request), await _body_pairs(request), _map_id(map_id))


def _map_id(text: str) -> int:
    if not text.isdigit():
        raise FhirError(404, "not-found", f"ConceptMap/{text} is not known")
    return int(text)


# ---------------------------------------------------------------- $lookup

STORED_USE = "urn:concordance:designation-use"


def _stored_code_system(store: SqlStore, url: str, version: str | None, code: str) -> CodeSystemIndex | None:
    """A stored version as a CodeSystem resource holding the code, its parents and children."""
    system = store.find_code_system(url, version)
    if system is None:
        return None
    concept = store.concept(system, code)
    if concept is None:
        raise UnknownCodeError(f"Unknown code '{code}' in the CodeSystem '{system.reference}'")
    node: dict[str, Any] = {"code": concept.code}
    if concept.display:
        node["display"] = concept.display
    if concept.definition:
        node["definition"] = concept.definition
    node["designation"] = [
        {
            key: value
            for key, value in (
                ("language", d.language),
                ("use", {"system": STORED_USE, "code": str(d.use.value)}),
                ("value", d.value),
            )
            if value
        }
        for d in concept.designations
        if d.value != concept.display
    ]
    node["property"] = [{"code": key, "valueString": str(value)} for key, value in concept.properties.items()]
    if not concept.active:
        node["property"].append({"code": "status", "valueCode": "retired"})
    index = CodeSystemIndex({"url": system.url, "version": system.version, "name": system.name or system.url,
                             "concept": [node]})  # fmt: skip
    for parent in concept.parents:
        found = store.concept(system, parent)
        index.concepts[parent] = {"code": parent, "display": found.display if found else None}
        index.parents.setdefault(code, []).append(parent)
    for child in store.children(system, code):
        found = store.concept(system, child)
        index.concepts[child] = {"code": child, "display": found.display if found else None}
        index.children.setdefault(code, []).append(child)
    return index


def _sent_code_systems(found: dict[str, list[Any]]) -> list[CodeSystemIndex]:
    return [
        CodeSystemIndex(resource)
        for resource in found.get("tx-resource", [])
        if isinstance(resource, dict) and resource.get("resourceType") == "CodeSystem"
    ]


def _lookup(store: SqlStore, pairs: Iterable[tuple[str, Any]]) -> JSONResponse:
    found: dict[str, list[Any]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    coding = _one(found, "coding")
    coding = _coding_from_query(coding) if isinstance(coding, str) else coding
    system = _one(found, "system") or (coding or {}).get("system")
    code = _one(found, "code") or (coding or {}).get("code")
    version = _one(found, "version") or (coding or {}).get("version")
    if not system or not code:
        raise FhirError(400, "required", "$lookup needs a code and its system (or a coding)")
    system, _, pinned = str(system).partition("|")
    version = version or pinned or None
    sent = _sent_code_systems(found)
    chosen = next(
        (cs for cs in sent if cs.url == system and (version is None or cs.version == version)
         and cs.resource.get("content") != "supplement"), None,
    )  # fmt: skip
    if chosen is None:
        chosen = _stored_code_system(store, system, version, str(code))
    if chosen is None:
        wanted = f"{system}|{version}" if version else system
        raise FhirError(404, "not-found", f"A definition for CodeSystem '{wanted}' could not be found")
    supplements = []
    for wanted_supplement in found.get("useSupplement", []):
        url, _, supplement_version = str(wanted_supplement).partition("|")
        supplement = next(
            (
                cs
                for cs in sent
                if cs.url == url and (not supplement_version or cs.version == supplement_version)
            ),
            None,
        )
        if supplement is None:
            raise FhirError(404, "not-found", f"Required supplement not found: {wanted_supplement}")
        supplements.append(supplement)
    wanted_properties = {str(value) for value in found.get("property", [])} or None
    output = lookup(chosen, str(code), supplements=tuple(supplements), properties=wanted_properties)
    return fhir_response({"resourceType": "Parameters", "parameter": output})


@router.get("/CodeSystem/$lookup", summary="Look up a code")
def lookup_get(request: Request) -> JSONResponse:
    return _lookup(request.app.state.store, _query_pairs(request))


@router.post("/CodeSystem/$lookup", summary="Look up a code (Parameters)")
async def lookup_post(request: Request) -> JSONResponse:
    return _lookup(request.app.state.store, await _body_pairs(request))


# ---------------------------------------------------------------- read / search


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
    stored = conceptmaps.get_concept_map(request.app.state.store, _map_id(map_id))
    wanted = _wanted_format(request)
    if wanted is None:
        return fhir_response(stored.as_served())
    try:
        mime, export = exporter(wanted)
    except UnknownFormatError as error:
        raise FhirError(400, "not-supported", str(error)) from error
    return Response(export(stored.as_served()), media_type=f"{mime}; charset=utf-8")


SEARCH = {"url", "version", "name", "status", "source-system", "target-system", "source-uri", "target-uri",
          "_count", "_offset"}  # fmt: skip


@router.get("/ConceptMap", summary="Search ConceptMap versions (Bundle searchset)")
def search_concept_map(request: Request) -> JSONResponse:
    params = dict(request.query_params)
    unknown = sorted(set(params) - SEARCH - {"_format"})
    if unknown:
        raise FhirError(400, "not-supported", f"search parameter(s) not supported: {', '.join(unknown)}")
    try:
        count = min(int(params.get("_count", 20)), 500)
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
    page = found[offset : offset + count]
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": links,
            "entry": [
                {
                    "fullUrl": str(request.url_for("read_concept_map", map_id=str(stored.id))),
                    "resource": stored.as_served(),
                    "search": {"mode": "match"},
                }
                for stored in page
            ],
        }
    )


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


@router.get("/CodeSystem/{system_id}", summary="Read a CodeSystem version (metadata)")
def read_code_system(request: Request, system_id: str) -> JSONResponse:
    if system_id.isdigit():
        for system in request.app.state.store.code_systems():
            if system.id == int(system_id):
                return fhir_response(_code_system_resource(system))
    raise FhirError(404, "not-found", f"CodeSystem/{system_id} is not known")


@router.get("/CodeSystem", summary="Search CodeSystem versions (Bundle searchset)")
def search_code_system(request: Request) -> JSONResponse:
    params = dict(request.query_params)
    unknown = sorted(set(params) - {"url", "version", "name", "status", "_count", "_offset", "_format"})
    if unknown:
        raise FhirError(400, "not-supported", f"search parameter(s) not supported: {', '.join(unknown)}")
    try:
        count, offset = min(int(params.get("_count", 20)), 500), max(int(params.get("_offset", 0)), 0)
    except ValueError as error:
        raise FhirError(400, "invalid", "_count and _offset are numbers") from error
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
    base = str(request.url.remove_query_params(["_offset"]))
    joiner = "&" if "?" in base else "?"
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < len(found):
        links.append({"relation": "next", "url": f"{base}{joiner}_offset={offset + count}"})
    return fhir_response(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": links,
            "entry": [
                {
                    "fullUrl": str(request.url_for("read_code_system", system_id=str(system.id))),
                    "resource": _code_system_resource(system),
                    "search": {"mode": "match"},
                }
                for system in found[offset : offset + count]
            ],
        }
    )


# ---------------------------------------------------------------- metadata


@router.get("/metadata", summary="CapabilityStatement, or TerminologyCapabilities with ?mode=terminology")
def metadata(request: Request, mode: str | None = None) -> JSONResponse:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if mode == "terminology":
        return fhir_response(
            {
                "resourceType": "TerminologyCapabilities",
                "status": "active",
                "date": now,
                "kind": "instance",
                "software": {"name": "Concordance", "version": __version__},
                "implementation": {
                    "description": "Concordance terminology server",
                    "url": str(request.base_url),
                },
                "translation": {"needsMap": False},
                "codeSearch": "all",
            }
        )
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": now,
            "kind": "instance",
            "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
            "software": {"name": "Concordance", "version": __version__},
            "implementation": {
                "description": "Concordance terminology server",
                "url": str(request.base_url) + "fhir",
            },
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": "CodeSystem",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "operation": [
                                {
                                    "name": "lookup",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
                                }
                            ],
                        },
                        {
                            "type": "ConceptMap",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [
                                {"name": name, "type": kind}
                                for name, kind in (
                                    ("url", "uri"),
                                    ("version", "token"),
                                    ("name", "string"),
                                    ("status", "token"),
                                    ("source-system", "uri"),
                                    ("target-system", "uri"),
                                    ("source-uri", "reference"),
                                    ("target-uri", "reference"),
                                )
                            ],
                            "operation": [
                                {
                                    "name": "translate",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    )

"""FHIR operation parameters, from a query string or a POSTed ``Parameters`` resource."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request

from api.outcome import FhirError
from api.urls import public_url, this_url
from terminology.valuesets.errors import TooCostlyError


def parameters_from_body(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "POST a Parameters resource")
    parameters: list[dict[str, Any]] = body.get("parameter", [])
    return parameters


VALUE_KEYS = ("valueUri", "valueString", "valueCode", "valueCanonical", "valueBoolean", "valueCoding",
              "valueCodeableConcept", "valueUrl", "valueInteger", "valueDecimal", "valueDateTime",
              "resource")  # fmt: skip


def parameter_value(parameter: dict[str, Any]) -> Any:
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


def collect(pairs: Iterable[tuple[str, Any]]) -> tuple[dict[str, list[Any]], bool]:
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


def one(found: dict[str, list[Any]], name: str) -> Any:
    values = found.get(name, [])
    if len(values) > 1 and name != "tx-resource":
        raise FhirError(400, "invalid", f"parameter {name} is given {len(values)} times")
    return values[0] if values else None


def boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool) or value is None:
        return bool(value)
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise FhirError(400, "invalid", f"parameter {name} must be true or false, not {value!r}")


def coding_from_query(text: str) -> dict[str, Any]:
    system, _, code = text.rpartition("|")
    return {"system": system or None, "code": code}


def query_pairs(request: Request) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in request.query_params.multi_items() if not name.startswith("_")]


async def body_pairs(request: Request) -> list[tuple[str, Any]]:
    try:
        body = await request.json()
    except ValueError as error:
        raise FhirError(400, "invalid", "the body is not JSON") from error
    except RecursionError as error:
        raise FhirError(400, "invalid", "the body's JSON is nested too deep to read") from error
    from api.fhir.shapes import check_parameters

    check_parameters(body)
    return [(p.get("name", ""), parameter_value(p)) for p in parameters_from_body(body)]


def resource_id(text: str) -> int | None:
    """A stored resource's id from its path segment; None for anything that cannot be one
    (``str.isdigit`` alone accepts "¹" and numbers past 64 bits)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > 2**63 - 1:
        return None
    return int(text)


def page_size(text: str | None, *, default: int = 20, most: int = 500) -> int:
    """A search's ``_count``: a positive number, capped at ``most`` (FHIR lets the server
    return fewer than asked); zero or less is refused rather than read as "everything"."""
    if text is None:
        return default
    count = int(text)  # a ValueError is the caller's "not a number"
    if count < 1:
        raise FhirError(400, "invalid", f"_count must be 1 or more, not {count}")
    return min(count, most)


RESULT_PARAMETERS = frozenset({"_summary", "_elements"})
"""Search result parameters honoured on every read and search (and ``_format``)."""


def subset(request: Request, resource: dict[str, Any], *, search: bool = False) -> dict[str, Any]:
    """``resource`` as the request's ``_summary`` / ``_elements`` ask (unchanged without them)."""
    from terminology.fhir.subsetting import summarized, summary_mode, with_elements

    params = request.query_params
    shaped = summarized(resource, summary_mode(params.get("_summary"), search=search))
    elements = params.get("_elements")
    return with_elements(shaped, elements.split(",")) if elements else shaped


def counting_only(request: Request) -> bool:
    """``_summary=count``: a search answers with its total and no entries."""
    from terminology.fhir.subsetting import summary_mode

    return summary_mode(request.query_params.get("_summary"), search=True) == "count"


def search_page(request: Request, found: list[Any]) -> tuple[list[Any], list[dict[str, str]]]:
    """The page of ``found`` a search asks (``_count``, ``_offset``; none for
    ``_summary=count``) and the Bundle's ``self`` / ``next`` / ``previous`` links."""
    params = request.query_params
    try:
        count, offset = page_size(params.get("_count")), max(int(params.get("_offset", 0)), 0)
    except ValueError as error:
        raise FhirError(400, "invalid", "_count and _offset are numbers") from error
    base = public_url(request, request.url.path, str(request.url.remove_query_params(["_offset"]).query))
    joiner = "&" if "?" in base else "?"
    links = [{"relation": "self", "url": this_url(request)}]
    if offset + count < len(found):
        links.append({"relation": "next", "url": f"{base}{joiner}_offset={offset + count}"})
    if offset > 0:
        links.append({"relation": "previous", "url": f"{base}{joiner}_offset={max(offset - count, 0)}"})
    return ([] if counting_only(request) else found[offset : offset + count]), links


def refuse_unknown_search_parameters(request: Request, known: frozenset[str]) -> dict[str, str]:
    """The search's parameters, every one of them known (a FHIR server must not silently
    ignore a filter it does not apply: the client would read a wider result as the answer)."""
    params = dict(request.query_params)
    unknown = sorted(set(params) - known - RESULT_PARAMETERS - {"_count", "_offset", "_format"})
    if unknown:
        raise FhirError(400, "not-supported", f"search parameter(s) not supported: {', '.join(unknown)}")
    return params


def too_many_codings(count: int, most: int) -> None:
    if count > most:
        raise TooCostlyError(f"the request asks about {count} codings; at most {most} are answered at once")
